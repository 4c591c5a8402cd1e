"""Proving the log intact: the hash chain, and a rebuild that equals the live state.

Each event's stored hash covers the previous event's hash and the event's
canonical bytes, so recomputing the chain from offset 1 finds the first
event that was altered, removed or moved. Removing events from the end of
the log leaves the chain valid, so the projection checkpoint is checked
too: it records the last offset applied to the read models.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from punt.eventstore.records import GENESIS_HASH, chain_hash
from punt.projections.rebuild import dump_projections, iter_log, rebuild_projections
from punt.projections.schema import PROJECTION_TABLES

__all__ = ["Problem", "verify_chain", "verify_projections"]


@dataclass(frozen=True)
class Problem:
    """The first thing found wrong: the offset (or table) it concerns, and what is wrong."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}"


def verify_chain(conn: sqlite3.Connection) -> tuple[int, Problem | None]:
    """Recompute the hash chain; return the number of events checked and the first problem, if any."""
    expected, previous_hash = 1, GENESIS_HASH
    for stored in iter_log(conn):
        if stored.offset != expected:
            return expected - 1, Problem(
                f"offset {expected}", f"the event is missing: the log jumps from offset {expected - 1} "
                f"to {stored.offset}")
        digest = chain_hash(
            previous_hash, stored.offset, stored.stream, stored.version, stored.type, stored.schema_version,
            _as_bytes(stored.data), _as_bytes(stored.metadata), stored.timestamp,
        )
        if digest != stored.hash:
            return expected - 1, Problem(
                f"offset {stored.offset}", f"the hash does not match: the event was altered, or moved from "
                f"another offset (stored {stored.hash[:16]}..., computed {digest[:16]}...)")
        expected, previous_hash = expected + 1, stored.hash

    head = expected - 1
    checkpoint = _checkpoint(conn)
    if checkpoint > head:
        return head, Problem(
            f"offset {head + 1}", f"the event is missing: the log ends at offset {head}, but the read "
            f"models were built up to offset {checkpoint}")
    return head, None


def _as_bytes(value: bytes | str) -> bytes:
    # The writer stores BLOBs, but a row edited by hand may come back as TEXT.
    return value.encode() if isinstance(value, str) else bytes(value)


def _checkpoint(conn: sqlite3.Connection) -> int:
    row = conn.execute("SELECT offset FROM projection_checkpoint WHERE name = 'all'").fetchone()
    return row[0] if row else 0


def verify_projections(conn: sqlite3.Connection) -> Problem | None:
    """Rebuild every read model from offset 0 in memory and compare it with the live tables, row by row."""
    rebuilt = sqlite3.connect(":memory:", isolation_level=None)
    try:
        try:
            rebuild_projections(conn, rebuilt)
        except Exception as exc:
            # A tampered event may no longer decode or apply; that is a finding, not a crash.
            return Problem("rebuild", f"replaying the log failed: {type(exc).__name__}: {exc}")
        return _first_difference(dump_projections(conn), dump_projections(rebuilt))
    finally:
        rebuilt.close()


def _first_difference(live: dict[str, list[tuple]], rebuilt: dict[str, list[tuple]]) -> Problem | None:
    for table in PROJECTION_TABLES:
        live_rows, rebuilt_rows = live[table], rebuilt[table]
        rebuilt_set, live_set = set(rebuilt_rows), set(live_rows)
        for row in live_rows:
            if row not in rebuilt_set:
                return Problem(f"table {table}", f"live row {row!r} is not in the rebuild from the log")
        for row in rebuilt_rows:
            if row not in live_set:
                return Problem(f"table {table}", f"row {row!r} of the rebuild from the log is missing in the live table")
    return None
