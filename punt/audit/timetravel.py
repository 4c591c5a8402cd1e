"""A project's board as it was right after a given offset.

The state is built in an in-memory SQLite database with the projection
schema, and the usual query functions then run against it. The build
starts from the greatest cached snapshot of the project at or below the
offset (or from an empty database), and replays the project's events after
it, plus the user and whole-database events that its read models depend on.
While replaying, it stores a snapshot in the process's ``SNAPSHOTS`` cache
every ``SNAPSHOT_INTERVAL`` events or ``MAX_REPLAY_SECONDS`` of replay,
whichever comes first (see punt/audit/snapshots.py).

A first request replays from offset 0, at a cost that grows with the
project's history and the number of users but not with the rest of the
log. A request at or below an offset that was replayed before starts from
the nearest snapshot that replay stored, if any. While that snapshot is
still cached, it replays fewer than ``SNAPSHOT_INTERVAL`` events, about
``MAX_REPLAY_SECONDS`` of work at most. Measurements are in docs/audit.md.
"""

from __future__ import annotations

import heapq
import sqlite3
import time
from typing import Any, Callable, Iterator, TypeVar

from punt.audit.snapshots import MAX_REPLAY_SECONDS, SNAPSHOT_INTERVAL, Snapshot, SnapshotCache
from punt.commands.access import Actor, require_project
from punt.errors import InvalidInput, NotFound
from punt.eventstore.records import StoredEvent
from punt.eventstore.schema import EVENTS_TABLE
from punt.events import decode_event
from punt.projections import queries
from punt.projections.apply import apply_event
from punt.projections.schema import PROJECTION_SCHEMA

__all__ = [
    "MAX_REPLAY_SECONDS", "SNAPSHOTS", "SNAPSHOT_INTERVAL", "board_at", "check_offset", "project_state_at", "read_at",
]

T = TypeVar("T")

# One cache per process, shared by the reader threads of its ReadPool.
SNAPSHOTS = SnapshotCache()

_COLUMNS = "offset, stream, version, type, schema_version, data, metadata, project_id, timestamp, hash"

# Events outside a project's slice of the log that still change its read
# models: users appear in members and assignees, and wipes clear everything.
_SHARED_TYPES = ("user.registered", "user.updated", "database.wiped", "database.projects.wiped")


def check_offset(conn: sqlite3.Connection, at: int) -> None:
    """Raise InvalidInput unless ``at`` is an offset of the log (0 means before the first event)."""
    head = conn.execute(f"SELECT max(offset) FROM {EVENTS_TABLE}").fetchone()[0] or 0
    if at < 0 or at > head:
        raise InvalidInput.field("at", f"offset {at} is outside the log; use 0 to {head}")


def project_state_at(
    conn: sqlite3.Connection, project_id: str, at: int, cache: SnapshotCache = SNAPSHOTS
) -> sqlite3.Connection:
    """Build the project's state right after ``at`` in a new in-memory database and return it.

    The build starts from the cache's nearest snapshot at or below ``at`` and
    stores a new snapshot every ``cache.interval`` events or
    ``cache.max_replay_seconds`` of replay, whichever comes first.
    """
    start = _nearest_snapshot(conn, cache, project_id, at)
    state = sqlite3.connect(":memory:", isolation_level=None)
    try:
        if start is None:
            state.executescript(PROJECTION_SCHEMA)
            after = 0
        else:
            state.deserialize(start.data)
            after = start.offset
        cache.count_replayed(_replay(conn, state, cache, project_id, after, at))
    except BaseException:
        state.close()
        raise
    return state


def _nearest_snapshot(conn: sqlite3.Connection, cache: SnapshotCache, project_id: str, at: int) -> Snapshot | None:
    """Return the greatest snapshot at or below ``at`` that was built from this log, or None."""
    for snapshot in cache.candidates(project_id, at):
        row = conn.execute(f"SELECT hash FROM {EVENTS_TABLE} WHERE offset = ?", (snapshot.offset,)).fetchone()
        if row is not None and row[0] == snapshot.event_hash:
            cache.touch(snapshot)
            return snapshot
    return None


def _replay(
    conn: sqlite3.Connection, state: sqlite3.Connection, cache: SnapshotCache, project_id: str, after: int, at: int
) -> int:
    """Apply the project's events in (after, at] to ``state``, store snapshots, and return the count applied."""
    applied = 0
    since_snapshot = 0
    started = time.perf_counter()
    state.execute("BEGIN")
    for stored in _project_events(conn, project_id, after, at):
        apply_event(state, stored, decode_event(stored.type, stored.schema_version, stored.data))
        applied += 1
        since_snapshot += 1
        if since_snapshot >= cache.interval or time.perf_counter() - started >= cache.max_replay_seconds:
            state.execute("COMMIT")
            cache.put(Snapshot(project_id, stored.offset, stored.hash, state.serialize()))
            state.execute("BEGIN")
            since_snapshot = 0
            started = time.perf_counter()
    state.execute("COMMIT")
    return applied


def _project_events(conn: sqlite3.Connection, project_id: str, after: int, at: int) -> Iterator[StoredEvent]:
    """Yield the events in (after, at] that shape the project's state, in offset order, each read through an index."""
    slices = [_slice(conn, "project_id = ?", project_id, after, at)]
    slices.extend(_slice(conn, "type = ?", event_type, after, at) for event_type in _SHARED_TYPES)
    return heapq.merge(*slices, key=lambda stored: stored.offset)


def _slice(conn: sqlite3.Connection, condition: str, value: str, after: int, at: int) -> Iterator[StoredEvent]:
    cursor = conn.execute(
        f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} WHERE {condition} AND offset > ? AND offset <= ? ORDER BY offset",
        (value, after, at),
    )
    return (StoredEvent(*row) for row in cursor)


def read_at(
    conn: sqlite3.Connection, actor: Actor, project_ref: str, at: int, query: Callable[[sqlite3.Connection, str], T]
) -> T:
    """Run ``query(state, project_id)`` on the project's state right after ``at``.

    Access is checked against the current state: a member today may read
    the board from before they joined, and a project deleted since is 404.
    """
    project = require_project(conn, actor, project_ref)
    check_offset(conn, at)
    state = project_state_at(conn, project["id"], at)
    try:
        if queries.find_project(state, project["id"]) is None:
            raise NotFound(f"project {project['key']} did not exist yet at offset {at}")
        return query(state, project["id"])
    finally:
        state.close()


def board_at(conn: sqlite3.Connection, project_ref: str, at: int) -> dict[str, Any]:
    """Return the whole board of a project (by id or key) right after ``at``, for ``punt state``.

    The project is looked up in the current state first, then among the
    projects ever created, so a deleted project can be inspected too.
    """
    check_offset(conn, at)
    project_id = _project_id(conn, project_ref)
    state = project_state_at(conn, project_id, at)
    try:
        project = queries.find_project(state, project_id)
        if project is None:
            raise NotFound(f"project {project_ref!r} did not exist yet at offset {at}")
        return {
            "offset": at,
            "project": project,
            "columns": queries.list_columns(state, project_id),
            "labels": queries.list_labels(state, project_id),
            "members": queries.list_members(state, project_id),
            "tickets": queries.list_tickets(state, project_id),
        }
    finally:
        state.close()


def _project_id(conn: sqlite3.Connection, project_ref: str) -> str:
    current = queries.find_project(conn, project_ref)
    if current is not None:
        return current["id"]
    row = conn.execute(
        f"SELECT json_extract(data, '$.id') FROM {EVENTS_TABLE} WHERE type = 'project.created'"
        " AND (json_extract(data, '$.id') = ? OR json_extract(data, '$.key') = ?) ORDER BY offset DESC LIMIT 1",
        (project_ref, project_ref),
    ).fetchone()
    if row is None:
        raise NotFound(f"project {project_ref!r} not found in the log; give its key or id")
    return row[0]
