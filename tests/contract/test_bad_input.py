"""Bad input, table-driven: each case gets its documented 4xx, names the field, and appends nothing.

The generic cases (malformed JSON, wrong content type, an oversized body,
an unknown field) run against every operation that takes a JSON body,
read from the committed OpenAPI document. The field cases follow.
"""

from __future__ import annotations

import json
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.commands import log_unchanged
from tests.support import Api, ServerProcess

DOCUMENT = json.loads((Path(__file__).parents[2] / "openapi" / "openapi.json").read_text())
OVERSIZED = b'{"title": "' + b"x" * (1024 * 1024) + b'"}'


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    status: int
    field: str | None
    json: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)


def _json_operations() -> list[tuple[str, str]]:
    found = []
    for path, methods in DOCUMENT["paths"].items():
        for method, operation in methods.items():
            if "application/json" in operation.get("requestBody", {}).get("content", {}):
                found.append((method.upper(), path))
    return found


def _concrete(path: str) -> str:
    return (path.replace("{projectId}", "BAD").replace("{ticketId}", "BAD-1").replace("{memberId}", "m")
            .replace("{labelId}", "l"))


def _generic_cases() -> list[Case]:
    cases = []
    for method, path in _json_operations():
        url = _concrete(path)
        label = f"{method} {path}"
        cases += [
            Case(f"{label} malformed JSON", method, url, 400, None, content=b'{"title": ',
                 headers={"Content-Type": "application/json"}),
            Case(f"{label} wrong content type", method, url, 415, None, content=b"{}",
                 headers={"Content-Type": "text/csv"}),
            Case(f"{label} body over 1 MiB", method, url, 413, None, content=OVERSIZED,
                 headers={"Content-Type": "application/json"}),
            Case(f"{label} unknown field", method, url, 400, "surprise", json={"surprise": 1}),
        ]
    return cases


TICKETS = "/api/projects/BAD/tickets"
TICKET = "/api/projects/BAD/tickets/BAD-1"


def _ticket(**fields: Any) -> dict:
    return {"title": "Valid", **fields}


FIELD_CASES = [
    Case("title wrong type", "POST", TICKETS, 400, "title", json={"title": 5}),
    Case("title null", "POST", TICKETS, 400, "title", json={"title": None}),
    Case("title blank", "POST", TICKETS, 400, "title", json={"title": "   "}),
    Case("title whitespace only", "POST", TICKETS, 400, "title", json={"title": "\t\n "}),
    Case("title too long", "POST", TICKETS, 400, "title", json={"title": "x" * 501}),
    Case("description too long", "POST", TICKETS, 400, "description", json=_ticket(description="d" * 20001)),
    Case("type unknown", "POST", TICKETS, 400, "type", json=_ticket(type="Feature")),
    Case("priority unknown", "POST", TICKETS, 400, "priority", json=_ticket(priority="urgent!")),
    Case("story points 2**63", "POST", TICKETS, 400, "storyPoints", json=_ticket(storyPoints=2**63)),
    Case("story points negative", "POST", TICKETS, 400, "storyPoints", json=_ticket(storyPoints=-1)),
    Case("story points 1e400", "POST", TICKETS, 400, "storyPoints",
         content=b'{"title": "Valid", "storyPoints": 1e400}', headers={"Content-Type": "application/json"}),
    Case("order negative", "PATCH", TICKET, 400, "order", json={"order": -1}),
    Case("due date invalid", "POST", TICKETS, 400, "dueDate", json=_ticket(dueDate="2024-13-45")),
    Case("start date not a date", "POST", TICKETS, 400, "startDate", json=_ticket(startDate="yesterday")),
    Case("labels wrong type", "POST", TICKETS, 400, "labelIds", json=_ticket(labelIds="a,b")),
    Case("bulk updates unknown field", "PATCH", TICKETS, 400, "updates.titel",
         json={"ticketIds": ["BAD-1"], "updates": {"titel": "x"}}),
    Case("project name too long", "POST", "/api/projects", 400, "name", json={"name": "n" * 101, "key": "LONG"}),
    Case("project name null", "POST", "/api/projects", 400, "name", json={"name": None, "key": "NUL"}),
    Case("project key lowercase", "POST", "/api/projects", 400, "key", json={"name": "Lower", "key": "low"}),
    Case("project color invalid", "POST", "/api/projects", 400, "color",
         json={"name": "Color", "key": "COL", "color": "#12345"}),
    Case("project key change", "PATCH", "/api/projects/BAD", 400, "key", json={"key": "NEW"}),
    Case("label name too long", "POST", "/api/projects/BAD/labels", 400, "name", json={"name": "l" * 51}),
    Case("label color invalid", "POST", "/api/projects/BAD/labels", 400, "color",
         json={"name": "red", "color": "red"}),
    Case("member role unknown", "POST", "/api/projects/BAD/members", 400, "role",
         json={"username": "root_admin", "role": "boss"}),
    Case("avatar color invalid", "PATCH", "/api/me", 400, "avatarColor", json={"avatarColor": "#GGGGGG"}),
    Case("tab id control character", "POST", TICKETS, 400, "X-Tab-Id", json=_ticket(),
         headers={"X-Tab-Id": "tab\x01"}),
    Case("tab id over 128", "POST", TICKETS, 400, "X-Tab-Id", json=_ticket(), headers={"X-Tab-Id": "t" * 129}),
    Case("ticket of another project", "GET", "/api/projects/BAD/tickets/OTHER-1", 404, None),
    Case("ticket filter unknown", "GET", "/api/projects/BAD/tickets?colour=red", 400, "colour"),
    Case("ticket filter type unknown", "GET", "/api/projects/BAD/tickets?type=Feature", 400, "type"),
]

STREAMS = ("/api/projects/BAD/events", "/api/projects/events", "/api/users/events")
STREAM_CASES = [
    Case(f"{path} Last-Event-ID {value!r}", "GET", path, 400, "Last-Event-ID", headers={"Last-Event-ID": value})
    for path in STREAMS for value in ("abc", "-1", "1.5", "9" * 30)
] + [Case(f"{path} lastEventId query", "GET", f"{path}?lastEventId=x", 400, "lastEventId") for path in STREAMS]


@pytest.fixture
def owner(server: ServerProcess, admin: Api) -> Api:
    admin.create_project("BAD")
    admin.create_ticket("BAD", "Existing")
    admin.create_project("OTHER")
    admin.create_ticket("OTHER", "Elsewhere")
    return admin


def _send(api: Api, case: Case) -> tuple[int, str]:
    """Return the status and body; an event stream that opened is closed unread."""
    options: dict[str, Any] = {"headers": case.headers}
    if case.json is not None:
        options["json"] = case.json
    if case.content is not None:
        options["content"] = case.content
    with api.http.stream(case.method, case.path, **options) as response:
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            return response.status_code, ""
        return response.status_code, response.read().decode()


def _check(server: ServerProcess, api: Api, case: Case) -> list[str]:
    with log_unchanged(server.db):
        status, text = _send(api, case)
    problems = []
    if status != case.status:
        problems.append(f"{case.name}: status {status}, expected {case.status}: {text[:200]}")
        return problems
    body = json.loads(text)
    if not isinstance(body.get("error"), str):
        problems.append(f"{case.name}: no error message in {body}")
    if case.field is not None:
        fields = [detail["field"] for detail in body.get("details", [])]
        if case.field not in fields or case.field not in body["error"]:
            problems.append(f"{case.name}: error does not name {case.field!r}: {body}")
    return problems


def test_bad_input_table(server: ServerProcess, owner: Api) -> None:
    problems = []
    for case in [*_generic_cases(), *FIELD_CASES, *STREAM_CASES]:
        problems += _check(server, owner, case)
    assert problems == [], "\n".join(problems)


def test_enums_accept_any_case(owner: Api) -> None:
    for value in ("story", "STORY", "Story", "bug", "EPIC"):
        assert owner.http.post(TICKETS, json=_ticket(type=value)).status_code == 201, value
    for value in ("lowest", "HIGH", "Critical", "medium"):
        created = owner.http.post(TICKETS, json=_ticket(priority=value))
        assert created.status_code == 201, value
        assert created.json()["priority"] == value.capitalize()


def test_tab_id_with_line_break_rejected(server: ServerProcess, owner: Api) -> None:
    token = owner.http.cookies["punt_session"]
    request = (f"POST {TICKETS} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: punt_session={token}\r\n"
               "Content-Type: application/json\r\nContent-Length: 17\r\nX-Tab-Id: a\rb\r\n\r\n"
               '{"title": "Tab"}\n').encode()
    with log_unchanged(server.db), socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        status_line = sock.recv(4096).split(b"\r\n", 1)[0]
    assert status_line.split()[1] == b"400"
