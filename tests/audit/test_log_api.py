"""GET /api/admin/events and GET /api/projects/{projectId}/history against a real server."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from punt import database
from punt.audit.log import LogFilter, _conditions
from punt.eventstore.schema import EVENTS_TABLE
from tests.support import Api, ServerProcess


@pytest.fixture
def busy(server: ServerProcess, admin: Api) -> dict:
    """Two projects with tickets by two users; returns the users and projects."""
    bob = Api(server.url, tab_id="bob-tab").register_and_login("bob_writer")
    admin.create_project("ALPHA")
    admin.create_project("BETA")
    admin.add_member("ALPHA", "bob_writer", role="admin")
    for index in range(5):
        admin.create_ticket("ALPHA", f"alpha {index}")
        bob.create_ticket("ALPHA", f"bob {index}")
        admin.create_ticket("BETA", f"beta {index}")
    yield {"admin": admin, "bob": bob}
    bob.close()


def _page(api: Api, path: str, **params: object) -> dict:
    response = api.http.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def _all_pages(api: Api, path: str, limit: int, **params: object) -> list[dict]:
    events, after = [], 0
    for _ in range(1000):
        page = _page(api, path, after=after, limit=limit, **params)
        events.extend(page["events"])
        after = page["nextAfter"]
        if not page["hasMore"]:
            return events
    raise AssertionError("paging did not finish")


def test_admin_log_pages_whole_log(busy: dict) -> None:
    admin = busy["admin"]
    events = _all_pages(admin, "/api/admin/events", limit=7)
    assert [event["offset"] for event in events] == list(range(1, len(events) + 1))
    assert len(events) > 25


def test_log_item_has_audit_fields(busy: dict) -> None:
    bob_id = busy["bob"].user["id"]
    tickets = _page(busy["admin"], "/api/admin/events", type="ticket.created", userId=bob_id)["events"]
    assert len(tickets) == 5
    first = tickets[0]
    assert set(first) == {"offset", "stream", "version", "type", "schemaVersion", "data", "tabId", "actorId",
                          "timestamp", "hash"}
    assert first["actorId"] == bob_id
    assert first["tabId"] == "bob-tab"
    assert first["schemaVersion"] == 1
    assert first["data"]["title"] == "bob 0"
    assert len(first["hash"]) == 64
    assert first["timestamp"].endswith("Z")


def test_type_filter_matches_prefix(busy: dict) -> None:
    events = _all_pages(busy["admin"], "/api/admin/events", limit=4, type="ticket.")
    assert len(events) == 15
    assert {event["type"] for event in events} == {"ticket.created"}
    offsets = [event["offset"] for event in events]
    assert offsets == sorted(offsets)


def test_project_filter_accepts_key(busy: dict) -> None:
    events = _all_pages(busy["admin"], "/api/admin/events", limit=50, projectId="BETA")
    types = [event["type"] for event in events]
    assert types.count("ticket.created") == 5
    assert types.count("column.created") == 3
    assert all(event["data"].get("projectId", event["data"].get("id")) == events[0]["data"]["id"]
               for event in events)


def test_time_range_filters_by_timestamp(busy: dict) -> None:
    everything = _all_pages(busy["admin"], "/api/admin/events", limit=100)
    middle = everything[len(everything) // 2]
    since = _all_pages(busy["admin"], "/api/admin/events", limit=100, **{"from": middle["timestamp"]})
    until = _all_pages(busy["admin"], "/api/admin/events", limit=100, to=middle["timestamp"])
    assert all(event["timestamp"] >= middle["timestamp"] for event in since)
    assert all(event["timestamp"] <= middle["timestamp"] for event in until)
    assert middle in since
    assert middle in until
    assert len(since) + len(until) >= len(everything)


def test_log_parameters_validated(busy: dict) -> None:
    admin = busy["admin"]
    for params, field in (({"limit": 0}, "limit"), ({"limit": 1001}, "limit"), ({"after": -1}, "after"),
                          ({"after": "x"}, "after"), ({"from": "yesterday"}, "from"), ({"sort": "desc"}, "sort")):
        response = admin.http.get("/api/admin/events", params=params)
        assert response.status_code == 400, params
        assert response.json()["details"][0]["field"] == field


def test_admin_log_requires_system_admin(busy: dict) -> None:
    assert busy["bob"].http.get("/api/admin/events").status_code == 403


def test_project_history_for_owner_and_admins(server: ServerProcess, busy: dict) -> None:
    carol = Api(server.url).register_and_login("carol_member")
    busy["admin"].add_member("ALPHA", "carol_member", role="member")

    owner_view = _all_pages(busy["admin"], "/api/projects/ALPHA/history", limit=6)
    admin_view = _all_pages(busy["bob"], "/api/projects/ALPHA/history", limit=50)
    assert owner_view == admin_view
    assert sum(event["type"] == "ticket.created" for event in owner_view) == 10
    assert carol.http.get("/api/projects/ALPHA/history").status_code == 403
    assert busy["bob"].http.get("/api/projects/BETA/history").status_code == 403
    carol.close()


def _plan(db: Path, log_filter: LogFilter, extra: str = "") -> str:
    where, params = _conditions(log_filter)
    clauses = " AND ".join(["offset > ?", "offset <= ?", *where, *([extra] if extra else [])])
    sql = f"EXPLAIN QUERY PLAN SELECT * FROM {EVENTS_TABLE} WHERE {clauses} ORDER BY offset LIMIT 10"
    with closing(database.connect(db)) as conn:
        rows = conn.execute(sql, (0, 10**9, *params, *(["ticket.created"] if extra else []))).fetchall()
    return " | ".join(row[-1] for row in rows)


def test_log_filters_read_through_indexes(db_path: Path) -> None:
    """Every filter is served by an index in offset order, so a page never scans or sorts the log."""
    cases = [
        (LogFilter(), "", "USING INTEGER PRIMARY KEY"),
        (LogFilter(project_id="p"), "", "events_by_project"),
        (LogFilter(actor_id="u"), "", "events_by_actor"),
        (LogFilter(), "type = ?", "events_by_type"),
    ]
    for log_filter, extra, index in cases:
        plan = _plan(db_path, log_filter, extra)
        assert index in plan, plan
        assert "TEMP B-TREE" not in plan, plan
    with closing(sqlite3.connect(db_path)) as conn:
        plan = conn.execute(f"EXPLAIN QUERY PLAN SELECT offset FROM {EVENTS_TABLE} WHERE timestamp >= ?"
                            " ORDER BY timestamp, offset LIMIT 1", ("2024",)).fetchall()
    assert "events_by_timestamp" in plan[-1][-1]
