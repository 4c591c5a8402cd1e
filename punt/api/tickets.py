"""Labels and tickets of a project, including the bulk ticket commands."""

from __future__ import annotations

from functools import partial

from litestar import Request, Response, delete, get, patch, post
from litestar.params import FromPath

from punt.api.audit import at_offset, ticket_at
from punt.api.bodies import decode_body
from punt.api.context import Services, current_actor, execute
from punt.api.preconditions import LABEL_VERSION
from punt.api.projects import read_project_part
from punt.api.responses import listing, resource, success
from punt.commands import labels, tickets
from punt.commands.access import Actor, require_project
from punt.commands.inputs import BulkDeleteTickets, BulkUpdateTickets, CreateLabel, CreateTicket, UpdateTicket
from punt.commands.validation import PRIORITIES, TICKET_TYPES, check_choice
from punt.errors import InvalidInput, NotFound
from punt.projections import queries

__all__ = ["ROUTES"]

TICKET_FILTERS = ("sprintId", "columnId", "type", "priority", "assigneeId")


@get("/api/projects/{project_id:str}/labels")
async def list_labels(request: Request, project_id: FromPath[str]) -> Response:
    return listing(await read_project_part(request, project_id, queries.list_labels))


@post("/api/projects/{project_id:str}/labels", status_code=201)
async def create_label(request: Request, project_id: FromPath[str]) -> Response:
    actor = await current_actor(request)
    body = await decode_body(request, CreateLabel)
    command = partial(labels.create_label, actor=actor, project_ref=project_id, body=body)
    return resource({**await execute(request, actor, command), "version": LABEL_VERSION}, 201)


@delete("/api/projects/{project_id:str}/labels/{label_id:str}", status_code=200)
async def delete_label(request: Request, project_id: FromPath[str], label_id: FromPath[str]) -> Response:
    actor = await current_actor(request)
    await execute(request, actor, partial(labels.delete_label, actor=actor, project_ref=project_id, label_id=label_id))
    return success()


def _ticket_filters(request: Request) -> dict[str, str]:
    """Read the ticket list's query filters; enum filters match case-insensitively."""
    filters = {}
    for name in request.query_params:
        if name not in TICKET_FILTERS and name != "at":
            raise InvalidInput.field(name, f"is not a ticket filter; use one of {', '.join(TICKET_FILTERS)}")
    for name in TICKET_FILTERS:
        value = request.query_params.get(name)
        if value is None:
            continue
        if name == "type":
            value = check_choice("type", value, TICKET_TYPES)
        elif name == "priority":
            value = check_choice("priority", value, PRIORITIES)
        filters[name] = value
    return filters


@get("/api/projects/{project_id:str}/tickets")
async def list_tickets(request: Request, project_id: FromPath[str]) -> Response:
    filters = _ticket_filters(request)
    return listing(await read_project_part(request, project_id, partial(queries.list_tickets, filters=filters)))


@post("/api/projects/{project_id:str}/tickets", status_code=201)
async def create_ticket(request: Request, project_id: FromPath[str]) -> Response:
    actor = await current_actor(request)
    body = await decode_body(request, CreateTicket)
    command = partial(tickets.create_ticket, actor=actor, project_ref=project_id, body=body)
    return resource(await execute(request, actor, command), 201)


def _ticket_detail(conn, actor: Actor, project_ref: str, ticket_ref: str) -> dict:
    project = require_project(conn, actor, project_ref)
    ticket = queries.find_ticket(conn, project["id"], ticket_ref)
    if ticket is None:
        raise NotFound(f"ticket {ticket_ref!r} not found in project {project['key']}")
    return queries.ticket_detail(conn, ticket)


@get("/api/projects/{project_id:str}/tickets/{ticket_id:str}")
async def get_ticket(request: Request, project_id: FromPath[str], ticket_id: FromPath[str]) -> Response:
    actor = await current_actor(request)
    at = at_offset(request)
    if at is not None:
        return resource(await ticket_at(request, actor, project_id, ticket_id, at))
    return resource(await Services.of(request).reads.run(_ticket_detail, actor, project_id, ticket_id))


@patch("/api/projects/{project_id:str}/tickets/{ticket_id:str}")
async def update_ticket(request: Request, project_id: FromPath[str], ticket_id: FromPath[str]) -> Response:
    actor = await current_actor(request)
    body = await decode_body(request, UpdateTicket)
    command = partial(tickets.update_ticket, actor=actor, project_ref=project_id, ticket_ref=ticket_id, body=body)
    return resource(await execute(request, actor, command))


@delete("/api/projects/{project_id:str}/tickets/{ticket_id:str}", status_code=200)
async def delete_ticket(request: Request, project_id: FromPath[str], ticket_id: FromPath[str]) -> Response:
    actor = await current_actor(request)
    command = partial(tickets.delete_ticket, actor=actor, project_ref=project_id, ticket_ref=ticket_id)
    await execute(request, actor, command)
    return success()


@patch("/api/projects/{project_id:str}/tickets")
async def bulk_update_tickets(request: Request, project_id: FromPath[str]) -> Response:
    actor = await current_actor(request)
    body = await decode_body(request, BulkUpdateTickets)
    command = partial(tickets.bulk_update_tickets, actor=actor, project_ref=project_id, body=body)
    return listing(await execute(request, actor, command))


@delete("/api/projects/{project_id:str}/tickets", status_code=200)
async def bulk_delete_tickets(request: Request, project_id: FromPath[str]) -> Response:
    actor = await current_actor(request)
    body = await decode_body(request, BulkDeleteTickets)
    command = partial(tickets.bulk_delete_tickets, actor=actor, project_ref=project_id, body=body)
    deleted = await execute(request, actor, command)
    return Response({"success": True, "deleted": deleted})


ROUTES = [
    list_labels, create_label, delete_label, list_tickets, create_ticket, get_ticket,
    update_ticket, delete_ticket, bulk_update_tickets, bulk_delete_tickets,
]
