"""Asynchronous reads of the log from an offset, for event streams.

A stream names the slices of the log it follows as selectors:
``("project_id", id)`` or ``("type", name)``, each served by an index on
(selector, offset). Each selector is read separately, in offset order, and
the results are merged, so a read costs what it returns, however long the
log.
"""

from __future__ import annotations

import heapq
import itertools
from pathlib import Path
from typing import Sequence

import aiosqlite

from punt import database
from punt.eventstore.records import StoredEvent
from punt.eventstore.schema import EVENTS_TABLE

__all__ = ["LogReader", "Selector"]

Selector = tuple[str, str]

_COLUMNS = "offset, stream, version, type, schema_version, data, metadata, project_id, timestamp, hash"
_SELECTOR_COLUMNS = {"project_id", "type"}


class LogReader:
    """Reads the log on its own aiosqlite connections, round robin."""

    def __init__(self, path: str | Path, connections: int = 2) -> None:
        self._path = str(path)
        self._count = connections
        self._connections: list[aiosqlite.Connection] = []
        self._next = itertools.count()

    async def open(self) -> None:
        for _ in range(self._count):
            conn = await aiosqlite.connect(self._path, isolation_level=None)
            await conn.execute(f"PRAGMA busy_timeout = {database.BUSY_TIMEOUT_MS}")
            self._connections.append(conn)

    async def close(self) -> None:
        for conn in self._connections:
            await conn.close()
        self._connections.clear()

    def _connection(self) -> aiosqlite.Connection:
        return self._connections[next(self._next) % len(self._connections)]

    async def head(self) -> int:
        """Return the offset of the last committed event (0 for an empty log)."""
        async with self._connection().execute(f"SELECT max(offset) FROM {EVENTS_TABLE}") as cursor:
            row = await cursor.fetchone()
        return row[0] or 0

    async def read_all(self, after: int, upto: int, limit: int) -> list[StoredEvent]:
        """Return events with after < offset <= upto, in order, at most ``limit``."""
        async with self._connection().execute(
            f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} WHERE offset > ? AND offset <= ? ORDER BY offset LIMIT ?",
            (after, upto, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [StoredEvent(*row) for row in rows]

    async def read_selected(
        self, selectors: Sequence[Selector], after: int, upto: int, limit: int
    ) -> tuple[list[StoredEvent], int]:
        """Return up to ``limit`` events matching any selector in (after, upto], and the offset read up to.

        The second value is where the next read should start: ``upto`` when
        every selector was exhausted, otherwise the last offset that all
        selectors have covered.
        """
        per_selector = [await self._read_one(selector, after, upto, limit) for selector in selectors]

        # A selector that filled its limit may have more events beyond its
        # last one, so the merged result is only complete up to the lowest
        # such last offset.
        covered = upto
        for events in per_selector:
            if len(events) == limit:
                covered = min(covered, events[-1].offset)

        merged = heapq.merge(*per_selector, key=lambda stored: stored.offset)
        selected = [stored for stored in merged if stored.offset <= covered]
        return _unique(selected), covered

    async def _read_one(self, selector: Selector, after: int, upto: int, limit: int) -> list[StoredEvent]:
        column, value = selector
        if column not in _SELECTOR_COLUMNS:
            raise ValueError(f"cannot select events by {column!r}; use one of {sorted(_SELECTOR_COLUMNS)}")
        async with self._connection().execute(
            f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} WHERE {column} = ? AND offset > ? AND offset <= ?"
            " ORDER BY offset LIMIT ?",
            (value, after, upto, limit),
        ) as cursor:
            rows = await cursor.fetchall()
        return [StoredEvent(*row) for row in rows]


def _unique(events: list[StoredEvent]) -> list[StoredEvent]:
    """Drop an event that two selectors both matched, keeping order."""
    seen: set[int] = set()
    unique = []
    for stored in events:
        if stored.offset not in seen:
            seen.add(stored.offset)
            unique.append(stored)
    return unique
