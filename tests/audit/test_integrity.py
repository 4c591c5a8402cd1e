"""`punt verify`: the hash chain and the rebuild comparison, on intact and tampered logs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from punt import database
from punt.eventstore.writer import Writer
from tests.audit.scenario import run_cli, write_mixed_history

# Only the test drops these: the database itself refuses to change the log otherwise.
_DROP_TRIGGERS = "DROP TRIGGER events_reject_update; DROP TRIGGER events_reject_delete;"


@pytest.fixture
def history_db(db_path: Path, writer: Writer) -> Path:
    write_mixed_history(writer)
    writer.close()
    return db_path


def _tamper(db: Path, *statements: tuple[str, tuple]) -> None:
    conn = database.connect(db)
    conn.executescript(_DROP_TRIGGERS)
    conn.execute("BEGIN")
    for sql, params in statements:
        conn.execute(sql, params)
    conn.execute("COMMIT")
    conn.close()


def _verify(db: Path) -> tuple[int, str]:
    finished = run_cli("verify", "--db", str(db))
    return finished.returncode, finished.stdout.decode() + finished.stderr.decode()


def test_verify_passes_on_intact_log(history_db: Path) -> None:
    status, output = _verify(history_db)
    assert status == 0, output
    assert "hash chain: ok" in output
    assert "read models: ok" in output


def test_altered_data_names_its_offset(history_db: Path) -> None:
    _tamper(history_db, ("UPDATE events SET data = CAST(replace(data, 'AUD ticket 2', 'AUD ticket X') AS BLOB)"
                         " WHERE type = 'ticket.created' AND instr(data, 'AUD ticket 2')", ()))
    conn = sqlite3.connect(history_db)
    offset = conn.execute("SELECT offset FROM events WHERE instr(data, 'AUD ticket X')").fetchone()[0]
    conn.close()

    status, output = _verify(history_db)
    assert status == 1
    assert f"hash chain: failed at offset {offset}:" in output


def test_deleted_event_names_its_offset(history_db: Path) -> None:
    _tamper(history_db, ("DELETE FROM events WHERE offset = ?", (40,)))
    status, output = _verify(history_db)
    assert status == 1
    assert "hash chain: failed at offset 40: the event is missing" in output


def test_deleted_last_event_detected(history_db: Path) -> None:
    conn = sqlite3.connect(history_db)
    head = conn.execute("SELECT max(offset) FROM events").fetchone()[0]
    conn.close()
    _tamper(history_db, ("DELETE FROM events WHERE offset = ?", (head,)))

    status, output = _verify(history_db)
    assert status == 1
    assert f"hash chain: failed at offset {head}: the event is missing" in output


def test_swapped_events_name_lower_offset(history_db: Path) -> None:
    columns = "stream, version, type, schema_version, data, metadata, project_id, timestamp, hash"
    conn = sqlite3.connect(history_db)
    first = conn.execute(f"SELECT {columns} FROM events WHERE offset = 30").fetchone()
    second = conn.execute(f"SELECT {columns} FROM events WHERE offset = 31").fetchone()
    conn.close()
    assignments = ", ".join(f"{column} = ?" for column in columns.split(", "))
    # The first update parks row 30 on a free (stream, version) so the unique key never clashes.
    _tamper(
        history_db,
        ("UPDATE events SET stream = 'parked' WHERE offset = 30", ()),
        (f"UPDATE events SET {assignments} WHERE offset = 31", first),
        (f"UPDATE events SET {assignments} WHERE offset = 30", second),
    )

    status, output = _verify(history_db)
    assert status == 1
    assert "hash chain: failed at offset 30:" in output


def test_drifted_read_model_names_row(history_db: Path) -> None:
    conn = database.connect(history_db)
    conn.execute("UPDATE tickets SET title = 'edited behind the log' WHERE number = 1")
    conn.close()

    status, output = _verify(history_db)
    assert status == 1
    assert "hash chain: ok" in output
    assert "read models: failed, table tickets: live row" in output
    assert "edited behind the log" in output


def test_verify_missing_database_fails(tmp_path: Path) -> None:
    status, output = _verify(tmp_path / "absent.db")
    assert status == 1
    assert "no database at" in output
    assert not (tmp_path / "absent.db").exists()
