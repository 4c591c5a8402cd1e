"""Whole-database commands of system admins: wiping everything, or only the projects.

A wipe changes the current state only: its event goes on the log after
every earlier event, which auditors can still read.
"""

from __future__ import annotations

from punt import credentials
from punt import events as ev
from punt.commands.access import Actor
from punt.commands.inputs import Register
from punt.commands.users import register_user
from punt.errors import Conflict, Forbidden, InvalidInput, NotFound
from punt.eventstore.writer import Transaction
from punt.projections import queries

__all__ = ["WIPE_CONFIRMATION", "deactivate_user", "require_system_admin", "wipe_database", "wipe_projects"]

WIPE_CONFIRMATION = "wipe all data"


def require_system_admin(actor: Actor) -> None:
    if not actor.is_system_admin:
        raise Forbidden("only a system admin may do this")


def wipe_database(tx: Transaction, actor: Actor, admin_username: str, admin_password_hash: str) -> dict:
    """Append database.wiped, drop every credential and session, and register a fresh admin."""
    require_system_admin(actor)
    tx.append(ev.DatabaseWiped())
    credentials.delete_all(tx.conn)
    return register_user(
        tx, Register(username=admin_username, password=""), admin_password_hash, force_admin=True
    )


def deactivate_user(tx: Transaction, actor: Actor, user_id: str) -> None:
    """Append user.deactivated and delete the user's sessions and API key.

    The event ends every stream the user holds, in every worker process.
    """
    require_system_admin(actor)
    user = queries.find_user(tx.conn, user_id)
    if user is None:
        raise NotFound(f"user {user_id!r} not found")
    if user_id == actor.user_id:
        raise InvalidInput("you cannot deactivate your own account; ask another system admin", [])
    if queries.is_deactivated(tx.conn, user_id):
        raise Conflict(f"user {user['username']!r} is already deactivated")

    credentials.delete_user_access(tx.conn, user_id)
    tx.append(ev.UserDeactivated(id=user_id))


def wipe_projects(tx: Transaction, actor: Actor) -> dict:
    """Append database.projects.wiped and return how many projects, tickets and labels it removed."""
    require_system_admin(actor)
    counts = queries.wipe_counts(tx.conn)
    tx.append(ev.DatabaseProjectsWiped())
    return counts
