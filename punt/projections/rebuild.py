"""Rebuild every read model from offset 0, and compare read models row by row."""

from __future__ import annotations

import sqlite3
from typing import Iterator

from punt.eventstore.records import StoredEvent
from punt.eventstore.schema import EVENTS_TABLE
from punt.events import decode_event
from punt.projections.apply import apply_event
from punt.projections.schema import PROJECTION_SCHEMA, PROJECTION_TABLES

__all__ = ["dump_projections", "iter_log", "rebuild_projections"]

_BATCH = 5_000

# Page cache for the rebuild's one long transaction, in KiB (SQLite reads a
# negative cache_size as KiB). Random ticket ids spread index inserts over
# the whole B-tree, so SQLite's default 2 MiB cache misses on most of them
# once the tables outgrow it. A 256 MiB cache cut the rebuild time of a
# 100,000-event log by a quarter in bench/replay.py.
_REBUILD_CACHE_KIB = 256 * 1024


def iter_log(conn: sqlite3.Connection, after: int = 0) -> Iterator[StoredEvent]:
    """Yield every stored event after an offset, in offset order, reading in batches."""
    position = after
    while True:
        rows = conn.execute(
            f"SELECT offset, stream, version, type, schema_version, data, metadata, project_id, timestamp, hash"
            f" FROM {EVENTS_TABLE} WHERE offset > ? ORDER BY offset LIMIT ?",
            (position, _BATCH),
        ).fetchall()
        if not rows:
            return
        for row in rows:
            yield StoredEvent(*row)
        position = rows[-1][0]


def rebuild_projections(source: sqlite3.Connection, target: sqlite3.Connection) -> int:
    """Replay the whole log of ``source`` into empty read models in ``target``.

    Returns the offset of the last event applied. ``target`` may be the same
    database only if its read-model tables were emptied first.
    """
    target.executescript(PROJECTION_SCHEMA)
    head = 0
    cache_size = target.execute("PRAGMA cache_size").fetchone()[0]
    target.execute(f"PRAGMA cache_size = {-_REBUILD_CACHE_KIB}")
    target.execute("BEGIN")
    try:
        for stored in iter_log(source):
            apply_event(target, stored, decode_event(stored.type, stored.schema_version, stored.data))
            head = stored.offset
        target.execute("UPDATE projection_checkpoint SET offset = ? WHERE name = 'all'", (head,))
        target.execute("COMMIT")
    except BaseException:
        target.execute("ROLLBACK")
        raise
    finally:
        target.execute(f"PRAGMA cache_size = {cache_size}")
    return head


def dump_projections(conn: sqlite3.Connection) -> dict[str, list[tuple[object, ...]]]:
    """Return every read-model row, sorted, table by table, for comparing two databases."""
    return {table: sorted(conn.execute(f"SELECT * FROM {table}").fetchall(), key=repr) for table in PROJECTION_TABLES}
