"""The OpenAPI 3.1 document of the API, built from a table of operations.

Handlers decode their bodies themselves (see ``punt.api.bodies``), so Litestar
cannot infer request or response schemas. ``OPERATIONS`` describes each route
handler instead: its request and response Structs, status codes, parameters
and links. ``build_document`` walks the application's routes and looks every
handler up in that table, raising KeyError for a handler without an entry, so
a new route cannot go undocumented.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import msgspec
from litestar import Litestar, MediaType, Request, Response, get

from punt import __version__
from punt.api import schemas as s
from punt.commands import inputs as i
from punt.commands.passwords import ChangePassword
from punt.commands.validation import MAX_DESCRIPTION, MAX_NAME, MAX_TITLE, PRIORITIES, TICKET_TYPES

__all__ = ["OPERATIONS", "ROUTES", "Operation", "build_document", "document_bytes"]

_REF = "#/components/schemas/{name}"
SSE = "sse"

_STATUS_TEXT = {
    400: "Invalid input: malformed JSON, a wrong type, an unknown field or enum value, a bad header",
    401: "Not authenticated: no session cookie or API key, or an expired or revoked one",
    403: "Authenticated but not allowed, or a cookie request from another origin",
    404: "Unknown resource, or one in a project the caller cannot see",
    409: "Conflict: a unique name or key is taken",
    412: "If-Match names a version other than the current one; nothing was appended",
    413: "The body is over 1 MiB",
    415: "The Content-Type is not application/json",
    422: "The Idempotency-Key was used before with a different request",
    429: "Too many failed logins or open streams; see Retry-After",
}


@dataclass(frozen=True)
class Param:
    name: str
    location: str
    schema: dict[str, Any]
    description: str
    required: bool = False


@dataclass(frozen=True)
class Operation:
    """The document's description of one route handler."""

    summary: str
    response: Any = None
    request: type | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    public: bool = False
    form: bool = False
    etag: bool = False
    if_match: bool = False
    parameters: tuple[Param, ...] = ()
    links: dict[str, dict[str, Any]] = field(default_factory=dict)
    documented: bool = True
    response_media: str = "application/json"
    request_media: str = "application/json"


_ENUM_TEXT = {"type": "string", "minLength": 1, "maxLength": 100}
_TAB_ID = Param("X-Tab-Id", "header", {"type": "string", "pattern": "^[\\x20-\\x7e]{1,128}$"},
                "Copied into every event the request causes, as tabId.")
IDEMPOTENCY_KEY = Param("Idempotency-Key", "header", {"type": "string", "pattern": "^[\\x21-\\x7e]{1,255}$"},
                        "Retrying with the same key and body returns the first response; kept 24 hours per user.")
_IF_MATCH = Param("If-Match", "header", {"type": "string", "pattern": "^(\"[0-9]{1,18}\"|\\*)$"},
                  "The ETag of the version the change applies to; another version is 412.")
_LAST_EVENT_ID = Param("Last-Event-ID", "header", {"type": "string", "pattern": "^[0-9]{1,18}$"},
                       "Resume after this log offset; wins over lastEventId.")
_LAST_EVENT_QUERY = Param("lastEventId", "query", {"type": "string", "pattern": "^[0-9]{1,18}$"},
                          "Resume after this log offset, for a fresh page.")
_TICKET_FILTERS = (
    Param("sprintId", "query", {"type": "string"}, "Only tickets of this sprint."),
    Param("columnId", "query", {"type": "string"}, "Only tickets in this column."),
    Param("type", "query", {"type": "string", "enum": list(TICKET_TYPES)}, "Ticket type, any letter case."),
    Param("priority", "query", {"type": "string", "enum": list(PRIORITIES)}, "Priority, any letter case."),
    Param("assigneeId", "query", {"type": "string"}, "Only tickets assigned to this user."),
)

_AT = Param("at", "query", {"type": "string", "pattern": "^[0-9]{1,18}$"},
            "Answer with the state as it was right after this log offset; beyond the end of the log is 400.")

_LOG_PAGE = (
    Param("after", "query", {"type": "string", "pattern": "^[0-9]{1,18}$"}, "Return events after this offset."),
    Param("limit", "query", {"type": "string", "pattern": "^[0-9]{1,18}$"}, "Maximum number of events."),
    Param("type", "query", {"type": "string"}, "Only events whose type starts with this."),
    Param("userId", "query", {"type": "string"}, "Only events caused by this user."),
    Param("from", "query", {"type": "string"}, "Only events at or after this ISO 8601 time."),
    Param("to", "query", {"type": "string"}, "Only events at or before this ISO 8601 time."),
)

_PROJECT = "projectId"
_BODY_ERRORS = (400, 413, 415)
_PROJECT_ERRORS = (401, 403, 404)


def _project_links(project_id: str) -> dict[str, dict[str, Any]]:
    return {
        name: {"operationId": operation, "parameters": {_PROJECT: project_id}}
        for name, operation in (("GetProject", "getProject"), ("ListColumns", "listColumns"),
                                ("CreateTicket", "createTicket"), ("CreateLabel", "createLabel"),
                                ("ListMembers", "listMembers"), ("UpdateProject", "updateProject"),
                                ("AddMember", "addMember"), ("ListLabels", "listLabels"),
                                ("ListTickets", "listTickets"), ("BulkUpdateTickets", "bulkUpdateTickets"),
                                ("BulkDeleteTickets", "bulkDeleteTickets"), ("DeleteProject", "deleteProject"))
    }


def _ticket_links() -> dict[str, dict[str, Any]]:
    parameters = {_PROJECT: "$response.body#/projectId", "ticketId": "$response.body#/id"}
    return {name: {"operationId": operation, "parameters": parameters}
            for name, operation in (("GetTicket", "getTicket"), ("UpdateTicket", "updateTicket"),
                                    ("DeleteTicket", "deleteTicket"))}


OPERATIONS: dict[str, Operation] = {
    # Authentication and the caller's account
    "register": Operation("Register a user; the first user becomes system admin", s.User, i.Register, 201,
                          (*_BODY_ERRORS, 409), public=True),
    "sign_in": Operation("Sign in with username (or email) and password; sets the session cookie", s.User, i.Login,
                         errors=(*_BODY_ERRORS, 401, 429), public=True, form=True),
    "session": Operation("The signed-in user and the session's expiry, or an empty object", s.Session, public=True),
    "sign_out": Operation("Revoke the session, clear its cookie and end its streams", s.Success, errors=(401, 403)),
    "get_me": Operation("The caller's user", s.User, errors=(401,)),
    "update_me": Operation("Change the caller's name or avatar color", s.User, i.UpdateMe,
                           errors=(*_BODY_ERRORS, 401, 403)),
    "create_api_key": Operation("Create an API key, replacing the earlier one; shown only once", s.ApiKey,
                                status=201, errors=(401, 403)),
    "revoke_api_key": Operation("Revoke the caller's API key", s.Success, errors=(401, 403, 404)),
    "change_my_password": Operation("Change the caller's password; the caller's other sessions end",
                                    s.Success, ChangePassword, errors=(*_BODY_ERRORS, 401, 403)),
    "health": Operation("Liveness check", s.Health, public=True),
    # Projects, columns and members
    "list_projects": Operation("Projects the caller is a member of (system admin: all)", list[s.Project],
                               errors=(401,)),
    "create_project": Operation("Create a project with three columns; the caller becomes owner", s.Project,
                                i.CreateProject, 201, (*_BODY_ERRORS, 401, 403, 409), etag=True,
                                links=_project_links("$response.body#/id")),
    "get_project": Operation("One project", s.Project, errors=(400, *_PROJECT_ERRORS), etag=True,
                             parameters=(_AT,)),
    "update_project": Operation("Change a project's name, description or color", s.Project, i.UpdateProject,
                                errors=(*_BODY_ERRORS, *_PROJECT_ERRORS), etag=True, if_match=True),
    "delete_project": Operation("Delete a project (owner only)", s.Success, errors=_PROJECT_ERRORS,
                                if_match=True),
    "list_columns": Operation("A project's columns by order", list[s.Column], errors=(400, *_PROJECT_ERRORS),
                              parameters=(_AT,)),
    "list_members": Operation("A project's members", list[s.Member], errors=(400, *_PROJECT_ERRORS),
                              parameters=(_AT,)),
    "add_member": Operation("Add a user to a project as admin or member", s.Member, i.AddMember, 201,
                            (*_BODY_ERRORS, *_PROJECT_ERRORS, 409),
                            links={name: {"operationId": operation, "parameters": {
                                _PROJECT: "$response.body#/projectId", "memberId": "$response.body#/id"}}
                                for name, operation in (("UpdateMember", "updateMember"),
                                                        ("RemoveMember", "removeMember"))}),
    "update_member": Operation("Change a member's role", s.Member, i.UpdateMember,
                               errors=(*_BODY_ERRORS, *_PROJECT_ERRORS)),
    "remove_member": Operation("Remove a member; the owner cannot be removed", s.Success,
                               errors=(400, *_PROJECT_ERRORS)),
    # Labels and tickets
    "list_labels": Operation("A project's labels", list[s.Label], errors=(400, *_PROJECT_ERRORS),
                             parameters=(_AT,)),
    "create_label": Operation("Create a label; names are unique in a project, ignoring case", s.Label,
                              i.CreateLabel, 201, (*_BODY_ERRORS, *_PROJECT_ERRORS, 409), etag=True,
                              links={"DeleteLabel": {"operationId": "deleteLabel", "parameters": {
                                  _PROJECT: "$request.path.projectId", "labelId": "$response.body#/id"}}}),
    "delete_label": Operation("Delete a label; it leaves every ticket that had it", s.Success,
                              errors=_PROJECT_ERRORS, if_match=True),
    "list_tickets": Operation("A project's tickets, filtered", list[s.Ticket], errors=(400, *_PROJECT_ERRORS),
                              parameters=(*_TICKET_FILTERS, _AT)),
    "create_ticket": Operation("Create a ticket", s.Ticket, i.CreateTicket, 201,
                               (*_BODY_ERRORS, *_PROJECT_ERRORS), etag=True, links=_ticket_links()),
    "get_ticket": Operation("One ticket, by id or key, with its column, assignee and labels", s.TicketDetail,
                            errors=(400, *_PROJECT_ERRORS), etag=True, parameters=(_AT,)),
    "update_ticket": Operation("Change a ticket's fields, or move it with columnId and order", s.Ticket,
                               i.UpdateTicket, errors=(*_BODY_ERRORS, *_PROJECT_ERRORS), etag=True, if_match=True),
    "delete_ticket": Operation("Delete a ticket", s.Success, errors=_PROJECT_ERRORS, if_match=True),
    "bulk_update_tickets": Operation("Apply one change to several tickets, all or nothing", list[s.Ticket],
                                     i.BulkUpdateTickets, errors=(*_BODY_ERRORS, *_PROJECT_ERRORS)),
    "bulk_delete_tickets": Operation("Delete several tickets, all or nothing", s.BulkDeleted, i.BulkDeleteTickets,
                                     errors=(*_BODY_ERRORS, *_PROJECT_ERRORS)),
    # Admin
    "wipe_database": Operation("Delete all state and sessions and create a fresh admin (system admin)",
                               s.WipedDatabase, i.WipeDatabase, errors=(*_BODY_ERRORS, 401, 403)),
    "wipe_projects": Operation("Delete every project, ticket and label (system admin)", s.WipedProjects,
                               i.ConfirmPassword, errors=(*_BODY_ERRORS, 401, 403)),
    "deactivate_user": Operation("Deactivate a user: no more sign-in; sessions, key and streams end (system admin)",
                                 s.Success, errors=(400, 401, 403, 404, 409)),
    # The audit log, history and transfer of the whole database
    "admin_events": Operation("A page of the whole log, filtered (system admin)", s.LogPage,
                              errors=(400, 401, 403), parameters=(*_LOG_PAGE, Param(
                                  "projectId", "query", {"type": "string"}, "Only events of this project."))),
    "project_history": Operation("A page of a project's events (project admin or owner)", s.LogPage, errors=(400, *_PROJECT_ERRORS),
                                 parameters=_LOG_PAGE),
    "ticket_history": Operation("The field-level changes of one ticket, oldest first", list[s.TicketChange],
                                errors=(400, *_PROJECT_ERRORS)),
    "export_database": Operation("Export the log up to now as NDJSON, one event a line (system admin)", bytes,
                                 i.ConfirmPassword, errors=(*_BODY_ERRORS, 401, 403),
                                 response_media="application/x-ndjson"),
    "import_database": Operation("Replace the state with an export's (system admin)", dict, s.ImportForm,
                                 errors=(*_BODY_ERRORS, 401, 403), request_media="multipart/form-data"),
    # Event streams
    "project_events": Operation("Follow a project's events", SSE, errors=(400, *_PROJECT_ERRORS, 429),
                                parameters=(_LAST_EVENT_ID, _LAST_EVENT_QUERY)),
    "project_list_events": Operation("Follow the events of the projects the caller can see", SSE,
                                     errors=(400, 401, 429), parameters=(_LAST_EVENT_ID, _LAST_EVENT_QUERY)),
    "user_events": Operation("Follow profile updates of all users", SSE, errors=(400, 401, 429),
                             parameters=(_LAST_EVENT_ID, _LAST_EVENT_QUERY)),
    # This document and its viewer
    "openapi_json": Operation("This document", public=True, documented=False),
    "openapi_viewer": Operation("Interactive documentation", public=True, documented=False),
}

# Documented limits of text fields, added to the request schemas so that the
# document states them; the commands enforce the same numbers.
_LIMITS = {"title": MAX_TITLE, "description": MAX_DESCRIPTION, "name": MAX_NAME}


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.title() for part in rest)


def _openapi_path(path: str) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda match: "{" + _camel(match.group(1)) + "}", path)


def _path_parameters(path: str) -> list[dict[str, Any]]:
    return [{"name": name, "in": "path", "required": True, "schema": {"type": "string", "minLength": 1}}
            for name in re.findall(r"\{(\w+)\}", path)]


def _parameter(param: Param) -> dict[str, Any]:
    return {"name": param.name, "in": param.location, "required": param.required,
            "description": param.description, "schema": param.schema}


class _Schemas:
    """Collects the Structs an operation refers to and renders them as components."""

    def __init__(self) -> None:
        self.types: list[Any] = []

    def ref(self, schema_type: Any) -> int:
        self.types.append(schema_type)
        return len(self.types) - 1

    def render(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        refs, components = msgspec.json.schema_components(self.types, ref_template=_REF)
        for component in components.values():
            for name, limit in _LIMITS.items():
                prop = component.get("properties", {}).get(name)
                if prop is not None and component.get("title") in _REQUEST_NAMES:
                    _set_max_length(prop, limit)
        return list(refs), components


_REQUEST_NAMES = {operation.request.__name__ for operation in OPERATIONS.values() if operation.request}


def _set_max_length(prop: dict[str, Any], limit: int) -> None:
    for option in prop.get("anyOf", [prop]):
        if option.get("type") == "string":
            option["maxLength"] = limit


def _responses(method: str, operation: Operation, body_ref: int | None, refs: list[dict[str, Any]]) -> dict[str, Any]:
    success: dict[str, Any] = {"description": operation.summary}
    if operation.response == SSE:
        success["content"] = {"text/event-stream": {"schema": {"type": "string"}}}
    elif body_ref is not None:
        success["content"] = {operation.response_media: {"schema": refs[body_ref]}}
    if operation.etag:
        success["headers"] = {"ETag": {"description": "The resource's version", "schema": {"type": "string"}}}
    if operation.links:
        success["links"] = operation.links
    responses = {str(operation.status): success}
    error = {"content": {"application/json": {"schema": {"$ref": _REF.format(name="ErrorBody")}}}}
    for status in sorted(set(operation.errors) | _implied_errors(method, operation)):
        responses[str(status)] = {"description": _STATUS_TEXT[status], **error}
    return responses


def _implied_errors(method: str, operation: Operation) -> set[int]:
    """Return the statuses every operation of this kind can give, whatever its table entry lists."""
    implied: set[int] = set()
    if method != "GET":
        implied.add(400)  # a malformed X-Tab-Id, Idempotency-Key or If-Match header
        implied.add(422)  # an Idempotency-Key reused with a different request
    if operation.if_match:
        implied.add(412)
    if not operation.public:
        implied.add(401)
    return implied


def _operation(method: str, path: str, name: str, operation: Operation, schemas: _Schemas) -> dict[str, Any]:
    parameters = [*_path_parameters(path), *map(_parameter, operation.parameters)]
    if method != "GET":
        parameters.append(_parameter(_TAB_ID))
        parameters.append(_parameter(IDEMPOTENCY_KEY))
    if operation.if_match:
        parameters.append(_parameter(_IF_MATCH))
    document: dict[str, Any] = {"operationId": _camel(name), "summary": operation.summary,
                                "parameters": parameters}
    if operation.public:
        document["security"] = []
    if operation.request is not None:
        document["requestBody"] = {"required": True, "content": {operation.request_media: {
            "schema": {"$ref": _REF.format(name=operation.request.__name__)}}}}
        schemas.ref(operation.request)
        if operation.form:
            document["requestBody"]["content"]["application/x-www-form-urlencoded"] = {
                "schema": {"$ref": _REF.format(name=operation.request.__name__)}}
    return document


def _routes(app: Litestar) -> list[tuple[str, str, str]]:
    """Return (method, path, handler name) of every route, OPTIONS excluded."""
    found = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            for method in sorted(handler.http_methods):
                if method != "OPTIONS":
                    found.append((method, route.path, handler.handler_name))
    return sorted(found)


def build_document(app: Litestar) -> dict[str, Any]:
    """Build the OpenAPI document of the application's routes; KeyError names an undescribed handler."""
    schemas = _Schemas()
    schemas.ref(s.ErrorBody)
    planned = []
    for method, raw_path, name in _routes(app):
        operation = OPERATIONS[name]
        if not operation.documented:
            continue
        path = _openapi_path(raw_path)
        body_ref = schemas.ref(operation.response) if operation.response not in (None, SSE) else None
        planned.append((method, path, name, operation, body_ref, _operation(method, path, name, operation, schemas)))

    refs, components = schemas.render()
    paths: dict[str, dict[str, Any]] = {}
    for method, path, _name, operation, body_ref, document in planned:
        document["responses"] = _responses(method, operation, body_ref, refs)
        paths.setdefault(path, {})[method.lower()] = document
    return {
        "openapi": "3.1.0",
        "info": {"title": "punt", "version": __version__,
                 "description": "Event-sourced issue tracker API with resumable Server-Sent Event streams."},
        "paths": {path: dict(sorted(methods.items())) for path, methods in sorted(paths.items())},
        "components": {"schemas": dict(sorted(components.items())), "securitySchemes": _SECURITY_SCHEMES},
        "security": [{"sessionCookie": []}, {"apiKeyHeader": []}, {"bearerApiKey": []}],
    }


_SECURITY_SCHEMES = {
    "sessionCookie": {"type": "apiKey", "in": "cookie", "name": "punt_session",
                      "description": "Set by sign-in; HttpOnly, SameSite=Lax."},
    "apiKeyHeader": {"type": "apiKey", "in": "header", "name": "X-MCP-API-Key",
                     "description": "An API key from POST /api/me/mcp-key."},
    "bearerApiKey": {"type": "http", "scheme": "bearer",
                     "description": "The same API key, as Authorization: Bearer."},
}


def document_bytes(app: Litestar) -> bytes:
    """Encode the document as it is committed: indented by two spaces, with a final newline."""
    return msgspec.json.format(msgspec.json.encode(build_document(app)), indent=2) + b"\n"


@get("/schema/openapi.json", media_type=MediaType.JSON)
async def openapi_json(request: Request) -> Response:
    return Response(document_bytes(request.app), media_type=MediaType.JSON)


_VIEWER = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>punt API</title>
<link rel="stylesheet" href="https://unpkg.com/swagger-ui-dist@5/swagger-ui.css"></head>
<body><div id="ui"></div>
<script src="https://unpkg.com/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>SwaggerUIBundle({url: "/schema/openapi.json", dom_id: "#ui"});</script>
</body></html>
"""


@get("/schema", media_type=MediaType.HTML)
async def openapi_viewer() -> Response:
    """Serve Swagger UI for the document; the browser loads the viewer's scripts from unpkg."""
    return Response(_VIEWER, media_type=MediaType.HTML)


ROUTES = [openapi_json, openapi_viewer]
