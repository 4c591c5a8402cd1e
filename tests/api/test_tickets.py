"""Tickets over real HTTP: defaults, validation, updates and moves, bulk commands, and malformed input."""

from __future__ import annotations

import itertools
import socket
from typing import Iterator

import httpx
import msgspec
import pytest

from tests.commands import assert_orders_contiguous, event_rows, log_unchanged
from tests.support import Api, ServerProcess, signed_in_users


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("tickets") / "tickets.db").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def users(server: ServerProcess) -> Iterator[dict[str, Api]]:
    with signed_in_users(server, ("root", "owner", "dev", "stranger")) as apis:
        yield apis


_keys = (f"T{number}" for number in itertools.count(10))


@pytest.fixture
def project(users: dict[str, Api]) -> dict:
    """A fresh project of ``owner`` with ``dev`` as member, and its columns."""
    created = users["owner"].create_project(next(_keys))
    users["owner"].add_member(created["key"], "dev")
    created["columns"] = users["owner"].http.get(f"/api/projects/{created['key']}/columns").json()
    return created


@pytest.fixture
def owner(users: dict[str, Api]) -> httpx.Client:
    return users["owner"].http


def _tickets_path(project: dict) -> str:
    return f"/api/projects/{project['key']}/tickets"


def _post(client: httpx.Client, project: dict, **body: object) -> httpx.Response:
    return client.post(_tickets_path(project), json=body)


def _event_types_since(server: ServerProcess, offset: int) -> list[str]:
    return [row[1] for row in event_rows(server.db, offset)]


def _head(server: ServerProcess) -> int:
    rows = event_rows(server.db)
    return rows[-1][0] if rows else 0


# Creating


def test_create_ticket_defaults(server: ServerProcess, users: dict[str, Api], owner: httpx.Client,
                                project: dict) -> None:
    response = _post(owner, project, title="  First  ")
    assert response.status_code == 201
    ticket = response.json()
    assert ticket["title"] == "First"
    assert ticket["type"] == "Task"
    assert ticket["priority"] == "Medium"
    assert ticket["number"] == 1
    assert ticket["key"] == f"{project['key']}-1"
    assert ticket["columnId"] == project["columns"][0]["id"]
    assert ticket["order"] == 0
    assert ticket["creatorId"] == users["owner"].user["id"]
    assert ticket["projectId"] == project["id"]
    assert ticket["labelIds"] == []
    assert ticket["assigneeId"] is None
    assert set(ticket) == {
        "id", "number", "key", "title", "description", "type", "priority", "order", "columnId", "assigneeId",
        "creatorId", "parentId", "sprintId", "storyPoints", "estimate", "startDate", "dueDate", "environment",
        "affectedVersion", "fixVersion", "labelIds", "projectId", "createdAt", "updatedAt",
    }
    offset, event_type, data, _ = event_rows(server.db)[-1]
    assert event_type == "ticket.created"
    assert msgspec.json.decode(data) == ticket


def test_ticket_numbers_never_reused(owner: httpx.Client, project: dict) -> None:
    numbers = [_post(owner, project, title=f"n{i}").json()["number"] for i in range(3)]
    assert numbers == [1, 2, 3]
    assert owner.delete(f"{_tickets_path(project)}/{project['key']}-3").status_code == 200
    assert _post(owner, project, title="after delete").json()["number"] == 4


def test_enums_case_insensitive(owner: httpx.Client, project: dict) -> None:
    for given, expected in [("bug", "Bug"), ("STORY", "Story"), ("sUbTaSk", "Subtask"), ("Epic", "Epic")]:
        assert _post(owner, project, title="t", type=given).json()["type"] == expected
    for given, expected in [("lowest", "Lowest"), ("HIGH", "High"), ("critical", "Critical")]:
        assert _post(owner, project, title="t", priority=given).json()["priority"] == expected


def test_create_with_all_fields(users: dict[str, Api], owner: httpx.Client, project: dict) -> None:
    label = owner.post(f"/api/projects/{project['key']}/labels", json={"name": "ui"}).json()
    parent = _post(owner, project, title="Parent").json()
    body = {
        "title": "Child", "description": "words", "type": "subtask", "priority": "low",
        "columnId": project["columns"][1]["id"], "assigneeId": users["dev"].user["id"], "parentId": parent["id"],
        "storyPoints": 5, "estimate": "2d", "startDate": "2024-01-15", "dueDate": "2024-01-20T10:30:00+02:00",
        "environment": "prod", "affectedVersion": "1.0", "fixVersion": "1.1", "labelIds": [label["id"]],
    }
    response = owner.post(_tickets_path(project), json=body)
    assert response.status_code == 201, response.text
    ticket = response.json()
    assert ticket["startDate"] == "2024-01-15T00:00:00.000Z"
    assert ticket["dueDate"] == "2024-01-20T08:30:00.000Z"
    assert ticket["parentId"] == parent["id"]
    assert ticket["labelIds"] == [label["id"]]
    assert ticket["storyPoints"] == 5
    assert ticket["columnId"] == project["columns"][1]["id"]


def test_create_rejections_name_field(server: ServerProcess, users: dict[str, Api], owner: httpx.Client,
                                      project: dict) -> None:
    other = users["root"].create_project(next(_keys))
    foreign_label = users["root"].http.post(f"/api/projects/{other['key']}/labels", json={"name": "x"}).json()
    foreign_column = users["root"].http.get(f"/api/projects/{other['key']}/columns").json()[0]
    cases = [
        ({"title": "   "}, "title"),
        ({"title": ""}, "title"),
        ({"title": "t", "type": "Feature"}, "type"),
        ({"title": "t", "priority": "urgent"}, "priority"),
        ({"title": "t", "assigneeId": users["stranger"].user["id"]}, "assigneeId"),
        ({"title": "t", "labelIds": [foreign_label["id"]]}, "labelIds"),
        ({"title": "t", "columnId": foreign_column["id"]}, "columnId"),
        ({"title": "t", "parentId": "no-such-ticket"}, "parentId"),
        ({"title": "t", "storyPoints": -1}, "storyPoints"),
        ({"title": "t", "dueDate": "2024-02-30"}, "dueDate"),
        ({"title": "t", "startDate": "yesterday"}, "startDate"),
        ({"title": "t", "sprintId": "s1"}, "sprintId"),
    ]
    for body, field in cases:
        with log_unchanged(server.db):
            response = owner.post(_tickets_path(project), json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["details"][0]["field"] == field, body
        assert field in response.json()["error"]


def test_ticket_permission_statuses(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    with log_unchanged(server.db):
        assert _post(users["stranger"].http, project, title="t").status_code == 403
        assert users["stranger"].http.get(_tickets_path(project)).status_code == 403
        with httpx.Client(base_url=server.url) as anonymous:
            assert anonymous.post(_tickets_path(project), json={"title": "t"}).status_code == 401
        assert users["dev"].http.post("/api/projects/NOPE99/tickets", json={"title": "t"}).status_code == 404
    assert _post(users["dev"].http, project, title="by a member").status_code == 201


# Reading


def test_get_ticket_detail_objects(users: dict[str, Api], owner: httpx.Client, project: dict) -> None:
    label = owner.post(f"/api/projects/{project['key']}/labels", json={"name": "api"}).json()
    dev = users["dev"].user
    ticket = _post(owner, project, title="Detail", assigneeId=dev["id"], labelIds=[label["id"]]).json()

    for ref in (ticket["id"], ticket["key"]):
        detail = owner.get(f"{_tickets_path(project)}/{ref}")
        assert detail.status_code == 200
        body = detail.json()
        assert body["column"] == project["columns"][0]
        assert body["assignee"] == {"id": dev["id"], "username": "dev", "name": None, "avatar": None,
                                    "avatarColor": dev["avatarColor"]}
        assert body["labels"] == [label]
    assert owner.get(f"{_tickets_path(project)}/{project['key']}-999").status_code == 404


def test_list_ticket_filters(users: dict[str, Api], owner: httpx.Client, project: dict) -> None:
    dev_id = users["dev"].user["id"]
    done = project["columns"][2]["id"]
    bug = _post(owner, project, title="bug", type="Bug", priority="High").json()
    story = _post(owner, project, title="story", type="Story", assigneeId=dev_id).json()
    finished = _post(owner, project, title="done", columnId=done).json()

    def titles(query: str) -> list[str]:
        response = owner.get(f"{_tickets_path(project)}?{query}")
        assert response.status_code == 200, response.text
        return sorted(ticket["title"] for ticket in response.json())

    assert titles("") == ["bug", "done", "story"]
    assert titles("type=bug") == [bug["title"]]
    assert titles("priority=HIGH") == [bug["title"]]
    assert titles(f"assigneeId={dev_id}") == [story["title"]]
    assert titles(f"columnId={done}") == [finished["title"]]
    assert titles(f"type=Task&columnId={done}") == [finished["title"]]
    assert owner.get(f"{_tickets_path(project)}?type=Feature").status_code == 400
    assert owner.get(f"{_tickets_path(project)}?colour=red").json()["details"][0]["field"] == "colour"


# Updating and moving


def test_patch_fields_emits_ticket_updated(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    ticket = _post(owner, project, title="Old").json()
    head = _head(server)
    response = owner.patch(f"{_tickets_path(project)}/{ticket['id']}", json={"title": "New", "priority": "high"})
    assert response.status_code == 200
    assert response.json()["title"] == "New"
    assert response.json()["priority"] == "High"
    assert _event_types_since(server, head) == ["ticket.updated"]
    data = msgspec.json.decode(event_rows(server.db, head)[0][2])
    assert data["title"] == "New"
    assert data["priority"] == "High"
    assert "columnId" not in data


def test_patch_column_emits_ticket_moved(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    ticket = _post(owner, project, title="Mover").json()
    target = project["columns"][1]["id"]
    head = _head(server)
    response = owner.patch(f"{_tickets_path(project)}/{ticket['id']}", json={"columnId": target})
    assert response.status_code == 200
    assert response.json()["columnId"] == target
    assert _event_types_since(server, head) == ["ticket.moved"]
    moved = msgspec.json.decode(event_rows(server.db, head)[0][2])
    assert moved["fromColumnId"] == project["columns"][0]["id"]
    assert moved["columnId"] == target


def test_patch_fields_and_column_emit_both(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    ticket = _post(owner, project, title="Both").json()
    head = _head(server)
    response = owner.patch(f"{_tickets_path(project)}/{ticket['id']}",
                           json={"title": "Both done", "columnId": project["columns"][2]["id"]})
    assert response.status_code == 200
    assert _event_types_since(server, head) == ["ticket.updated", "ticket.moved"]


def test_unchanged_patch_appends_nothing(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    ticket = _post(owner, project, title="Same").json()
    with log_unchanged(server.db):
        response = owner.patch(f"{_tickets_path(project)}/{ticket['id']}",
                               json={"title": "Same", "order": 0, "columnId": ticket["columnId"]})
    assert response.status_code == 200


def test_patch_order_reorders_column(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    tickets = [_post(owner, project, title=f"o{i}").json() for i in range(4)]
    response = owner.patch(f"{_tickets_path(project)}/{tickets[3]['id']}", json={"order": 0})
    assert response.status_code == 200
    listed = owner.get(f"{_tickets_path(project)}?columnId={project['columns'][0]['id']}").json()
    assert [ticket["title"] for ticket in listed] == ["o3", "o0", "o1", "o2"]
    assert [ticket["order"] for ticket in listed] == [0, 1, 2, 3]
    assert_orders_contiguous(server.db)


def test_patch_rejections_name_field(server: ServerProcess, users: dict[str, Api], owner: httpx.Client,
                                     project: dict) -> None:
    ticket = _post(owner, project, title="Target").json()
    path = f"{_tickets_path(project)}/{ticket['id']}"
    cases = [
        ({"title": None}, "title"),
        ({"title": " "}, "title"),
        ({"type": None}, "type"),
        ({"type": "Chore"}, "type"),
        ({"order": -1}, "order"),
        ({"order": "1"}, "order"),
        ({"storyPoints": 2**63}, "storyPoints"),
        ({"storyPoints": True}, "storyPoints"),
        ({"parentId": ticket["id"]}, "parentId"),
        ({"assigneeId": users["stranger"].user["id"]}, "assigneeId"),
        ({"labelIds": "abc"}, "labelIds"),
        ({"columnId": None}, "columnId"),
        ({"id": "other"}, "id"),
    ]
    for body, field in cases:
        with log_unchanged(server.db):
            response = owner.patch(path, json=body)
        assert response.status_code == 400, (body, response.text)
        assert response.json()["details"][0]["field"] == field, (body, response.text)


def test_patch_null_clears_optional(owner: httpx.Client, users: dict[str, Api], project: dict) -> None:
    ticket = _post(owner, project, title="Clear", assigneeId=users["dev"].user["id"], storyPoints=3,
                   dueDate="2024-05-01").json()
    response = owner.patch(f"{_tickets_path(project)}/{ticket['id']}",
                           json={"assigneeId": None, "storyPoints": None, "dueDate": None})
    assert response.status_code == 200
    assert response.json()["assigneeId"] is None
    assert response.json()["storyPoints"] is None
    assert response.json()["dueDate"] is None


# Deleting


def test_delete_ticket_emits_deleted(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    ticket = _post(owner, project, title="Gone").json()
    response = owner.delete(f"{_tickets_path(project)}/{ticket['key']}")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    offset, event_type, data, _ = event_rows(server.db)[-1]
    assert event_type == "ticket.deleted"
    assert msgspec.json.decode(data)["id"] == ticket["id"]
    with log_unchanged(server.db):
        assert owner.delete(f"{_tickets_path(project)}/{ticket['id']}").status_code == 404


def test_delete_parent_detaches_children(owner: httpx.Client, project: dict) -> None:
    parent = _post(owner, project, title="Parent").json()
    child = _post(owner, project, title="Child", parentId=parent["key"]).json()
    assert child["parentId"] == parent["id"]
    assert owner.delete(f"{_tickets_path(project)}/{parent['id']}").status_code == 200
    assert owner.get(f"{_tickets_path(project)}/{child['id']}").json()["parentId"] is None


# Bulk commands


def test_bulk_update_changes_every_ticket(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    tickets = [_post(owner, project, title=f"b{i}").json() for i in range(3)]
    done = project["columns"][2]["id"]
    head = _head(server)
    response = owner.patch(_tickets_path(project), json={
        "ticketIds": [ticket["id"] for ticket in tickets], "updates": {"priority": "highest", "columnId": done}})
    assert response.status_code == 200, response.text
    assert [ticket["priority"] for ticket in response.json()] == ["Highest"] * 3
    assert [ticket["columnId"] for ticket in response.json()] == [done] * 3
    assert _event_types_since(server, head) == ["ticket.updated", "ticket.moved"] * 3
    assert_orders_contiguous(server.db)


def test_bulk_update_all_or_nothing(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    tickets = [_post(owner, project, title=f"a{i}").json() for i in range(3)]
    ids = [ticket["id"] for ticket in tickets]
    before = owner.get(_tickets_path(project)).json()
    bad_cases = [
        {"ticketIds": [*ids, "missing"], "updates": {"title": "x"}},
        {"ticketIds": [*ids, ids[0]], "updates": {"title": "x"}},
        {"ticketIds": [], "updates": {"title": "x"}},
        {"ticketIds": ids, "updates": {"type": "Nope"}},
        {"ticketIds": ids, "updates": {"parentId": ids[1]}},
    ]
    for body in bad_cases:
        with log_unchanged(server.db):
            response = owner.patch(_tickets_path(project), json=body)
        assert response.status_code in (400, 404), (body, response.text)
    assert owner.get(_tickets_path(project)).json() == before


def test_bulk_delete_all_or_nothing(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    tickets = [_post(owner, project, title=f"d{i}").json() for i in range(4)]
    ids = [ticket["id"] for ticket in tickets]
    with log_unchanged(server.db):
        response = owner.request("DELETE", _tickets_path(project), json={"ticketIds": [*ids[:2], "missing"]})
    assert response.status_code == 404
    assert len(owner.get(_tickets_path(project)).json()) == 4

    head = _head(server)
    response = owner.request("DELETE", _tickets_path(project), json={"ticketIds": ids[:3]})
    assert response.status_code == 200
    assert response.json()["success"] is True
    assert _event_types_since(server, head) == ["ticket.deleted"] * 3
    remaining = owner.get(_tickets_path(project)).json()
    assert [(ticket["id"], ticket["order"]) for ticket in remaining] == [(ids[3], 0)]


# Malformed input never reaches a 500


def _assert_error_body(response: httpx.Response, status: int, field: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) <= {"error", "details"}
    assert isinstance(body["error"], str) and body["error"]
    if field is not None:
        assert [detail["field"] for detail in body["details"]] == [field]
        assert field in body["error"]


def test_malformed_json_rejected(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    for raw in (b'{"title":', b"not json", b"", b'{"title": "a"} trailing', b"\xff\xfe"):
        with log_unchanged(server.db):
            response = owner.post(_tickets_path(project), content=raw, headers={"content-type": "application/json"})
        _assert_error_body(response, 400)


def test_wrong_content_type_rejected(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    key = owner.post("/api/me/mcp-key").json()["apiKey"]
    content_types = ("text/plain", "application/xml", "multipart/form-data; boundary=x",
                     "application/x-www-form-urlencoded", None)
    with httpx.Client(base_url=server.url, headers={"X-MCP-API-Key": key}) as by_key:
        for content_type in content_types:
            headers = {"content-type": content_type} if content_type else {}
            with log_unchanged(server.db):
                response = by_key.post(_tickets_path(project), content=b'{"title": "a"}', headers=headers)
            _assert_error_body(response, 415)

    # With the session cookie, a content type that a cross-site form can send
    # is rejected earlier, as a possible forged request.
    with log_unchanged(server.db):
        xml = owner.post(_tickets_path(project), content=b"<a/>", headers={"content-type": "application/xml"})
        form = owner.post(_tickets_path(project), data={"title": "a"})
    _assert_error_body(xml, 415)
    assert form.status_code in (403, 415)


def test_oversized_body_rejected(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    payload = b'{"title": "' + b"x" * (1024 * 1024) + b'"}'

    def chunks() -> Iterator[bytes]:
        for start in range(0, len(payload), 65536):
            yield payload[start:start + 65536]

    with log_unchanged(server.db):
        sized = owner.post(_tickets_path(project), content=payload, headers={"content-type": "application/json"})
        chunked = owner.post(_tickets_path(project), content=chunks(), headers={"content-type": "application/json"})
    _assert_error_body(sized, 413)
    _assert_error_body(chunked, 413)
    assert "1048576" in chunked.json()["error"]


@pytest.mark.parametrize(("body", "field"), [
    ({"title": "t", "colour": "red"}, "colour"),
    ({"title": 5}, "title"),
    ({"title": ["a"]}, "title"),
    ({"title": None}, "title"),
    ({"description": "no title"}, "title"),
    ({"title": "t", "storyPoints": 2**63}, "storyPoints"),
    ({"title": "t", "storyPoints": 2**70}, "storyPoints"),
    ({"title": "t", "storyPoints": -1}, "storyPoints"),
    ({"title": "t", "storyPoints": 1.5}, "storyPoints"),
    ({"title": "t", "labelIds": [1]}, "labelIds[0]"),
    ({"title": "t", "dueDate": "2024-13-01"}, "dueDate"),
    ({"title": "t", "dueDate": "0001-01-01T00:00:00+01:00"}, "dueDate"),
    ({"title": "t", "startDate": "9999-12-31T23:00:00-05:00"}, "startDate"),
    ({"title": "t", "dueDate": 20240101}, "dueDate"),
    ({"title": "t\x00"}, "title"),
    ({"title": "x" * 501}, "title"),
])
def test_create_bad_values_name_field(server: ServerProcess, owner: httpx.Client, project: dict,
                                      body: dict, field: str) -> None:
    with log_unchanged(server.db):
        response = owner.post(_tickets_path(project), json=body)
    _assert_error_body(response, 400, field)


def test_body_not_object_rejected(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    for raw in (b"[]", b'"title"', b"5", b"null"):
        with log_unchanged(server.db):
            response = owner.post(_tickets_path(project), content=raw, headers={"content-type": "application/json"})
        _assert_error_body(response, 400)


@pytest.mark.parametrize("order", [2**63, 2**64, 10**30])
def test_huge_order_moves_to_end(server: ServerProcess, owner: httpx.Client, project: dict, order: int) -> None:
    first = _post(owner, project, title="first").json()
    _post(owner, project, title="last")
    response = owner.patch(f"{_tickets_path(project)}/{first['id']}", json={"order": order})
    assert response.status_code == 200, response.text
    assert response.json()["order"] == 1
    assert_orders_contiguous(server.db)


def test_bulk_nested_unknown_field_named(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    ticket = _post(owner, project, title="nested").json()
    with log_unchanged(server.db):
        response = owner.patch(_tickets_path(project), json={"ticketIds": [ticket["id"]], "updates": {"bogus": 1}})
    _assert_error_body(response, 400, "updates.bogus")
    with log_unchanged(server.db):
        response = owner.patch(_tickets_path(project), json={"updates": {"title": "x"}})
    _assert_error_body(response, 400, "ticketIds")


def test_tab_id_checked(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    for tab_id in ("x" * 129, "tab\twith-tab"):
        with log_unchanged(server.db):
            response = owner.post(_tickets_path(project), json={"title": "t"}, headers={"X-Tab-Id": tab_id})
        _assert_error_body(response, 400, "X-Tab-Id")

    accepted = owner.post(_tickets_path(project), json={"title": "t"}, headers={"X-Tab-Id": "~" * 128})
    assert accepted.status_code == 201
    assert msgspec.json.decode(event_rows(server.db)[-1][3])["tabId"] == "~" * 128


def _raw_post(server: ServerProcess, path: str, cookie: str, tab_id: bytes) -> bytes:
    """Send a request with a header value that HTTP clients refuse to build; return the status line."""
    body = b'{"title": "raw"}'
    request = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Cookie: punt_session={cookie}\r\nContent-Length: {len(body)}\r\nConnection: close\r\n"
    ).encode() + b"X-Tab-Id: " + tab_id + b"\r\n\r\n" + body
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(request)
        return sock.recv(65536).split(b"\r\n", 1)[0]


def test_tab_id_control_characters_rejected(server: ServerProcess, owner: httpx.Client, project: dict) -> None:
    cookie = owner.cookies["punt_session"]
    for tab_id in (b"a\x01b", b"a\x7fb", b"caf\xc3\xa9", b"a\x1bb"):
        with log_unchanged(server.db):
            status_line = _raw_post(server, _tickets_path(project), cookie, tab_id)
        assert status_line.startswith(b"HTTP/1.1 400"), (tab_id, status_line)
