"""Conditions checked inside the writer's transaction: ``If-Match`` and ``Idempotency-Key``.

Both wrap the command that ``punt.api.context.execute`` hands to the writer,
so the check and the command see the same state and no other command can
run between them.
"""

from __future__ import annotations

import re
from typing import Any, Callable

from litestar import Request

from punt import idempotency
from punt.api.openapi import OPERATIONS
from punt.commands.access import Actor
from punt.errors import InvalidInput, PreconditionFailed
from punt.projections import queries

__all__ = ["LABEL_VERSION", "guard_command", "unwrap"]

# Labels are created and deleted but never changed, so each label stays at its first version.
LABEL_VERSION = 1

MAX_IDEMPOTENCY_KEY = 255
_KEY = re.compile(r"[\x21-\x7e]{1,%d}" % MAX_IDEMPOTENCY_KEY)
_ENTITY_TAG = re.compile(r'"(\d{1,18})"')

# Its response is a secret that is shown once and never stored, so it cannot be replayed.
_NOT_REPLAYABLE = frozenset({"create_api_key"})


def _handler_name(request: Request) -> str:
    return request.scope["route_handler"].handler_name


def _parse_if_match(raw: str) -> set[int] | None:
    """Return the versions an If-Match header accepts, or None for ``*`` (any current version)."""
    if raw.strip() == "*":
        return None
    versions = set()
    for part in raw.split(","):
        match = _ENTITY_TAG.fullmatch(part.strip())
        if match is None:
            raise InvalidInput.field("If-Match", f"{raw[:60]!r} is not a list of ETags such as \"3\" or *")
        versions.add(int(match.group(1)))
    return versions


def _current_version(conn: Any, path: dict[str, str]) -> int | None:
    """Return the version of the resource the request changes, or None if it does not exist."""
    project = queries.find_project(conn, path["project_id"])
    if project is None:
        return None
    if "ticket_id" in path:
        ticket = queries.find_ticket(conn, project["id"], path["ticket_id"])
        return ticket["version"] if ticket else None
    if "label_id" in path:
        return LABEL_VERSION if queries.find_label(conn, project["id"], path["label_id"]) else None
    return project["version"]


def _check_version(path: dict[str, str], accepted: set[int] | None, command: Callable[[Any], Any]) -> Callable:
    def checked(tx: Any) -> Any:
        current = _current_version(tx.conn, path)
        # The command runs first, so its access checks raise 401, 403 or 404 before a
        # stale version could reveal anything. Raising afterwards rolls its events back.
        result = command(tx)
        if current is not None and accepted is not None and current not in accepted:
            wanted = ", ".join(f'"{version}"' for version in sorted(accepted))
            raise PreconditionFailed(f'the resource is at version "{current}", not {wanted}; reload it and retry')
        return result

    return checked


def _idempotency_key(request: Request) -> str | None:
    key = request.headers.get("idempotency-key")
    if key is not None and not _KEY.fullmatch(key):
        raise InvalidInput.field("Idempotency-Key", f"must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"
                                 " without spaces")
    return key


async def guard_command(request: Request, actor: Actor | None, command: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Wrap a command with the request's If-Match and Idempotency-Key checks, where they apply.

    If-Match applies to the routes documented with it (project, ticket and
    label changes). Idempotency keys are kept per user, so requests without
    an authenticated user ignore them.
    """
    name = _handler_name(request)
    if_match = request.headers.get("if-match")
    if if_match is not None and OPERATIONS[name].if_match:
        command = _check_version(dict(request.path_params), _parse_if_match(if_match), command)

    key = _idempotency_key(request)
    if key is not None and actor is not None and name not in _NOT_REPLAYABLE:
        # guards.before_request read the body first, so this returns Litestar's cached copy.
        body = await request.body()
        request_print = idempotency.fingerprint(request.method, request.url.path, body)
        command = idempotency.guard(actor.user_id, key, request_print, command)
    return command


def unwrap(result: Any) -> Any:
    """Return the command's result, or the stored result of the first request with the same key."""
    return result.result if isinstance(result, idempotency.Replay) else result
