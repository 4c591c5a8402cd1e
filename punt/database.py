"""Opening the SQLite file: pragmas shared by every connection, and the schema."""

from __future__ import annotations

import asyncio
import queue
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable, TypeVar

__all__ = ["BUSY_TIMEOUT_MS", "ReadPool", "connect", "create_schema"]

# Several worker processes share one file and take turns at the write lock;
# a waiting writer retries for this long before SQLite reports it busy.
BUSY_TIMEOUT_MS = 30_000


def connect(path: str | Path, *, check_same_thread: bool = True) -> sqlite3.Connection:
    """Open a connection in autocommit mode, so transactions are begun explicitly.

    WAL lets readers (queries, event streams) run beside the writer, and
    synchronous=FULL fsyncs the WAL on every commit, so a committed
    command survives a power loss.
    """
    conn = sqlite3.connect(
        str(path), isolation_level=None, check_same_thread=check_same_thread, timeout=BUSY_TIMEOUT_MS / 1000
    )
    configure(conn)
    return conn


def configure(conn: sqlite3.Connection) -> None:
    """Apply the pragmas every punt connection needs."""
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.execute("PRAGMA foreign_keys = OFF")


def create_schema(conn: sqlite3.Connection) -> None:
    """Create every table punt uses (the log, the projections, the credentials) in one transaction."""
    from punt import credentials, idempotency
    from punt.eventstore.schema import LOG_SCHEMA
    from punt.projections.schema import PROJECTION_SCHEMA

    conn.executescript(
        "BEGIN IMMEDIATE;" + LOG_SCHEMA + PROJECTION_SCHEMA + credentials.SCHEMA + idempotency.SCHEMA + "COMMIT;"
    )


T = TypeVar("T")


class ReadPool:
    """A few read connections, each used by one thread at a time, for the current-state queries.

    Query functions are plain ``fn(conn, ...)`` so commands can call the
    same functions inside the writer's transaction. WAL mode lets these
    reads run while the writer commits.
    """

    def __init__(self, path: str | Path, size: int = 4) -> None:
        self._path = path
        self._size = size
        self._idle: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        self._all: list[sqlite3.Connection] = []
        self._executor = ThreadPoolExecutor(max_workers=size, thread_name_prefix="punt-read")

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """Run ``fn(conn, *args)`` on a pooled connection in a worker thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, self._call, fn, args)

    def _call(self, fn: Callable[..., T], args: tuple[Any, ...]) -> T:
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = connect(self._path, check_same_thread=False)
            self._all.append(conn)
        try:
            # A read transaction gives each query function one consistent snapshot.
            conn.execute("BEGIN")
            try:
                return fn(conn, *args)
            finally:
                conn.execute("COMMIT")
        finally:
            self._idle.put(conn)

    def close(self) -> None:
        self._executor.shutdown(wait=True)
        for conn in self._all:
            conn.close()
