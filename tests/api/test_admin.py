"""The system admin's wipes: who may run them, what they confirm, and what they keep."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from tests.commands import event_count, event_rows, log_unchanged
from tests.support import Api, PASSWORD, ServerProcess, signed_in_users

WIPE = "/api/admin/database/wipe"
WIPE_PROJECTS = "/api/admin/database/wipe-projects"


@pytest.fixture(scope="module")
def shared_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server for the rejected wipes, which change nothing."""
    process = ServerProcess(tmp_path_factory.mktemp("admin") / "admin.db").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def shared_users(shared_server: ServerProcess) -> Iterator[dict[str, Api]]:
    with signed_in_users(shared_server, ("root", "plain")) as apis:
        apis["plain"].create_project("KEEP")
        apis["plain"].create_ticket("KEEP", "survives every rejected wipe")
        yield apis


def _populate(server: ServerProcess) -> tuple[Api, Api]:
    """Register an admin and a user with a project, a label and tickets."""
    root = Api(server.url).register_and_login("root")
    plain = Api(server.url).register_and_login("plain")
    for key in ("ONE", "TWO"):
        plain.create_project(key)
        plain.http.post(f"/api/projects/{key}/labels", json={"name": "label"})
        for i in range(3):
            plain.create_ticket(key, f"{key} ticket {i}")
    return root, plain


# Rejected wipes


def test_wipes_need_system_admin(shared_server: ServerProcess, shared_users: dict[str, Api]) -> None:
    plain = shared_users["plain"].http
    with log_unchanged(shared_server.db):
        response = plain.post(WIPE, json={"confirmPassword": PASSWORD, "confirmation": "wipe all data"})
        assert response.status_code == 403
        assert plain.post(WIPE_PROJECTS, json={"confirmPassword": PASSWORD}).status_code == 403
    with httpx.Client(base_url=shared_server.url) as anonymous:
        assert anonymous.post(WIPE_PROJECTS, json={"confirmPassword": PASSWORD}).status_code == 401
    assert plain.get("/api/projects/KEEP/tickets").json()[0]["title"] == "survives every rejected wipe"


@pytest.mark.parametrize(("path", "body", "field"), [
    (WIPE, {"confirmPassword": "Wrong1Password", "confirmation": "wipe all data"}, "confirmPassword"),
    (WIPE, {"confirmPassword": PASSWORD, "confirmation": "wipe everything"}, "confirmation"),
    (WIPE, {"confirmPassword": PASSWORD, "confirmation": "WIPE ALL DATA"}, "confirmation"),
    (WIPE, {"confirmPassword": PASSWORD}, "confirmation"),
    (WIPE, {"confirmation": "wipe all data"}, "confirmPassword"),
    (WIPE_PROJECTS, {"confirmPassword": "Wrong1Password"}, "confirmPassword"),
    (WIPE_PROJECTS, {"confirmPassword": 12345}, "confirmPassword"),
    (WIPE_PROJECTS, {"confirmPassword": PASSWORD, "force": True}, "force"),
])
def test_wipe_bad_confirmation_rejected(shared_server: ServerProcess, shared_users: dict[str, Api], path: str,
                                        body: dict, field: str) -> None:
    with log_unchanged(shared_server.db):
        response = shared_users["root"].http.post(path, json=body)
    assert response.status_code == 400, response.text
    assert response.json()["details"][0]["field"] == field
    assert shared_users["plain"].http.get("/api/projects/KEEP").status_code == 200


# Successful wipes


def test_wipe_projects_keeps_users_and_sessions(server: ServerProcess) -> None:
    root, plain = _populate(server)
    events_before = event_count(server.db)

    response = root.http.post(WIPE_PROJECTS, json={"confirmPassword": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.json() == {"success": True, "wiped": {"projects": 2, "tickets": 6, "labels": 2}}

    rows = event_rows(server.db)
    assert len(rows) == events_before + 1
    assert rows[-1][1] == "database.projects.wiped"
    assert plain.http.get("/api/me").json()["username"] == "plain"
    assert plain.http.get("/api/projects").json() == []
    assert root.http.get("/api/projects").json() == []
    assert plain.http.get("/api/projects/ONE").status_code == 404
    # The key of a wiped project is free again, and its ticket numbers restart.
    plain.create_project("ONE")
    assert plain.create_ticket("ONE", "fresh")["number"] == 1


def test_wipe_database_returns_working_admin(server: ServerProcess) -> None:
    root, plain = _populate(server)
    root_key = root.http.post("/api/me/mcp-key").json()["apiKey"]
    events_before = event_count(server.db)

    response = root.http.post(WIPE, json={"confirmPassword": PASSWORD, "confirmation": "wipe all data"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["success"] is True
    credentials = body["newAdminCredentials"]
    assert set(credentials) == {"username", "temporaryPassword"}

    fresh = Api(server.url).login(credentials["username"], credentials["temporaryPassword"])
    assert fresh.user["isSystemAdmin"] is True
    assert fresh.http.get("/api/projects").json() == []

    for old in (root, plain):
        assert old.http.get("/api/me").status_code == 401
        assert old.http.get("/api/auth/session").json() == {}
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/api/me", headers={"X-MCP-API-Key": root_key}).status_code == 401
    assert httpx.post(f"{server.url}/api/auth/callback/credentials",
                      json={"username": "plain", "password": PASSWORD}).status_code == 401

    rows = event_rows(server.db)
    assert [row[0] for row in rows] == list(range(1, len(rows) + 1))
    assert [row[1] for row in rows[events_before:]] == ["database.wiped", "user.registered"]
    assert sum(1 for row in rows if row[1] == "ticket.created") == 6
    fresh.close()


def test_register_after_wipe_not_admin(server: ServerProcess) -> None:
    root, _plain = _populate(server)
    wiped = root.http.post(WIPE, json={"confirmPassword": PASSWORD, "confirmation": "wipe all data"})
    assert wiped.status_code == 200
    # The old username is free again, but its owner is no longer the first user.
    again = Api(server.url).register_and_login("root")
    assert again.user["isSystemAdmin"] is False
    assert again.http.post(WIPE_PROJECTS, json={"confirmPassword": PASSWORD}).status_code == 403
    again.close()
