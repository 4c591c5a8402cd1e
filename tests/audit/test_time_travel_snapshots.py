"""Time travel through cached snapshots gives the same state as a replay from offset 0."""

from __future__ import annotations

import random
import sqlite3
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from functools import partial
from pathlib import Path

from punt import database
from punt.audit.snapshots import Snapshot, SnapshotCache
from punt.audit.timetravel import project_state_at
from punt.commands import admin, projects, tickets
from punt.commands.inputs import CreateProject, CreateTicket
from punt.eventstore.writer import CommandMetadata, Writer
from punt.projections.rebuild import dump_projections
from tests.audit.scenario import PASSWORD_HASH, register, wipe_projects, write_mixed_history

# Small enough that each project of the mixed history (60 to 100 events) gets several snapshots.
_INTERVAL = 7


def _cache(**settings: int) -> SnapshotCache:
    """Return a cache that snapshots by event count only, so its offsets do not depend on the machine's speed."""
    return SnapshotCache(**{"interval": _INTERVAL, "max_replay_seconds": 3600, **settings})


def _head(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT max(offset) FROM events").fetchone()[0]


def _dump_at(conn: sqlite3.Connection, project_id: str, at: int, cache: SnapshotCache) -> dict:
    state = project_state_at(conn, project_id, at, cache)
    try:
        return dump_projections(state)
    finally:
        state.close()


def _full_replay(conn: sqlite3.Connection, project_id: str, at: int) -> dict:
    """Dump the state from a replay that starts at offset 0 and stores no snapshot."""
    return _dump_at(conn, project_id, at, _cache(interval=10**9))


def _slice_count(conn: sqlite3.Connection, project_id: str, after: int, at: int) -> int:
    """Count the events a replay of the project applies in (after, at]."""
    return conn.execute(
        "SELECT count(*) FROM events WHERE offset > ? AND offset <= ? AND (project_id = ? OR type IN"
        " ('user.registered', 'user.updated', 'database.wiped', 'database.projects.wiped'))",
        (after, at, project_id),
    ).fetchone()[0]


def _assert_matches_full_replay(conn: sqlite3.Connection, project_ids: list[str], offsets: list[int],
                                cache: SnapshotCache) -> None:
    for at in offsets:
        for project_id in project_ids:
            assert _dump_at(conn, project_id, at, cache) == _full_replay(conn, project_id, at), (project_id, at)


def test_snapshot_reads_equal_full_replay(writer: Writer, conn: sqlite3.Connection) -> None:
    ids = write_mixed_history(writer, rounds=10)
    head = _head(conn)
    cache = _cache()
    offsets = list(range(0, head + 1, 3)) + [head]
    random.Random(5).shuffle(offsets)

    _assert_matches_full_replay(conn, ids["projects"], offsets, cache)

    for project_id in ids["projects"]:
        assert len(cache.offsets(project_id)) > 5, project_id
    full_cost = sum(_slice_count(conn, project_id, 0, at) for at in offsets for project_id in ids["projects"])
    assert cache.replayed_events < full_cost / 2


def test_later_request_replays_fewer_events(writer: Writer, conn: sqlite3.Connection) -> None:
    project_id = write_mixed_history(writer, rounds=10)["projects"][0]
    head = _head(conn)
    first_at = head - 10
    cache = _cache()

    project_state_at(conn, project_id, first_at, cache).close()
    first = cache.replayed_events
    nearest = max(offset for offset in cache.offsets(project_id) if offset <= head)
    project_state_at(conn, project_id, head, cache).close()
    second = cache.replayed_events - first

    assert first == _slice_count(conn, project_id, 0, first_at)
    assert second == _slice_count(conn, project_id, nearest, head)
    assert second < first


def test_snapshot_at_offset_replays_nothing(writer: Writer, conn: sqlite3.Connection) -> None:
    project_id = write_mixed_history(writer, rounds=4)["projects"][0]
    cache = _cache()
    project_state_at(conn, project_id, _head(conn), cache).close()
    snapshot_offset = cache.offsets(project_id)[-1]
    before = cache.replayed_events

    project_state_at(conn, project_id, snapshot_offset, cache).close()

    assert cache.replayed_events == before


def test_replay_time_limit_stores_snapshots(writer: Writer, conn: sqlite3.Connection) -> None:
    project_id = write_mixed_history(writer, rounds=4)["projects"][0]
    head = _head(conn)
    cache = _cache(interval=10**9, max_replay_seconds=0)

    project_state_at(conn, project_id, head, cache).close()

    assert len(cache.offsets(project_id)) == _slice_count(conn, project_id, 0, head)


def test_reader_threads_share_cache(writer: Writer, db_path: Path, conn: sqlite3.Connection) -> None:
    ids = write_mixed_history(writer, rounds=6)
    head = _head(conn)
    cache = _cache()
    offsets = list(range(1, head + 1, 2))

    def read_all(seed: int) -> list[tuple[int, dict]]:
        order = random.Random(seed).sample(offsets, len(offsets))
        with closing(database.connect(db_path)) as reader:
            return [(at, _dump_at(reader, ids["projects"][0], at, cache)) for at in order]

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(read_all, range(4)))

    for dumps in results:
        for at, dump in dumps:
            assert dump == _full_replay(conn, ids["projects"][0], at), at


def _snapshot(offset: int, size: int, project_id: str = "p") -> Snapshot:
    return Snapshot(project_id, offset, f"hash-{offset}", bytes(size))


def test_byte_bound_evicts_least_recently_used() -> None:
    cache = SnapshotCache(max_bytes=300)
    for offset in (10, 20, 30):
        cache.put(_snapshot(offset, 100))
    cache.touch(cache.candidates("p", 10)[0])

    cache.put(_snapshot(40, 100))

    assert cache.offsets("p") == [10, 30, 40]
    assert cache.total_bytes == 300


def test_snapshot_over_bound_not_stored() -> None:
    cache = SnapshotCache(max_bytes=300)
    cache.put(_snapshot(10, 100))

    cache.put(_snapshot(20, 301))

    assert cache.offsets("p") == [10]
    assert cache.total_bytes == 100


def test_candidates_greatest_offset_first() -> None:
    cache = SnapshotCache()
    for offset in (30, 10, 20):
        cache.put(_snapshot(offset, 1))
    cache.put(_snapshot(15, 1, project_id="other"))

    assert [snapshot.offset for snapshot in cache.candidates("p", 25)] == [20, 10]
    assert cache.candidates("p", 5) == []


def test_replay_keeps_cache_within_bound(writer: Writer, conn: sqlite3.Connection) -> None:
    project_id = write_mixed_history(writer, rounds=10)["projects"][0]
    head = _head(conn)
    probe = _cache()
    project_state_at(conn, project_id, head, probe).close()
    largest = max(len(snapshot.data) for snapshot in probe.candidates(project_id, head))
    cache = _cache(max_bytes=3 * largest)

    project_state_at(conn, project_id, head, cache).close()

    assert cache.total_bytes <= 3 * largest
    assert 1 <= len(cache.offsets(project_id)) <= 3
    assert cache.offsets(project_id)[-1] == probe.offsets(project_id)[-1]
    assert _dump_at(conn, project_id, head, cache) == _full_replay(conn, project_id, head)


def test_snapshot_from_other_log_ignored(writer: Writer, conn: sqlite3.Connection) -> None:
    project_id = write_mixed_history(writer, rounds=4)["projects"][0]
    head = _head(conn)
    cache = _cache()
    cache.put(Snapshot(project_id, head - 1, "hash of another log", b"not a database"))

    assert _dump_at(conn, project_id, head, cache) == _full_replay(conn, project_id, head)


def _write_after_wipe(writer: Writer, actor, key: str) -> None:
    run = partial(writer.execute_sync, metadata=CommandMetadata(actorId=actor.user_id))
    project = run(partial(projects.create_project, actor=actor, body=CreateProject(name=f"After {key}", key=key)))
    for number in range(5):
        run(partial(tickets.create_ticket, actor=actor, project_ref=project["id"],
                    body=CreateTicket(title=f"{key} {number}")))


def test_wipes_respected_from_snapshots(writer: Writer, conn: sqlite3.Connection) -> None:
    ids = write_mixed_history(writer, rounds=6)
    ada = ids["people"][0]
    before_wipes = _head(conn)
    wipe_projects(writer, ada)
    _write_after_wipe(writer, ada, "NEW")
    wipe = partial(admin.wipe_database, actor=ada, admin_username="root", admin_password_hash=PASSWORD_HASH)
    writer.execute_sync(wipe, CommandMetadata(actorId=ada.user_id))
    register(writer, "eve")
    head = _head(conn)
    cache = _cache()
    project_id = ids["projects"][0]

    project_state_at(conn, project_id, before_wipes, cache).close()
    replayed_before = cache.replayed_events
    after_wipe = _dump_at(conn, project_id, head, cache)

    assert cache.replayed_events - replayed_before < _slice_count(conn, project_id, 0, head)
    assert after_wipe == _full_replay(conn, project_id, head)
    assert after_wipe["projects"] == []
    assert after_wipe["tickets"] == []
    assert sorted(row[1] for row in after_wipe["users"]) == ["eve", "root"]
    offsets = list(range(before_wipes - 20, head + 1))
    _assert_matches_full_replay(conn, ids["projects"], offsets, cache)
