"""An import keeps the deactivations of the exported database."""

from __future__ import annotations

import sqlite3
from functools import partial

from punt.audit.transfer import export_lines, load_state, replace_state
from punt.commands import admin, users
from punt.commands.access import Actor
from punt.commands.inputs import Register
from punt.eventstore.writer import Writer


def _register(writer: Writer, username: str) -> Actor:
    body = Register(username=username, password="unused")
    user = writer.execute_sync(partial(users.register_user, body=body, password_hash="not-a-real-hash"))
    return Actor(user["id"], user["isSystemAdmin"])


def test_import_keeps_deactivated_users(writer: Writer, conn: sqlite3.Connection) -> None:
    root = _register(writer, "root")
    leaver = _register(writer, "leaver")
    writer.execute_sync(partial(admin.deactivate_user, actor=root, user_id=leaver.user_id))

    imported = load_state(list(export_lines(conn)))
    assert imported.deactivated == [leaver.user_id]

    writer.execute_sync(partial(replace_state, actor=root, imported=imported))
    rows = conn.execute("SELECT user_id FROM deactivated_users").fetchall()
    assert rows == [(leaver.user_id,)]
