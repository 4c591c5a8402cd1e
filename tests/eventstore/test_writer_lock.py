"""The writer serialises commits across processes with a blocking file lock."""

from __future__ import annotations

import fcntl
import threading
from pathlib import Path

import pytest

from punt.eventstore.writer import Writer
from punt.events import UserUpdated
from punt.projections import apply_event


def _try_lock(path: Path) -> bool:
    """Return whether another open file of ``path`` can take the exclusive flock now."""
    with open(path, "rb") as other:
        try:
            fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        fcntl.flock(other, fcntl.LOCK_UN)
        return True


def test_commit_holds_database_flock(writer: Writer, db_path: Path) -> None:
    seen_inside: list[bool] = []
    writer.execute_sync(lambda tx: seen_inside.append(_try_lock(db_path)))

    assert seen_inside == [False]
    assert _try_lock(db_path) is True


def test_lock_released_after_failed_command(writer: Writer, db_path: Path) -> None:
    def fail(_tx: object) -> None:
        raise ValueError("command rejected")

    with pytest.raises(ValueError):
        writer.execute_sync(fail)

    assert _try_lock(db_path) is True


def test_two_writers_keep_offsets_gapless(db_path: Path) -> None:
    writers = [Writer(str(db_path), apply_event) for _ in range(2)]
    for each in writers:
        each.start()
    offsets: list[int] = []
    lock = threading.Lock()

    def append_many(each: Writer, name: str) -> None:
        for index in range(50):
            event = UserUpdated(id=f"{name}-{index}", username=f"{name}-{index}", name=None, avatar=None,
                                avatarColor="#000000")
            offset = each.execute_sync(lambda tx, e=event: tx.append(e).offset)
            with lock:
                offsets.append(offset)

    threads = [threading.Thread(target=append_many, args=(each, f"w{n}")) for n, each in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for each in writers:
        each.close()

    assert sorted(offsets) == list(range(1, 101))
