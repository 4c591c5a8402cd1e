"""Command tests, and helpers that read a punt database file directly.

The helpers open their own sqlite3 connection, so they see what is
committed on disk rather than what an HTTP response claims.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Iterator

__all__ = ["assert_orders_contiguous", "column_orders", "event_count", "event_rows", "log_unchanged"]


def _connect(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(str(db), timeout=30)


def event_count(db: Path) -> int:
    with closing(_connect(db)) as conn:
        return conn.execute("SELECT count(*) FROM events").fetchone()[0]


def event_rows(db: Path, after: int = 0) -> list[tuple[int, str, bytes, bytes]]:
    """Return (offset, type, data, metadata) of every event after ``after``, in offset order."""
    with closing(_connect(db)) as conn:
        return conn.execute(
            "SELECT offset, type, data, metadata FROM events WHERE offset > ? ORDER BY offset", (after,)
        ).fetchall()


@contextmanager
def log_unchanged(db: Path) -> Iterator[None]:
    """Fail unless the block leaves the events table with the same number of rows."""
    before = event_count(db)
    yield
    after = event_count(db)
    assert after == before, f"a rejected command appended {after - before} events"


def column_orders(db: Path) -> dict[str, list[int]]:
    """Return each column's ticket orders, sorted."""
    orders: dict[str, list[int]] = defaultdict(list)
    with closing(_connect(db)) as conn:
        for column_id, order in conn.execute('SELECT column_id, "order" FROM tickets ORDER BY column_id, "order"'):
            orders[column_id].append(order)
    return dict(orders)


def assert_orders_contiguous(db: Path) -> None:
    """Fail unless the tickets of every column have the orders 0..n-1, each once."""
    for column_id, orders in column_orders(db).items():
        assert orders == list(range(len(orders))), f"column {column_id} has orders {orders}"
