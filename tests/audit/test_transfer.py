"""`punt export` and `punt import`: NDJSON round trips, and files that are rejected whole."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from punt import database
from punt.eventstore.writer import Writer
from punt.projections.rebuild import dump_projections
from tests.audit.scenario import register, run_cli, wipe_projects, write_mixed_history

_LOG_COLUMNS = "offset, stream, version, type, schema_version, data, metadata, project_id, timestamp, hash"


@pytest.fixture
def history_db(db_path: Path, writer: Writer) -> Path:
    """A long mixed history: three projects (one deleted), a project wipe, then more work."""
    people = write_mixed_history(writer, rounds=30)["people"]
    wipe_projects(writer, people[0])
    register(writer, "late_user")
    writer.close()
    return db_path


def _export(db: Path, output: Path) -> Path:
    finished = run_cli("export", "--db", str(db), "-o", str(output))
    assert finished.returncode == 0, finished.stderr.decode()
    return output


def _rows(db: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(db)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def test_round_trip_keeps_log_and_state(history_db: Path, tmp_path: Path) -> None:
    exported = _export(history_db, tmp_path / "log.ndjson")
    copy = tmp_path / "copy.db"

    finished = run_cli("import", "--db", str(copy), str(exported))
    assert finished.returncode == 0, finished.stderr.decode()

    original_log = _rows(history_db, f"SELECT {_LOG_COLUMNS} FROM events ORDER BY offset")
    assert len(original_log) > 300
    assert _rows(copy, f"SELECT {_LOG_COLUMNS} FROM events ORDER BY offset") == original_log
    with closing(database.connect(history_db)) as original, closing(database.connect(copy)) as imported:
        assert dump_projections(imported) == dump_projections(original)
    verified = run_cli("verify", "--db", str(copy))
    assert verified.returncode == 0, verified.stdout.decode()


def test_export_to_stdout_matches_file(history_db: Path, tmp_path: Path) -> None:
    exported = _export(history_db, tmp_path / "log.ndjson").read_bytes()
    finished = run_cli("export", "--db", str(history_db))
    assert finished.returncode == 0
    assert finished.stdout == exported


def test_export_line_holds_offset_and_hash(history_db: Path, tmp_path: Path) -> None:
    lines = _export(history_db, tmp_path / "log.ndjson").read_text().splitlines()
    first = json.loads(lines[0])
    assert first["offset"] == 1
    assert first["type"] == "user.registered"
    assert first["hash"] == _rows(history_db, "SELECT hash FROM events WHERE offset = 1")[0][0]
    assert first["data"]["username"] == "ada"
    assert [json.loads(line)["offset"] for line in lines] == list(range(1, len(lines) + 1))


def _import_rejected(tmp_path: Path, lines: list[str]) -> str:
    broken = tmp_path / "broken.ndjson"
    broken.write_text("\n".join(lines) + "\n")
    target = tmp_path / "target.db"
    finished = run_cli("import", "--db", str(target), str(broken))
    assert finished.returncode == 1
    assert not target.exists(), "a rejected import must leave no database behind"
    return finished.stderr.decode()


def test_malformed_line_rejected_with_number(history_db: Path, tmp_path: Path) -> None:
    lines = _export(history_db, tmp_path / "log.ndjson").read_text().splitlines()
    lines[6] = lines[6][:40]
    message = _import_rejected(tmp_path, lines)
    assert "line 7:" in message
    assert "nothing was imported" in message


def test_tampered_line_rejected_with_number(history_db: Path, tmp_path: Path) -> None:
    lines = _export(history_db, tmp_path / "log.ndjson").read_text().splitlines()
    event = json.loads(lines[20])
    event["timestamp"] = "2020-01-01T00:00:00.000Z"
    lines[20] = json.dumps(event, separators=(",", ":"))
    message = _import_rejected(tmp_path, lines)
    assert "line 21:" in message
    assert "hash" in message


def test_missing_line_rejected_with_number(history_db: Path, tmp_path: Path) -> None:
    lines = _export(history_db, tmp_path / "log.ndjson").read_text().splitlines()
    del lines[9]
    message = _import_rejected(tmp_path, lines)
    assert "line 10: offset 11 where 10 was expected" in message


def test_import_into_used_database_rejected(history_db: Path, tmp_path: Path) -> None:
    exported = _export(history_db, tmp_path / "log.ndjson")
    before = _rows(history_db, "SELECT count(*) FROM events")
    finished = run_cli("import", "--db", str(history_db), str(exported))
    assert finished.returncode == 1
    assert "import into a new file" in finished.stderr.decode()
    assert _rows(history_db, "SELECT count(*) FROM events") == before
