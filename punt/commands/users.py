"""Commands on users, sessions and API keys.

Password hashing and verification are slow on purpose (argon2id), so the
HTTP layer does them outside the writer and passes only the hash in.
"""

from __future__ import annotations

import re
import time
import zlib
from dataclasses import dataclass

from punt import credentials
from punt import events as ev
from punt.commands.access import Actor, new_id
from punt.commands.inputs import Register, UpdateMe
from punt.commands.validation import MAX_NAME, check_color, check_text
from punt.errors import Conflict, InvalidInput, NotAuthenticated
from punt.eventstore.writer import Transaction
from punt.projections import queries

__all__ = [
    "AVATAR_COLORS",
    "check_password_rules",
    "create_api_key",
    "register_user",
    "revoke_api_key",
    "sign_in",
    "sign_out",
    "update_me",
]

AVATAR_COLORS = ("#E53935", "#8E24AA", "#3949AB", "#039BE5", "#00897B", "#7CB342", "#FDD835", "#FB8C00")

_USERNAME = re.compile(r"[A-Za-z0-9_-]{3,30}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
MAX_PASSWORD = 256


def check_password_rules(password: str, field: str = "password") -> None:
    """Raise InvalidInput unless the password has 12+ characters with upper, lower and digit."""
    if len(password) < 12 or len(password) > MAX_PASSWORD:
        raise InvalidInput.field(field, f"must be 12 to {MAX_PASSWORD} characters long")
    if not (re.search(r"[A-Z]", password) and re.search(r"[a-z]", password) and re.search(r"\d", password)):
        raise InvalidInput.field(field, "must contain an uppercase letter, a lowercase letter and a digit")


def check_registration(body: Register) -> Register:
    """Validate a registration body before its password is hashed."""
    if not _USERNAME.fullmatch(body.username):
        raise InvalidInput.field("username", "must be 3 to 30 characters of A-Z, a-z, 0-9, _ and -")
    check_password_rules(body.password)
    email = check_text("email", body.email, max_length=254)
    if email and not _EMAIL.fullmatch(email):
        raise InvalidInput.field("email", f"{email!r} is not an email address")
    name = check_text("name", body.name, max_length=MAX_NAME)
    return Register(username=body.username, password=body.password, email=email or None, name=name or None)


def avatar_color_for(username: str) -> str:
    return AVATAR_COLORS[zlib.crc32(username.lower().encode()) % len(AVATAR_COLORS)]


def register_user(tx: Transaction, body: Register, password_hash: str, *, force_admin: bool = False) -> dict:
    """Append user.registered; the first user of an empty database becomes system admin."""
    if queries.find_user_by_login(tx.conn, body.username):
        raise Conflict(f"username {body.username!r} is taken", [])
    if body.email and queries.find_user_by_login(tx.conn, body.email):
        raise Conflict(f"email {body.email!r} is taken", [])

    user_id = new_id()
    is_admin = force_admin or queries.count_users(tx.conn) == 0
    tx.append(ev.UserRegistered(
        id=user_id, username=body.username, email=body.email, name=body.name,
        avatarColor=avatar_color_for(body.username), isSystemAdmin=is_admin, createdAt=tx.timestamp,
    ))
    tx.conn.execute("INSERT INTO credentials (user_id, password_hash) VALUES (?, ?)", (user_id, password_hash))
    return queries.find_user(tx.conn, user_id)


@dataclass(frozen=True)
class NewSession:
    session_id: str
    token: str
    expires_at: float
    user: dict


def sign_in(tx: Transaction, user_id: str) -> NewSession:
    """Open a server-side session for a user whose password was already verified."""
    if queries.is_deactivated(tx.conn, user_id):
        raise NotAuthenticated("this account is deactivated; ask a system admin to restore it")
    token = credentials.new_secret()
    session_id = new_id()
    expires_at = time.time() + credentials.SESSION_LIFETIME_SECONDS
    tx.conn.execute(
        "INSERT INTO sessions (id, token_digest, user_id, created_at, expires_at) VALUES (?, ?, ?, ?, ?)",
        (session_id, credentials.digest(token), user_id, tx.timestamp, expires_at),
    )
    return NewSession(session_id, token, expires_at, queries.find_user(tx.conn, user_id))


def sign_out(tx: Transaction, actor: Actor) -> None:
    """Delete the actor's session and append session.revoked, which ends its open streams."""
    if actor.session_id is None:
        return
    tx.conn.execute("DELETE FROM sessions WHERE id = ?", (actor.session_id,))
    tx.append(ev.SessionRevoked(id=actor.session_id, userId=actor.user_id))


def create_api_key(tx: Transaction, actor: Actor) -> str:
    """Replace the actor's API key with a new one and return it; only its digest is stored."""
    revoke_api_key(tx, actor)
    key = "punt_" + credentials.new_secret()
    tx.conn.execute(
        "INSERT INTO api_keys (id, key_digest, user_id, created_at) VALUES (?, ?, ?, ?)",
        (new_id(), credentials.digest(key), actor.user_id, tx.timestamp),
    )
    return key


def revoke_api_key(tx: Transaction, actor: Actor) -> bool:
    """Revoke the actor's API key, if any; streams opened with it end."""
    rows = tx.conn.execute("SELECT id FROM api_keys WHERE user_id = ?", (actor.user_id,)).fetchall()
    for (key_id,) in rows:
        tx.conn.execute("DELETE FROM api_keys WHERE id = ?", (key_id,))
        tx.append(ev.ApiKeyRevoked(id=key_id, userId=actor.user_id))
    return bool(rows)


def update_me(tx: Transaction, actor: Actor, body: UpdateMe) -> dict:
    """Change the actor's name or avatar color and append user.updated with the summary."""
    user = queries.find_user(tx.conn, actor.user_id)
    name = user["name"] if body.name is ev.UNSET else check_text("name", body.name, max_length=MAX_NAME) or None
    color = user["avatarColor"] if body.avatarColor is ev.UNSET else check_color("avatarColor", body.avatarColor)
    if (name, color) != (user["name"], user["avatarColor"]):
        tx.append(ev.UserUpdated(id=user["id"], username=user["username"], name=name,
                                 avatar=user["avatar"], avatarColor=color))
    return queries.find_user(tx.conn, actor.user_id)
