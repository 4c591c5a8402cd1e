"""The log's guarantees: append-only, gapless ordered offsets, all-or-nothing commands, a hash chain."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from pathlib import Path

import pytest

from punt import database
from punt import events as ev
from punt.errors import InvalidInput, WrongExpectedVersion
from punt.eventstore.records import GENESIS_HASH, chain_hash
from punt.eventstore.writer import Transaction, Writer
from punt.projections import apply_event


def _register(name: str):
    def command(tx: Transaction) -> int:
        stored = tx.append(ev.UserRegistered(id=name, username=name, email=None, name=None, avatarColor="#000000",
                                             isSystemAdmin=False, createdAt=tx.timestamp))
        return stored.offset
    return command


def _offsets(conn: sqlite3.Connection) -> list[int]:
    return [row[0] for row in conn.execute("SELECT offset FROM events ORDER BY offset")]


def test_update_of_event_rejected_by_sqlite(writer: Writer, conn: sqlite3.Connection) -> None:
    writer.execute_sync(_register("alice"))
    with pytest.raises(sqlite3.IntegrityError, match="append-only: UPDATE"):
        conn.execute("UPDATE events SET type = 'user.updated' WHERE offset = 1")


def test_delete_of_event_rejected_by_sqlite(writer: Writer, conn: sqlite3.Connection) -> None:
    writer.execute_sync(_register("alice"))
    with pytest.raises(sqlite3.IntegrityError, match="append-only: DELETE"):
        conn.execute("DELETE FROM events")
    assert _offsets(conn) == [1]


def test_concurrent_commands_get_gapless_offsets(writer: Writer, conn: sqlite3.Connection) -> None:
    futures = [writer.submit(_register(f"user{i}")) for i in range(200)]
    results = sorted(future.result() for future in futures)
    assert results == list(range(1, 201))
    assert _offsets(conn) == list(range(1, 201))


def test_failed_command_appends_nothing_and_others_commit(writer: Writer, conn: sqlite3.Connection) -> None:
    def half_then_fail(tx: Transaction) -> None:
        _register("half")(tx)
        raise InvalidInput.field("title", "may not be blank")

    good = writer.submit(_register("before"))
    bad = writer.submit(half_then_fail)
    after = writer.submit(_register("after"))

    assert good.result() == 1
    with pytest.raises(InvalidInput):
        bad.result()
    assert after.result() == 2
    assert [row[0] for row in conn.execute("SELECT username FROM users ORDER BY username")] == ["after", "before"]
    assert _offsets(conn) == [1, 2]


def test_wrong_expected_version_rejected(writer: Writer) -> None:
    writer.execute_sync(_register("alice"))

    def update(tx: Transaction) -> None:
        tx.append(ev.UserUpdated(id="alice", username="alice", name="A", avatar=None, avatarColor="#000000"),
                  expected_version=0)

    with pytest.raises(WrongExpectedVersion, match="'user-alice' is at version 1, expected 0"):
        writer.execute_sync(update)


def test_hash_chain_links_every_event(writer: Writer, conn: sqlite3.Connection) -> None:
    for name in ("a", "b", "c"):
        writer.execute_sync(_register(name))
    previous = GENESIS_HASH
    rows = conn.execute(
        "SELECT offset, stream, version, type, schema_version, data, metadata, timestamp, hash FROM events"
    ).fetchall()
    for offset, stream, version, event_type, schema_version, data, metadata, timestamp, digest in rows:
        assert digest == chain_hash(previous, offset, stream, version, event_type, schema_version, data, metadata,
                                    timestamp)
        previous = digest


def test_committed_command_is_durable_after_close(db_path: Path) -> None:
    writer = Writer(str(db_path), apply_event)
    writer.start()
    offset = writer.execute_sync(_register("durable"))
    writer.close()
    conn = database.connect(db_path)
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL: fsync on every commit
    assert _offsets(conn) == [offset]
    conn.close()


def _append_many(path: str, prefix: str, count: int, start: multiprocessing.Event) -> None:
    writer = Writer(path, apply_event)
    writer.start()
    start.wait()
    futures = [writer.submit(_register(f"{prefix}{i}")) for i in range(count)]
    for future in futures:
        future.result()
    writer.close()


def test_two_processes_append_gapless(db_path: Path, conn: sqlite3.Connection) -> None:
    start = multiprocessing.get_context("spawn").Event()
    processes = [
        multiprocessing.get_context("spawn").Process(target=_append_many, args=(str(db_path), prefix, 150, start))
        for prefix in ("p", "q")
    ]
    for process in processes:
        process.start()
    start.set()
    for process in processes:
        process.join(60)
        assert process.exitcode == 0

    assert _offsets(conn) == list(range(1, 301))
    versions = conn.execute("SELECT count(DISTINCT stream) FROM events").fetchone()[0]
    assert versions == 300


def test_reader_never_finds_offset_gap(writer: Writer, db_path: Path) -> None:
    """A reader polling the head while commands commit always finds every offset up to it."""
    stop = threading.Event()
    violations: list[str] = []

    def poll() -> None:
        reader = database.connect(db_path, check_same_thread=False)
        while not stop.is_set():
            offsets = [row[0] for row in reader.execute("SELECT offset FROM events ORDER BY offset")]
            if offsets != list(range(1, len(offsets) + 1)):
                violations.append(f"gap in {offsets[-5:]}")
        reader.close()

    thread = threading.Thread(target=poll)
    thread.start()
    futures = [writer.submit(_register(f"u{i}")) for i in range(300)]
    for future in futures:
        future.result()
    stop.set()
    thread.join()
    assert violations == []
