"""Idempotency keys: a retried command returns its first result instead of running again.

A key is stored in the writer's transaction together with the command it
guards, so either both the command's events and the key are committed or
neither is. The writer runs commands one at a time (across processes too,
through SQLite's write lock), so of many concurrent requests with one key
exactly one runs its command and the others find its key.

The table is a side table, like the credentials: rebuilding the read models
from the log leaves it alone. Only commands that succeeded are stored, so a
retry of a rejected command runs it again and usually meets the same error.
"""

from __future__ import annotations

import hashlib
import sqlite3
import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

import msgspec

from punt.errors import InvalidInput

__all__ = ["KEY_LIFETIME_SECONDS", "SCHEMA", "KeyReused", "Replay", "fingerprint", "guard"]

T = TypeVar("T")

KEY_LIFETIME_SECONDS = 24 * 3600

SCHEMA = """
CREATE TABLE IF NOT EXISTS idempotency_keys (
    user_id TEXT NOT NULL,
    key TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    result BLOB NOT NULL,
    created_at REAL NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX IF NOT EXISTS idempotency_keys_by_age ON idempotency_keys (created_at);
"""


class KeyReused(InvalidInput):
    """The key was used before for a different request."""

    status = 422


@dataclass(frozen=True)
class Replay:
    """The stored result of the command that first used the key."""

    result: Any


def fingerprint(method: str, path: str, body: bytes) -> str:
    """Return the SHA-256 of the request's method, path and body, which a retry must repeat exactly."""
    return hashlib.sha256(b"\n".join((method.encode(), path.encode(), body))).hexdigest()


def _find(conn: sqlite3.Connection, user_id: str, key: str, now: float) -> tuple[str, bytes] | None:
    return conn.execute(
        "SELECT fingerprint, result FROM idempotency_keys WHERE user_id = ? AND key = ? AND created_at > ?",
        (user_id, key, now - KEY_LIFETIME_SECONDS),
    ).fetchone()


def _store(conn: sqlite3.Connection, user_id: str, key: str, request: str, result: Any, now: float) -> None:
    conn.execute("DELETE FROM idempotency_keys WHERE created_at <= ?", (now - KEY_LIFETIME_SECONDS,))
    conn.execute(
        "INSERT OR REPLACE INTO idempotency_keys (user_id, key, fingerprint, result, created_at)"
        " VALUES (?, ?, ?, ?, ?)",
        (user_id, key, request, msgspec.json.encode(result), now),
    )


def guard(user_id: str, key: str, request: str, command: Callable[[Any], T]) -> Callable[[Any], T | Replay]:
    """Wrap a writer command so that a repeated key returns the stored result without running it.

    ``request`` is the fingerprint of the request; the same key with another
    fingerprint raises KeyReused. The result must be JSON-encodable.
    """

    def guarded(tx: Any) -> T | Replay:
        now = time.time()
        found = _find(tx.conn, user_id, key, now)
        if found is not None:
            if found[0] != request:
                raise KeyReused.field(
                    "Idempotency-Key", f"{key!r} was used for a different request; send a new key for a new request"
                )
            return Replay(msgspec.json.decode(found[1]))
        result = command(tx)
        _store(tx.conn, user_id, key, request, result, now)
        return result

    return guarded
