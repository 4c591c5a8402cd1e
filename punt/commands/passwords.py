"""Changing a password: the new hash replaces the old and every other session ends."""

from __future__ import annotations

import msgspec

from punt import events as ev
from punt.commands.access import Actor
from punt.eventstore.writer import Transaction

__all__ = ["ChangePassword", "change_password"]


class ChangePassword(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    currentPassword: str
    newPassword: str


def change_password(tx: Transaction, actor: Actor, password_hash: str) -> int:
    """Store the new hash and revoke the actor's other sessions; return how many were revoked.

    The session that made the request stays signed in. Each revoked session
    gets a session.revoked event, which ends the streams opened with it.
    """
    tx.conn.execute("UPDATE credentials SET password_hash = ? WHERE user_id = ?", (password_hash, actor.user_id))
    others = tx.conn.execute(
        "SELECT id FROM sessions WHERE user_id = ? AND id IS NOT ? ORDER BY id", (actor.user_id, actor.session_id)
    ).fetchall()
    for (session_id,) in others:
        tx.conn.execute("DELETE FROM sessions WHERE id = ?", (session_id,))
        tx.append(ev.SessionRevoked(id=session_id, userId=actor.user_id))
    return len(others)
