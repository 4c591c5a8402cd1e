"""Read the current state from the read models, shaped as the API returns it.

These functions take a plain sqlite3 connection, so commands call them
inside the writer's transaction and GET requests call them on a pooled
read connection: one query serves both.
"""

from __future__ import annotations

import sqlite3
from typing import Any

__all__ = [
    "find_project",
    "find_ticket",
    "find_user",
    "find_user_by_login",
    "list_columns",
    "list_labels",
    "list_members",
    "list_projects",
    "list_tickets",
    "membership_role",
]

Row = dict[str, Any]

_USER_COLUMNS = "id, username, email, name, avatar, avatar_color, is_system_admin, created_at"
_PROJECT_COLUMNS = "id, name, key, description, color, created_at, updated_at, version"
_TICKET_COLUMNS = (
    'id, number, key, title, description, type, priority, "order", column_id, assignee_id, creator_id, parent_id,'
    " sprint_id, story_points, estimate, start_date, due_date, environment, affected_version, fix_version,"
    " project_id, created_at, updated_at, version"
)


def _user(row: tuple[Any, ...]) -> Row:
    return {
        "id": row[0], "username": row[1], "email": row[2], "name": row[3], "avatar": row[4],
        "avatarColor": row[5], "isSystemAdmin": bool(row[6]), "createdAt": row[7],
    }


def user_summary(user: Row) -> Row:
    """Return the part of a user every other user may see."""
    return {key: user[key] for key in ("id", "username", "name", "avatar", "avatarColor")}


def find_user(conn: sqlite3.Connection, user_id: str) -> Row | None:
    row = conn.execute(f"SELECT {_USER_COLUMNS} FROM users WHERE id = ?", (user_id,)).fetchone()
    return _user(row) if row else None


def find_user_by_login(conn: sqlite3.Connection, login: str) -> Row | None:
    """Find a user by username or email, ignoring case."""
    row = conn.execute(
        f"SELECT {_USER_COLUMNS} FROM users WHERE username = ? OR email = ? LIMIT 1", (login, login)
    ).fetchone()
    return _user(row) if row else None


def is_deactivated(conn: sqlite3.Connection, user_id: str) -> bool:
    return conn.execute("SELECT 1 FROM deactivated_users WHERE user_id = ?", (user_id,)).fetchone() is not None


def count_users(conn: sqlite3.Connection) -> int:
    return conn.execute("SELECT count(*) FROM users").fetchone()[0]


def _project(row: tuple[Any, ...]) -> Row:
    return {
        "id": row[0], "name": row[1], "key": row[2], "description": row[3], "color": row[4],
        "createdAt": row[5], "updatedAt": row[6], "version": row[7],
    }


def find_project(conn: sqlite3.Connection, id_or_key: str) -> Row | None:
    """Find a project by its id or by its key (``PROJ``)."""
    row = conn.execute(
        f"SELECT {_PROJECT_COLUMNS} FROM projects WHERE id = ? OR key = ? LIMIT 1", (id_or_key, id_or_key)
    ).fetchone()
    return _project(row) if row else None


def list_projects(conn: sqlite3.Connection, user_id: str | None) -> list[Row]:
    """List the projects a user is a member of, or every project when ``user_id`` is None."""
    if user_id is None:
        rows = conn.execute(f"SELECT {_PROJECT_COLUMNS} FROM projects ORDER BY created_at, id").fetchall()
    else:
        rows = conn.execute(
            f"SELECT {_PROJECT_COLUMNS} FROM projects WHERE id IN (SELECT project_id FROM members WHERE user_id = ?)"
            " ORDER BY created_at, id",
            (user_id,),
        ).fetchall()
    return [_project(row) for row in rows]


def project_key_taken(conn: sqlite3.Connection, key: str) -> bool:
    return conn.execute("SELECT 1 FROM projects WHERE key = ?", (key,)).fetchone() is not None


def membership_role(conn: sqlite3.Connection, project_id: str, user_id: str) -> str | None:
    """Return the user's role in the project (owner, admin, member), or None."""
    row = conn.execute(
        "SELECT role FROM members WHERE project_id = ? AND user_id = ?", (project_id, user_id)
    ).fetchone()
    return row[0] if row else None


def list_columns(conn: sqlite3.Connection, project_id: str) -> list[Row]:
    rows = conn.execute(
        'SELECT id, name, "order" FROM columns WHERE project_id = ? ORDER BY "order", id', (project_id,)
    ).fetchall()
    return [{"id": row[0], "name": row[1], "order": row[2]} for row in rows]


def find_column(conn: sqlite3.Connection, project_id: str, column_id: str) -> Row | None:
    row = conn.execute(
        'SELECT id, name, "order" FROM columns WHERE project_id = ? AND id = ?', (project_id, column_id)
    ).fetchone()
    return {"id": row[0], "name": row[1], "order": row[2]} if row else None


def _member(row: tuple[Any, ...]) -> Row:
    return {
        "id": row[0], "userId": row[1], "projectId": row[2], "role": row[3],
        "user": {"id": row[1], "username": row[4], "name": row[5], "avatar": row[6]},
    }


_MEMBER_QUERY = (
    "SELECT m.id, m.user_id, m.project_id, m.role, u.username, u.name, u.avatar"
    " FROM members m JOIN users u ON u.id = m.user_id"
)


def list_members(conn: sqlite3.Connection, project_id: str) -> list[Row]:
    rows = conn.execute(f"{_MEMBER_QUERY} WHERE m.project_id = ? ORDER BY u.username", (project_id,)).fetchall()
    return [_member(row) for row in rows]


def find_member(conn: sqlite3.Connection, project_id: str, member_id: str) -> Row | None:
    row = conn.execute(f"{_MEMBER_QUERY} WHERE m.project_id = ? AND m.id = ?", (project_id, member_id)).fetchone()
    return _member(row) if row else None


def _label(row: tuple[Any, ...]) -> Row:
    return {"id": row[0], "name": row[1], "color": row[2]}


def list_labels(conn: sqlite3.Connection, project_id: str) -> list[Row]:
    rows = conn.execute(
        "SELECT id, name, color FROM labels WHERE project_id = ? ORDER BY name, id", (project_id,)
    ).fetchall()
    return [_label(row) for row in rows]


def find_label(conn: sqlite3.Connection, project_id: str, label_id: str) -> Row | None:
    row = conn.execute(
        "SELECT id, name, color FROM labels WHERE project_id = ? AND id = ?", (project_id, label_id)
    ).fetchone()
    return _label(row) if row else None


def label_name_taken(conn: sqlite3.Connection, project_id: str, name: str) -> bool:
    return conn.execute(
        "SELECT 1 FROM labels WHERE project_id = ? AND name = ?", (project_id, name)
    ).fetchone() is not None


def _ticket(row: tuple[Any, ...], label_ids: list[str]) -> Row:
    return {
        "id": row[0], "number": row[1], "key": row[2], "title": row[3], "description": row[4], "type": row[5],
        "priority": row[6], "order": row[7], "columnId": row[8], "assigneeId": row[9], "creatorId": row[10],
        "parentId": row[11], "sprintId": row[12], "storyPoints": row[13], "estimate": row[14],
        "startDate": row[15], "dueDate": row[16], "environment": row[17], "affectedVersion": row[18],
        "fixVersion": row[19], "labelIds": label_ids, "projectId": row[20], "createdAt": row[21],
        "updatedAt": row[22], "version": row[23],
    }


def _label_ids(conn: sqlite3.Connection, ticket_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {ticket_id: [] for ticket_id in ticket_ids}
    for start in range(0, len(ticket_ids), 500):
        chunk = ticket_ids[start : start + 500]
        marks = ", ".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT ticket_id, label_id FROM ticket_labels WHERE ticket_id IN ({marks}) ORDER BY ticket_id, position",
            chunk,
        ).fetchall()
        for ticket_id, label_id in rows:
            found[ticket_id].append(label_id)
    return found


def list_tickets(conn: sqlite3.Connection, project_id: str, filters: dict[str, str] | None = None) -> list[Row]:
    """List a project's tickets by column and order, narrowed by exact-match filters.

    ``filters`` maps API field names (columnId, type, priority, assigneeId,
    sprintId) to required values.
    """
    columns = {"columnId": "column_id", "type": "type", "priority": "priority",
               "assigneeId": "assignee_id", "sprintId": "sprint_id"}
    where, params = ["project_id = ?"], [project_id]
    for name, value in (filters or {}).items():
        where.append(f"{columns[name]} = ?")
        params.append(value)
    rows = conn.execute(
        f'SELECT {_TICKET_COLUMNS} FROM tickets WHERE {" AND ".join(where)} ORDER BY column_id, "order", number',
        params,
    ).fetchall()
    labels = _label_ids(conn, [row[0] for row in rows])
    return [_ticket(row, labels[row[0]]) for row in rows]


def find_ticket(conn: sqlite3.Connection, project_id: str, ticket_id: str) -> Row | None:
    """Find a ticket of the project by its id or its key (``PROJ-42``).

    Both lookups go through an index: the id is the primary key, and a key
    ends in the ticket's number. Matching ``id = ? OR key = ?`` in one query
    made SQLite scan every ticket of the project, inside the writer's lock
    on each ticket command.
    """
    row = conn.execute(
        f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE id = ? AND project_id = ?", (ticket_id, project_id)
    ).fetchone()
    _prefix, dash, number = ticket_id.rpartition("-")
    if row is None and dash and number.isascii() and number.isdigit():
        row = conn.execute(
            f"SELECT {_TICKET_COLUMNS} FROM tickets WHERE project_id = ? AND number = ? AND key = ?",
            (project_id, int(number), ticket_id),
        ).fetchone()
    if row is None:
        return None
    return _ticket(row, _label_ids(conn, [row[0]])[row[0]])


def count_in_column(conn: sqlite3.Connection, column_id: str) -> int:
    """Return how many tickets a column holds, in time that does not grow with the column.

    Orders in a column are always 0..n-1, so the count is the highest order
    plus one, which the (column_id, order) index finds at once. count(*)
    would walk every entry of the column.
    """
    highest = conn.execute('SELECT max("order") FROM tickets WHERE column_id = ?', (column_id,)).fetchone()[0]
    return 0 if highest is None else highest + 1


def tickets_where(conn: sqlite3.Connection, column: str, value: str) -> list[str]:
    """Return the ids of tickets whose ``column`` (assignee_id or parent_id) equals ``value``."""
    if column not in ("assignee_id", "parent_id"):
        raise ValueError(f"cannot select tickets by {column!r}")
    return [row[0] for row in conn.execute(f"SELECT id FROM tickets WHERE {column} = ? ORDER BY id", (value,))]


def ticket_detail(conn: sqlite3.Connection, ticket: Row) -> Row:
    """Add the ``column``, ``assignee`` and ``labels`` objects to a ticket."""
    assignee = find_user(conn, ticket["assigneeId"]) if ticket["assigneeId"] else None
    return {
        **ticket,
        "column": find_column(conn, ticket["projectId"], ticket["columnId"]),
        "assignee": user_summary(assignee) if assignee else None,
        "labels": [find_label(conn, ticket["projectId"], label_id) for label_id in ticket["labelIds"]],
    }


def wipe_counts(conn: sqlite3.Connection) -> Row:
    return {
        table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
        for table in ("projects", "tickets", "labels")
    }


def memberships_at(conn: sqlite3.Connection, user_id: str, offset: int) -> set[str]:
    """Return the ids of projects the user was a member of right after ``offset``, read from the log."""
    rows = conn.execute(
        "SELECT type, coalesce(json_extract(data, '$.projectId'), json_extract(data, '$.id')) FROM events"
        " WHERE offset <= ? AND ((type IN ('member.added', 'member.removed') AND json_extract(data, '$.userId') = ?)"
        " OR type IN ('project.deleted', 'database.wiped', 'database.projects.wiped')) ORDER BY offset",
        (offset, user_id),
    )
    projects: set[str] = set()
    for event_type, project_id in rows:
        if event_type == "member.added":
            projects.add(project_id)
        elif event_type in ("member.removed", "project.deleted"):
            projects.discard(project_id)
        else:
            projects.clear()
    return projects


def ancestor_ids(conn: sqlite3.Connection, ticket_id: str) -> list[str]:
    """Return the ids of a ticket's parent, its parent's parent, and so on up the chain."""
    rows = conn.execute(
        "WITH RECURSIVE chain(id, depth) AS ("
        " SELECT parent_id, 1 FROM tickets WHERE id = ? AND parent_id IS NOT NULL"
        " UNION SELECT t.parent_id, chain.depth + 1 FROM tickets t JOIN chain ON t.id = chain.id"
        " WHERE t.parent_id IS NOT NULL AND chain.depth < 10000)"
        " SELECT id FROM chain ORDER BY depth",
        (ticket_id,),
    ).fetchall()
    return [row[0] for row in rows]
