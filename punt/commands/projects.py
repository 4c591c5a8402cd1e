"""Commands on projects and their members."""

from __future__ import annotations

import re
import zlib

from punt import events as ev
from punt.commands.access import ADMIN_ROLES, Actor, new_id, require_project
from punt.commands.inputs import AddMember, CreateProject, UpdateMember, UpdateProject
from punt.commands.validation import MAX_DESCRIPTION, MAX_NAME, check_color, check_text
from punt.errors import Conflict, InvalidInput, NotFound
from punt.eventstore.writer import Transaction
from punt.projections import queries

__all__ = [
    "DEFAULT_COLUMNS",
    "add_member",
    "create_project",
    "delete_project",
    "remove_member",
    "update_member",
    "update_project",
]

DEFAULT_COLUMNS = ("To Do", "In Progress", "Done")
PROJECT_COLORS = ("#3B82F6", "#10B981", "#F59E0B", "#EF4444", "#8B5CF6", "#EC4899", "#14B8A6", "#F97316")
MEMBER_ROLES = ("admin", "member")

_KEY = re.compile(r"[A-Z][A-Z0-9]{1,9}")


def create_project(tx: Transaction, actor: Actor, body: CreateProject) -> dict:
    """Append project.created, its three default columns, and the creator as owner."""
    name = check_text("name", body.name, max_length=MAX_NAME, required=True)
    if not _KEY.fullmatch(body.key):
        raise InvalidInput.field("key", f"{body.key!r} must be 2-10 uppercase letters and digits, starting with a letter")
    description = check_text("description", body.description, max_length=MAX_DESCRIPTION)
    color = check_color("color", body.color) if body.color is not None else _color_for(body.key)
    if queries.project_key_taken(tx.conn, body.key):
        raise Conflict(f"project key {body.key!r} is taken; choose another key")

    project_id = new_id()
    tx.append(ev.ProjectCreated(id=project_id, name=name, key=body.key, description=description or None,
                                color=color, createdAt=tx.timestamp, updatedAt=tx.timestamp))
    for order, column in enumerate(DEFAULT_COLUMNS):
        tx.append(ev.ColumnCreated(id=new_id(), projectId=project_id, name=column, order=order))
    tx.append(ev.MemberAdded(id=new_id(), projectId=project_id, userId=actor.user_id, role="owner"))
    return queries.find_project(tx.conn, project_id)


def _color_for(key: str) -> str:
    return PROJECT_COLORS[zlib.crc32(key.encode()) % len(PROJECT_COLORS)]


def update_project(tx: Transaction, actor: Actor, project_ref: str, body: UpdateProject) -> dict:
    """Append project.updated with the fields that changed; the key cannot change."""
    project = require_project(tx.conn, actor, project_ref, ADMIN_ROLES)
    if body.key is not ev.UNSET:
        raise InvalidInput.field("key", "a project's key cannot be changed; leave it out of the request")

    changes: dict[str, object] = {}
    if body.name is not ev.UNSET:
        changes["name"] = check_text("name", body.name, max_length=MAX_NAME, required=True)
    if body.description is not ev.UNSET:
        changes["description"] = check_text("description", body.description, max_length=MAX_DESCRIPTION) or None
    if body.color is not ev.UNSET:
        changes["color"] = check_color("color", body.color)
    changes = {field: value for field, value in changes.items() if project[field] != value}

    if changes:
        tx.append(ev.ProjectUpdated(id=project["id"], updatedAt=tx.timestamp, **changes))
    return queries.find_project(tx.conn, project["id"])


def delete_project(tx: Transaction, actor: Actor, project_ref: str) -> None:
    project = require_project(tx.conn, actor, project_ref, ("owner",))
    tx.append(ev.ProjectDeleted(id=project["id"]))


def add_member(tx: Transaction, actor: Actor, project_ref: str, body: AddMember) -> dict:
    """Append member.added for an existing user named by userId or username."""
    project = require_project(tx.conn, actor, project_ref, ADMIN_ROLES)
    role = _check_role(body.role)
    user = _find_target_user(tx, body)
    if queries.membership_role(tx.conn, project["id"], user["id"]) is not None:
        raise Conflict(f"user {user['username']!r} is already a member of project {project['key']}")

    member_id = new_id()
    tx.append(ev.MemberAdded(id=member_id, projectId=project["id"], userId=user["id"], role=role))
    return queries.find_member(tx.conn, project["id"], member_id)


def _find_target_user(tx: Transaction, body: AddMember) -> dict:
    if body.userId is not ev.UNSET:
        user = queries.find_user(tx.conn, body.userId)
        if user is None:
            raise InvalidInput.field("userId", f"no user has the id {body.userId!r}")
        return user
    if body.username is not ev.UNSET:
        user = queries.find_user_by_login(tx.conn, body.username)
        if user is None:
            raise InvalidInput.field("username", f"no user has the username {body.username!r}")
        return user
    raise InvalidInput.field("userId", "give the user to add as userId or username")


def _check_role(role: str) -> str:
    if role.lower() not in MEMBER_ROLES:
        raise InvalidInput.field("role", f"{role!r} is not one of admin, member")
    return role.lower()


def _require_member(tx: Transaction, project: dict, member_id: str) -> dict:
    member = queries.find_member(tx.conn, project["id"], member_id)
    if member is None:
        raise NotFound(f"member {member_id!r} not found in project {project['key']}")
    return member


def update_member(tx: Transaction, actor: Actor, project_ref: str, member_id: str, body: UpdateMember) -> dict:
    """Append member.role.updated; the owner's role stays owner."""
    project = require_project(tx.conn, actor, project_ref, ADMIN_ROLES)
    member = _require_member(tx, project, member_id)
    role = _check_role(body.role)
    if member["role"] == "owner":
        raise InvalidInput.field("role", "the owner's role cannot be changed")

    if role != member["role"]:
        tx.append(ev.MemberRoleUpdated(id=member_id, projectId=project["id"], userId=member["userId"], role=role))
    return queries.find_member(tx.conn, project["id"], member_id)


def remove_member(tx: Transaction, actor: Actor, project_ref: str, member_id: str) -> None:
    """Unassign the member's tickets, then append member.removed; the owner cannot be removed."""
    project = require_project(tx.conn, actor, project_ref, ADMIN_ROLES)
    member = _require_member(tx, project, member_id)
    if member["role"] == "owner":
        raise InvalidInput("the project's owner cannot be removed", [])

    for ticket_id in queries.tickets_where(tx.conn, "assignee_id", member["userId"]):
        ticket = queries.find_ticket(tx.conn, project["id"], ticket_id)
        if ticket is not None:
            tx.append(ev.TicketUpdated(id=ticket_id, projectId=project["id"], assigneeId=None, updatedAt=tx.timestamp))
    tx.append(ev.MemberRemoved(id=member_id, projectId=project["id"], userId=member["userId"]))
