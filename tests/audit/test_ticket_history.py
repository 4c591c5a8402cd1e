"""GET /api/projects/{projectId}/tickets/{ticketId}/history: field-level changes, oldest first."""

from __future__ import annotations

import pytest

from tests.support import Api, ServerProcess


@pytest.fixture
def team(server: ServerProcess, admin: Api) -> dict:
    dana = Api(server.url).register_and_login("dana_dev")
    admin.create_project("HIST")
    admin.add_member("HIST", "dana_dev")
    yield {"owner": admin, "dana": dana}
    dana.close()


def _history(api: Api, ticket: str, project: str = "HIST") -> list[dict]:
    response = api.http.get(f"/api/projects/{project}/tickets/{ticket}/history")
    assert response.status_code == 200, response.text
    return response.json()


def _label(api: Api, name: str) -> str:
    response = api.http.post("/api/projects/HIST/labels", json={"name": name})
    assert response.status_code == 201, response.text
    return response.json()["id"]


def test_history_lists_each_field_change(team: dict) -> None:
    owner, dana = team["owner"], team["dana"]
    ticket = owner.create_ticket("HIST", "First title", priority="Low")
    response = dana.http.patch(f"/api/projects/HIST/tickets/{ticket['id']}",
                               json={"title": "Second title", "priority": "High", "storyPoints": 5,
                                     "assigneeId": dana.user["id"], "dueDate": "2027-03-01"})
    assert response.status_code == 200, response.text

    entries = _history(owner, ticket["id"])
    assert entries[0]["field"] == "created"
    assert entries[0]["oldValue"] is None
    assert entries[0]["newValue"]["title"] == "First title"
    assert entries[0]["changedBy"] == {"id": owner.user["id"], "name": "root_admin"}

    changes = {entry["field"]: (entry["oldValue"], entry["newValue"]) for entry in entries[1:]}
    assert changes == {
        "title": ("First title", "Second title"),
        "priority": ("Low", "High"),
        "storyPoints": (None, 5),
        "assigneeId": (None, dana.user["id"]),
        "dueDate": (None, "2027-03-01T00:00:00.000Z"),
    }
    for entry in entries[1:]:
        assert entry["changedBy"] == {"id": dana.user["id"], "name": "dana_dev"}
        assert entry["offset"] > entries[0]["offset"]
        assert entry["changedAt"].endswith("Z")


def test_history_covers_moves_and_order(team: dict) -> None:
    owner = team["owner"]
    columns = owner.http.get("/api/projects/HIST/columns").json()
    first = owner.create_ticket("HIST", "first")
    second = owner.create_ticket("HIST", "second")
    owner.http.patch(f"/api/projects/HIST/tickets/{second['id']}", json={"order": 0})
    owner.http.patch(f"/api/projects/HIST/tickets/{second['id']}", json={"columnId": columns[2]["id"]})

    entries = _history(owner, second["id"])
    moves = [(entry["field"], entry["oldValue"], entry["newValue"]) for entry in entries[1:]]
    assert moves == [("order", 1, 0), ("columnId", columns[0]["id"], columns[2]["id"])]
    assert [entry["field"] for entry in _history(owner, first["id"])] == ["created"]


def test_history_covers_labels(team: dict) -> None:
    owner = team["owner"]
    bug, ui = _label(owner, "bug"), _label(owner, "ui")
    ticket = owner.create_ticket("HIST", "labelled", labelIds=[bug])
    owner.http.patch(f"/api/projects/HIST/tickets/{ticket['id']}", json={"labelIds": [bug, ui]})
    assert owner.http.delete(f"/api/projects/HIST/labels/{bug}").status_code == 200

    entries = _history(owner, ticket["key"])
    labels = [(entry["oldValue"], entry["newValue"]) for entry in entries if entry["field"] == "labelIds"]
    assert labels == [([bug], [bug, ui]), ([bug, ui], [ui])]


def test_history_ends_with_deletion(team: dict) -> None:
    owner, dana = team["owner"], team["dana"]
    ticket = owner.create_ticket("HIST", "short-lived")
    assert dana.http.delete(f"/api/projects/HIST/tickets/{ticket['id']}").status_code == 200

    for reference in (ticket["id"], ticket["key"]):
        entries = _history(owner, reference)
        assert [entry["field"] for entry in entries] == ["created", "deleted"]
        assert entries[1]["oldValue"]["title"] == "short-lived"
        assert entries[1]["newValue"] is None
        assert entries[1]["changedBy"]["id"] == dana.user["id"]


def test_history_needs_membership(server: ServerProcess, team: dict) -> None:
    ticket = team["owner"].create_ticket("HIST", "private")
    outsider = Api(server.url).register_and_login("eve_outside")
    response = outsider.http.get(f"/api/projects/HIST/tickets/{ticket['id']}/history")
    assert response.status_code == 403
    assert team["owner"].http.get("/api/projects/HIST/tickets/HIST-999/history").status_code == 404
    outsider.close()
