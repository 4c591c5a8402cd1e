"""Per-process services of the application, and resolving who sent a request."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Callable, TypeVar

from litestar import Request

from punt import credentials
from punt.api import preconditions
from punt.api.fanout import Fanout
from punt.api.ratelimit import LoginLimiter
from punt.commands.access import Actor, load_actor
from punt.database import ReadPool
from punt.errors import InvalidInput, NotAuthenticated
from punt.eventstore.reader import LogReader
from punt.eventstore.writer import CommandMetadata, Transaction, Writer
from punt.settings import Settings

__all__ = ["SESSION_COOKIE", "Services", "current_actor", "execute"]

T = TypeVar("T")

SESSION_COOKIE = "punt_session"
API_KEY_HEADER = "x-mcp-api-key"
MAX_TAB_ID = 128
_PRINTABLE = frozenset(chr(code) for code in range(0x20, 0x7F))


@dataclass
class Services:
    """The services shared by every request handler of one worker process."""

    settings: Settings
    writer: Writer
    reads: ReadPool
    reader: LogReader
    fanout: Fanout
    slots: Any
    login_limiter: LoginLimiter

    @staticmethod
    def of(request: Request) -> Services:
        return request.app.state.services


def _credentials_of(request: Request) -> tuple[str, str] | None:
    """Return ("session", token) or ("key", key) from the request, or None."""
    api_key = request.headers.get(API_KEY_HEADER)
    if api_key:
        return "key", api_key
    authorization = request.headers.get("authorization", "")
    if authorization.lower().startswith("bearer "):
        return "key", authorization[7:].strip()
    token = request.cookies.get(SESSION_COOKIE)
    return ("session", token) if token else None


def _resolve(conn: Any, kind: str, secret: str, now: float) -> Actor:
    if kind == "session":
        found = credentials.find_session(conn, secret, now)
        if found is None:
            raise NotAuthenticated("the session is invalid or has expired; sign in again")
        return load_actor(conn, found[1], session_id=found[0], expires_at=found[2])

    found = credentials.find_api_key(conn, secret)
    if found is None:
        raise NotAuthenticated("the API key is invalid or revoked; create one with POST /api/me/mcp-key")
    return load_actor(conn, found[1], api_key_id=found[0])


async def current_actor(request: Request) -> Actor:
    """Authenticate the request by API key or session cookie; raise NotAuthenticated otherwise."""
    found = _credentials_of(request)
    if found is None:
        raise NotAuthenticated("sign in first: send the session cookie or an API key")
    return await Services.of(request).reads.run(_resolve, found[0], found[1], time.time())


def tab_id_of(request: Request) -> str | None:
    """Return the X-Tab-Id header after checking it is 1-128 printable ASCII characters."""
    tab_id = request.headers.get("x-tab-id")
    if tab_id is None:
        return None
    if not 1 <= len(tab_id) <= MAX_TAB_ID or not set(tab_id) <= _PRINTABLE:
        raise InvalidInput.field("X-Tab-Id", f"must be 1 to {MAX_TAB_ID} printable ASCII characters")
    return tab_id


async def execute(request: Request, actor: Actor | None, command: Callable[[Transaction], T]) -> T:
    """Run a command in the writer with the request's actor and tab id as event metadata.

    The request's If-Match and Idempotency-Key are checked in the same
    transaction as the command; a retried request returns the first result.
    """
    metadata = CommandMetadata(actorId=actor.user_id if actor else None, tabId=tab_id_of(request))
    guarded = await preconditions.guard_command(request, actor, command)
    return preconditions.unwrap(await Services.of(request).writer.execute(guarded, metadata))
