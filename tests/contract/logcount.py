"""Reading the length of a server's log straight from its database file."""

from __future__ import annotations

import sqlite3
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


def log_length(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]
    finally:
        conn.close()


@contextmanager
def log_unchanged(db: Path) -> Iterator[None]:
    """Fail unless the block appends nothing to the log."""
    before = log_length(db)
    yield
    after = log_length(db)
    assert after == before, f"the log grew from {before} to {after} events"
