"""`punt replay`: rebuilds the read models in a copy, swaps it in, and refuses a database in use."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from punt import database
from punt.eventstore.writer import Writer
from punt.projections.rebuild import dump_projections
from tests.audit.scenario import run_cli, write_mixed_history
from tests.support import Api, ServerProcess


@pytest.fixture
def history_db(db_path: Path, writer: Writer) -> Path:
    write_mixed_history(writer)
    writer.close()
    return db_path


def test_replay_repairs_drifted_read_model(history_db: Path) -> None:
    with closing(database.connect(history_db)) as conn:
        expected = dump_projections(conn)
        conn.execute("UPDATE tickets SET title = 'drifted' WHERE number = 1")
        conn.execute("DELETE FROM labels WHERE rowid = (SELECT min(rowid) FROM labels)")

    finished = run_cli("replay", "--db", str(history_db))
    assert finished.returncode == 0, finished.stderr.decode()

    with closing(database.connect(history_db)) as conn:
        assert dump_projections(conn) == expected
    assert run_cli("verify", "--db", str(history_db)).returncode == 0


def test_replay_reports_progress_and_rate(history_db: Path) -> None:
    with closing(sqlite3.connect(history_db)) as conn:
        events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finished = run_cli("replay", "--db", str(history_db))
    assert finished.returncode == 0
    assert f"{events}/{events} events" in finished.stderr.decode()
    assert f"replayed {events} events in" in finished.stdout.decode()
    assert "events/s" in finished.stdout.decode()


def test_replay_keeps_log_and_credentials(history_db: Path) -> None:
    tables = "SELECT * FROM events ORDER BY offset"
    with closing(database.connect(history_db)) as conn:
        conn.execute("INSERT INTO credentials (user_id, password_hash) VALUES ('someone', 'hash')")
        log = conn.execute(tables).fetchall()

    assert run_cli("replay", "--db", str(history_db)).returncode == 0

    with closing(database.connect(history_db)) as conn:
        assert conn.execute(tables).fetchall() == log
        assert conn.execute("SELECT password_hash FROM credentials WHERE user_id = 'someone'").fetchone() == ("hash",)
    assert not history_db.with_name(history_db.name + ".replay").exists()


def test_replay_refused_while_server_runs(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "served.db").start()
    try:
        api = Api(server.url).register_and_login("replay_admin")
        api.create_project("RUN")
        api.close()

        finished = run_cli("replay", "--db", str(server.db))
        assert finished.returncode == 1
        message = finished.stderr.decode()
        assert "is in use by another process" in message
        assert "stop `punt serve`" in message
    finally:
        server.stop()

    assert run_cli("replay", "--db", str(server.db)).returncode == 0


def test_replay_missing_database_fails(tmp_path: Path) -> None:
    finished = run_cli("replay", "--db", str(tmp_path / "absent.db"))
    assert finished.returncode == 1
    assert "no database at" in finished.stderr.decode()
