"""Subscriptions: the rules for which events each stream carries and when it ends.

A subscription decides, event by event, whether its subscriber may see
the event and whether the stream ends after it. Access is decided per
event, not only at connect: removal from the project, sign-out, revocation
of the API key and a full wipe all end the stream as their event passes.
"""

from __future__ import annotations

import enum

from punt import events as ev
from punt.api.frames import LiveEvent
from punt.commands.access import Actor
from punt.eventstore.reader import Selector

__all__ = ["Decision", "ProjectListSubscription", "ProjectSubscription", "Subscription", "UserSubscription"]


class Decision(enum.Enum):
    SKIP = "skip"
    SEND = "send"
    SEND_AND_END = "send and end"
    END = "end"


_WIPES = (ev.DatabaseWiped.type, ev.DatabaseProjectsWiped.type)
_CREDENTIAL_EVENTS = (ev.SessionRevoked.type, ev.ApiKeyRevoked.type, ev.UserDeactivated.type)


class Subscription:
    """Base class: the rules every stream shares."""

    def __init__(self, actor: Actor) -> None:
        self.actor = actor

    def selectors(self) -> list[Selector]:
        """Return the slices of the log this stream reads when catching up from the database."""
        return [("type", name) for name in (*_WIPES, *_CREDENTIAL_EVENTS)]

    def decide(self, live: LiveEvent) -> Decision:
        """Decide by the event's type and project first; decode its data only where a field matters."""
        kind = live.type
        if kind == ev.DatabaseWiped.type:
            return Decision.SEND_AND_END
        if kind == ev.SessionRevoked.type:
            return Decision.END if live.event.id == self.actor.session_id else Decision.SKIP
        if kind == ev.ApiKeyRevoked.type:
            return Decision.END if live.event.id == self.actor.api_key_id else Decision.SKIP
        if kind == ev.UserDeactivated.type:
            return Decision.END if live.event.id == self.actor.user_id else Decision.SKIP
        return self.decide_own(live)

    def decide_own(self, live: LiveEvent) -> Decision:
        raise NotImplementedError


class ProjectSubscription(Subscription):
    """Ticket, label and member events of one project, its updates and deletion, and wipes."""

    _CARRIED_PREFIXES = ("ticket.", "label.", "member.")

    def __init__(self, actor: Actor, project_id: str) -> None:
        super().__init__(actor)
        self.project_id = project_id

    def selectors(self) -> list[Selector]:
        return [("project_id", self.project_id), *super().selectors()]

    def decide_own(self, live: LiveEvent) -> Decision:
        kind = live.type
        if kind == ev.DatabaseProjectsWiped.type:
            return Decision.SEND_AND_END
        if live.project_id != self.project_id:
            return Decision.SKIP
        if kind == ev.ProjectDeleted.type:
            return Decision.SEND_AND_END
        if kind == ev.MemberRemoved.type and live.event.userId == self.actor.user_id:
            return Decision.SEND if self.actor.is_system_admin else Decision.SEND_AND_END
        if kind.startswith(self._CARRIED_PREFIXES) or kind == ev.ProjectUpdated.type:
            return Decision.SEND
        return Decision.SKIP


class ProjectListSubscription(Subscription):
    """Project events of the projects the user can see at the time of each event.

    ``visible`` contains those projects as of the stream's start offset and is
    kept current from the member events the stream reads.
    """

    def __init__(self, actor: Actor, visible: set[str]) -> None:
        super().__init__(actor)
        self.visible = visible

    def selectors(self) -> list[Selector]:
        names = (ev.ProjectCreated, ev.ProjectUpdated, ev.ProjectDeleted, ev.MemberAdded, ev.MemberRemoved)
        return [*(("type", cls.type) for cls in names), *super().selectors()]

    def decide_own(self, live: LiveEvent) -> Decision:
        kind = live.type
        if kind == ev.DatabaseProjectsWiped.type:
            self.visible.clear()
            return Decision.SEND
        if kind in (ev.MemberAdded.type, ev.MemberRemoved.type):
            return self._decide_membership(live.event)

        # A project event's project_id is the project's own id.
        project_id = live.project_id
        if kind == ev.ProjectCreated.type:
            # The creator becomes owner by the member.added that follows in
            # the same command, so project.created reaches the creator too.
            if live.actor_id == self.actor.user_id:
                self.visible.add(project_id)
            return Decision.SEND if self._can_see(project_id) else Decision.SKIP
        if kind in (ev.ProjectUpdated.type, ev.ProjectDeleted.type):
            seen = self._can_see(project_id)
            if kind == ev.ProjectDeleted.type:
                self.visible.discard(project_id)
            return Decision.SEND if seen else Decision.SKIP
        return Decision.SKIP

    def _decide_membership(self, event: ev.MemberAdded | ev.MemberRemoved) -> Decision:
        if event.userId != self.actor.user_id:
            return Decision.SKIP
        if isinstance(event, ev.MemberAdded):
            self.visible.add(event.projectId)
        else:
            self.visible.discard(event.projectId)
        return Decision.SEND

    def _can_see(self, project_id: str) -> bool:
        return self.actor.is_system_admin or project_id in self.visible


class UserSubscription(Subscription):
    """Profile updates of every user, and wipes."""

    def selectors(self) -> list[Selector]:
        return [("type", ev.UserUpdated.type), *super().selectors()]

    def decide_own(self, live: LiveEvent) -> Decision:
        if live.type in (ev.UserUpdated.type, ev.DatabaseProjectsWiped.type):
            return Decision.SEND
        return Decision.SKIP

