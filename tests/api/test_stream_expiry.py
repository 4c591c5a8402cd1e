"""A stream opened with a session ends when that session expires."""

from __future__ import annotations

import sqlite3
import time

from tests.support import Api, ServerProcess, open_stream


def test_stream_ends_when_session_expires(server: ServerProcess, admin: Api) -> None:
    """The session's expiry is moved two seconds ahead; its open stream must end soon after."""
    conn = sqlite3.connect(server.db, timeout=30)
    with conn:
        conn.execute("UPDATE sessions SET expires_at = ?", (time.time() + 2,))
    conn.close()

    stream = open_stream(server.url, "/api/users/events", cookies=admin.http.cookies)
    assert not stream.ended.wait(0.5)
    assert stream.ended.wait(10)
    stream.close()
    assert admin.http.get("/api/me").status_code == 401
