"""Projects, columns, members and labels over real HTTP, with the log checked in the database file."""

from __future__ import annotations

import itertools
import re
from typing import Iterator

import httpx
import msgspec
import pytest

from tests.commands import event_rows, log_unchanged
from tests.support import Api, ServerProcess, signed_in_users


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("projects") / "projects.db").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def users(server: ServerProcess) -> Iterator[dict[str, Api]]:
    """root (system admin), then owner, admin, member and outsider, who hold no special rights."""
    with signed_in_users(server, ("root", "owner", "admin", "member", "outsider")) as apis:
        yield apis


_keys = (f"K{number}" for number in itertools.count(10))


@pytest.fixture
def project(users: dict[str, Api]) -> dict:
    """A fresh project of ``owner`` with ``admin`` as admin and ``member`` as member."""
    created = users["owner"].create_project(next(_keys))
    users["owner"].add_member(created["key"], "admin", "admin")
    users["owner"].add_member(created["key"], "member", "member")
    return created


def _member_id(api: Api, project: dict, username: str) -> str:
    members = api.http.get(f"/api/projects/{project['key']}/members").json()
    return next(member["id"] for member in members if member["user"]["username"] == username)


# Creating and reading projects


def test_create_project_defaults(server: ServerProcess, users: dict[str, Api]) -> None:
    owner = users["owner"]
    response = owner.http.post("/api/projects", json={"name": "Apollo", "key": "APOLLO"})
    assert response.status_code == 201
    created = response.json()
    assert set(created) == {"id", "name", "key", "description", "color", "createdAt", "updatedAt"}
    assert created["key"] == "APOLLO"
    assert re.fullmatch(r"#[0-9A-Fa-f]{6}", created["color"])

    columns = owner.http.get("/api/projects/APOLLO/columns").json()
    assert [column["name"] for column in columns] == ["To Do", "In Progress", "Done"]
    assert [column["order"] for column in columns] == [0, 1, 2]

    members = owner.http.get("/api/projects/APOLLO/members").json()
    assert [(member["role"], member["user"]["username"]) for member in members] == [("owner", "owner")]
    assert [row[1] for row in event_rows(server.db)[-5:]] == [
        "project.created", "column.created", "column.created", "column.created", "member.added"]


def test_create_project_with_color(users: dict[str, Api]) -> None:
    response = users["owner"].http.post("/api/projects", json={"name": "C", "key": "COLOR", "color": "#12ab9F",
                                                               "description": "tinted"})
    assert response.status_code == 201
    assert response.json()["color"].upper() == "#12AB9F"
    assert response.json()["description"] == "tinted"


@pytest.mark.parametrize("key", ["A", "ABCDEFGHIJK", "lower", "1ABC", "AB-C", "AB C", ""])
def test_create_project_rejects_bad_key(server: ServerProcess, users: dict[str, Api], key: str) -> None:
    with log_unchanged(server.db):
        response = users["owner"].http.post("/api/projects", json={"name": "Bad", "key": key})
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "key"


@pytest.mark.parametrize("color", ["red", "#FFF", "#GGGGGG", "#1234567", "123456"])
def test_create_project_rejects_bad_color(server: ServerProcess, users: dict[str, Api], color: str) -> None:
    with log_unchanged(server.db):
        response = users["owner"].http.post("/api/projects", json={"name": "Bad", "key": "BADCOL", "color": color})
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "color"


def test_create_project_taken_key_conflicts(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    with log_unchanged(server.db):
        response = users["member"].http.post("/api/projects", json={"name": "Again", "key": project["key"]})
    assert response.status_code == 409
    assert project["key"] in response.json()["error"]


def test_blank_project_name_rejected(server: ServerProcess, users: dict[str, Api]) -> None:
    with log_unchanged(server.db):
        response = users["owner"].http.post("/api/projects", json={"name": "  ", "key": "BLANK"})
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "name"


def test_list_projects_by_membership(users: dict[str, Api], project: dict) -> None:
    member_keys = {row["key"] for row in users["member"].http.get("/api/projects").json()}
    outsider_keys = {row["key"] for row in users["outsider"].http.get("/api/projects").json()}
    root_keys = {row["key"] for row in users["root"].http.get("/api/projects").json()}
    assert project["key"] in member_keys
    assert project["key"] not in outsider_keys
    assert project["key"] in root_keys
    assert member_keys <= root_keys


def test_get_project_by_id_and_key(users: dict[str, Api], project: dict) -> None:
    by_id = users["member"].http.get(f"/api/projects/{project['id']}")
    by_key = users["member"].http.get(f"/api/projects/{project['key']}")
    assert by_id.status_code == 200
    assert by_id.json() == by_key.json() == project


def test_project_permission_statuses(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    key = project["key"]
    with httpx.Client(base_url=server.url) as anonymous:
        assert anonymous.get(f"/api/projects/{key}").status_code == 401
        assert anonymous.post(f"/api/projects/{key}/labels", json={"name": "x"}).status_code == 401
    assert users["outsider"].http.get(f"/api/projects/{key}").status_code == 403
    assert users["outsider"].http.get(f"/api/projects/{key}/columns").status_code == 403
    assert users["outsider"].http.get(f"/api/projects/{key}/members").status_code == 403
    assert users["root"].http.get(f"/api/projects/{key}").status_code == 200
    assert users["member"].http.get("/api/projects/NOPE99").status_code == 404
    assert users["member"].http.get("/api/projects/NOPE99/columns").status_code == 404


# Changing and deleting projects


def test_patch_project_by_admin_and_owner(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    path = f"/api/projects/{project['key']}"
    renamed = users["admin"].http.patch(path, json={"name": "Renamed", "description": "new text"})
    assert renamed.status_code == 200
    assert renamed.json()["name"] == "Renamed"
    assert renamed.json()["description"] == "new text"
    assert renamed.json()["key"] == project["key"]

    offset, event_type, data, _ = event_rows(server.db)[-1]
    assert event_type == "project.updated"
    assert msgspec.json.decode(data)["name"] == "Renamed"

    recolored = users["owner"].http.patch(path, json={"color": "#000000"})
    assert recolored.status_code == 200
    assert recolored.json()["color"] == "#000000"


def test_patch_project_rejections(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    path = f"/api/projects/{project['key']}"
    cases = [
        (users["member"], {"name": "No"}, 403),
        (users["outsider"], {"name": "No"}, 403),
        (users["owner"], {"key": "NEWKEY"}, 400),
        (users["owner"], {"name": ""}, 400),
        (users["owner"], {"color": "blue"}, 400),
        (users["owner"], {"bogus": 1}, 400),
    ]
    for api, body, status in cases:
        with log_unchanged(server.db):
            response = api.http.patch(path, json=body)
        assert response.status_code == status, (api.user["username"], body, response.text)
    key_error = users["owner"].http.patch(path, json={"key": "NEWKEY"}).json()
    assert key_error["details"][0]["field"] == "key"


def test_delete_project_owner_only(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    path = f"/api/projects/{project['key']}"
    for name in ("admin", "member", "outsider"):
        with log_unchanged(server.db):
            assert users[name].http.delete(path).status_code == 403, name

    response = users["owner"].http.delete(path)
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert event_rows(server.db)[-1][1] == "project.deleted"
    assert users["owner"].http.get(path).status_code == 404
    with log_unchanged(server.db):
        assert users["owner"].http.delete(path).status_code == 404


# Members


def test_add_member_by_user_id(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    outsider_id = users["outsider"].user["id"]
    response = users["admin"].http.post(f"/api/projects/{project['key']}/members",
                                        json={"userId": outsider_id, "role": "member"})
    assert response.status_code == 201
    member = response.json()
    assert member["userId"] == outsider_id
    assert member["projectId"] == project["id"]
    assert member["role"] == "member"
    assert member["user"] == {"id": outsider_id, "username": "outsider", "name": None, "avatar": None}
    assert event_rows(server.db)[-1][1] == "member.added"
    assert users["outsider"].http.get(f"/api/projects/{project['key']}").status_code == 200


def test_add_member_twice_conflicts(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    with log_unchanged(server.db):
        response = users["owner"].http.post(f"/api/projects/{project['key']}/members",
                                            json={"username": "member", "role": "admin"})
    assert response.status_code == 409


def test_add_member_rejections(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    path = f"/api/projects/{project['key']}/members"
    cases = [
        (users["member"], {"username": "outsider"}, 403, None),
        (users["outsider"], {"username": "outsider"}, 403, None),
        (users["owner"], {"username": "outsider", "role": "owner"}, 400, "role"),
        (users["owner"], {"username": "outsider", "role": "boss"}, 400, "role"),
        (users["owner"], {"username": "no_such_user"}, 400, "username"),
        (users["owner"], {"userId": "no-such-id"}, 400, "userId"),
        (users["owner"], {"role": "member"}, 400, "userId"),
    ]
    for api, body, status, field in cases:
        with log_unchanged(server.db):
            response = api.http.post(path, json=body)
        assert response.status_code == status, (body, response.text)
        if field:
            assert response.json()["details"][0]["field"] == field


def test_change_member_role(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    member_id = _member_id(users["owner"], project, "member")
    path = f"/api/projects/{project['key']}/members/{member_id}"
    with log_unchanged(server.db):
        assert users["member"].http.patch(path, json={"role": "admin"}).status_code == 403

    response = users["admin"].http.patch(path, json={"role": "admin"})
    assert response.status_code == 200
    assert response.json()["role"] == "admin"
    assert event_rows(server.db)[-1][1] == "member.role.updated"
    # Now an admin, the former member may rename the project.
    assert users["member"].http.patch(f"/api/projects/{project['key']}", json={"name": "Mine"}).status_code == 200


def test_owner_role_cannot_change(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    owner_id = _member_id(users["owner"], project, "owner")
    with log_unchanged(server.db):
        response = users["admin"].http.patch(f"/api/projects/{project['key']}/members/{owner_id}",
                                             json={"role": "member"})
    assert response.status_code == 400


def test_remove_member_unassigns_tickets(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    member_user = users["member"].user["id"]
    ticket = users["owner"].create_ticket(project["key"], "Assigned", assigneeId=member_user)
    member_id = _member_id(users["owner"], project, "member")

    response = users["admin"].http.delete(f"/api/projects/{project['key']}/members/{member_id}")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert [row[1] for row in event_rows(server.db)[-2:]] == ["ticket.updated", "member.removed"]
    assert users["member"].http.get(f"/api/projects/{project['key']}").status_code == 403
    assert users["owner"].http.get(f"/api/projects/{project['key']}/tickets/{ticket['id']}").json()[
        "assigneeId"] is None


def test_owner_cannot_be_removed(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    owner_id = _member_id(users["owner"], project, "owner")
    for name in ("owner", "admin", "root"):
        with log_unchanged(server.db):
            response = users[name].http.delete(f"/api/projects/{project['key']}/members/{owner_id}")
        assert response.status_code == 400, name


def test_remove_member_rejections(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    admin_id = _member_id(users["owner"], project, "admin")
    with log_unchanged(server.db):
        assert users["member"].http.delete(f"/api/projects/{project['key']}/members/{admin_id}").status_code == 403
        assert users["owner"].http.delete(f"/api/projects/{project['key']}/members/unknown").status_code == 404
        assert users["owner"].http.delete(f"/api/projects/NOPE99/members/{admin_id}").status_code == 404


# Labels


def test_create_label_case_insensitive_unique(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    path = f"/api/projects/{project['key']}/labels"
    created = users["member"].http.post(path, json={"name": "Backend", "color": "#00ff00"})
    assert created.status_code == 201
    assert created.json()["name"] == "Backend"
    assert set(created.json()) == {"id", "name", "color"}
    assert event_rows(server.db)[-1][1] == "label.created"

    with log_unchanged(server.db):
        assert users["member"].http.post(path, json={"name": "BACKEND"}).status_code == 409
        assert users["member"].http.post(path, json={"name": " backend "}).status_code == 409
        assert users["member"].http.post(path, json={"name": ""}).status_code == 400
        assert users["outsider"].http.post(path, json={"name": "Other"}).status_code == 403

    assert [label["name"] for label in users["member"].http.get(path).json()] == ["Backend"]


def test_same_label_name_other_project(users: dict[str, Api], project: dict) -> None:
    other = users["owner"].create_project(next(_keys))
    for key in (project["key"], other["key"]):
        assert users["owner"].http.post(f"/api/projects/{key}/labels", json={"name": "Shared"}).status_code == 201


def test_delete_label_leaves_tickets(server: ServerProcess, users: dict[str, Api], project: dict) -> None:
    path = f"/api/projects/{project['key']}/labels"
    doomed = users["member"].http.post(path, json={"name": "Doomed"}).json()
    kept = users["member"].http.post(path, json={"name": "Kept"}).json()
    tickets = [users["member"].create_ticket(project["key"], f"T{i}", labelIds=[doomed["id"], kept["id"]])
               for i in range(3)]

    response = users["member"].http.delete(f"{path}/{doomed['id']}")
    assert response.status_code == 200
    assert response.json() == {"success": True}
    assert event_rows(server.db)[-1][1] == "label.deleted"

    for ticket in tickets:
        detail = users["member"].http.get(f"/api/projects/{project['key']}/tickets/{ticket['id']}").json()
        assert detail["labelIds"] == [kept["id"]]
        assert [label["name"] for label in detail["labels"]] == ["Kept"]
    with log_unchanged(server.db):
        assert users["member"].http.delete(f"{path}/{doomed['id']}").status_code == 404
