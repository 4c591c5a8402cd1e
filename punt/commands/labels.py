"""Commands on a project's labels."""

from __future__ import annotations

from punt import events as ev
from punt.commands.access import Actor, new_id, require_project
from punt.commands.inputs import CreateLabel
from punt.commands.validation import check_color, check_text
from punt.commands.users import AVATAR_COLORS
from punt.errors import Conflict, NotFound
from punt.eventstore.writer import Transaction
from punt.projections import queries

__all__ = ["MAX_LABEL_NAME", "create_label", "delete_label"]

MAX_LABEL_NAME = 50


def create_label(tx: Transaction, actor: Actor, project_ref: str, body: CreateLabel) -> dict:
    """Append label.created; names are unique in a project, ignoring case."""
    project = require_project(tx.conn, actor, project_ref)
    name = check_text("name", body.name, max_length=MAX_LABEL_NAME, required=True)
    color = check_color("color", body.color) if body.color is not None else _next_color(tx, project["id"])
    if queries.label_name_taken(tx.conn, project["id"], name):
        raise Conflict(f"label {name!r} already exists in project {project['key']}")

    label_id = new_id()
    tx.append(ev.LabelCreated(id=label_id, projectId=project["id"], name=name, color=color))
    return queries.find_label(tx.conn, project["id"], label_id)


def _next_color(tx: Transaction, project_id: str) -> str:
    return AVATAR_COLORS[len(queries.list_labels(tx.conn, project_id)) % len(AVATAR_COLORS)]


def delete_label(tx: Transaction, actor: Actor, project_ref: str, label_id: str) -> None:
    """Append label.deleted; the read model drops the label from every ticket that had it."""
    project = require_project(tx.conn, actor, project_ref)
    if queries.find_label(tx.conn, project["id"], label_id) is None:
        raise NotFound(f"label {label_id!r} not found in project {project['key']}")
    tx.append(ev.LabelDeleted(id=label_id, projectId=project["id"]))
