"""Looking up a ticket by id or key uses an index, so ticket commands do not slow down as a project grows."""

from __future__ import annotations

import sqlite3
from functools import partial

import pytest

from punt.commands import projects, tickets
from punt.commands.access import Actor
from punt.commands.inputs import CreateProject, CreateTicket
from punt.eventstore.writer import Writer
from punt.projections import queries


def _plans_of(conn: sqlite3.Connection, project_id: str, ref: str) -> list[str]:
    """Run find_ticket and return the query plan of each statement it ran on the tickets table."""
    statements: list[str] = []
    conn.set_trace_callback(statements.append)
    try:
        found = queries.find_ticket(conn, project_id, ref)
    finally:
        conn.set_trace_callback(None)
    assert found is not None
    plans = []
    for sql in statements:
        if "FROM tickets" in sql:
            rows = conn.execute("EXPLAIN QUERY PLAN " + sql).fetchall()
            plans.append(" / ".join(row[3] for row in rows))
    return plans


@pytest.mark.parametrize("by", ["id", "key"])
def test_find_ticket_avoids_project_scan(writer: Writer, conn: sqlite3.Connection, by: str) -> None:
    actor = Actor("user-1", True)
    project = writer.execute_sync(partial(projects.create_project, actor=actor,
                                          body=CreateProject(name="Plan", key="PLAN")))
    ticket = writer.execute_sync(partial(tickets.create_ticket, actor=actor, project_ref=project["id"],
                                         body=CreateTicket(title="Indexed")))

    plans = _plans_of(conn, project["id"], ticket[by])

    assert plans, "find_ticket ran no query on the tickets table"
    assert all("tickets_by_project (project_id=?)" not in plan for plan in plans), plans
    assert any("id=?" in plan or "number=?" in plan for plan in plans), plans
