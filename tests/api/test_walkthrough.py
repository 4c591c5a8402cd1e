"""The README's first session, step by step, against a real server with a subscriber following."""

from __future__ import annotations

from tests.support import Api, ServerProcess, open_stream

PASSWORD = "Analytical1Engine"


def test_readme_walkthrough_streams_each_event_in_order(server: ServerProcess) -> None:
    api = Api(server.url)
    registered = api.http.post("/api/auth/register", json={"username": "ada", "password": PASSWORD})
    assert registered.status_code == 201
    api.login("ada", PASSWORD)

    project = api.http.post("/api/projects", json={"name": "Engine", "key": "PROJ"})
    assert project.status_code == 201
    stream = open_stream(server.url, "/api/projects/PROJ/events", cookies=api.http.cookies)

    created = api.http.post("/api/projects/PROJ/tickets", headers={"X-Tab-Id": "tab-1"},
                            json={"title": "Design the mill", "type": "story", "priority": "high"})
    assert created.status_code == 201
    column = api.http.get("/api/projects/PROJ/columns").json()[1]["id"]
    moved = api.http.patch("/api/projects/PROJ/tickets/PROJ-1", json={"columnId": column})
    assert moved.status_code == 200

    frames = stream.wait_for(2)
    stream.close()
    assert [frame.envelope["type"] for frame in frames] == ["ticket.created", "ticket.moved"]
    assert [frame.id for frame in frames] == [7, 8]

    ticket_created = frames[0].envelope
    assert set(ticket_created) == {"type", "data", "tabId", "timestamp"}
    assert ticket_created["tabId"] == "tab-1"
    assert ticket_created["data"] == {**created.json()}
    assert ticket_created["data"]["type"] == "Story"
    assert ticket_created["data"]["priority"] == "High"
    assert ticket_created["timestamp"].endswith("Z")

    ticket_moved = frames[1].envelope
    assert ticket_moved["tabId"] is None
    assert ticket_moved["data"]["columnId"] == column
    assert ticket_moved["data"]["order"] == 0

    resumed = open_stream(server.url, "/api/projects/PROJ/events", cookies=api.http.cookies,
                          headers={"Last-Event-ID": "7"})
    assert [frame.id for frame in resumed.wait_for(1)] == [8]
    resumed.close()
    api.close()
