"""Apply one event to the read-model tables.

Each function here folds a fact into the current state and decides
nothing: the command that appended the event has already checked it.
The same functions serve the live append and the rebuild from offset 0,
which is why a rebuild gives exactly the live state.
"""

from __future__ import annotations

import sqlite3
from typing import Callable

from punt import events as ev
from punt.eventstore.records import StoredEvent
from punt.projections.schema import PROJECTION_TABLES

__all__ = ["apply_event"]

# Columns of ticket.updated that map one to one onto a tickets column.
_TICKET_FIELDS = {
    "title": "title",
    "description": "description",
    "type_": "type",
    "priority": "priority",
    "assigneeId": "assignee_id",
    "parentId": "parent_id",
    "storyPoints": "story_points",
    "estimate": "estimate",
    "startDate": "start_date",
    "dueDate": "due_date",
    "environment": "environment",
    "affectedVersion": "affected_version",
    "fixVersion": "fix_version",
}

_PROJECT_FIELDS = {"name": "name", "description": "description", "color": "color"}


def apply_event(conn: sqlite3.Connection, stored: StoredEvent, event: ev.Event) -> None:
    """Fold one event into the read models; events without a read model are ignored."""
    apply = _APPLIERS.get(type(event))
    if apply is not None:
        apply(conn, event)


def _changed(event: ev.Event, fields: dict[str, str]) -> dict[str, object]:
    """Map the fields an update event sets to their table columns."""
    return {column: getattr(event, name) for name, column in fields.items() if getattr(event, name) is not ev.UNSET}


def _update_row(conn: sqlite3.Connection, table: str, row_id: str, values: dict[str, object]) -> None:
    assignments = ", ".join(f"{column} = ?" for column in values)
    conn.execute(f"UPDATE {table} SET {assignments}, version = version + 1 WHERE id = ?", (*values.values(), row_id))


def _project_created(conn: sqlite3.Connection, e: ev.ProjectCreated) -> None:
    conn.execute(
        "INSERT INTO projects (id, key, name, description, color, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
        (e.id, e.key, e.name, e.description, e.color, e.createdAt, e.updatedAt),
    )


def _project_updated(conn: sqlite3.Connection, e: ev.ProjectUpdated) -> None:
    _update_row(conn, "projects", e.id, {**_changed(e, _PROJECT_FIELDS), "updated_at": e.updatedAt})


def _project_deleted(conn: sqlite3.Connection, e: ev.ProjectDeleted) -> None:
    conn.execute("DELETE FROM ticket_labels WHERE ticket_id IN (SELECT id FROM tickets WHERE project_id = ?)", (e.id,))
    for table in ("tickets", "labels", "members", "columns"):
        conn.execute(f"DELETE FROM {table} WHERE project_id = ?", (e.id,))
    conn.execute("DELETE FROM projects WHERE id = ?", (e.id,))


def _column_created(conn: sqlite3.Connection, e: ev.ColumnCreated) -> None:
    conn.execute(
        'INSERT INTO columns (id, project_id, name, "order") VALUES (?, ?, ?, ?)', (e.id, e.projectId, e.name, e.order)
    )


def _member_added(conn: sqlite3.Connection, e: ev.MemberAdded) -> None:
    conn.execute(
        "INSERT INTO members (id, project_id, user_id, role) VALUES (?, ?, ?, ?)", (e.id, e.projectId, e.userId, e.role)
    )


def _member_role_updated(conn: sqlite3.Connection, e: ev.MemberRoleUpdated) -> None:
    conn.execute("UPDATE members SET role = ? WHERE id = ?", (e.role, e.id))


def _member_removed(conn: sqlite3.Connection, e: ev.MemberRemoved) -> None:
    conn.execute("DELETE FROM members WHERE id = ?", (e.id,))


def _label_created(conn: sqlite3.Connection, e: ev.LabelCreated) -> None:
    conn.execute(
        "INSERT INTO labels (id, project_id, name, color) VALUES (?, ?, ?, ?)", (e.id, e.projectId, e.name, e.color)
    )


def _label_deleted(conn: sqlite3.Connection, e: ev.LabelDeleted) -> None:
    conn.execute("DELETE FROM ticket_labels WHERE label_id = ?", (e.id,))
    conn.execute("DELETE FROM labels WHERE id = ?", (e.id,))


def _replace_ticket_labels(conn: sqlite3.Connection, ticket_id: str, label_ids: list[str]) -> None:
    conn.execute("DELETE FROM ticket_labels WHERE ticket_id = ?", (ticket_id,))
    _insert_ticket_labels(conn, ticket_id, label_ids)


def _insert_ticket_labels(conn: sqlite3.Connection, ticket_id: str, label_ids: list[str]) -> None:
    if label_ids:
        conn.executemany(
            "INSERT INTO ticket_labels (ticket_id, label_id, position) VALUES (?, ?, ?)",
            [(ticket_id, label_id, position) for position, label_id in enumerate(label_ids)],
        )


def _ticket_created(conn: sqlite3.Connection, e: ev.TicketCreated) -> None:
    conn.execute(
        'UPDATE tickets SET "order" = "order" + 1 WHERE column_id = ? AND "order" >= ?', (e.columnId, e.order)
    )
    conn.execute(
        'INSERT INTO tickets (id, project_id, number, key, title, description, type, priority, "order", column_id,'
        " assignee_id, creator_id, parent_id, sprint_id, story_points, estimate, start_date, due_date, environment,"
        " affected_version, fix_version, created_at, updated_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            e.id, e.projectId, e.number, e.key, e.title, e.description, e.type_, e.priority, e.order, e.columnId,
            e.assigneeId, e.creatorId, e.parentId, e.sprintId, e.storyPoints, e.estimate, e.startDate, e.dueDate,
            e.environment, e.affectedVersion, e.fixVersion, e.createdAt, e.updatedAt,
        ),
    )
    conn.execute(
        "UPDATE projects SET last_ticket_number = max(last_ticket_number, ?) WHERE id = ?", (e.number, e.projectId)
    )
    # A new ticket has no label rows yet, so there is nothing to delete first.
    _insert_ticket_labels(conn, e.id, e.labelIds)


def _ticket_updated(conn: sqlite3.Connection, e: ev.TicketUpdated) -> None:
    _update_row(conn, "tickets", e.id, {**_changed(e, _TICKET_FIELDS), "updated_at": e.updatedAt})
    if e.labelIds is not ev.UNSET:
        _replace_ticket_labels(conn, e.id, e.labelIds)


def _ticket_moved(conn: sqlite3.Connection, e: ev.TicketMoved) -> None:
    # Close the gap the ticket leaves, then open one where it lands; together
    # they keep each column's orders at 0..n-1.
    conn.execute(
        'UPDATE tickets SET "order" = "order" - 1 WHERE column_id = ? AND "order" > ? AND id != ?',
        (e.fromColumnId, e.fromOrder, e.id),
    )
    conn.execute(
        'UPDATE tickets SET "order" = "order" + 1 WHERE column_id = ? AND "order" >= ? AND id != ?',
        (e.columnId, e.order, e.id),
    )
    _update_row(conn, "tickets", e.id, {"column_id": e.columnId, '"order"': e.order, "updated_at": e.updatedAt})


def _ticket_deleted(conn: sqlite3.Connection, e: ev.TicketDeleted) -> None:
    row = conn.execute('SELECT column_id, "order" FROM tickets WHERE id = ?', (e.id,)).fetchone()
    conn.execute("DELETE FROM ticket_labels WHERE ticket_id = ?", (e.id,))
    conn.execute("DELETE FROM tickets WHERE id = ?", (e.id,))
    if row is not None:
        conn.execute('UPDATE tickets SET "order" = "order" - 1 WHERE column_id = ? AND "order" > ?', row)


def _user_registered(conn: sqlite3.Connection, e: ev.UserRegistered) -> None:
    conn.execute(
        "INSERT INTO users (id, username, email, name, avatar_color, is_system_admin, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        (e.id, e.username, e.email, e.name, e.avatarColor, int(e.isSystemAdmin), e.createdAt),
    )


def _user_updated(conn: sqlite3.Connection, e: ev.UserUpdated) -> None:
    conn.execute(
        "UPDATE users SET name = ?, avatar = ?, avatar_color = ? WHERE id = ?", (e.name, e.avatar, e.avatarColor, e.id)
    )


def _user_deactivated(conn: sqlite3.Connection, e: ev.UserDeactivated) -> None:
    conn.execute("INSERT OR IGNORE INTO deactivated_users (user_id) VALUES (?)", (e.id,))


def _database_wiped(conn: sqlite3.Connection, e: ev.DatabaseWiped) -> None:
    for table in PROJECTION_TABLES:
        conn.execute(f"DELETE FROM {table}")


def _database_projects_wiped(conn: sqlite3.Connection, e: ev.DatabaseProjectsWiped) -> None:
    for table in PROJECTION_TABLES:
        if table != "users":
            conn.execute(f"DELETE FROM {table}")


_APPLIERS: dict[type[ev.Event], Callable[[sqlite3.Connection, ev.Event], None]] = {
    ev.ProjectCreated: _project_created,
    ev.ProjectUpdated: _project_updated,
    ev.ProjectDeleted: _project_deleted,
    ev.ColumnCreated: _column_created,
    ev.MemberAdded: _member_added,
    ev.MemberRoleUpdated: _member_role_updated,
    ev.MemberRemoved: _member_removed,
    ev.LabelCreated: _label_created,
    ev.LabelDeleted: _label_deleted,
    ev.TicketCreated: _ticket_created,
    ev.TicketUpdated: _ticket_updated,
    ev.TicketMoved: _ticket_moved,
    ev.TicketDeleted: _ticket_deleted,
    ev.UserRegistered: _user_registered,
    ev.UserUpdated: _user_updated,
    ev.UserDeactivated: _user_deactivated,
    ev.DatabaseWiped: _database_wiped,
    ev.DatabaseProjectsWiped: _database_projects_wiped,
}
