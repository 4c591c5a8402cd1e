"""A demo workspace, created through the same commands as the API uses."""

from __future__ import annotations

import random
from functools import partial

from punt import credentials, database
from punt.commands import labels, projects, tickets, users
from punt.commands.access import Actor
from punt.commands.inputs import AddMember, CreateLabel, CreateProject, CreateTicket, Register, UpdateTicket
from punt.eventstore.writer import CommandMetadata, Writer
from punt.projections import apply_event, queries

__all__ = ["DEMO_PASSWORD", "DEMO_USERNAME", "load_demo"]

DEMO_USERNAME = "demo"
DEMO_PASSWORD = "DemoPassword1"

_PEOPLE = [
    ("demo", "Dana Demo"),
    ("alice", "Alice Andersen"),
    ("bob", "Bob Okafor"),
    ("carol", "Carol Nguyen"),
]

_PROJECTS = [
    ("PUNT", "PUNT Board", "The issue tracker itself: backend, streams and web client.",
     ["backend", "frontend", "realtime", "docs", "bug-bash"]),
    ("WEB", "Website", "Marketing site and documentation portal.", ["design", "content", "seo"]),
]

_TITLES = [
    "Resume event streams after a proxy timeout", "Show who is viewing a ticket", "Keyboard shortcut to move tickets",
    "Bulk edit priority from the board", "Sign-in page rejects valid emails", "Export a board as CSV",
    "Dark mode for the board", "Drag and drop between columns flickers", "Rate-limit failed logins",
    "Label colours unreadable in dark mode", "Paginate the activity feed", "Add due-date reminders",
    "Avatar upload", "Search tickets by key", "Epic progress bar", "Crash when a column is empty",
    "Improve the onboarding checklist", "Audit log viewer", "API key management page", "Slow board load on 1,000 tickets",
]


def load_demo(db_path: str, seed: int = 7) -> bool:
    """Fill an empty database with demo users, projects, labels and tickets; print the login.

    Returns False and changes nothing if the database already has users.
    """
    conn = database.connect(db_path)
    database.create_schema(conn)
    has_users = queries.count_users(conn) > 0
    conn.close()
    if has_users:
        print(f"punt: {db_path} already has data, so the demo workspace was not loaded")
        return False

    writer = Writer(db_path, apply_event)
    writer.start()
    try:
        _fill(writer, random.Random(seed))
    finally:
        writer.close()
    print(f"punt: demo workspace loaded into {db_path}; sign in as {DEMO_USERNAME!r} with password {DEMO_PASSWORD!r}")
    return True


def _fill(writer: Writer, rng: random.Random) -> None:
    password_hash = credentials.hash_password(DEMO_PASSWORD)
    people = []
    for username, name in _PEOPLE:
        body = Register(username=username, password=DEMO_PASSWORD, email=f"{username}@example.com", name=name)
        user = writer.execute_sync(partial(users.register_user, body=body, password_hash=password_hash))
        people.append(Actor(user["id"], user["isSystemAdmin"]))

    owner = people[0]
    metadata = CommandMetadata(actorId=owner.user_id, tabId="demo-loader")
    for key, name, description, label_names in _PROJECTS:
        _fill_project(writer, rng, owner, people, metadata, CreateProject(name=name, key=key, description=description),
                      label_names)


def _fill_project(writer: Writer, rng: random.Random, owner: Actor, people: list[Actor], metadata: CommandMetadata,
                  body: CreateProject, label_names: list[str]) -> None:
    run = partial(writer.execute_sync, metadata=metadata)
    project = run(partial(projects.create_project, actor=owner, body=body))
    for person in people[1:]:
        run(partial(projects.add_member, actor=owner, project_ref=project["id"],
                    body=AddMember(userId=person.user_id, role="member")))
    label_ids = [run(partial(labels.create_label, actor=owner, project_ref=project["id"],
                             body=CreateLabel(name=name)))["id"] for name in label_names]

    columns = [column["id"] for column in queries_columns(writer, project["id"])]
    for index in range(20):
        ticket = CreateTicket(
            title=_TITLES[index % len(_TITLES)],
            type=rng.choice(["Story", "Task", "Bug", "Task", "Epic"]),
            priority=rng.choice(["Low", "Medium", "Medium", "High", "Critical"]),
            assigneeId=rng.choice(people).user_id if rng.random() < 0.8 else None,
            storyPoints=rng.choice([1, 2, 3, 5, 8, None]),
            labelIds=rng.sample(label_ids, rng.randint(0, 2)),
        )
        created = run(partial(tickets.create_ticket, actor=owner, project_ref=project["id"], body=ticket))
        column = columns[min(index % 5, 2)] if index % 3 else columns[0]
        if column != created["columnId"]:
            run(partial(tickets.update_ticket, actor=owner, project_ref=project["id"], ticket_ref=created["id"],
                        body=UpdateTicket(columnId=column)))


def queries_columns(writer: Writer, project_id: str) -> list[dict]:
    return writer.execute_sync(lambda tx: queries.list_columns(tx.conn, project_id))
