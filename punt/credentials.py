"""Secrets kept beside the log, never in it: password hashes, sessions and API keys.

These tables are not projections: rebuilding the read models from the log
leaves them as they are. Session tokens and API keys are random values of
256 bits, so they are stored as SHA-256 digests (a slow hash adds nothing
for values that cannot be guessed). Passwords are hashed with argon2id.
"""

from __future__ import annotations

import hashlib
import secrets
import sqlite3

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = [
    "SCHEMA",
    "SESSION_LIFETIME_SECONDS",
    "digest",
    "hash_password",
    "new_secret",
    "verify_password",
]

SESSION_LIFETIME_SECONDS = 30 * 24 * 3600

SCHEMA = """
CREATE TABLE IF NOT EXISTS credentials (
    user_id TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sessions (
    id TEXT PRIMARY KEY,
    token_digest TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS api_keys (
    id TEXT PRIMARY KEY,
    key_digest TEXT NOT NULL UNIQUE,
    user_id TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_by_user ON sessions (user_id);
CREATE INDEX IF NOT EXISTS api_keys_by_user ON api_keys (user_id);
"""

_hasher = PasswordHasher()

# Verified against when the username is unknown, so that a login for a
# missing user costs the same time as one with a wrong password.
_DUMMY_HASH = _hasher.hash("punt-timing-equaliser-" + secrets.token_hex(8))


def new_secret() -> str:
    """Return a fresh random token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def digest(secret: str) -> str:
    """Return the SHA-256 digest under which a session token or API key is stored."""
    return hashlib.sha256(secret.encode()).hexdigest()


def hash_password(password: str) -> str:
    """Hash a password with argon2id."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password against a stored hash; ``None`` means no such user."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def delete_all(conn: sqlite3.Connection) -> None:
    """Remove every credential, session and API key (used by the full wipe)."""
    for table in ("credentials", "sessions", "api_keys"):
        conn.execute(f"DELETE FROM {table}")


def delete_user_access(conn: sqlite3.Connection, user_id: str) -> None:
    """Delete every session and API key of one user; the password hash stays for the record."""
    conn.execute("DELETE FROM sessions WHERE user_id = ?", (user_id,))
    conn.execute("DELETE FROM api_keys WHERE user_id = ?", (user_id,))


def find_session(conn: sqlite3.Connection, token: str, now: float) -> tuple[str, str, float] | None:
    """Return (session id, user id, expiry as Unix time) for a live session token, or None."""
    return conn.execute(
        "SELECT id, user_id, expires_at FROM sessions WHERE token_digest = ? AND expires_at > ?", (digest(token), now)
    ).fetchone()


def find_api_key(conn: sqlite3.Connection, key: str) -> tuple[str, str] | None:
    """Return (key id, user id) for an API key, or None."""
    return conn.execute("SELECT id, user_id FROM api_keys WHERE key_digest = ?", (digest(key),)).fetchone()


def password_hash_of(conn: sqlite3.Connection, user_id: str) -> str | None:
    row = conn.execute("SELECT password_hash FROM credentials WHERE user_id = ?", (user_id,)).fetchone()
    return row[0] if row else None


def session_expiry(conn: sqlite3.Connection, session_id: str | None) -> float | None:
    """Return when a session expires (Unix time), or None if there is no such session."""
    row = conn.execute("SELECT expires_at FROM sessions WHERE id = ?", (session_id,)).fetchone()
    return row[0] if row else None
