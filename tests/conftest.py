"""Fixtures: a fresh database file, an in-process event store, and a real server process."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Iterator

import pytest

from punt import database
from punt.eventstore.writer import Writer
from punt.projections import apply_event
from tests.support import Api, ServerProcess


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    path = tmp_path / "punt.db"
    conn = database.connect(path)
    database.create_schema(conn)
    conn.close()
    return path


@pytest.fixture
def writer(db_path: Path) -> Iterator[Writer]:
    writer = Writer(str(db_path), apply_event)
    writer.start()
    yield writer
    writer.close()


@pytest.fixture
def conn(db_path: Path) -> Iterator[sqlite3.Connection]:
    conn = database.connect(db_path)
    yield conn
    conn.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path / "server.db").start()
    yield process
    process.stop()


@pytest.fixture
def admin(server: ServerProcess) -> Iterator[Api]:
    """The first registered user of the server, hence its system admin."""
    api = Api(server.url).register_and_login("root_admin")
    yield api
    api.close()
