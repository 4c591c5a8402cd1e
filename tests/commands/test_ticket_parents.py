"""Parent links between tickets: they must never form a cycle."""

from __future__ import annotations

import sqlite3
from functools import partial

import pytest

from punt.commands import projects, tickets, users
from punt.commands.access import Actor
from punt.commands.inputs import CreateProject, CreateTicket, Register, UpdateTicket
from punt.errors import InvalidInput
from punt.eventstore.writer import Writer


@pytest.fixture
def owner(writer: Writer) -> Actor:
    body = Register(username="owner", password="unused")
    user = writer.execute_sync(partial(users.register_user, body=body, password_hash="not-a-real-hash"))
    actor = Actor(user["id"], user["isSystemAdmin"])
    writer.execute_sync(partial(projects.create_project, actor=actor, body=CreateProject(name="P", key="PROJ")))
    return actor


def _ticket(writer: Writer, owner: Actor, title: str, parent_id: str | None = None) -> dict:
    body = CreateTicket(title=title, parentId=parent_id)
    return writer.execute_sync(partial(tickets.create_ticket, actor=owner, project_ref="PROJ", body=body))


def _set_parent(writer: Writer, owner: Actor, ticket: dict, parent: dict) -> dict:
    command = partial(tickets.update_ticket, actor=owner, project_ref="PROJ", ticket_ref=ticket["id"],
                      body=UpdateTicket(parentId=parent["id"]))
    return writer.execute_sync(command)


def test_parent_cycle_of_two_rejected(writer: Writer, owner: Actor, conn: sqlite3.Connection) -> None:
    parent = _ticket(writer, owner, "Epic")
    child = _ticket(writer, owner, "Story", parent["id"])
    events_before = conn.execute("SELECT count(*) FROM events").fetchone()[0]

    with pytest.raises(InvalidInput, match="parents may not form a cycle"):
        _set_parent(writer, owner, parent, child)
    assert conn.execute("SELECT count(*) FROM events").fetchone()[0] == events_before


def test_parent_cycle_of_three_rejected(writer: Writer, owner: Actor) -> None:
    top = _ticket(writer, owner, "Epic")
    middle = _ticket(writer, owner, "Story", top["id"])
    bottom = _ticket(writer, owner, "Subtask", middle["id"])

    with pytest.raises(InvalidInput, match="parentId"):
        _set_parent(writer, owner, top, bottom)


def test_parent_moved_to_sibling_allowed(writer: Writer, owner: Actor) -> None:
    top = _ticket(writer, owner, "Epic")
    first = _ticket(writer, owner, "Story A", top["id"])
    second = _ticket(writer, owner, "Story B", top["id"])

    assert _set_parent(writer, owner, second, first)["parentId"] == first["id"]
