"""Projects, their columns and members."""

from __future__ import annotations

from functools import partial

from litestar import Request, Response, delete, get, patch, post
from litestar.params import FromPath

from punt.api.audit import at_offset
from punt.api.bodies import decode_body
from punt.api.context import Services, current_actor, execute
from punt.api.responses import listing, resource, success
from punt.audit.timetravel import read_at
from punt.commands import projects
from punt.commands.access import Actor, require_project
from punt.commands.inputs import AddMember, CreateProject, UpdateMember, UpdateProject
from punt.projections import queries

__all__ = ["ROUTES"]


def _projects_of(conn, actor: Actor) -> list[dict]:
    return queries.list_projects(conn, None if actor.is_system_admin else actor.user_id)


def _project_part(conn, actor: Actor, project_ref: str, query) -> object:
    """Check membership, then run ``query(conn, project_id)``."""
    project = require_project(conn, actor, project_ref)
    return query(conn, project["id"])


async def read_project_part(request: Request, project_ref: str, query) -> object:
    """Run ``query(conn, project_id)`` for a member, on the state right after ``?at=OFFSET`` if given."""
    actor = await current_actor(request)
    at = at_offset(request)
    if at is not None:
        return await Services.of(request).reads.run(read_at, actor, project_ref, at, query)
    return await Services.of(request).reads.run(_project_part, actor, project_ref, query)


@get("/api/projects")
async def list_projects(request: Request) -> Response:
    actor = await current_actor(request)
    return listing(await Services.of(request).reads.run(_projects_of, actor))


@post("/api/projects", status_code=201)
async def create_project(request: Request) -> Response:
    actor = await current_actor(request)
    body = await decode_body(request, CreateProject)
    return resource(await execute(request, actor, partial(projects.create_project, actor=actor, body=body)), 201)


@get("/api/projects/{project_id:str}")
async def get_project(request: Request, project_id: FromPath[str]) -> Response:
    if at_offset(request) is not None:
        return resource(await read_project_part(request, project_id, queries.find_project))
    actor = await current_actor(request)
    return resource(await Services.of(request).reads.run(require_project, actor, project_id))


@patch("/api/projects/{project_id:str}")
async def update_project(request: Request, project_id: FromPath[str]) -> Response:
    actor = await current_actor(request)
    body = await decode_body(request, UpdateProject)
    command = partial(projects.update_project, actor=actor, project_ref=project_id, body=body)
    return resource(await execute(request, actor, command))


@delete("/api/projects/{project_id:str}", status_code=200)
async def delete_project(request: Request, project_id: FromPath[str]) -> Response:
    actor = await current_actor(request)
    await execute(request, actor, partial(projects.delete_project, actor=actor, project_ref=project_id))
    return success()


@get("/api/projects/{project_id:str}/columns")
async def list_columns(request: Request, project_id: FromPath[str]) -> Response:
    return listing(await read_project_part(request, project_id, queries.list_columns))


@get("/api/projects/{project_id:str}/members")
async def list_members(request: Request, project_id: FromPath[str]) -> Response:
    return listing(await read_project_part(request, project_id, queries.list_members))


@post("/api/projects/{project_id:str}/members", status_code=201)
async def add_member(request: Request, project_id: FromPath[str]) -> Response:
    actor = await current_actor(request)
    body = await decode_body(request, AddMember)
    command = partial(projects.add_member, actor=actor, project_ref=project_id, body=body)
    return resource(await execute(request, actor, command), 201)


@patch("/api/projects/{project_id:str}/members/{member_id:str}")
async def update_member(request: Request, project_id: FromPath[str], member_id: FromPath[str]) -> Response:
    actor = await current_actor(request)
    body = await decode_body(request, UpdateMember)
    command = partial(projects.update_member, actor=actor, project_ref=project_id, member_id=member_id, body=body)
    return resource(await execute(request, actor, command))


@delete("/api/projects/{project_id:str}/members/{member_id:str}", status_code=200)
async def remove_member(request: Request, project_id: FromPath[str], member_id: FromPath[str]) -> Response:
    actor = await current_actor(request)
    command = partial(projects.remove_member, actor=actor, project_ref=project_id, member_id=member_id)
    await execute(request, actor, command)
    return success()


ROUTES = [
    list_projects, create_project, get_project, update_project, delete_project,
    list_columns, list_members, add_member, update_member, remove_member,
]
