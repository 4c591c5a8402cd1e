"""Counting a column's tickets costs the same however full the column is."""

from __future__ import annotations

import sqlite3
from functools import partial

from punt.commands import projects, tickets
from punt.commands.access import Actor
from punt.commands.inputs import CreateProject, CreateTicket
from punt.eventstore.writer import Transaction, Writer
from punt.projections import queries


def _fill(writer: Writer, actor: Actor, key: str, count: int) -> str:
    project = writer.execute_sync(partial(projects.create_project, actor=actor, body=CreateProject(name=key, key=key)))

    def create_all(tx: Transaction) -> None:
        for index in range(count):
            tickets.create_ticket(tx, actor, project["id"], CreateTicket(title=f"t{index}"))

    writer.execute_sync(create_all)
    return writer.execute_sync(lambda tx: queries.list_columns(tx.conn, project["id"])[0]["id"])


def _vm_steps(conn: sqlite3.Connection, column_id: str) -> tuple[int, int]:
    """Count SQLite virtual-machine steps of one count_in_column call, and return them with its result."""
    steps = [0]

    def tick() -> int:
        steps[0] += 1
        return 0

    conn.set_progress_handler(tick, 1)
    try:
        result = queries.count_in_column(conn, column_id)
    finally:
        conn.set_progress_handler(None, 1)
    return steps[0], result


def test_column_count_cost_constant(writer: Writer, conn: sqlite3.Connection) -> None:
    actor = Actor("user-1", True)
    small = _fill(writer, actor, "SMALL", 5)
    large = _fill(writer, actor, "LARGE", 500)

    small_steps, small_count = _vm_steps(conn, small)
    large_steps, large_count = _vm_steps(conn, large)

    assert (small_count, large_count) == (5, 500)
    assert large_steps == small_steps
    assert queries.count_in_column(conn, "no-such-column") == 0
