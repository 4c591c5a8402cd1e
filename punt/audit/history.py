"""A ticket's field-level history, derived from the events that changed it.

The ticket's own stream contains its creation, updates, moves and deletion.
Two kinds of event change a ticket from outside its stream: ``label.deleted``
takes the label off every ticket that had it, and a project deletion or a
database wipe removes the ticket. Both are read from the project's slice
of the log and folded in by offset.
"""

from __future__ import annotations

import heapq
import sqlite3
from typing import Any

import msgspec

from punt import events as ev
from punt.errors import NotFound
from punt.eventstore.records import StoredEvent
from punt.eventstore.schema import EVENTS_TABLE
from punt.events import decode_event
from punt.projections import queries

__all__ = ["ticket_history"]

_COLUMNS = "offset, stream, version, type, schema_version, data, metadata, project_id, timestamp, hash"

# Fields of a ticket whose changes the history lists, by their API names.
TRACKED_FIELDS = (
    "title", "description", "type", "priority", "columnId", "order", "assigneeId", "parentId", "sprintId",
    "storyPoints", "estimate", "startDate", "dueDate", "environment", "affectedVersion", "fixVersion", "labelIds",
)

_REMOVING_TYPES = ("project.deleted", "database.wiped", "database.projects.wiped")

Entry = dict[str, Any]


def ticket_history(conn: sqlite3.Connection, project_id: str, ticket_ref: str) -> list[Entry]:
    """Return the changes of a ticket (by id or key, deleted or not), oldest first."""
    ticket_id = _resolve_ticket_id(conn, project_id, ticket_ref)
    own = _select(conn, "stream = ?", (f"ticket-{ticket_id}",), "version")
    if not own:
        raise NotFound(f"ticket {ticket_ref!r} not found in the history of project {project_id!r}")

    created_at = own[0].offset
    label_deletions = _select(conn, "type = 'label.deleted' AND project_id = ? AND offset > ?",
                              (project_id, created_at), "offset")
    removals = [
        stored for stored in _select(conn, f"type IN {_REMOVING_TYPES} AND offset > ?", (created_at,), "offset")
        if stored.type != "project.deleted" or stored.project_id == project_id
    ]
    merged = heapq.merge(own, label_deletions, removals, key=lambda stored: stored.offset)

    entries: list[Entry] = []
    names: dict[str | None, str | None] = {}
    state: dict[str, Any] | None = None
    for stored in merged:
        changes, state = _fold(state, stored, decode_event(stored.type, stored.schema_version, stored.data))
        author = _author(conn, stored, names)
        entries.extend({**change, "changedBy": author, "changedAt": stored.timestamp, "offset": stored.offset}
                       for change in changes)
        if state is None:
            break
    return entries


def _resolve_ticket_id(conn: sqlite3.Connection, project_id: str, ticket_ref: str) -> str:
    """Find a ticket's id by its id or key, in the current state or, once deleted, in the log."""
    current = queries.find_ticket(conn, project_id, ticket_ref)
    if current is not None:
        return current["id"]
    row = conn.execute(
        f"SELECT json_extract(data, '$.id') FROM {EVENTS_TABLE} WHERE project_id = ? AND type = 'ticket.created'"
        " AND (json_extract(data, '$.id') = ? OR json_extract(data, '$.key') = ?) ORDER BY offset DESC LIMIT 1",
        (project_id, ticket_ref, ticket_ref),
    ).fetchone()
    if row is None:
        raise NotFound(f"ticket {ticket_ref!r} not found in the history of project {project_id!r}")
    return row[0]


def _select(conn: sqlite3.Connection, where: str, params: tuple[Any, ...], order: str) -> list[StoredEvent]:
    rows = conn.execute(f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} WHERE {where} ORDER BY {order}", params)
    return [StoredEvent(*row) for row in rows]


def _snapshot(event: ev.TicketCreated) -> dict[str, Any]:
    return msgspec.to_builtins(event)


def _fold(state: dict[str, Any] | None, stored: StoredEvent, event: ev.Event) -> tuple[list[Entry], dict | None]:
    """Apply one event to the ticket's fields; return the changes it made and the new fields."""
    if isinstance(event, ev.TicketCreated):
        created = _snapshot(event)
        return [{"field": "created", "oldValue": None, "newValue": created}], created
    if state is None:
        return [], None
    if isinstance(event, (ev.TicketUpdated, ev.TicketMoved)):
        return _field_changes(state, msgspec.to_builtins(event))
    if isinstance(event, ev.LabelDeleted):
        if event.id not in state["labelIds"]:
            return [], state
        remaining = [label_id for label_id in state["labelIds"] if label_id != event.id]
        return _field_changes(state, {"labelIds": remaining})
    # ticket.deleted, the project's deletion or a wipe: the ticket is gone.
    return [{"field": "deleted", "oldValue": state, "newValue": None}], None


def _field_changes(state: dict[str, Any], fields: dict[str, Any]) -> tuple[list[Entry], dict[str, Any]]:
    changes = [
        {"field": name, "oldValue": state.get(name), "newValue": fields[name]}
        for name in TRACKED_FIELDS
        if name in fields and fields[name] != state.get(name)
    ]
    updated = {**state, **{name: value for name, value in fields.items() if name in TRACKED_FIELDS}}
    if "updatedAt" in fields:
        updated["updatedAt"] = fields["updatedAt"]
    return changes, updated


def _author(conn: sqlite3.Connection, stored: StoredEvent, names: dict[str | None, str | None]) -> dict | None:
    """Return ``{id, name}`` of the user who caused the event, named as they are now."""
    actor_id = msgspec.json.decode(stored.metadata).get("actorId")
    if actor_id is None:
        return None
    if actor_id not in names:
        user = queries.find_user(conn, actor_id)
        names[actor_id] = (user["name"] or user["username"]) if user else None
    return {"id": actor_id, "name": names[actor_id]}
