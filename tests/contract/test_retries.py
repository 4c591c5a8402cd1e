"""Idempotency-Key and If-Match, each under 20 concurrent identical requests."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest

from tests.commands import event_count, log_unchanged
from tests.support import Api, ServerProcess

CONCURRENCY = 20


@pytest.fixture
def project(admin: Api) -> dict:
    return admin.create_project("RETRY")


def _concurrently(send, count: int = CONCURRENCY) -> list[httpx.Response]:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: send(), range(count)))


def test_concurrent_retries_execute_once(server: ServerProcess, admin: Api, project: dict) -> None:
    before = event_count(server.db)
    path = f"/api/projects/{project['key']}/tickets"
    headers = {"Idempotency-Key": "create-ticket-1"}

    responses = _concurrently(lambda: admin.http.post(path, json={"title": "Once"}, headers=headers))

    assert {response.status_code for response in responses} == {201}
    assert len({response.json()["id"] for response in responses}) == 1
    assert len({response.text for response in responses}) == 1
    assert event_count(server.db) == before + 1
    assert len(admin.http.get(path).json()) == 1


def test_retry_returns_original_response(server: ServerProcess, admin: Api, project: dict) -> None:
    path = f"/api/projects/{project['key']}/labels"
    first = admin.http.post(path, json={"name": "urgent"}, headers={"Idempotency-Key": "label-1"})
    with log_unchanged(server.db):
        retry = admin.http.post(path, json={"name": "urgent"}, headers={"Idempotency-Key": "label-1"})
    assert first.status_code == 201
    assert retry.status_code == 201
    assert retry.json() == first.json()


def test_reused_key_different_body_rejected(server: ServerProcess, admin: Api, project: dict) -> None:
    path = f"/api/projects/{project['key']}/tickets"
    assert admin.http.post(path, json={"title": "A"}, headers={"Idempotency-Key": "k"}).status_code == 201
    with log_unchanged(server.db):
        reused = admin.http.post(path, json={"title": "B"}, headers={"Idempotency-Key": "k"})
    assert reused.status_code == 422
    assert reused.json()["details"][0]["field"] == "Idempotency-Key"


def test_idempotency_keys_are_per_user(server: ServerProcess, admin: Api, project: dict) -> None:
    other = Api(server.url).register_and_login("other_user")
    path = "/api/projects"
    first = admin.http.post(path, json={"name": "One", "key": "ONE"}, headers={"Idempotency-Key": "same"})
    second = other.http.post(path, json={"name": "Two", "key": "TWO"}, headers={"Idempotency-Key": "same"})
    assert first.status_code == 201
    assert second.status_code == 201
    assert second.json()["key"] == "TWO"


def test_malformed_idempotency_key_rejected(server: ServerProcess, admin: Api, project: dict) -> None:
    path = f"/api/projects/{project['key']}/tickets"
    for key in ("", "has space", "x" * 256):
        with log_unchanged(server.db):
            response = admin.http.post(path, json={"title": "A"}, headers={"Idempotency-Key": key})
        assert response.status_code == 400, key
        assert response.json()["details"][0]["field"] == "Idempotency-Key"


def test_responses_carry_version_etag(admin: Api, project: dict) -> None:
    got = admin.http.get(f"/api/projects/{project['key']}")
    assert got.headers["etag"] == '"1"'
    ticket = admin.create_ticket(project["key"], "Tagged")
    fetched = admin.http.get(f"/api/projects/{project['key']}/tickets/{ticket['id']}")
    assert fetched.headers["etag"] == '"1"'


def test_concurrent_if_match_one_wins(server: ServerProcess, admin: Api, project: dict) -> None:
    ticket = admin.create_ticket(project["key"], "Contended")
    path = f"/api/projects/{project['key']}/tickets/{ticket['id']}"
    etag = admin.http.get(path).headers["etag"]
    before = event_count(server.db)
    titles = iter(range(CONCURRENCY))

    responses = _concurrently(
        lambda: admin.http.patch(path, json={"title": f"Title {next(titles)}"}, headers={"If-Match": etag}))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] + [412] * (CONCURRENCY - 1)
    assert event_count(server.db) == before + 1


def test_stale_if_match_appends_nothing(server: ServerProcess, admin: Api, project: dict) -> None:
    path = f"/api/projects/{project['key']}"
    stale = admin.http.get(path).headers["etag"]
    updated = admin.http.patch(path, json={"name": "Renamed"}, headers={"If-Match": stale})
    assert updated.status_code == 200
    assert updated.headers["etag"] != stale
    with log_unchanged(server.db):
        rejected = admin.http.patch(path, json={"name": "Again"}, headers={"If-Match": stale})
        deleted = admin.http.delete(path, headers={"If-Match": stale})
    assert rejected.status_code == 412
    assert deleted.status_code == 412
    assert "error" in rejected.json()


def test_label_delete_honours_if_match(server: ServerProcess, admin: Api, project: dict) -> None:
    created = admin.http.post(f"/api/projects/{project['key']}/labels", json={"name": "later"})
    assert created.headers["etag"] == '"1"'
    label = created.json()
    path = f"/api/projects/{project['key']}/labels/{label['id']}"
    with log_unchanged(server.db):
        assert admin.http.delete(path, headers={"If-Match": '"7"'}).status_code == 412
    assert admin.http.delete(path, headers={"If-Match": '"1"'}).status_code == 200


def test_malformed_if_match_rejected(server: ServerProcess, admin: Api, project: dict) -> None:
    path = f"/api/projects/{project['key']}"
    with log_unchanged(server.db):
        response = admin.http.patch(path, json={"name": "X"}, headers={"If-Match": "W/1"})
    assert response.status_code == 400
    assert response.json()["details"][0]["field"] == "If-Match"
