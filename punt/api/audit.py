"""Endpoints for auditors: the log by page, project and ticket history, time travel, export and import."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime
from functools import partial
from typing import AsyncIterator

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.datastructures import UploadFile
from litestar.response import Stream

from punt import credentials
from punt.api.bodies import UnsupportedMediaType, decode_body
from punt.api.context import Services, current_actor, execute
from punt.audit import history, log, timetravel, transfer
from punt.commands.access import ADMIN_ROLES, Actor, require_project
from punt.commands.admin import require_system_admin
from punt.commands.inputs import ConfirmPassword
from punt.errors import InvalidInput, NotFound
from punt.projections import queries

__all__ = ["ROUTES", "at_offset", "ticket_at"]

logger = logging.getLogger(__name__)

# An import file is read whole into memory before it is checked.
MAX_IMPORT_BYTES = 256 * 1024 * 1024
EXPORT_BATCH = 2_000

_ADMIN_LOG_PARAMS = ("after", "limit", "type", "projectId", "userId", "from", "to")
_PROJECT_LOG_PARAMS = ("after", "limit", "type", "userId", "from", "to")


def _non_negative(name: str, value: str) -> int:
    if not value.isdigit():
        raise InvalidInput.field(name, f"{value!r} is not a non-negative integer")
    return int(value)


def at_offset(request: Request) -> int | None:
    """Return the ``at`` query parameter as an offset, or None for the current state."""
    value = request.query_params.get("at")
    return None if value is None else _non_negative("at", value)


def _timestamp(name: str, value: str) -> str:
    """Normalise an ISO 8601 time to the log's form (UTC, milliseconds, ``Z``), so strings compare in order."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput.field(name, f"{value!r} is not an ISO 8601 time such as 2024-01-15T10:30:00.000Z") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _page_request(request: Request, allowed: tuple[str, ...]) -> tuple[int, int, dict[str, str | None]]:
    """Read after, limit and the filters of a log request; unknown parameters are 400."""
    params = request.query_params
    for name in params:
        if name not in allowed:
            raise InvalidInput.field(name, f"is not a parameter of this endpoint; use {', '.join(allowed)}")
    after = _non_negative("after", params.get("after", "0"))
    limit = _non_negative("limit", params.get("limit", str(log.DEFAULT_PAGE_SIZE)))
    if not 1 <= limit <= log.MAX_PAGE_SIZE:
        raise InvalidInput.field("limit", f"{limit} is outside 1 to {log.MAX_PAGE_SIZE}")
    filters = {
        "type_prefix": params.get("type"),
        "actor_id": params.get("userId"),
        "since": _timestamp("from", params["from"]) if "from" in params else None,
        "until": _timestamp("to", params["to"]) if "to" in params else None,
    }
    return after, limit, filters


def _page_body(page: log.LogPage) -> dict:
    return {
        "events": [log.describe_event(stored) for stored in page.events],
        "nextAfter": page.next_after,
        "hasMore": page.has_more,
    }


def _admin_page(conn, actor: Actor, after: int, limit: int, filters: dict, project_ref: str | None) -> dict:
    require_system_admin(actor)
    project_id = None
    if project_ref is not None:
        # A deleted project is still in the log, so an unknown key or id is taken as given.
        project = queries.find_project(conn, project_ref)
        project_id = project["id"] if project else project_ref
    return _page_body(log.read_page(conn, after, limit, log.LogFilter(project_id=project_id, **filters)))


@get("/api/admin/events")
async def admin_events(request: Request) -> Response:
    actor = await current_actor(request)
    after, limit, filters = _page_request(request, _ADMIN_LOG_PARAMS)
    project_ref = request.query_params.get("projectId")
    return Response(await Services.of(request).reads.run(_admin_page, actor, after, limit, filters, project_ref))


def _project_page(conn, actor: Actor, project_ref: str, after: int, limit: int, filters: dict) -> dict:
    project = require_project(conn, actor, project_ref, ADMIN_ROLES)
    return _page_body(log.read_page(conn, after, limit, log.LogFilter(project_id=project["id"], **filters)))


@get("/api/projects/{project_id:str}/history")
async def project_history(request: Request, project_id: FromPath[str]) -> Response:
    actor = await current_actor(request)
    after, limit, filters = _page_request(request, _PROJECT_LOG_PARAMS)
    return Response(await Services.of(request).reads.run(_project_page, actor, project_id, after, limit, filters))


def _ticket_history(conn, actor: Actor, project_ref: str, ticket_ref: str) -> list[dict]:
    project = require_project(conn, actor, project_ref)
    return history.ticket_history(conn, project["id"], ticket_ref)


@get("/api/projects/{project_id:str}/tickets/{ticket_id:str}/history")
async def ticket_history(request: Request, project_id: FromPath[str], ticket_id: FromPath[str]) -> Response:
    actor = await current_actor(request)
    return Response(await Services.of(request).reads.run(_ticket_history, actor, project_id, ticket_id))


def _ticket_detail(state, project_id: str, ticket_ref: str) -> dict:
    ticket = queries.find_ticket(state, project_id, ticket_ref)
    if ticket is None:
        raise NotFound(f"ticket {ticket_ref!r} did not exist at that offset")
    return queries.ticket_detail(state, ticket)


async def ticket_at(request: Request, actor: Actor, project_ref: str, ticket_ref: str, at: int) -> dict:
    """Return a ticket with its column, assignee and labels as they were right after ``at``."""
    query = partial(_ticket_detail, ticket_ref=ticket_ref)
    return await Services.of(request).reads.run(timetravel.read_at, actor, project_ref, at, query)


async def _confirm_admin(request: Request, password: str) -> Actor:
    """Check that the caller is a system admin and typed their own password again."""
    actor = await current_actor(request)
    require_system_admin(actor)
    password_hash = await Services.of(request).reads.run(credentials.password_hash_of, actor.user_id)
    if not await asyncio.to_thread(credentials.verify_password, password_hash, password):
        logger.warning("export or import rejected: wrong confirmPassword from user %s", actor.user_id)
        raise InvalidInput.field("confirmPassword", "does not match your password")
    return actor


@post("/api/admin/database/export", status_code=200)
async def export_database(request: Request) -> Stream:
    """Stream the log up to the current head as NDJSON, one event a line."""
    body = await decode_body(request, ConfirmPassword)
    actor = await _confirm_admin(request, body.confirmPassword)
    reads = Services.of(request).reads
    head = await reads.run(log.log_head)
    logger.info("user %s exports the log up to offset %d", actor.user_id, head)

    async def lines() -> AsyncIterator[bytes]:
        after = 0
        while after < head:
            batch = await reads.run(transfer.export_batch, after, head, EXPORT_BATCH)
            if not batch:
                return
            after += len(batch)
            yield b"".join(batch)

    return Stream(lines(), media_type="application/x-ndjson",
                  headers={"Content-Disposition": 'attachment; filename="punt-export.ndjson"'})


async def _import_form(request: Request) -> tuple[str, bytes]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "multipart/form-data":
        raise UnsupportedMediaType(f"Content-Type {content_type or 'missing'!r} is not supported; send "
                                   "multipart/form-data with the fields confirmPassword and file")
    form = await request.form()
    password, upload = form.get("confirmPassword"), form.get("file")
    if not isinstance(password, str) or not password:
        raise InvalidInput.field("confirmPassword", "is required")
    if not isinstance(upload, UploadFile):
        raise InvalidInput.field("file", "is required: attach the NDJSON export as a file part")
    return password, await upload.read()


@post("/api/admin/database/import", status_code=200, request_max_body_size=MAX_IMPORT_BYTES)
async def import_database(request: Request) -> Response:
    """Replace the current state with an export's: append database.wiped, then re-create the state as events."""
    password, content = await _import_form(request)
    actor = await _confirm_admin(request, password)
    imported = await asyncio.to_thread(transfer.load_state, content.splitlines())
    counts = await execute(request, actor, partial(transfer.replace_state, actor=actor, imported=imported))
    logger.warning("database replaced by an import from user %s: %s", actor.user_id, counts)
    return Response({"success": True, "imported": counts})


ROUTES = [admin_events, project_history, ticket_history, export_database, import_database]
