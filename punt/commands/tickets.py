"""Commands on tickets: create, update, move and delete, one at a time or in bulk.

Within a column, ``order`` runs 0..n-1. The writer runs commands one at a
time, so each move reads the order the previous move left, and two moves
of the same ticket racing each other still leave 0..n-1 behind them.
"""

from __future__ import annotations

from typing import Any

from punt import events as ev
from punt.commands.access import Actor, new_id, require_project
from punt.commands.inputs import BulkDeleteTickets, BulkUpdateTickets, CreateTicket, TicketFields, UpdateTicket
from punt.commands.validation import (
    MAX_DESCRIPTION,
    MAX_SHORT_TEXT,
    MAX_TITLE,
    PRIORITIES,
    TICKET_TYPES,
    check_choice,
    check_date,
    check_int,
    check_text,
)
from punt.errors import InvalidInput, NotFound
from punt.eventstore.writer import Transaction
from punt.projections import queries

__all__ = ["MAX_BULK", "bulk_delete_tickets", "bulk_update_tickets", "create_ticket", "delete_ticket", "update_ticket"]

MAX_BULK = 1000
MAX_LABELS_PER_TICKET = 50
MAX_STORY_POINTS = 1000

# Optional text fields of a ticket and their maximum lengths.
_TEXT_FIELDS = {
    "description": MAX_DESCRIPTION,
    "estimate": 50,
    "environment": MAX_SHORT_TEXT,
    "affectedVersion": MAX_SHORT_TEXT,
    "fixVersion": MAX_SHORT_TEXT,
}

# API field name -> TicketUpdated attribute, for fields ticket.updated carries.
_UPDATABLE = {
    "title": "title", "description": "description", "type": "type_", "priority": "priority",
    "assigneeId": "assigneeId", "parentId": "parentId", "storyPoints": "storyPoints", "estimate": "estimate",
    "startDate": "startDate", "dueDate": "dueDate", "environment": "environment",
    "affectedVersion": "affectedVersion", "fixVersion": "fixVersion", "labelIds": "labelIds",
}


def create_ticket(tx: Transaction, actor: Actor, project_ref: str, body: CreateTicket) -> dict:
    """Append ticket.created at the end of its column (the project's first column by default)."""
    project = require_project(tx.conn, actor, project_ref)
    fields = _check_fields(tx, project, body)
    column_id = fields.get("columnId") or queries.list_columns(tx.conn, project["id"])[0]["id"]
    number = _last_ticket_number(tx, project["id"]) + 1

    ticket_id = new_id()
    tx.append(ev.TicketCreated(
        id=ticket_id, number=number, key=f"{project['key']}-{number}", title=fields["title"],
        description=fields.get("description"), type_=fields.get("type", "Task"),
        priority=fields.get("priority", "Medium"), order=queries.count_in_column(tx.conn, column_id),
        columnId=column_id, assigneeId=fields.get("assigneeId"), creatorId=actor.user_id,
        parentId=fields.get("parentId"), storyPoints=fields.get("storyPoints"), estimate=fields.get("estimate"),
        startDate=fields.get("startDate"), dueDate=fields.get("dueDate"), environment=fields.get("environment"),
        affectedVersion=fields.get("affectedVersion"), fixVersion=fields.get("fixVersion"),
        labelIds=fields.get("labelIds", []), projectId=project["id"], createdAt=tx.timestamp,
        updatedAt=tx.timestamp,
    ))
    return queries.find_ticket(tx.conn, project["id"], ticket_id)


def _last_ticket_number(tx: Transaction, project_id: str) -> int:
    # Numbers come from a counter, not from max(number), so the number of a
    # deleted ticket is never handed out again.
    return tx.conn.execute("SELECT last_ticket_number FROM projects WHERE id = ?", (project_id,)).fetchone()[0]


def update_ticket(tx: Transaction, actor: Actor, project_ref: str, ticket_ref: str, body: UpdateTicket) -> dict:
    """Append ticket.updated for changed fields and ticket.moved for a new column or order."""
    project = require_project(tx.conn, actor, project_ref)
    ticket = _require_ticket(tx, project, ticket_ref)
    _update(tx, project, ticket, body)
    return queries.find_ticket(tx.conn, project["id"], ticket["id"])


def bulk_update_tickets(tx: Transaction, actor: Actor, project_ref: str, body: BulkUpdateTickets) -> list[dict]:
    """Apply the same update to every listed ticket, or to none if any of them fails."""
    project = require_project(tx.conn, actor, project_ref)
    tickets = [_require_ticket(tx, project, ticket_id) for ticket_id in _check_ticket_ids(body.ticketIds)]
    for ticket in tickets:
        _update(tx, project, queries.find_ticket(tx.conn, project["id"], ticket["id"]), body.updates)
    return [queries.find_ticket(tx.conn, project["id"], ticket["id"]) for ticket in tickets]


def delete_ticket(tx: Transaction, actor: Actor, project_ref: str, ticket_ref: str) -> None:
    project = require_project(tx.conn, actor, project_ref)
    _delete(tx, project, _require_ticket(tx, project, ticket_ref))


def bulk_delete_tickets(tx: Transaction, actor: Actor, project_ref: str, body: BulkDeleteTickets) -> int:
    """Delete every listed ticket, or none if any of them is missing."""
    project = require_project(tx.conn, actor, project_ref)
    tickets = [_require_ticket(tx, project, ticket_id) for ticket_id in _check_ticket_ids(body.ticketIds)]
    for ticket in tickets:
        _delete(tx, project, ticket)
    return len(tickets)


def _check_ticket_ids(ticket_ids: list[str]) -> list[str]:
    if not 1 <= len(ticket_ids) <= MAX_BULK:
        raise InvalidInput.field("ticketIds", f"must list 1 to {MAX_BULK} tickets; it lists {len(ticket_ids)}")
    if len(set(ticket_ids)) != len(ticket_ids):
        raise InvalidInput.field("ticketIds", "lists a ticket more than once")
    return ticket_ids


def _require_ticket(tx: Transaction, project: dict, ticket_ref: str) -> dict:
    ticket = queries.find_ticket(tx.conn, project["id"], ticket_ref)
    if ticket is None:
        raise NotFound(f"ticket {ticket_ref!r} not found in project {project['key']}")
    return ticket


def _delete(tx: Transaction, project: dict, ticket: dict) -> None:
    # Subtasks outlive their parent: they are detached first, as events of
    # their own, so the read model never points at a deleted ticket.
    for child_id in queries.tickets_where(tx.conn, "parent_id", ticket["id"]):
        tx.append(ev.TicketUpdated(id=child_id, projectId=project["id"], parentId=None, updatedAt=tx.timestamp))
    tx.append(ev.TicketDeleted(id=ticket["id"], projectId=project["id"]))


def _update(tx: Transaction, project: dict, ticket: dict, body: UpdateTicket) -> None:
    fields = _check_fields(tx, project, body)
    parent_id = fields.get("parentId")
    if parent_id == ticket["id"]:
        raise InvalidInput.field("parentId", "a ticket cannot be its own parent")
    if parent_id is not None and ticket["id"] in queries.ancestor_ids(tx.conn, parent_id):
        raise InvalidInput.field("parentId", f"{parent_id!r} is a subtask of this ticket; parents may not form a cycle")

    changes = {
        _UPDATABLE[name]: value for name, value in fields.items() if name in _UPDATABLE and ticket[name] != value
    }
    if changes:
        tx.append(ev.TicketUpdated(id=ticket["id"], projectId=project["id"], updatedAt=tx.timestamp, **changes))
    _move(tx, project, ticket, fields.get("columnId", ticket["columnId"]), body.order)


def _move(tx: Transaction, project: dict, ticket: dict, column_id: str, order: int | Any) -> None:
    """Append ticket.moved if the ticket's column or order changes; an order past the end means last."""
    same_column = column_id == ticket["columnId"]
    if order is ev.UNSET:
        order = ticket["order"] if same_column else queries.count_in_column(tx.conn, column_id)
    if order < 0:
        raise InvalidInput.field("order", f"{order} is negative; orders start at 0")

    last = queries.count_in_column(tx.conn, column_id) - (1 if same_column else 0)
    order = min(order, last)
    if same_column and order == ticket["order"]:
        return
    tx.append(ev.TicketMoved(
        id=ticket["id"], projectId=project["id"], columnId=column_id, order=order,
        fromColumnId=ticket["columnId"], fromOrder=ticket["order"], updatedAt=tx.timestamp,
    ))


def _check_fields(tx: Transaction, project: dict, body: TicketFields) -> dict[str, Any]:
    """Validate every field the body sets and return them by API name, normalised."""
    given = {name: getattr(body, name) for name in body.__struct_fields__ if getattr(body, name) is not ev.UNSET}
    given.pop("order", None)
    checked: dict[str, Any] = {}
    for name, value in given.items():
        checked[name] = _check_field(tx, project, name, value)
    checked.pop("sprintId", None)
    return checked


def _check_field(tx: Transaction, project: dict, name: str, value: Any) -> Any:
    if name == "title":
        return check_text("title", value, max_length=MAX_TITLE, required=True)
    if name in _TEXT_FIELDS:
        return check_text(name, value, max_length=_TEXT_FIELDS[name]) or None
    if name == "type":
        return check_choice("type", value, TICKET_TYPES)
    if name == "priority":
        return check_choice("priority", value, PRIORITIES)
    if name in ("startDate", "dueDate"):
        return check_date(name, value)
    if name == "storyPoints":
        return check_int("storyPoints", value, minimum=0, maximum=MAX_STORY_POINTS)
    if name == "sprintId":
        if value is not None:
            raise InvalidInput.field("sprintId", "sprints are not supported yet; send null or leave it out")
        return None
    return _check_reference(tx, project, name, value)


def _check_reference(tx: Transaction, project: dict, name: str, value: Any) -> Any:
    """Check that an id field names something in this project."""
    if name == "columnId":
        if queries.find_column(tx.conn, project["id"], value) is None:
            raise InvalidInput.field("columnId", f"no column {value!r} in project {project['key']}")
    elif name == "assigneeId":
        if value is not None and queries.membership_role(tx.conn, project["id"], value) is None:
            raise InvalidInput.field("assigneeId", f"user {value!r} is not a member of project {project['key']}")
    elif name == "parentId":
        if value is not None and queries.find_ticket(tx.conn, project["id"], value) is None:
            raise InvalidInput.field("parentId", f"no ticket {value!r} in project {project['key']}")
        if value is not None:
            return queries.find_ticket(tx.conn, project["id"], value)["id"]
    elif name == "labelIds":
        return _check_labels(tx, project, value)
    return value


def _check_labels(tx: Transaction, project: dict, label_ids: list[str]) -> list[str]:
    unique = list(dict.fromkeys(label_ids))
    if len(unique) > MAX_LABELS_PER_TICKET:
        raise InvalidInput.field("labelIds", f"a ticket may have at most {MAX_LABELS_PER_TICKET} labels")
    for label_id in unique:
        if queries.find_label(tx.conn, project["id"], label_id) is None:
            raise InvalidInput.field("labelIds", f"no label {label_id!r} in project {project['key']}")
    return unique
