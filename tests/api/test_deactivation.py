"""Deactivating an account: no more sign-in, sessions, API key or open streams."""

from __future__ import annotations

from typing import Iterator

import httpx
import pytest

from punt import database
from punt.projections.rebuild import dump_projections, rebuild_projections
from tests.support import PASSWORD, Api, ServerProcess, open_stream


@pytest.fixture
def team(server: ServerProcess, admin: Api) -> Iterator[tuple[Api, Api]]:
    """A member of project TEAM with an open session, and the system admin who owns TEAM."""
    member = Api(server.url).register_and_login("leaving")
    admin.create_project("TEAM")
    admin.add_member("TEAM", "leaving")
    yield admin, member
    member.close()


def _deactivate(api: Api, user_id: str) -> httpx.Response:
    return api.http.post(f"/api/admin/users/{user_id}/deactivate")


def test_deactivated_user_loses_session(team: tuple[Api, Api]) -> None:
    admin, member = team
    assert member.http.get("/api/me").status_code == 200

    assert _deactivate(admin, member.user["id"]).status_code == 200
    assert member.http.get("/api/me").status_code == 401


def test_deactivated_user_cannot_sign_in(team: tuple[Api, Api], server: ServerProcess) -> None:
    admin, member = team
    _deactivate(admin, member.user["id"])

    response = httpx.post(f"{server.url}/api/auth/callback/credentials",
                          json={"username": "leaving", "password": PASSWORD})
    assert response.status_code == 401
    assert "deactivated" in response.json()["error"]


def test_deactivated_user_api_key_revoked(team: tuple[Api, Api], server: ServerProcess) -> None:
    admin, member = team
    key = member.http.post("/api/me/mcp-key").json()["apiKey"]
    _deactivate(admin, member.user["id"])

    response = httpx.get(f"{server.url}/api/me", headers={"X-MCP-API-Key": key})
    assert response.status_code == 401


def test_deactivation_ends_open_streams(team: tuple[Api, Api], server: ServerProcess) -> None:
    admin, member = team
    project_stream = open_stream(server.url, "/api/projects/TEAM/events", cookies=member.http.cookies)
    user_stream = open_stream(server.url, "/api/users/events", cookies=member.http.cookies)
    admin_stream = open_stream(server.url, "/api/users/events", cookies=admin.http.cookies)

    _deactivate(admin, member.user["id"])

    assert project_stream.ended.wait(10)
    assert user_stream.ended.wait(10)
    assert not admin_stream.ended.wait(0.5)
    for stream in (project_stream, user_stream, admin_stream):
        stream.close()


def test_deactivation_needs_system_admin(team: tuple[Api, Api]) -> None:
    admin, member = team
    response = _deactivate(member, admin.user["id"])
    assert response.status_code == 403


def test_deactivation_rejects_self_and_unknown(team: tuple[Api, Api]) -> None:
    admin, member = team
    own = _deactivate(admin, admin.user["id"])
    assert own.status_code == 400
    assert _deactivate(admin, "no-such-user").status_code == 404
    assert _deactivate(admin, member.user["id"]).status_code == 200
    assert _deactivate(admin, member.user["id"]).status_code == 409


def test_deactivation_survives_rebuild(team: tuple[Api, Api], server: ServerProcess, tmp_path) -> None:
    admin, member = team
    _deactivate(admin, member.user["id"])

    live = database.connect(server.db)
    rebuilt = database.connect(tmp_path / "rebuilt.db")
    rebuild_projections(live, rebuilt)
    assert dump_projections(rebuilt) == dump_projections(live)
    assert dump_projections(live)["deactivated_users"] == [(member.user["id"],)]
    live.close()
    rebuilt.close()
