"""The demo workspace: loaded through the commands, once, with a working login."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from punt import database
from punt.demo import DEMO_PASSWORD, DEMO_USERNAME, load_demo
from punt.projections.rebuild import dump_projections, rebuild_projections
from tests.support import Api, ServerProcess


@pytest.fixture
def demo_db(tmp_path: Path) -> Path:
    path = tmp_path / "demo.db"
    assert load_demo(str(path)) is True
    return path


def test_demo_fills_realistic_workspace(demo_db: Path) -> None:
    conn = sqlite3.connect(demo_db)
    assert conn.execute("SELECT count(*) FROM users").fetchone()[0] == 4
    assert conn.execute("SELECT count(*) FROM projects").fetchone()[0] == 2
    assert conn.execute("SELECT count(*) FROM tickets").fetchone()[0] == 40
    assert conn.execute("SELECT count(DISTINCT column_id) FROM tickets").fetchone()[0] == 6
    assert conn.execute("SELECT count(*) FROM tickets WHERE assignee_id IS NOT NULL").fetchone()[0] > 20
    assert conn.execute("SELECT count(*) FROM ticket_labels").fetchone()[0] > 10
    conn.close()


def test_demo_skips_database_with_data(demo_db: Path) -> None:
    conn = sqlite3.connect(demo_db)
    before = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    assert load_demo(str(demo_db)) is False
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == before
    conn.close()


def test_demo_state_equals_rebuild(demo_db: Path, tmp_path: Path) -> None:
    live = database.connect(demo_db)
    rebuilt = database.connect(tmp_path / "rebuilt.db")
    rebuild_projections(live, rebuilt)
    assert dump_projections(rebuilt) == dump_projections(live)
    live.close()
    rebuilt.close()


def test_demo_login_works_on_server(demo_db: Path) -> None:
    server = ServerProcess(demo_db).start()
    try:
        api = Api(server.url).login(DEMO_USERNAME, DEMO_PASSWORD)
        keys = sorted(project["key"] for project in api.http.get("/api/projects").json())
        assert keys == ["PUNT", "WEB"]
        assert len(api.http.get("/api/projects/PUNT/tickets").json()) == 20
        api.close()
    finally:
        server.stop()
