"""The single writer: commands run one after another in a dedicated thread.

Concurrent commands queue up, and the writer takes every command waiting.
It runs each in a savepoint of one ``BEGIN IMMEDIATE`` transaction and
commits them all with a single fsync (group commit). A command that raises is rolled back to
its savepoint alone, so it appends nothing while the others in its group
still commit. Each caller's future is completed only after COMMIT returns,
which is what makes a 2xx response mean "on disk".

Several processes may each run a writer on the same file: ``BEGIN IMMEDIATE``
takes SQLite's write lock, and the head offset is read after taking it, so
offsets stay gapless and commit in order across processes too. Before that,
each writer takes an exclusive ``flock`` on the database file and holds it
until COMMIT. A writer waiting for that lock sleeps in the kernel and wakes
as soon as it is released, whereas SQLite's busy handler polls with sleeps
of up to 100 ms, which made two worker processes slower than one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import fcntl
import logging
import queue
import sqlite3
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Callable, Generic, TypeVar

import msgspec

from punt import database
from punt.errors import StoreError, WrongExpectedVersion
from punt.eventstore.records import GENESIS_HASH, StoredEvent, chain_hash
from punt.eventstore.schema import EVENTS_TABLE
from punt.events import Event, encode_event

__all__ = ["CommandMetadata", "Transaction", "Writer", "utc_timestamp"]

logger = logging.getLogger(__name__)

T = TypeVar("T")

# Enough to amortise one fsync over a burst of commands, small enough that
# the first command of a group does not wait long for the last.
MAX_GROUP_SIZE = 256

ProjectFn = Callable[[sqlite3.Connection, StoredEvent, Event], None]


def utc_timestamp() -> str:
    """Return the current time as ISO 8601 in UTC with milliseconds and ``Z``."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class CommandMetadata(msgspec.Struct, frozen=True):
    """The metadata stored with each event of a command: the acting user and the browser tab."""

    actorId: str | None = None
    tabId: str | None = None


_encode_metadata = msgspec.json.Encoder().encode


class Transaction:
    """The write transaction a command runs in: append events and read current state."""

    def __init__(self, conn: sqlite3.Connection, project: ProjectFn) -> None:
        self.conn = conn
        self._project = project
        row = conn.execute(f"SELECT offset, hash FROM {EVENTS_TABLE} ORDER BY offset DESC LIMIT 1").fetchone()
        self.head, self._last_hash = (row[0], row[1]) if row else (0, GENESIS_HASH)
        self._versions: dict[str, int] = {}
        self.metadata = CommandMetadata()
        self.timestamp = utc_timestamp()
        self.appended: list[StoredEvent] = []

    def append(self, event: Event, *, expected_version: int | None = None) -> StoredEvent:
        """Append one event at the next offset and apply it to the projections.

        ``expected_version`` is the version the event's stream must be at
        before this append; WrongExpectedVersion is raised otherwise.
        """
        stream = event.stream_id()
        version = self.stream_version(stream)
        if expected_version is not None and expected_version != version:
            raise WrongExpectedVersion(stream, expected_version, version)

        stored = self._stored(event, stream, version + 1)
        self.conn.execute(
            f"INSERT INTO {EVENTS_TABLE} (offset, stream, version, type, schema_version, data,"
            " metadata, project_id, timestamp, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                stored.offset, stored.stream, stored.version, stored.type, stored.schema_version,
                stored.data, stored.metadata, stored.project_id, stored.timestamp, stored.hash,
            ),
        )
        self._project(self.conn, stored, event)

        self.head, self._last_hash = stored.offset, stored.hash
        self._versions[stream] = stored.version
        self.appended.append(stored)
        return stored

    def stream_version(self, stream: str) -> int:
        """Return the stream's current version: 0 for a stream with no events."""
        if stream not in self._versions:
            row = self.conn.execute(
                f"SELECT max(version) FROM {EVENTS_TABLE} WHERE stream = ?", (stream,)
            ).fetchone()
            self._versions[stream] = row[0] or 0
        return self._versions[stream]

    def _stored(self, event: Event, stream: str, version: int) -> StoredEvent:
        offset = self.head + 1
        data = encode_event(event)
        metadata = _encode_metadata(self.metadata)
        digest = chain_hash(
            self._last_hash, offset, stream, version, event.type, event.schema_version, data, metadata, self.timestamp
        )
        return StoredEvent(
            offset=offset, stream=stream, version=version, type=event.type,
            schema_version=event.schema_version, data=data, metadata=metadata,
            project_id=event.project_scope(), timestamp=self.timestamp, hash=digest,
        )

    def _mark(self) -> tuple[int, str, dict[str, int], int]:
        return self.head, self._last_hash, dict(self._versions), len(self.appended)

    def _rewind(self, mark: tuple[int, str, dict[str, int], int]) -> None:
        self.head, self._last_hash, self._versions, kept = mark
        del self.appended[kept:]


@dataclass
class _Job(Generic[T]):
    command: Callable[[Transaction], T]
    metadata: CommandMetadata
    # An asyncio future when submitted from an event loop (``loop`` set),
    # otherwise a thread-safe concurrent future.
    future: concurrent.futures.Future[T] | asyncio.Future[T] = field(default_factory=concurrent.futures.Future)
    loop: asyncio.AbstractEventLoop | None = None


Outcome = tuple[_Job[Any], Any, BaseException | None]


class Writer:
    """Runs commands against the database file in one thread, committing them in groups.

    ``project`` applies each appended event to the read models inside the
    same transaction. ``on_commit`` is called from the writer thread with
    the events of every group that appended any, after they are durable.
    """

    def __init__(
        self,
        path: str,
        project: ProjectFn,
        on_commit: Callable[[list[StoredEvent]], None] | None = None,
    ) -> None:
        self._path = path
        self._project = project
        self._on_commit = on_commit
        self._jobs: queue.SimpleQueue[_Job[Any] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="punt-writer", daemon=True)
        self._started = threading.Event()
        self._conn: sqlite3.Connection | None = None

    def start(self) -> None:
        """Start the writer thread; it opens its own connection."""
        self._thread.start()
        self._started.wait()

    def close(self) -> None:
        """Finish the queued commands, then stop the thread and close its connection."""
        if self._thread.is_alive():
            self._jobs.put(None)
            self._thread.join()

    async def execute(self, command: Callable[[Transaction], T], metadata: CommandMetadata | None = None) -> T:
        """Run a command in the writer and return its result once its events are on disk."""
        loop = asyncio.get_running_loop()
        job = _Job(command, metadata or CommandMetadata(), loop.create_future(), loop)
        self._enqueue(job)
        return await job.future

    def execute_sync(self, command: Callable[[Transaction], T], metadata: CommandMetadata | None = None) -> T:
        """Blocking form of execute, for the command line and for scripts."""
        return self.submit(command, metadata).result()

    def submit(
        self, command: Callable[[Transaction], T], metadata: CommandMetadata | None = None
    ) -> concurrent.futures.Future[T]:
        job = _Job(command, metadata or CommandMetadata())
        self._enqueue(job)
        return job.future

    def _enqueue(self, job: _Job[Any]) -> None:
        if not self._thread.is_alive():
            raise StoreError("the writer is not running; call Writer.start() first")
        self._jobs.put(job)

    def _run(self) -> None:
        self._conn = database.connect(self._path)
        # flock locks belong to this open file, apart from SQLite's own POSIX
        # locks on the same file, so neither can release the other's.
        # NOTE: on NFS, Linux emulates flock with POSIX locks, but SQLite's WAL
        # mode does not work on network file systems in the first place.
        self._lock_file = open(self._path, "rb")
        self._started.set()
        try:
            while (group := self._next_group()) is not None:
                self._commit_group_locked(group)
        finally:
            self._lock_file.close()
            self._conn.close()

    def _commit_group_locked(self, group: list[_Job[Any]]) -> None:
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            outcomes, appended = self._commit_group(group)
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)

        # Callers learn the outcome only after the lock is released, so the
        # next writer process can already be committing while they resume.
        _settle(outcomes)
        if appended and self._on_commit is not None:
            self._on_commit(appended)

    def _next_group(self) -> list[_Job[Any]] | None:
        first = self._jobs.get()
        if first is None:
            return None
        group = [first]
        while len(group) < MAX_GROUP_SIZE:
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                break
            if job is None:
                # Keep the stop request for the next round, after this group commits.
                self._jobs.put(None)
                break
            group.append(job)
        return group

    def _commit_group(self, group: list[_Job[Any]]) -> tuple[list[Outcome], list[StoredEvent]]:
        conn = self._conn
        outcomes: list[Outcome] = []
        try:
            conn.execute("BEGIN IMMEDIATE")
            tx = Transaction(conn, self._project)
            for job in group:
                outcomes.append(self._run_job(tx, job))
            if tx.appended:
                conn.execute("UPDATE projection_checkpoint SET offset = ? WHERE name = 'all'", (tx.head,))
            conn.execute("COMMIT")
        except sqlite3.Error as exc:
            return self._fail_group(group, exc), []

        return outcomes, tx.appended

    def _run_job(self, tx: Transaction, job: _Job[Any]) -> tuple[_Job[Any], Any, BaseException | None]:
        tx.metadata = job.metadata
        tx.timestamp = utc_timestamp()
        mark = tx._mark()
        tx.conn.execute("SAVEPOINT command")
        try:
            result = job.command(tx)
        except Exception as exc:
            tx.conn.execute("ROLLBACK TO command")
            tx.conn.execute("RELEASE command")
            tx._rewind(mark)
            return job, None, exc
        tx.conn.execute("RELEASE command")
        return job, result, None

    def _fail_group(self, group: list[_Job[Any]], exc: sqlite3.Error) -> list[Outcome]:
        logger.error("commit of %d commands failed, all rolled back: %s", len(group), exc)
        if self._conn.in_transaction:
            self._conn.execute("ROLLBACK")
        error = StoreError(f"the database could not commit: {exc}")
        error.__cause__ = exc
        return [(job, None, error) for job in group]


def _settle(outcomes: list[Outcome]) -> None:
    """Complete the callers' futures, with one wake-up per event loop for the whole group.

    Waking a loop costs a system call, so completing each asyncio future on
    its own would cost one per command and undo much of what grouping saves.
    """
    by_loop: dict[asyncio.AbstractEventLoop, list[Outcome]] = {}
    for outcome in outcomes:
        job = outcome[0]
        if job.loop is None:
            _complete(outcome)
        else:
            by_loop.setdefault(job.loop, []).append(outcome)
    for loop, batch in by_loop.items():
        try:
            loop.call_soon_threadsafe(_complete_all, batch)
        except RuntimeError:
            # The loop closed while its commands ran, so no caller awaits them now.
            logger.warning("%d command results had no event loop left to receive them", len(batch))


def _complete_all(batch: list[Outcome]) -> None:
    for outcome in batch:
        _complete(outcome)


def _complete(outcome: Outcome) -> None:
    job, result, error = outcome
    if job.future.done():
        # An asyncio caller that was cancelled (its client went away) no
        # longer waits; the command's events are committed all the same.
        return
    if error is None:
        job.future.set_result(result)
    else:
        job.future.set_exception(error)
