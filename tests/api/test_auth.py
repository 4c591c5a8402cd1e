"""Registration, sign-in, sessions, API keys and the caller's profile, over real HTTP."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Iterator

import httpx
import msgspec
import pytest

from tests.commands import event_rows, log_unchanged
from tests.support import PASSWORD, Api, ServerProcess


class Recorder:
    """A record of every response body and every secret the tests handled, for the leak scan."""

    def __init__(self) -> None:
        self.bodies: list[bytes] = []
        self.secrets: set[str] = {PASSWORD}

    def hook(self, response: httpx.Response) -> None:
        response.read()
        token = response.cookies.get("punt_session")
        if token:
            self.secrets.add(token)
        if response.request.url.path == "/api/me/mcp-key" and response.status_code == 201:
            # The one response that shows a key: its body is the key itself.
            self.secrets.add(response.json()["apiKey"])
            return
        self.bodies.append(response.content)


@pytest.fixture(scope="module")
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = ServerProcess(tmp_path_factory.mktemp("auth") / "auth.db").start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def root(server: ServerProcess, recorder: Recorder) -> Iterator[Api]:
    """The first user of the server, registered before any test's users."""
    api = _api(server, recorder).register_and_login("root")
    yield api
    api.close()


def _api(server: ServerProcess, recorder: Recorder) -> Api:
    api = Api(server.url)
    api.http.event_hooks["response"].append(recorder.hook)
    return api


@pytest.fixture
def anon(server: ServerProcess, recorder: Recorder, root: Api) -> Iterator[httpx.Client]:
    """A client without credentials. It depends on ``root`` so that the admin registers first."""
    api = _api(server, recorder)
    yield api.http
    api.close()


def _register(client: httpx.Client, username: str, password: str = PASSWORD, **extra: str) -> httpx.Response:
    return client.post("/api/auth/register", json={"username": username, "password": password, **extra})


def _login(client: httpx.Client, login: str, password: str = PASSWORD) -> httpx.Response:
    return client.post("/api/auth/callback/credentials", json={"username": login, "password": password})


# Registration


def test_first_user_is_system_admin(root: Api, anon: httpx.Client) -> None:
    assert root.user["isSystemAdmin"] is True
    second = _register(anon, "second_user")
    assert second.status_code == 201
    assert second.json()["isSystemAdmin"] is False


def test_register_returns_user_object(anon: httpx.Client) -> None:
    response = _register(anon, "grace-h", email="grace@example.com", name="Grace")
    assert response.status_code == 201
    user = response.json()
    assert set(user) == {"id", "username", "email", "name", "avatar", "avatarColor", "isSystemAdmin", "createdAt"}
    assert user["username"] == "grace-h"
    assert user["email"] == "grace@example.com"
    assert user["name"] == "Grace"
    assert user["createdAt"].endswith("Z")


@pytest.mark.parametrize("username", ["ab", "x" * 31, "has space", "dot.ted", "at@sign", "ümlaut", ""])
def test_register_rejects_bad_username(server: ServerProcess, anon: httpx.Client, username: str) -> None:
    with log_unchanged(server.db):
        response = _register(anon, username)
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "username"


@pytest.mark.parametrize("username", ["abc", "x" * 30, "A_b-9"])
def test_register_accepts_username_edges(anon: httpx.Client, username: str) -> None:
    assert _register(anon, username).status_code == 201


@pytest.mark.parametrize("password", ["Short1Aa", "alllowercase123", "ALLUPPERCASE123", "NoDigitsHereAtAll"])
def test_register_rejects_weak_password(server: ServerProcess, anon: httpx.Client, password: str) -> None:
    with log_unchanged(server.db):
        response = _register(anon, "weak_pw_user", password)
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "password"


def test_register_taken_username_conflicts(server: ServerProcess, anon: httpx.Client) -> None:
    assert _register(anon, "Taken_Name").status_code == 201
    with log_unchanged(server.db):
        response = _register(anon, "taken_name")
    assert response.status_code == 409
    assert "taken_name" in response.json()["error"]


def test_register_taken_email_conflicts(server: ServerProcess, anon: httpx.Client) -> None:
    assert _register(anon, "mail_one", email="Shared@Example.com").status_code == 201
    with log_unchanged(server.db):
        response = _register(anon, "mail_two", email="shared@example.COM")
    assert response.status_code == 409


# Sign-in and sessions


def test_login_by_username_and_email(anon: httpx.Client) -> None:
    assert _register(anon, "logan", email="logan@example.com").status_code == 201
    assert _login(anon, "logan").status_code == 200
    by_email = _login(anon, "LOGAN@example.com")
    assert by_email.status_code == 200
    assert by_email.json()["username"] == "logan"


def test_login_accepts_form_body(anon: httpx.Client) -> None:
    assert _register(anon, "formuser").status_code == 201
    response = anon.post("/api/auth/callback/credentials",
                         data={"username": "formuser", "password": PASSWORD, "csrfToken": "x", "json": "true"})
    assert response.status_code == 200
    assert response.json()["username"] == "formuser"
    assert anon.get("/api/me").json()["username"] == "formuser"


def test_login_wrong_credentials_unauthorized(anon: httpx.Client) -> None:
    assert _register(anon, "wrongpw").status_code == 201
    assert _login(anon, "wrongpw", "Not1TheRightPassword").status_code == 401
    assert _login(anon, "nobody_here").status_code == 401
    # A successful login resets the per-address failure count for later tests.
    assert _login(anon, "wrongpw").status_code == 200


def test_session_cookie_attributes(anon: httpx.Client) -> None:
    assert _register(anon, "cookie_user").status_code == 201
    header = _login(anon, "cookie_user").headers["set-cookie"]
    attributes = [part.strip().lower() for part in header.split(";")]
    assert attributes[0].startswith("punt_session=")
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes


def test_session_with_and_without_cookie(anon: httpx.Client) -> None:
    empty = anon.get("/api/auth/session")
    assert empty.status_code == 200
    assert empty.json() == {}

    assert _register(anon, "sess_user").status_code == 201
    _login(anon, "sess_user")
    session = anon.get("/api/auth/session").json()
    assert session["user"]["username"] == "sess_user"
    assert session["expires"].endswith("Z")


def test_signout_revokes_old_cookie(server: ServerProcess, anon: httpx.Client) -> None:
    assert _register(anon, "leaver").status_code == 201
    _login(anon, "leaver")
    token = anon.cookies["punt_session"]

    signed_out = anon.post("/api/auth/signout")
    assert signed_out.status_code == 200
    assert 'punt_session=""' in signed_out.headers["set-cookie"] or "max-age=0" in signed_out.headers[
        "set-cookie"].lower()

    with httpx.Client(base_url=server.url, cookies={"punt_session": token}) as replay:
        assert replay.get("/api/me").status_code == 401
        assert replay.get("/api/auth/session").json() == {}
    assert event_rows(server.db)[-1][1] == "session.revoked"


def test_endpoints_need_authentication(anon: httpx.Client) -> None:
    for method, path in [("GET", "/api/me"), ("GET", "/api/projects"), ("POST", "/api/me/mcp-key"),
                         ("POST", "/api/auth/signout"), ("GET", "/api/projects/X/tickets")]:
        response = anon.request(method, path)
        assert response.status_code == 401, f"{method} {path}"
        assert "error" in response.json()


def test_garbage_cookie_unauthorized(server: ServerProcess) -> None:
    with httpx.Client(base_url=server.url, cookies={"punt_session": "not-a-token"}) as client:
        assert client.get("/api/me").status_code == 401


def test_repeated_failures_rate_limited(tmp_path: Path, recorder: Recorder) -> None:
    """After five failures the username is locked out, even for the right password.

    The lockout also covers the client address, so this test has a server of its own.
    """
    server = ServerProcess(tmp_path / "limited.db").start()
    api = _api(server, recorder)
    assert _register(api.http, "target_user").status_code == 201
    statuses = [_login(api.http, "target_user", "Wrong1Password!").status_code for _ in range(5)]
    assert statuses == [401] * 5

    limited = _login(api.http, "target_user")
    assert limited.status_code == 429
    assert int(limited.headers["retry-after"]) > 0
    assert "error" in limited.json()
    api.close()
    server.stop()


# API keys


def test_api_key_by_header_and_bearer(server: ServerProcess, anon: httpx.Client, recorder: Recorder) -> None:
    assert _register(anon, "keyholder").status_code == 201
    _login(anon, "keyholder")
    created = anon.post("/api/me/mcp-key")
    assert created.status_code == 201
    key = created.json()["apiKey"]

    with httpx.Client(base_url=server.url) as client:
        assert client.get("/api/me", headers={"X-MCP-API-Key": key}).json()["username"] == "keyholder"
        assert client.get("/api/me", headers={"Authorization": f"Bearer {key}"}).json()["username"] == "keyholder"
        assert client.get("/api/me", headers={"Authorization": f"Bearer {key}x"}).status_code == 401


def test_api_key_shown_once_stored_hashed(server: ServerProcess, anon: httpx.Client) -> None:
    assert _register(anon, "hashed_key").status_code == 201
    _login(anon, "hashed_key")
    key = anon.post("/api/me/mcp-key").json()["apiKey"]
    with closing(sqlite3.connect(server.db)) as conn:
        stored = [row[0] for row in conn.execute("SELECT key_digest FROM api_keys")]
    assert key not in stored
    assert key not in anon.get("/api/me").text


def test_revoked_api_key_unauthorized(server: ServerProcess, anon: httpx.Client) -> None:
    assert _register(anon, "revoker").status_code == 201
    _login(anon, "revoker")
    key = anon.post("/api/me/mcp-key").json()["apiKey"]
    assert anon.delete("/api/me/mcp-key").status_code == 200

    with httpx.Client(base_url=server.url) as client:
        assert client.get("/api/me", headers={"X-MCP-API-Key": key}).status_code == 401
    assert anon.delete("/api/me/mcp-key").status_code == 404


def test_new_api_key_replaces_old(server: ServerProcess, anon: httpx.Client) -> None:
    assert _register(anon, "rotator").status_code == 201
    _login(anon, "rotator")
    first = anon.post("/api/me/mcp-key").json()["apiKey"]
    second = anon.post("/api/me/mcp-key").json()["apiKey"]
    assert first != second
    with httpx.Client(base_url=server.url) as client:
        assert client.get("/api/me", headers={"X-MCP-API-Key": first}).status_code == 401
        assert client.get("/api/me", headers={"X-MCP-API-Key": second}).status_code == 200


# Profile


def test_patch_me_appends_user_updated(server: ServerProcess, anon: httpx.Client) -> None:
    assert _register(anon, "profiled").status_code == 201
    me = _login(anon, "profiled").json()

    response = anon.patch("/api/me", json={"name": "Pro Filed", "avatarColor": "#abcdef"})
    assert response.status_code == 200
    assert response.json()["name"] == "Pro Filed"
    assert response.json()["avatarColor"] == "#ABCDEF"
    assert anon.get("/api/me").json()["name"] == "Pro Filed"

    offset, event_type, data, _metadata = event_rows(server.db)[-1]
    assert event_type == "user.updated"
    assert msgspec.json.decode(data) == {"id": me["id"], "username": "profiled", "name": "Pro Filed",
                                         "avatar": None, "avatarColor": "#ABCDEF"}


def test_patch_me_rejects_bad_input(server: ServerProcess, anon: httpx.Client) -> None:
    assert _register(anon, "badpatch").status_code == 201
    _login(anon, "badpatch")
    cases = [({"avatarColor": "red"}, "avatarColor"), ({"isSystemAdmin": True}, "isSystemAdmin"),
             ({"name": 5}, "name"), ({"avatarColor": None}, "avatarColor")]
    for body, field in cases:
        with log_unchanged(server.db):
            response = anon.patch("/api/me", json=body)
        assert response.status_code == 400, body
        assert response.json()["details"][0]["field"] == field


def test_unchanged_patch_appends_nothing(server: ServerProcess, anon: httpx.Client) -> None:
    assert _register(anon, "same_again").status_code == 201
    _login(anon, "same_again")
    anon.patch("/api/me", json={"name": "Same"})
    with log_unchanged(server.db):
        assert anon.patch("/api/me", json={"name": "Same"}).status_code == 200


# Secrets never leave the server


def _stored_secrets(db: Path) -> set[str]:
    with closing(sqlite3.connect(db)) as conn:
        hashes = {row[0] for row in conn.execute("SELECT password_hash FROM credentials")}
        digests = {row[0] for row in conn.execute("SELECT token_digest FROM sessions")}
        digests |= {row[0] for row in conn.execute("SELECT key_digest FROM api_keys")}
    return hashes | digests


def test_no_secret_in_responses_or_log(server: ServerProcess, recorder: Recorder) -> None:
    """Runs last in the module, so it scans every response the module collected."""
    api = _api(server, recorder).register_and_login("scanner")
    api.http.post("/api/me/mcp-key")
    api.http.patch("/api/me", json={"name": "Scanner"})
    api.http.get("/api/auth/session")
    api.http.post("/api/auth/signout")

    secrets = recorder.secrets | _stored_secrets(server.db)
    assert len(secrets) > 5
    texts = [body.decode("utf-8", "replace") for body in recorder.bodies]
    texts += [(data + metadata).decode() for _offset, _type, data, metadata in event_rows(server.db)]
    for text in texts:
        assert "$argon2" not in text
        for secret in secrets:
            assert secret not in text, f"a secret leaked into {text[:120]!r}"
    api.close()


def test_session_with_api_key_empty(server: ServerProcess, anon: httpx.Client) -> None:
    """An API key is not a browser session, so the session endpoint reports none."""
    assert _register(anon, "keysession").status_code == 201
    _login(anon, "keysession")
    key = anon.post("/api/me/mcp-key").json()["apiKey"]

    with httpx.Client(base_url=server.url) as client:
        response = client.get("/api/auth/session", headers={"X-MCP-API-Key": key})
    assert response.status_code == 200
    assert response.json() == {}
