"""The committed OpenAPI document: generated from the route table, served as committed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx

from punt.api.app import create_app
from punt.api.openapi import OPERATIONS, build_document
from punt.settings import Settings
from tests.support import ServerProcess

COMMITTED = Path(__file__).parents[2] / "openapi" / "openapi.json"


def _registered_handlers() -> list[str]:
    app = create_app(Settings(db=":memory:"))
    return [handler.handler_name for route in app.routes for handler in route.route_handlers
            if "OPTIONS" not in handler.http_methods]


def test_served_document_matches_committed(server: ServerProcess) -> None:
    served = httpx.get(f"{server.url}/schema/openapi.json")
    assert served.status_code == 200
    assert served.headers["content-type"].startswith("application/json")
    assert served.content == COMMITTED.read_bytes(), "run `punt openapi -o openapi/openapi.json` and commit it"


def test_cli_writes_committed_document() -> None:
    output = subprocess.run([sys.executable, "-m", "punt.cli", "openapi"], capture_output=True, check=True)
    assert output.stdout == COMMITTED.read_bytes()


def test_every_route_has_an_operation() -> None:
    handlers = _registered_handlers()
    assert len(handlers) == len(set(handlers)), "handler names must be unique: the table is keyed by them"
    missing = sorted(set(handlers) - set(OPERATIONS))
    assert missing == [], f"add these handlers to punt.api.openapi.OPERATIONS: {missing}"
    stale = sorted(set(OPERATIONS) - set(handlers))
    assert stale == [], f"these entries describe no registered handler: {stale}"


def test_document_covers_contract_endpoints() -> None:
    paths = json.loads(COMMITTED.read_text())["paths"]
    expected = {
        "/api/auth/register": {"post"}, "/api/auth/callback/credentials": {"post"},
        "/api/auth/session": {"get"}, "/api/auth/signout": {"post"}, "/api/me/mcp-key": {"post", "delete"},
        "/api/me": {"get", "patch"}, "/api/health": {"get"}, "/api/projects": {"get", "post"},
        "/api/projects/{projectId}": {"get", "patch", "delete"}, "/api/projects/{projectId}/columns": {"get"},
        "/api/projects/{projectId}/members": {"get", "post"},
        "/api/projects/{projectId}/members/{memberId}": {"patch", "delete"},
        "/api/projects/{projectId}/labels": {"get", "post"},
        "/api/projects/{projectId}/labels/{labelId}": {"delete"},
        "/api/projects/{projectId}/tickets": {"get", "post", "patch", "delete"},
        "/api/projects/{projectId}/tickets/{ticketId}": {"get", "patch", "delete"},
        "/api/admin/database/wipe": {"post"}, "/api/admin/database/wipe-projects": {"post"},
        "/api/projects/{projectId}/events": {"get"}, "/api/projects/events": {"get"}, "/api/users/events": {"get"},
    }
    for path, methods in expected.items():
        assert path in paths, f"{path} is not documented"
        assert methods <= set(paths[path]), f"{path} lacks {methods - set(paths[path])}"


def test_streams_documented_as_event_stream() -> None:
    paths = json.loads(COMMITTED.read_text())["paths"]
    for path in ("/api/projects/{projectId}/events", "/api/projects/events", "/api/users/events"):
        assert list(paths[path]["get"]["responses"]["200"]["content"]) == ["text/event-stream"]


def test_document_declares_cookie_and_key_security() -> None:
    document = build_document(create_app(Settings(db=":memory:")))
    schemes = document["components"]["securitySchemes"]
    assert schemes["sessionCookie"]["in"] == "cookie"
    assert schemes["apiKeyHeader"]["name"] == "X-MCP-API-Key"
    assert document["paths"]["/api/health"]["get"]["security"] == []


def test_every_operation_documents_its_errors() -> None:
    document = json.loads(COMMITTED.read_text())
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            statuses = set(operation["responses"])
            if operation.get("security") != []:
                assert "401" in statuses, f"{method} {path} omits 401"
            if "requestBody" in operation:
                assert {"400", "413", "415"} <= statuses, f"{method} {path} omits a body error"


def test_viewer_page_loads_document(server: ServerProcess) -> None:
    page = httpx.get(f"{server.url}/schema")
    assert page.status_code == 200
    assert "/schema/openapi.json" in page.text
