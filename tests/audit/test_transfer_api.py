"""POST /api/admin/database/export and /import against a real server."""

from __future__ import annotations

import json
from contextlib import closing

import pytest

from punt import database
from punt.eventstore.writer import Writer
from punt.projections import apply_event
from tests.audit.scenario import register, run_cli, write_mixed_history
from tests.support import PASSWORD, Api, ServerProcess, open_stream

_STATE_PATHS = ("columns", "labels", "members", "tickets")


@pytest.fixture
def workspace(server: ServerProcess, admin: Api) -> dict:
    """Two users, two projects with labels, members and tickets in several columns."""
    hal = Api(server.url).register_and_login("hal_member")
    for key in ("KEEP", "MORE"):
        admin.create_project(key)
        admin.add_member(key, "hal_member")
        label = admin.http.post(f"/api/projects/{key}/labels", json={"name": "triage"}).json()
        columns = admin.http.get(f"/api/projects/{key}/columns").json()
        for index in range(4):
            ticket = hal.create_ticket(key, f"{key} {index}", labelIds=[label["id"]], storyPoints=index)
            hal.http.patch(f"/api/projects/{key}/tickets/{ticket['id']}", json={"columnId": columns[index % 3]["id"]})
    doomed = hal.create_ticket("KEEP", "to be deleted")
    assert hal.http.delete(f"/api/projects/KEEP/tickets/{doomed['id']}").status_code == 200
    yield {"admin": admin, "hal": hal}
    hal.close()


def _export(admin: Api) -> bytes:
    response = admin.http.post("/api/admin/database/export", json={"confirmPassword": PASSWORD})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-ndjson")
    return response.content


def _import(admin: Api, content: bytes, password: str = PASSWORD):
    return admin.http.post("/api/admin/database/import", data={"confirmPassword": password},
                           files={"file": ("export.ndjson", content, "application/x-ndjson")})


def _state(api: Api) -> dict:
    state = {"projects": api.http.get("/api/projects").json()}
    for project in state["projects"]:
        for part in _STATE_PATHS:
            state[f"{project['key']}/{part}"] = api.http.get(f"/api/projects/{project['key']}/{part}").json()
    return state


def test_http_export_matches_cli_export(server: ServerProcess, workspace: dict) -> None:
    exported = _export(workspace["admin"])
    finished = run_cli("export", "--db", str(server.db))
    assert finished.returncode == 0
    assert exported == finished.stdout
    assert json.loads(exported.splitlines()[0])["offset"] == 1


def test_export_needs_admin_and_password(workspace: dict) -> None:
    wrong = workspace["admin"].http.post("/api/admin/database/export", json={"confirmPassword": "Wrong-password1"})
    assert wrong.status_code == 400
    assert wrong.json()["details"][0]["field"] == "confirmPassword"
    member = workspace["hal"].http.post("/api/admin/database/export", json={"confirmPassword": PASSWORD})
    assert member.status_code == 403


def test_import_recreates_exported_state(server: ServerProcess, workspace: dict) -> None:
    admin = workspace["admin"]
    expected = _state(admin)
    exported = _export(admin)
    head_before = len(exported.splitlines())

    admin.http.delete("/api/projects/MORE")
    admin.create_project("LOST")
    stream = open_stream(server.url, "/api/projects/events", cookies=workspace["hal"].http.cookies)
    try:
        response = _import(admin, exported)
        assert response.status_code == 200, response.text
        assert response.json() == {"success": True,
                                   "imported": {"users": 2, "projects": 2, "labels": 2, "tickets": 8}}
        frames = stream.wait_for(1)
        assert frames[0].envelope["type"] == "database.wiped"
    finally:
        stream.close()

    assert admin.http.get("/api/projects").status_code == 401, "every session ends with the import"
    admin.login("root_admin")
    assert _state(admin) == expected
    workspace["hal"].login("hal_member")

    log = run_cli("export", "--db", str(server.db)).stdout.splitlines()
    assert log[:head_before] == exported.splitlines(), "the earlier history stays in the log"
    types = [json.loads(line)["type"] for line in log[head_before:]]
    assert types[:2] == ["project.deleted", "project.created"]
    assert types.count("database.wiped") == 1
    assert run_cli("verify", "--db", str(server.db)).returncode == 0


def test_import_rejects_tampered_file(server: ServerProcess, workspace: dict) -> None:
    admin = workspace["admin"]
    lines = _export(admin).splitlines()
    event = json.loads(lines[4])
    event["data"]["name"] = "forged"
    lines[4] = json.dumps(event, separators=(",", ":")).encode()
    before = run_cli("export", "--db", str(server.db)).stdout

    response = _import(admin, b"\n".join(lines) + b"\n")
    assert response.status_code == 400
    assert "line 5:" in response.json()["error"]
    assert run_cli("export", "--db", str(server.db)).stdout == before, "a rejected import appends nothing"


def test_import_checks_password_and_form(workspace: dict) -> None:
    admin = workspace["admin"]
    exported = _export(admin)
    assert _import(admin, exported, password="Wrong-password1").status_code == 400
    assert _import(workspace["hal"], exported).status_code == 403
    as_json = admin.http.post("/api/admin/database/import", json={"confirmPassword": PASSWORD})
    assert as_json.status_code == 415
    no_file = admin.http.post("/api/admin/database/import", data={"confirmPassword": PASSWORD},
                              files={"other": ("x", b"", "text/plain")})
    assert no_file.status_code == 400
    assert no_file.json()["details"][0]["field"] == "file"


def _foreign_export(tmp_path, *usernames: str) -> bytes:
    """Export a log written in another database, with users that the server does not know."""
    db = tmp_path / "foreign.db"
    with closing(database.connect(db)) as conn:
        database.create_schema(conn)
    writer = Writer(str(db), apply_event)
    writer.start()
    try:
        write_mixed_history(writer, rounds=2)
        for username in usernames:
            register(writer, username)
    finally:
        writer.close()
    finished = run_cli("export", "--db", str(db))
    assert finished.returncode == 0
    return finished.stdout


def test_import_keeps_importing_admin(tmp_path, workspace: dict) -> None:
    admin = workspace["admin"]
    response = _import(admin, _foreign_export(tmp_path))
    assert response.status_code == 200, response.text
    assert response.json()["imported"]["projects"] == 2

    admin.login("root_admin")
    assert admin.http.get("/api/me").json()["isSystemAdmin"] is True
    assert sorted(project["key"] for project in admin.http.get("/api/projects").json()) == ["AUD", "OPS"]
    assert admin.http.get("/api/projects/AUD/history").status_code == 200
    rejected = workspace["hal"].http.post("/api/auth/callback/credentials",
                                          json={"username": "hal_member", "password": PASSWORD})
    assert rejected.status_code == 401, "a user missing from the file is gone"


def test_import_rejects_admin_name_clash(tmp_path, workspace: dict) -> None:
    admin = workspace["admin"]
    response = _import(admin, _foreign_export(tmp_path, "root_admin"))
    assert response.status_code == 400
    assert "another user named 'root_admin'" in response.json()["error"]
    assert admin.http.get("/api/projects").status_code == 200, "a rejected import changes nothing"
