"""The three Server-Sent Event endpoints: one code path for resuming and following live.

A stream starts at an offset (``Last-Event-ID``, else ``lastEventId``,
else the current end of the log) and sends every later event its
subscription accepts, in offset order. Events still in the fan-out ring
come from memory; older ones are read from the database in batches. Both
paths advance the same offset, so nothing is skipped or sent twice when a
subscriber moves from one to the other.
"""

from __future__ import annotations

import logging
import time
import weakref
from collections import Counter
from typing import AsyncIterator

from litestar import Request, get
from litestar.params import FromPath
from litestar.response import Stream

from punt.api.context import Services, current_actor
from punt.api.frames import KEEPALIVE, LiveEvent, reset_frame
from punt.api.subscriptions import (
    Decision,
    ProjectListSubscription,
    ProjectSubscription,
    Subscription,
    UserSubscription,
)
from punt.commands.access import Actor, require_project
from punt.errors import InvalidInput, TooManyRequests
from punt.eventstore.writer import utc_timestamp
from punt.projections import queries

__all__ = ["StreamSlots", "project_events", "project_list_events", "user_events"]

logger = logging.getLogger(__name__)

# Large enough that the round trips to the read thread cost little per
# event, small enough to keep a frame batch at a few MB at most.
_CATCH_UP_BATCH = 2000

SSE_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no", "Content-Encoding": "identity"}


class StreamSlots:
    """Counts open streams per user and per project, and enforces the limits.

    NOTE: the counts are per worker process, so with N workers a user may
    hold up to N times the limit in total.
    """

    def __init__(self, per_user: int, per_project: int) -> None:
        self.per_user = per_user
        self.per_project = per_project
        self.users: Counter[str] = Counter()
        self.projects: Counter[str] = Counter()

    def acquire(self, user_id: str, project_id: str | None) -> SlotLease:
        if self.users[user_id] >= self.per_user:
            raise TooManyRequests(
                f"you have {self.users[user_id]} open event streams, the maximum (PUNT_MAX_STREAMS_PER_USER);"
                " close one first", retry_after=5)
        if project_id is not None and self.projects[project_id] >= self.per_project:
            raise TooManyRequests(
                f"project has {self.projects[project_id]} open event streams, the maximum"
                " (PUNT_MAX_STREAMS_PER_PROJECT); try again later", retry_after=5)
        self.users[user_id] += 1
        if project_id is not None:
            self.projects[project_id] += 1
        return SlotLease(self, user_id, project_id)

    def release(self, user_id: str, project_id: str | None) -> None:
        self.users[user_id] -= 1
        if self.users[user_id] <= 0:
            del self.users[user_id]
        if project_id is not None:
            self.projects[project_id] -= 1
            if self.projects[project_id] <= 0:
                del self.projects[project_id]


class SlotLease:
    """One open stream's hold on its slots, released exactly once.

    The stream's generator releases it when it finishes. If a client
    disconnects before the generator ever starts, its ``finally`` never
    runs, so the lease is also released when it is garbage-collected.
    """

    def __init__(self, slots: StreamSlots, user_id: str, project_id: str | None) -> None:
        self._finalizer = weakref.finalize(self, slots.release, user_id, project_id)

    def release(self) -> None:
        self._finalizer()


def requested_offset(request: Request) -> int | None:
    """Read the resume offset from ``Last-Event-ID`` or, failing that, ``lastEventId``."""
    raw = request.headers.get("last-event-id")
    field = "Last-Event-ID"
    if raw is None:
        raw, field = request.query_params.get("lastEventId"), "lastEventId"
    if raw is None:
        return None
    if not (raw.isascii() and raw.isdigit()) or len(raw) > 19:
        raise InvalidInput.field(field, f"{raw[:40]!r} is not a non-negative integer event id")
    return int(raw)


async def _start_of(request: Request, services: Services) -> tuple[int, bytes]:
    """Return the offset a stream starts after, and the ``stream.reset`` frame if one is due."""
    requested = requested_offset(request)
    head = await services.reader.head()
    if requested is not None and requested > head:
        return head, reset_frame(requested, head, utc_timestamp())
    return (head if requested is None else requested), b""


async def _open_stream(
    request: Request,
    services: Services,
    actor: Actor,
    subscription: Subscription,
    project_id: str | None,
    start: tuple[int, bytes] | None = None,
) -> Stream:
    start, prefix = start or await _start_of(request, services)
    lease = services.slots.acquire(actor.user_id, project_id)
    logger.info("stream opened: user %s, %s, from offset %d", actor.user_id, request.url.path, start)
    frames = _frames(services, subscription, start, prefix, actor, lease)
    return Stream(frames, media_type="text/event-stream", headers=SSE_HEADERS)


async def _frames(
    services: Services, subscription: Subscription, start: int, prefix: bytes, actor: Actor, lease: SlotLease
) -> AsyncIterator[bytes]:
    fanout = services.fanout
    keepalive = services.settings.keepalive_seconds
    fanout.subscribers += 1
    try:
        # An initial comment makes proxies and clients see the response start at once.
        yield prefix or b": connected\n\n"
        position = start
        last_sent = time.monotonic()
        while not _expired(actor):
            live = fanout.events_after(position)
            chunk, ended = b"", False
            if live is None:
                chunk, position, ended = await _catch_up(services, subscription, position)
            elif live:
                chunk, position, ended = _select(subscription, live)
            elif await fanout.wait(position, _wait_limit(actor, last_sent + keepalive - time.monotonic())):
                continue
            # The keepalive clock runs from the last frame sent, not from the
            # last wake-up, because events of other projects wake this stream
            # but may send it nothing for a long time.
            if not chunk and time.monotonic() - last_sent >= keepalive:
                chunk = KEEPALIVE
            if chunk:
                yield chunk
                last_sent = time.monotonic()
            if ended:
                return
    finally:
        fanout.subscribers -= 1
        lease.release()
        logger.info("stream closed: user %s", actor.user_id)


def _expired(actor: Actor) -> bool:
    return actor.expires_at is not None and time.time() >= actor.expires_at


def _wait_limit(actor: Actor, until_keepalive: float) -> float:
    """Return how long a stream may wait for events: until its keepalive, or until its session expires."""
    if actor.expires_at is None:
        return until_keepalive
    return min(until_keepalive, actor.expires_at - time.time())


def _select(subscription: Subscription, events: list[LiveEvent]) -> tuple[bytes, int, bool]:
    """Pick the frames a subscription accepts; stop at an event that ends the stream."""
    frames = []
    position = events[0].offset - 1
    for live in events:
        position = live.offset
        decision = subscription.decide(live)
        if decision in (Decision.SEND, Decision.SEND_AND_END):
            frames.append(live.frame)
        if decision in (Decision.SEND_AND_END, Decision.END):
            return b"".join(frames), position, True
    return b"".join(frames), position, False


async def _catch_up(services: Services, subscription: Subscription, position: int) -> tuple[bytes, int, bool]:
    """Read the next batch after ``position`` from the database, up to the fan-out's head."""
    upto = services.fanout.head
    stored, covered = await services.reader.read_selected(subscription.selectors(), position, upto, _CATCH_UP_BATCH)
    if not stored:
        return b"", max(covered, position), False
    chunk, last, ended = _select(subscription, [LiveEvent(event) for event in stored])
    return chunk, (last if ended else covered), ended


@get("/api/projects/{project_id:str}/events")
async def project_events(request: Request, project_id: FromPath[str]) -> Stream:
    """Stream a project's events to a member or system admin."""
    services = Services.of(request)
    actor = await current_actor(request)
    project = await services.reads.run(require_project, actor, project_id)
    subscription = ProjectSubscription(actor, project["id"])
    return await _open_stream(request, services, actor, subscription, project["id"])


@get("/api/projects/events")
async def project_list_events(request: Request) -> Stream:
    """Stream project events of the projects the user can see, and member events about the user."""
    services = Services.of(request)
    actor = await current_actor(request)
    # The visible projects must be computed at the very offset the stream
    # starts after, or a member event in between would be lost.
    start = await _start_of(request, services)
    visible = await services.reads.run(queries.memberships_at, actor.user_id, start[0])
    subscription = ProjectListSubscription(actor, visible)
    return await _open_stream(request, services, actor, subscription, None, start)


@get("/api/users/events")
async def user_events(request: Request) -> Stream:
    """Stream profile updates of all users."""
    services = Services.of(request)
    actor = await current_actor(request)
    return await _open_stream(request, services, actor, UserSubscription(actor), None)
