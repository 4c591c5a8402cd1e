"""Rebuilding every read model from offset 0 yields exactly the live state."""

from __future__ import annotations

import random
import sqlite3
from functools import partial
from pathlib import Path
from typing import Any, Callable

from punt import database
from punt.commands import admin, labels, projects, tickets, users
from punt.commands.access import Actor
from punt.commands.inputs import (
    AddMember,
    BulkDeleteTickets,
    BulkUpdateTickets,
    CreateLabel,
    CreateProject,
    CreateTicket,
    Register,
    UpdateMe,
    UpdateMember,
    UpdateProject,
    UpdateTicket,
)
from punt.eventstore.writer import CommandMetadata, Writer
from punt.projections import queries
from punt.projections.rebuild import dump_projections, rebuild_projections

COLORS = ("#112233", "#445566", "#778899")


class Scenario:
    """Issues commands through the writer as named users, the way the HTTP layer does."""

    def __init__(self, writer: Writer, rng: random.Random) -> None:
        self.writer = writer
        self.rng = rng
        self.actors: dict[str, Actor] = {}

    def run(self, command: Callable[..., Any], actor: str | None = None, **arguments: Any) -> Any:
        metadata = CommandMetadata(actorId=self.actors[actor].user_id if actor else None, tabId="tab-1")
        if actor is not None:
            arguments["actor"] = self.actors[actor]
        return self.writer.execute_sync(partial(command, **arguments), metadata)

    def register(self, username: str) -> None:
        user = self.run(users.register_user, body=Register(username=username, password=""),
                        password_hash="not-a-real-hash")
        self.actors[username] = Actor(user["id"], user["isSystemAdmin"])

    def project(self, owner: str, key: str, members: list[str]) -> tuple[dict, list[str]]:
        project = self.run(projects.create_project, owner, body=CreateProject(name=f"Project {key}", key=key))
        for username in members:
            self.run(projects.add_member, owner, project_ref=key, body=AddMember(username=username))
        columns = self.writer.execute_sync(lambda tx: queries.list_columns(tx.conn, project["id"]))
        return project, [column["id"] for column in columns]

    def ticket_activity(self, actor: str, key: str, columns: list[str], rounds: int) -> None:
        """Create, update, move, bulk-update and delete tickets at random, labels included."""
        label_ids = [self.run(labels.create_label, actor, project_ref=key, body=CreateLabel(name=f"l{i}"))["id"]
                     for i in range(3)]
        ids = [self.run(tickets.create_ticket, actor, project_ref=key,
                        body=CreateTicket(title=f"t{i}", labelIds=label_ids[:i % 3]))["id"] for i in range(8)]
        for step in range(rounds):
            choice = self.rng.random()
            ticket_id = self.rng.choice(ids)
            if choice < 0.3:
                body = UpdateTicket(title=f"renamed {step}", priority=self.rng.choice(["low", "high"]),
                                    storyPoints=step % 13, dueDate="2024-03-01", labelIds=label_ids[step % 3:])
                self.run(tickets.update_ticket, actor, project_ref=key, ticket_ref=ticket_id, body=body)
            elif choice < 0.6:
                body = UpdateTicket(columnId=self.rng.choice(columns), order=self.rng.randrange(6))
                self.run(tickets.update_ticket, actor, project_ref=key, ticket_ref=ticket_id, body=body)
            elif choice < 0.7:
                body = BulkUpdateTickets(ticketIds=self.rng.sample(ids, 3),
                                         updates=UpdateTicket(type="bug", columnId=self.rng.choice(columns)))
                self.run(tickets.bulk_update_tickets, actor, project_ref=key, body=body)
            elif choice < 0.8 and len(ids) > 4:
                ids.remove(ticket_id)
                self.run(tickets.delete_ticket, actor, project_ref=key, ticket_ref=ticket_id)
            else:
                body = CreateTicket(title=f"new {step}", parentId=ticket_id, type="subtask")
                ids.append(self.run(tickets.create_ticket, actor, project_ref=key, body=body)["id"])
        self.run(labels.delete_label, actor, project_ref=key, label_id=label_ids[0])


def _assert_rebuild_matches(db_path: Path, target: Path) -> None:
    """Rebuild the read models of ``db_path`` into the new file ``target`` and compare every row."""
    live = database.connect(db_path)
    fresh = sqlite3.connect(target, isolation_level=None)
    head = rebuild_projections(live, fresh)

    assert head == live.execute("SELECT max(offset) FROM events").fetchone()[0]
    assert live.execute("SELECT offset FROM projection_checkpoint").fetchone()[0] == head
    live_state, rebuilt_state = dump_projections(live), dump_projections(fresh)
    assert live_state["tickets"], "the scenario left no tickets to compare"
    for table, rows in live_state.items():
        assert rebuilt_state[table] == rows, f"table {table} differs after the rebuild"
    live.close()
    fresh.close()


def _member_id(writer: Writer, project_id: str, user_id: str) -> str:
    members = writer.execute_sync(lambda tx: queries.list_members(tx.conn, project_id))
    return next(member["id"] for member in members if member["userId"] == user_id)


def test_rebuild_equals_live_after_mixed_history(writer: Writer, db_path: Path, tmp_path: Path) -> None:
    scenario = Scenario(writer, random.Random(42))
    for username in ("ada", "bob", "cy", "dee"):
        scenario.register(username)
    scenario.run(users.update_me, "bob", body=UpdateMe(name="Bob", avatarColor="#abcdef"))

    alpha, alpha_columns = scenario.project("ada", "ALPHA", ["bob", "cy"])
    _beta, beta_columns = scenario.project("bob", "BETA", ["ada", "dee"])
    scenario.run(projects.update_project, "ada", project_ref="ALPHA",
                 body=UpdateProject(description="first", color="#00FF00"))
    scenario.ticket_activity("bob", "ALPHA", alpha_columns, 60)
    scenario.ticket_activity("dee", "BETA", beta_columns, 40)

    cy = _member_id(writer, alpha["id"], scenario.actors["cy"].user_id)
    scenario.run(projects.update_member, "ada", project_ref="ALPHA", member_id=cy, body=UpdateMember(role="admin"))
    scenario.run(tickets.create_ticket, "cy", project_ref="ALPHA",
                 body=CreateTicket(title="cy's", assigneeId=scenario.actors["cy"].user_id))
    scenario.run(projects.remove_member, "ada", project_ref="ALPHA", member_id=cy)
    scenario.run(projects.delete_project, "bob", project_ref="BETA")
    _assert_rebuild_matches(db_path, tmp_path / "after-delete.db")

    scenario.run(admin.wipe_projects, "ada")
    _gamma, gamma_columns = scenario.project("cy", "GAMMA", ["dee"])
    scenario.ticket_activity("dee", "GAMMA", gamma_columns, 30)
    _assert_rebuild_matches(db_path, tmp_path / "after-projects-wipe.db")

    scenario.run(admin.wipe_database, "ada", admin_username="admin", admin_password_hash="not-a-real-hash")
    scenario.actors = {}
    fresh_admin = writer.execute_sync(lambda tx: queries.find_user_by_login(tx.conn, "admin"))
    scenario.actors["admin"] = Actor(fresh_admin["id"], fresh_admin["isSystemAdmin"])
    scenario.register("eve")
    _alpha_again, alpha_again_columns = scenario.project("admin", "ALPHA", ["eve"])
    scenario.ticket_activity("eve", "ALPHA", alpha_again_columns, 30)
    body = BulkDeleteTickets(ticketIds=[f"ALPHA-{number}" for number in (1, 2)])
    scenario.run(tickets.bulk_delete_tickets, "eve", project_ref="ALPHA", body=body)
    _assert_rebuild_matches(db_path, tmp_path / "after-full-wipe.db")

    assert writer.execute_sync(lambda tx: queries.find_project(tx.conn, "BETA")) is None
    assert writer.execute_sync(lambda tx: queries.count_users(tx.conn)) == 2


def test_rebuild_of_empty_log_is_empty(db_path: Path, tmp_path: Path) -> None:
    live = database.connect(db_path)
    fresh = sqlite3.connect(tmp_path / "empty.db", isolation_level=None)
    assert rebuild_projections(live, fresh) == 0
    assert all(rows == [] for rows in dump_projections(fresh).values())
    live.close()
    fresh.close()
