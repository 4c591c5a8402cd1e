"""?at=OFFSET on the project read endpoints, and `punt state`: the board as it was after an offset."""

from __future__ import annotations

import json

import pytest

from tests.audit.scenario import run_cli
from tests.support import Api, ServerProcess


def _head(admin: Api) -> int:
    page = admin.http.get("/api/admin/events", params={"limit": 1000}).json()
    return page["events"][-1]["offset"]


def _get(api: Api, path: str, at: int) -> object:
    response = api.http.get(path, params={"at": at})
    assert response.status_code == 200, response.text
    return response.json()


@pytest.fixture
def timeline(server: ServerProcess, admin: Api) -> dict:
    """A project photographed at three offsets: before, during and after a series of changes."""
    fay = Api(server.url).register_and_login("fay_member")
    admin.create_project("TIME", name="Time v1")
    before = _head(admin)

    admin.add_member("TIME", "fay_member")
    label = admin.http.post("/api/projects/TIME/labels", json={"name": "old"}).json()
    ticket = admin.create_ticket("TIME", "original title", labelIds=[label["id"]])
    during = _head(admin)

    admin.http.patch(f"/api/projects/TIME/tickets/{ticket['id']}", json={"title": "new title"})
    admin.http.patch("/api/projects/TIME", json={"name": "Time v2"})
    admin.http.delete(f"/api/projects/TIME/labels/{label['id']}")
    admin.create_ticket("TIME", "later ticket")
    yield {"fay": fay, "admin": admin, "ticket": ticket, "label": label, "before": before, "during": during,
           "after": _head(admin), "db": server.db}
    fay.close()


def test_project_and_lists_at_offset(timeline: dict) -> None:
    admin, at = timeline["admin"], timeline["during"]
    assert _get(admin, "/api/projects/TIME", at)["name"] == "Time v1"
    assert [column["name"] for column in _get(admin, "/api/projects/TIME/columns", at)] == [
        "To Do", "In Progress", "Done"]
    assert _get(admin, "/api/projects/TIME/labels", at) == [{**timeline["label"]}]
    usernames = [member["user"]["username"] for member in _get(admin, "/api/projects/TIME/members", at)]
    assert usernames == ["fay_member", "root_admin"]

    tickets = _get(admin, "/api/projects/TIME/tickets", at)
    assert [(ticket["title"], ticket["labelIds"]) for ticket in tickets] == [
        ("original title", [timeline["label"]["id"]])]


def test_ticket_detail_at_offset(timeline: dict) -> None:
    admin, ticket = timeline["admin"], timeline["ticket"]
    then = _get(admin, f"/api/projects/TIME/tickets/{ticket['key']}", timeline["during"])
    assert then["title"] == "original title"
    assert then["labels"] == [timeline["label"]]
    now = _get(admin, f"/api/projects/TIME/tickets/{ticket['key']}", timeline["after"])
    assert now["title"] == "new title"
    assert now["labels"] == []
    response = admin.http.get(f"/api/projects/TIME/tickets/{ticket['key']}", params={"at": timeline["before"]})
    assert response.status_code == 404


def test_latest_offset_equals_current_state(timeline: dict) -> None:
    admin = timeline["admin"]
    for path in ("/api/projects/TIME", "/api/projects/TIME/columns", "/api/projects/TIME/labels",
                 "/api/projects/TIME/members", "/api/projects/TIME/tickets"):
        assert _get(admin, path, timeline["after"]) == admin.http.get(path).json(), path


def test_ticket_filters_apply_at_offset(timeline: dict) -> None:
    admin = timeline["admin"]
    response = admin.http.get("/api/projects/TIME/tickets", params={"at": timeline["after"], "priority": "medium"})
    assert response.status_code == 200
    assert len(response.json()) == 2


def test_offset_beyond_end_rejected(timeline: dict) -> None:
    admin = timeline["admin"]
    for value in (timeline["after"] + 1000, -1, "soon"):
        response = admin.http.get("/api/projects/TIME/tickets", params={"at": value})
        assert response.status_code == 400, value
        assert response.json()["details"][0]["field"] == "at"


def test_project_before_creation_not_found(timeline: dict) -> None:
    response = timeline["admin"].http.get("/api/projects/TIME", params={"at": 1})
    assert response.status_code == 404
    assert "did not exist yet at offset 1" in response.json()["error"]


def test_membership_checked_on_current_state(server: ServerProcess, timeline: dict) -> None:
    # fay joined after `before`, yet may read the board from before she joined.
    assert _get(timeline["fay"], "/api/projects/TIME", timeline["before"])["name"] == "Time v1"
    outsider = Api(server.url).register_and_login("gus_outside")
    assert outsider.http.get("/api/projects/TIME/tickets", params={"at": timeline["during"]}).status_code == 403
    outsider.close()


def test_cli_state_prints_board(timeline: dict) -> None:
    finished = run_cli("state", "--db", str(timeline["db"]), "--project", "TIME", "--at", str(timeline["during"]))
    assert finished.returncode == 0, finished.stderr.decode()
    board = json.loads(finished.stdout)
    assert board["offset"] == timeline["during"]
    assert board["project"]["name"] == "Time v1"
    assert [ticket["title"] for ticket in board["tickets"]] == ["original title"]
    assert [label["name"] for label in board["labels"]] == ["old"]
    assert len(board["members"]) == 2
    assert len(board["columns"]) == 3


def test_cli_state_rejects_offset_beyond_end(timeline: dict) -> None:
    finished = run_cli("state", "--db", str(timeline["db"]), "--project", "TIME", "--at", "99999")
    assert finished.returncode == 1
    assert "offset 99999 is outside the log" in finished.stderr.decode()
