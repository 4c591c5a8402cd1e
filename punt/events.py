"""Typed events: every change to punt's state is one of these facts.

Each event is a frozen msgspec Struct. Its type name (``ticket.created``) and
schema version are class attributes, stored in their own columns of the log
and sent in the SSE envelope beside the data. They are not a msgspec tag
inside the data, because a ticket has a field called ``type`` of its own and
the envelope's ``data`` must be the ticket object exactly.

Fields use the API's camelCase names, so an event's JSON is its envelope data.
Update events carry only the fields that changed: an unchanged field is
``UNSET`` and left out of the JSON. No event contains a password, password
hash, session token or API key: sessions and keys appear only by public id.

To change an event's schema, bump ``schema_version`` and register an upcaster
in ``UPCASTERS`` that turns the stored older data into the current shape.
"""

from __future__ import annotations

from typing import Any, Callable, ClassVar

import msgspec
from msgspec import UNSET, UnsetType

__all__ = [
    "EVENT_TYPES",
    "Event",
    "UPCASTERS",
    "decode_event",
    "encode_event",
]


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base class of all events."""

    type: ClassVar[str]
    schema_version: ClassVar[int] = 1

    def project_scope(self) -> str | None:
        """Return the id of the project whose event stream carries this event."""
        return getattr(self, "projectId", None)

    def stream_id(self) -> str:
        """Return the name of the entity stream this event belongs to."""
        return f"{self.type.split('.')[0]}-{getattr(self, 'id')}"


# Projects and columns


class ProjectCreated(Event, frozen=True, kw_only=True):
    type = "project.created"
    id: str
    name: str
    key: str
    description: str | None
    color: str
    createdAt: str
    updatedAt: str

    def project_scope(self) -> str | None:
        return self.id


class ProjectUpdated(Event, frozen=True, kw_only=True):
    type = "project.updated"
    id: str
    name: str | UnsetType = UNSET
    description: str | None | UnsetType = UNSET
    color: str | UnsetType = UNSET
    updatedAt: str

    def project_scope(self) -> str | None:
        return self.id


class ProjectDeleted(Event, frozen=True, kw_only=True):
    type = "project.deleted"
    id: str

    def project_scope(self) -> str | None:
        return self.id


class ColumnCreated(Event, frozen=True, kw_only=True):
    type = "column.created"
    id: str
    projectId: str
    name: str
    order: int


# Members


class MemberAdded(Event, frozen=True, kw_only=True):
    type = "member.added"
    id: str
    projectId: str
    userId: str
    role: str


class MemberRoleUpdated(Event, frozen=True, kw_only=True):
    type = "member.role.updated"
    id: str
    projectId: str
    userId: str
    role: str


class MemberRemoved(Event, frozen=True, kw_only=True):
    type = "member.removed"
    id: str
    projectId: str
    userId: str


# Labels


class LabelCreated(Event, frozen=True, kw_only=True):
    type = "label.created"
    id: str
    projectId: str
    name: str
    color: str


class LabelDeleted(Event, frozen=True, kw_only=True):
    type = "label.deleted"
    id: str
    projectId: str


# Tickets


class TicketCreated(Event, frozen=True, kw_only=True):
    type = "ticket.created"
    id: str
    number: int
    key: str
    title: str
    description: str | None = None
    type_: str = msgspec.field(name="type")
    priority: str
    order: int
    columnId: str
    assigneeId: str | None = None
    creatorId: str
    parentId: str | None = None
    sprintId: str | None = None
    storyPoints: int | None = None
    estimate: str | None = None
    startDate: str | None = None
    dueDate: str | None = None
    environment: str | None = None
    affectedVersion: str | None = None
    fixVersion: str | None = None
    labelIds: list[str] = []
    projectId: str
    createdAt: str
    updatedAt: str


class TicketUpdated(Event, frozen=True, kw_only=True):
    """Fields of a ticket that changed, apart from its column and order."""

    type = "ticket.updated"
    id: str
    projectId: str
    title: str | UnsetType = UNSET
    description: str | None | UnsetType = UNSET
    type_: str | UnsetType = msgspec.field(default=UNSET, name="type")
    priority: str | UnsetType = UNSET
    assigneeId: str | None | UnsetType = UNSET
    parentId: str | None | UnsetType = UNSET
    storyPoints: int | None | UnsetType = UNSET
    estimate: str | None | UnsetType = UNSET
    startDate: str | None | UnsetType = UNSET
    dueDate: str | None | UnsetType = UNSET
    environment: str | None | UnsetType = UNSET
    affectedVersion: str | None | UnsetType = UNSET
    fixVersion: str | None | UnsetType = UNSET
    labelIds: list[str] | UnsetType = UNSET
    updatedAt: str


class TicketMoved(Event, frozen=True, kw_only=True):
    """A ticket placed at ``order`` in ``columnId``; the other tickets of both columns shift."""

    type = "ticket.moved"
    id: str
    projectId: str
    columnId: str
    order: int
    fromColumnId: str
    fromOrder: int
    updatedAt: str


class TicketDeleted(Event, frozen=True, kw_only=True):
    type = "ticket.deleted"
    id: str
    projectId: str


# Users, sessions and API keys


class UserRegistered(Event, frozen=True, kw_only=True):
    type = "user.registered"
    id: str
    username: str
    email: str | None
    name: str | None
    avatarColor: str
    isSystemAdmin: bool
    createdAt: str


class UserUpdated(Event, frozen=True, kw_only=True):
    """A user's profile after a change, as the summary that every user may see."""

    type = "user.updated"
    id: str
    username: str
    name: str | None
    avatar: str | None
    avatarColor: str


class UserDeactivated(Event, frozen=True, kw_only=True):
    """A user who may no longer sign in; their sessions, API key and open streams end."""

    type = "user.deactivated"
    id: str


class SessionRevoked(Event, frozen=True, kw_only=True):
    """A session ended by sign-out; open streams authenticated by it end too."""

    type = "session.revoked"
    id: str
    userId: str


class ApiKeyRevoked(Event, frozen=True, kw_only=True):
    type = "apikey.revoked"
    id: str
    userId: str


# Whole-database events


class DatabaseWiped(Event, frozen=True, kw_only=True):
    type = "database.wiped"

    def stream_id(self) -> str:
        return "database"


class DatabaseProjectsWiped(Event, frozen=True, kw_only=True):
    type = "database.projects.wiped"

    def stream_id(self) -> str:
        return "database"


EVENT_TYPES: dict[str, type[Event]] = {
    cls.type: cls
    for cls in (
        ProjectCreated,
        ProjectUpdated,
        ProjectDeleted,
        ColumnCreated,
        MemberAdded,
        MemberRoleUpdated,
        MemberRemoved,
        LabelCreated,
        LabelDeleted,
        TicketCreated,
        TicketUpdated,
        TicketMoved,
        TicketDeleted,
        UserRegistered,
        UserUpdated,
        UserDeactivated,
        SessionRevoked,
        ApiKeyRevoked,
        DatabaseWiped,
        DatabaseProjectsWiped,
    )
}

# (type, stored schema version) -> function turning that version's data dict
# into the next version's. Decoding applies them in a chain up to the current.
UPCASTERS: dict[tuple[str, int], Callable[[dict[str, Any]], dict[str, Any]]] = {}

_encoder = msgspec.json.Encoder()
_decoders = {name: msgspec.json.Decoder(cls) for name, cls in EVENT_TYPES.items()}


def encode_event(event: Event) -> bytes:
    """Encode an event's data as the JSON stored in the log and sent to subscribers."""
    return _encoder.encode(event)


def decode_event(event_type: str, schema_version: int, data: bytes | str) -> Event:
    """Decode stored event data, upcasting it first if it has an older schema version.

    Raises KeyError for an unknown event type, which means the log was written
    by a newer punt than the one reading it.
    """
    cls = EVENT_TYPES[event_type]
    if schema_version == cls.schema_version:
        return _decoders[event_type].decode(data)

    fields = msgspec.json.decode(data)
    for version in range(schema_version, cls.schema_version):
        fields = UPCASTERS[(event_type, version)](fields)
    return msgspec.convert(fields, cls)
