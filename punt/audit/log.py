"""Paging through the log by offset, with filters, for auditors.

Each filter is served by an index on (filter, offset), so a page costs
what it returns. A type prefix is expanded into the known event types,
each type is read through ``events_by_type``, and the results are merged.
A time range is turned into an offset range through ``events_by_timestamp``.
"""

from __future__ import annotations

import heapq
import sqlite3
from dataclasses import dataclass
from typing import Any

import msgspec

from punt.events import EVENT_TYPES
from punt.eventstore.records import StoredEvent
from punt.eventstore.schema import ACTOR_EXPRESSION, EVENTS_TABLE

__all__ = ["DEFAULT_PAGE_SIZE", "MAX_PAGE_SIZE", "LogFilter", "LogPage", "describe_event", "log_head", "read_page"]

DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000

_COLUMNS = "offset, stream, version, type, schema_version, data, metadata, project_id, timestamp, hash"


@dataclass(frozen=True)
class LogFilter:
    """The conditions an event must meet to be on a page; a field left as None does not filter."""

    type_prefix: str | None = None
    project_id: str | None = None
    actor_id: str | None = None
    since: str | None = None
    until: str | None = None


@dataclass(frozen=True)
class LogPage:
    """One page of events, the offset to pass as ``after`` for the next, and whether more match."""

    events: list[StoredEvent]
    next_after: int
    has_more: bool


def log_head(conn: sqlite3.Connection) -> int:
    """Return the offset of the last event (0 for an empty log)."""
    return conn.execute(f"SELECT max(offset) FROM {EVENTS_TABLE}").fetchone()[0] or 0


def read_page(conn: sqlite3.Connection, after: int, limit: int, log_filter: LogFilter) -> LogPage:
    """Read up to ``limit`` events with offset > ``after`` that match the filter, in offset order."""
    lower, upper = _offset_range(conn, after, log_filter)
    if lower >= upper:
        return LogPage([], after, False)

    where, params = _conditions(log_filter)
    if log_filter.type_prefix is None:
        selected = _select(conn, where, params, lower, upper, limit + 1)
    else:
        types = [name for name in EVENT_TYPES if name.startswith(log_filter.type_prefix)]
        per_type = [_select(conn, [*where, "type = ?"], [*params, name], lower, upper, limit + 1) for name in types]
        # Each list is in offset order and contains its type's first limit + 1
        # matches, so the merged first limit + 1 are the log's first matches.
        selected = list(heapq.merge(*per_type, key=lambda stored: stored.offset))[: limit + 1]

    events = selected[:limit]
    next_after = events[-1].offset if events else after
    return LogPage(events, next_after, len(selected) > limit)


def _offset_range(conn: sqlite3.Connection, after: int, log_filter: LogFilter) -> tuple[int, int]:
    """Narrow (after, head] to the offsets inside the filter's time range.

    NOTE: this assumes timestamps do not decrease along the log. If a
    worker's clock stepped back, events near the range's ends can be missed.
    Every returned event is still inside the range, because each row is
    checked against the timestamps too.
    """
    lower, upper = after, log_head(conn)
    if log_filter.since is not None:
        row = conn.execute(
            f"SELECT offset FROM {EVENTS_TABLE} WHERE timestamp >= ? ORDER BY timestamp, offset LIMIT 1",
            (log_filter.since,),
        ).fetchone()
        lower = max(lower, row[0] - 1) if row else upper
    if log_filter.until is not None:
        row = conn.execute(
            f"SELECT offset FROM {EVENTS_TABLE} WHERE timestamp <= ? ORDER BY timestamp DESC, offset DESC LIMIT 1",
            (log_filter.until,),
        ).fetchone()
        upper = min(upper, row[0]) if row else lower
    return lower, upper


def _conditions(log_filter: LogFilter) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    if log_filter.project_id is not None:
        where.append("project_id = ?")
        params.append(log_filter.project_id)
    if log_filter.actor_id is not None:
        where.append(f"{ACTOR_EXPRESSION} = ?")
        params.append(log_filter.actor_id)
    if log_filter.since is not None:
        where.append("timestamp >= ?")
        params.append(log_filter.since)
    if log_filter.until is not None:
        where.append("timestamp <= ?")
        params.append(log_filter.until)
    return where, params


def _select(
    conn: sqlite3.Connection, where: list[str], params: list[Any], lower: int, upper: int, limit: int
) -> list[StoredEvent]:
    clauses = " AND ".join(["offset > ?", "offset <= ?", *where])
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} WHERE {clauses} ORDER BY offset LIMIT ?",
        (lower, upper, *params, limit),
    ).fetchall()
    return [StoredEvent(*row) for row in rows]


class _Metadata(msgspec.Struct):
    actorId: str | None = None
    tabId: str | None = None


_decode_metadata = msgspec.json.Decoder(_Metadata).decode


def describe_event(stored: StoredEvent) -> dict[str, Any]:
    """Shape a stored event as an item of the log API; ``data`` is the stored JSON, unchanged."""
    metadata = _decode_metadata(stored.metadata)
    return {
        "offset": stored.offset,
        "stream": stored.stream,
        "version": stored.version,
        "type": stored.type,
        "schemaVersion": stored.schema_version,
        "data": msgspec.Raw(stored.data),
        "tabId": metadata.tabId,
        "actorId": metadata.actorId,
        "timestamp": stored.timestamp,
        "hash": stored.hash,
    }
