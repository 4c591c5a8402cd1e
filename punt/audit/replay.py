"""Rebuild every read model from the log into a fresh copy of the database, then swap it in.

The original file stays untouched until the copy is complete, and
``os.replace`` swaps the two in one step, so a crash at any point leaves
either the old or the new database, never a mix. Replay needs the file to
itself: it takes SQLite's exclusive lock, which fails while any other
process (such as ``punt serve``) has the database open.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from punt.errors import StoreError
from punt.events import decode_event
from punt.projections.apply import apply_event
from punt.projections.rebuild import iter_log
from punt.projections.schema import PROJECTION_SCHEMA, PROJECTION_TABLES

__all__ = ["DatabaseInUse", "ReplayResult", "replay_database"]

logger = logging.getLogger(__name__)

Progress = Callable[[int, int], None]


class DatabaseInUse(StoreError):
    """Another process has the database open, so it cannot be replaced."""


@dataclass(frozen=True)
class ReplayResult:
    events: int
    seconds: float

    @property
    def events_per_second(self) -> float:
        return self.events / self.seconds if self.seconds > 0 else float("inf")


def replay_database(path: str | Path, progress: Progress | None = None) -> ReplayResult:
    """Rebuild the read models of the database at ``path`` from its log, in a copy swapped in at the end."""
    path = Path(path)
    if not path.exists():
        raise StoreError(f"no database at {str(path)!r}; give the path of an existing punt database")
    original = _lock_exclusively(path)
    copy_path = path.with_name(path.name + ".replay")
    try:
        started = time.perf_counter()
        events = _build_copy(original, copy_path, progress)
        seconds = time.perf_counter() - started
        _swap(original, copy_path, path)
    except BaseException:
        copy_path.unlink(missing_ok=True)
        raise
    finally:
        original.close()
    logger.info("replayed %d events into %s in %.2f s", events, path, seconds)
    return ReplayResult(events, seconds)


def _lock_exclusively(path: Path) -> sqlite3.Connection:
    """Open the database and hold SQLite's exclusive lock until the connection closes."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=0)
    conn.execute("PRAGMA locking_mode = EXCLUSIVE")
    try:
        # In WAL mode every open connection holds a shared lock, so this
        # fails while a server has the file open, even when it is idle.
        conn.execute("BEGIN EXCLUSIVE")
        conn.execute("COMMIT")
    except sqlite3.OperationalError as exc:
        conn.close()
        raise DatabaseInUse(
            f"the database {str(path)!r} is in use by another process ({exc}); stop `punt serve` and every "
            "other program using it, then run replay again"
        ) from exc
    return conn


def _build_copy(original: sqlite3.Connection, copy_path: Path, progress: Progress | None) -> int:
    """Copy the database, empty its read models and replay the whole log into them."""
    copy_path.unlink(missing_ok=True)
    copy = sqlite3.connect(str(copy_path), isolation_level=None)
    try:
        original.backup(copy)
        total = original.execute("SELECT count(*) FROM events").fetchone()[0]
        drops = "".join(f"DROP TABLE IF EXISTS {table};" for table in (*PROJECTION_TABLES, "projection_checkpoint"))
        copy.executescript("BEGIN;" + drops + PROJECTION_SCHEMA + "COMMIT;")
        done = _apply_all(copy, total, progress)
        copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        copy.execute("PRAGMA journal_mode = WAL")
    finally:
        copy.close()
    return done


def _apply_all(copy: sqlite3.Connection, total: int, progress: Progress | None) -> int:
    done, head = 0, 0
    copy.execute("BEGIN")
    for stored in iter_log(copy):
        apply_event(copy, stored, decode_event(stored.type, stored.schema_version, stored.data))
        done, head = done + 1, stored.offset
        if progress is not None and done % 1000 == 0:
            progress(done, total)
    copy.execute("UPDATE projection_checkpoint SET offset = ? WHERE name = 'all'", (head,))
    copy.execute("COMMIT")
    if progress is not None:
        progress(done, total)
    return done


def _swap(original: sqlite3.Connection, copy_path: Path, path: Path) -> None:
    """Replace ``path`` with the copy while still holding the original's lock.

    Switching the original to a rollback journal first folds its WAL into
    the file and deletes the ``-wal`` file, so that no stale WAL is left
    beside the new database for SQLite to replay into it.
    """
    original.execute("PRAGMA journal_mode = DELETE")
    os.replace(copy_path, path)
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)
