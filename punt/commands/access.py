"""Access rules: resolving the acting user and checking project roles.

A system admin has the rights of an owner in every project. The checks
take a plain connection, so commands and GET requests apply the same rules.
"""

from __future__ import annotations

import secrets
import sqlite3
from dataclasses import dataclass

from punt.errors import Forbidden, NotAuthenticated, NotFound
from punt.projections import queries

__all__ = ["Actor", "ADMIN_ROLES", "load_actor", "new_id", "require_project"]

ADMIN_ROLES = ("owner", "admin")
ALL_ROLES = ("owner", "admin", "member")


@dataclass(frozen=True)
class Actor:
    """The authenticated user a command runs for."""

    user_id: str
    is_system_admin: bool
    session_id: str | None = None
    api_key_id: str | None = None
    # When the session expires (Unix time); None for an API key, which does not.
    expires_at: float | None = None


def new_id() -> str:
    """Return a new opaque id (96 random bits, hex)."""
    return secrets.token_hex(12)


def load_actor(conn: sqlite3.Connection, user_id: str, session_id: str | None = None,
               api_key_id: str | None = None, expires_at: float | None = None) -> Actor:
    """Load the acting user; a user that no longer exists (after a wipe) or is deactivated is not authenticated."""
    user = queries.find_user(conn, user_id)
    if user is None:
        raise NotAuthenticated("the session's user no longer exists; sign in again")
    if queries.is_deactivated(conn, user_id):
        raise NotAuthenticated("this account is deactivated; ask a system admin to restore it")
    return Actor(user_id, user["isSystemAdmin"], session_id, api_key_id, expires_at)


def require_project(conn: sqlite3.Connection, actor: Actor, project_ref: str,
                    roles: tuple[str, ...] = ALL_ROLES) -> dict:
    """Return the project if the actor has one of ``roles`` in it.

    Raises NotFound for an unknown project and Forbidden for a user without
    the role. A project is named by id or key.
    """
    project = queries.find_project(conn, project_ref)
    if project is None:
        raise NotFound(f"project {project_ref!r} not found")
    if actor.is_system_admin:
        return project

    role = queries.membership_role(conn, project["id"], actor.user_id)
    if role is None:
        raise Forbidden(f"you are not a member of project {project['key']}")
    if role not in roles:
        raise Forbidden(f"this action needs one of the roles {', '.join(roles)} in project {project['key']}; "
                        f"you are {role}")
    return project
