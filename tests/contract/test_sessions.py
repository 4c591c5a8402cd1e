"""Secrets and sessions: cookie flags, revocation, cross-site requests, and no secret in any output."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import httpx
import pytest
from litestar.testing import TestClient

from punt import credentials
from punt.api.app import create_app
from punt.settings import Settings
from tests.commands import log_unchanged
from tests.support import PASSWORD, Api, ServerProcess, open_stream

NEW_PASSWORD = "BatteryStaple7Horse"


def _set_cookie(response: httpx.Response) -> str:
    return response.headers["set-cookie"].lower()


def test_session_cookie_flags_over_http(server: ServerProcess, admin: Api) -> None:
    response = admin.http.post("/api/auth/callback/credentials", json={"username": "root_admin", "password": PASSWORD})
    cookie = _set_cookie(response)
    assert "httponly" in cookie
    assert "samesite=lax" in cookie
    assert "path=/" in cookie
    assert "secure" not in cookie


def test_session_cookie_secure_behind_https_proxy(server: ServerProcess, admin: Api) -> None:
    response = httpx.post(f"{server.url}/api/auth/callback/credentials", headers={"X-Forwarded-Proto": "https"},
                          json={"username": "root_admin", "password": PASSWORD})
    assert response.status_code == 200
    assert "secure" in _set_cookie(response)


def test_password_change_revokes_other_sessions(server: ServerProcess, admin: Api) -> None:
    other = Api(server.url).login("root_admin")
    stream = open_stream(server.url, "/api/users/events", cookies=other.http.cookies)
    try:
        changed = admin.http.post("/api/me/password", json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD})
        assert changed.status_code == 200, changed.text
        assert stream.ended.wait(10), "the other session's stream stayed open"
    finally:
        stream.close()
    assert other.http.get("/api/me").status_code == 401
    assert admin.http.get("/api/me").status_code == 200
    old = httpx.post(f"{server.url}/api/auth/callback/credentials", json={"username": "root_admin", "password": PASSWORD})
    assert old.status_code == 401
    Api(server.url).login("root_admin", NEW_PASSWORD)


def test_password_change_needs_current_password(server: ServerProcess, admin: Api) -> None:
    with log_unchanged(server.db):
        wrong = admin.http.post("/api/me/password", json={"currentPassword": "Wrong1Password", "newPassword": NEW_PASSWORD})
        weak = admin.http.post("/api/me/password", json={"currentPassword": PASSWORD, "newPassword": "short"})
    assert wrong.status_code == 400
    assert wrong.json()["details"][0]["field"] == "currentPassword"
    assert weak.status_code == 400
    assert weak.json()["details"][0]["field"] == "newPassword"


def test_sign_out_ends_streams(server: ServerProcess, admin: Api) -> None:
    stream = open_stream(server.url, "/api/projects/events", cookies=admin.http.cookies)
    try:
        assert admin.http.post("/api/auth/signout").status_code == 200
        assert stream.ended.wait(10)
    finally:
        stream.close()
    assert admin.http.get("/api/me").status_code == 401


def test_wipe_revokes_every_session(server: ServerProcess, admin: Api) -> None:
    member = Api(server.url).register_and_login("plain_member")
    stream = open_stream(server.url, "/api/users/events", cookies=member.http.cookies)
    try:
        wiped = admin.http.post("/api/admin/database/wipe",
                                json={"confirmPassword": PASSWORD, "confirmation": "wipe all data"})
        assert wiped.status_code == 200
        assert stream.ended.wait(10)
    finally:
        stream.close()
    assert member.http.get("/api/me").status_code == 401
    assert admin.http.get("/api/me").status_code == 401


def test_failed_logins_limited(server: ServerProcess, admin: Api) -> None:
    url = f"{server.url}/api/auth/callback/credentials"
    statuses = [httpx.post(url, json={"username": "root_admin", "password": "Wrong1Password"}).status_code
                for _ in range(6)]
    assert statuses[:5] == [401] * 5
    limited = httpx.post(url, json={"username": "root_admin", "password": PASSWORD})
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0


def test_cross_origin_cookie_request_rejected(server: ServerProcess, admin: Api) -> None:
    with log_unchanged(server.db):
        foreign = admin.http.post("/api/projects", json={"name": "Evil", "key": "EVIL"},
                                  headers={"Origin": "https://attacker.example"})
        form = admin.http.post("/api/projects", data={"name": "Evil", "key": "EVIL"})
        null_origin = admin.http.delete("/api/me/mcp-key", headers={"Origin": "null"})
    assert foreign.status_code == 403
    assert form.status_code == 403
    assert null_origin.status_code == 403
    assert "origin" in foreign.json()["error"]


def test_same_origin_and_api_key_allowed(server: ServerProcess, admin: Api) -> None:
    same = admin.http.post("/api/projects", json={"name": "Fine", "key": "FINE"}, headers={"Origin": server.url})
    assert same.status_code == 201
    key = admin.http.post("/api/me/mcp-key", headers={"Origin": server.url}).json()["apiKey"]
    by_key = httpx.post(f"{server.url}/api/projects", json={"name": "Key", "key": "KEY"},
                        headers={"X-MCP-API-Key": key, "Origin": "https://elsewhere.example"})
    assert by_key.status_code == 201


def _exercise(server: ServerProcess, admin: Api) -> tuple[list[str], list[str]]:
    """Run a session through every credential operation; return response texts and secrets seen."""
    texts, secrets = [], [PASSWORD, NEW_PASSWORD]
    other = Api(server.url).register_and_login("second_user")
    secrets += [admin.http.cookies["punt_session"], other.http.cookies["punt_session"]]
    key_response = admin.http.post("/api/me/mcp-key")
    secrets.append(key_response.json()["apiKey"])
    project = admin.create_project("SECR")
    for response in (
        admin.http.get("/api/me"), admin.http.get("/api/auth/session"), admin.http.get("/api/projects"),
        admin.http.patch("/api/me", json={"name": "Root"}),
        admin.http.post(f"/api/projects/{project['key']}/members", json={"username": "second_user"}),
        admin.http.get(f"/api/projects/{project['key']}/members"),
        admin.http.post("/api/me/password", json={"currentPassword": PASSWORD, "newPassword": NEW_PASSWORD}),
        other.http.post("/api/auth/signout"), admin.http.delete("/api/me/mcp-key"),
        httpx.get(f"{server.url}/api/admin/events", headers={"X-MCP-API-Key": secrets[-1]}),
        admin.http.get("/api/admin/events"),
    ):
        texts.append(response.text)
    return texts, secrets


def _stored_secrets(db: Path) -> tuple[list[str], list[str]]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT password_hash FROM credentials UNION ALL SELECT token_digest FROM sessions"
                            " UNION ALL SELECT key_digest FROM api_keys").fetchall()
        events = conn.execute("SELECT data || metadata FROM events").fetchall()
    finally:
        conn.close()
    return [row[0] for row in rows], [row[0] for row in events]


def test_no_secret_in_responses_or_log(server: ServerProcess, admin: Api) -> None:
    texts, secrets = _exercise(server, admin)
    stored, events = _stored_secrets(server.db)
    assert stored, "expected hashes and digests in the credential tables"
    for output in [*texts, *events]:
        assert "$argon2" not in output
        for secret in [*secrets, *stored]:
            assert secret not in output, f"a secret leaked into {output[:200]!r}"


class CountingHasher:
    """An argon2 PasswordHasher wrapper that counts calls of verify."""

    def __init__(self, hasher) -> None:
        self.hasher = hasher
        self.verifications = 0

    def verify(self, password_hash: str, password: str) -> bool:
        self.verifications += 1
        return self.hasher.verify(password_hash, password)

    def __getattr__(self, name: str):
        return getattr(self.hasher, name)


def test_unknown_user_costs_one_verification(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    counter = CountingHasher(credentials._hasher)
    monkeypatch.setattr(credentials, "_hasher", counter)
    app = create_app(Settings(db=str(tmp_path / "count.db")))
    with TestClient(app) as client:
        client.post("/api/auth/register", json={"username": "known_user", "password": PASSWORD})
        login = "/api/auth/callback/credentials"

        counter.verifications = 0
        assert client.post(login, json={"username": "known_user", "password": "Wrong1Password"}).status_code == 401
        known = counter.verifications

        counter.verifications = 0
        assert client.post(login, json={"username": "nobody_here", "password": "Wrong1Password"}).status_code == 401
        unknown = counter.verifications

    assert known == 1
    assert unknown == known
