"""A long, mixed history written through the real commands, and a helper to run the ``punt`` CLI."""

from __future__ import annotations

import random
import subprocess
import sys
from functools import partial

from punt.commands import admin, labels, projects, tickets, users
from punt.commands.access import Actor
from punt.commands.inputs import (
    AddMember, BulkDeleteTickets, BulkUpdateTickets, CreateLabel, CreateProject, CreateTicket, Register,
    UpdateMe, UpdateMember, UpdateProject, UpdateTicket,
)
from punt.eventstore.writer import CommandMetadata, Writer
from punt.projections import queries

# Commands never check the hash itself; a fixed string keeps argon2 out of the setup.
PASSWORD_HASH = "not-a-real-hash"


def run_cli(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Run ``python -m punt.cli ARGS`` and return the finished process, whatever its exit status."""
    return subprocess.run([sys.executable, "-m", "punt.cli", *args], input=stdin, capture_output=True, timeout=300)


def register(writer: Writer, username: str) -> Actor:
    body = Register(username=username, password="", name=username.title())
    user = writer.execute_sync(partial(users.register_user, body=body, password_hash=PASSWORD_HASH))
    return Actor(user["id"], user["isSystemAdmin"])


def write_mixed_history(writer: Writer, rounds: int = 6, seed: int = 3) -> dict:
    """Write users, projects, members, labels and tickets with every kind of change; return the ids involved."""
    rng = random.Random(seed)
    people = [register(writer, name) for name in ("ada", "bert", "cleo", "dirk")]
    owner = people[0]
    result = {"people": people, "projects": []}
    for index, key in enumerate(("AUD", "OPS", "GONE")):
        project_id = _fill_project(writer, rng, owner, people, key, rounds, tab=f"tab-{index}")
        result["projects"].append(project_id)

    run = partial(writer.execute_sync, metadata=CommandMetadata(actorId=owner.user_id, tabId="tab-x"))
    run(partial(projects.delete_project, actor=owner, project_ref="GONE"))
    run(partial(users.update_me, actor=people[1], body=UpdateMe(name="Bert B.", avatarColor="#00897B")))
    session = writer.execute_sync(partial(users.sign_in, user_id=people[2].user_id))
    run(partial(users.sign_out, actor=Actor(people[2].user_id, False, session_id=session.session_id)))
    return result


def _fill_project(writer: Writer, rng: random.Random, owner: Actor, people: list[Actor], key: str, rounds: int,
                  tab: str) -> str:
    run = partial(writer.execute_sync, metadata=CommandMetadata(actorId=owner.user_id, tabId=tab))
    project = run(partial(projects.create_project, actor=owner, body=CreateProject(name=f"Project {key}", key=key)))
    project_id = project["id"]
    members = [run(partial(projects.add_member, actor=owner, project_ref=project_id,
                           body=AddMember(userId=person.user_id, role="member"))) for person in people[1:]]
    run(partial(projects.update_member, actor=owner, project_ref=project_id, member_id=members[0]["id"],
                body=UpdateMember(role="admin")))
    label_ids = [run(partial(labels.create_label, actor=owner, project_ref=project_id,
                             body=CreateLabel(name=name)))["id"] for name in ("api", "ui", "db", "ops")]
    columns = [column["id"] for column in writer.execute_sync(lambda tx: queries.list_columns(tx.conn, project_id))]

    ticket_ids = []
    for round_number in range(rounds):
        body = CreateTicket(
            title=f"{key} ticket {round_number}", type=rng.choice(["Story", "Task", "Bug"]),
            priority=rng.choice(["Low", "Medium", "High"]), assigneeId=rng.choice(people).user_id,
            storyPoints=rng.choice([1, 3, 5, None]), labelIds=rng.sample(label_ids, 2),
            columnId=rng.choice(columns),
        )
        ticket_ids.append(run(partial(tickets.create_ticket, actor=owner, project_ref=project_id, body=body))["id"])
        ticket_id = rng.choice(ticket_ids)
        update = UpdateTicket(title=f"{key} retitled {round_number}", dueDate="2027-01-15",
                              description=f"round {round_number}", labelIds=rng.sample(label_ids, 1))
        run(partial(tickets.update_ticket, actor=owner, project_ref=project_id, ticket_ref=ticket_id, body=update))
        move = UpdateTicket(columnId=rng.choice(columns), order=0)
        run(partial(tickets.update_ticket, actor=owner, project_ref=project_id, ticket_ref=rng.choice(ticket_ids),
                    body=move))

    run(partial(tickets.bulk_update_tickets, actor=owner, project_ref=project_id,
                body=BulkUpdateTickets(ticketIds=ticket_ids[:2], updates=UpdateTicket(priority="Highest"))))
    run(partial(labels.delete_label, actor=owner, project_ref=project_id, label_id=label_ids[0]))
    run(partial(tickets.bulk_delete_tickets, actor=owner, project_ref=project_id,
                body=BulkDeleteTickets(ticketIds=ticket_ids[-1:])))
    run(partial(projects.remove_member, actor=owner, project_ref=project_id, member_id=members[-1]["id"]))
    run(partial(projects.update_project, actor=owner, project_ref=project_id,
                body=UpdateProject(description=f"about {key}")))
    return project_id


def wipe_projects(writer: Writer, actor: Actor) -> None:
    writer.execute_sync(partial(admin.wipe_projects, actor=actor), CommandMetadata(actorId=actor.user_id))
