"""End-to-end tests of the event streams against a real ``punt serve`` process.

Expected ids come from the log table itself, read with plain SQL, so a
stream is checked against the database and not against its own code.
"""

from __future__ import annotations

import itertools
import signal
import socket
import sqlite3
import time
from pathlib import Path
from typing import Iterator

import httpx
import msgspec
import pytest

from tests.support import PASSWORD, Api, ServerProcess, SseReader, open_stream

_names = itertools.count(1)


def unique(prefix: str) -> str:
    return f"{prefix}{next(_names)}"


def project_key() -> str:
    return unique("P")


def logged_offsets(db: Path, project_id: str, after: int, prefix: str = "ticket.") -> list[int]:
    """Return the log offsets after ``after`` of one project's events whose type starts with ``prefix``."""
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute(
            "SELECT offset FROM events WHERE project_id = ? AND offset > ? AND type LIKE ? ORDER BY offset",
            (project_id, after, prefix + "%"),
        ).fetchall()
    finally:
        conn.close()
    return [row[0] for row in rows]


def offsets_of_type(db: Path, event_type: str) -> list[int]:
    conn = sqlite3.connect(db)
    try:
        rows = conn.execute("SELECT offset FROM events WHERE type = ? ORDER BY offset", (event_type,)).fetchall()
    finally:
        conn.close()
    return [row[0] for row in rows]


def log_head(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("SELECT coalesce(max(offset), 0) FROM events").fetchone()[0]
    finally:
        conn.close()


def signed_in(server: ServerProcess, prefix: str = "user", tab_id: str | None = None) -> Api:
    return Api(server.url, tab_id=tab_id).register_and_login(unique(prefix))


def project_stream(server: ServerProcess, api: Api, project_id: str, **headers: str) -> SseReader:
    return open_stream(server.url, f"/api/projects/{project_id}/events", cookies=api.http.cookies,
                       headers=headers or None)


def wait_until_ended(reader: SseReader, timeout: float = 5.0) -> bool:
    return reader.ended.wait(timeout)


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server for the tests that need no settings of their own; its keepalive is 1 s."""
    server = ServerProcess(tmp_path_factory.mktemp("shared") / "punt.db",
                           env={"PUNT_SSE_KEEPALIVE_SECONDS": "1"}).start()
    # The first user becomes system admin; register it so that later users are plain users.
    Api(server.url).register_and_login("shared_admin").close()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def owner(shared: ServerProcess) -> Iterator[Api]:
    api = signed_in(shared, "owner", tab_id="owner-tab")
    yield api
    api.close()


# -- Raw HTTP, for checking the bytes on the wire -----------------------------------------------


class RawStream:
    """An HTTP/1.1 GET over a plain socket that keeps the response's bytes as sent."""

    def __init__(self, server: ServerProcess, path: str, headers: dict[str, str],
                 receive_buffer: int | None = None) -> None:
        self.sock = socket.socket()
        if receive_buffer is not None:
            # Set before connecting, so the advertised TCP window stays this small.
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
        self.sock.connect(("127.0.0.1", server.port))
        lines = [f"GET {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}",
                 *(f"{name}: {value}" for name, value in headers.items()), "", ""]
        self.sock.sendall("\r\n".join(lines).encode())
        self.buffer = b""

    def read_head(self, timeout: float = 5.0) -> tuple[int, dict[str, str]]:
        self._read_until(lambda: b"\r\n\r\n" in self.buffer, timeout)
        head, self.buffer = self.buffer.split(b"\r\n\r\n", 1)
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
        return int(status_line.split()[1]), headers

    def read_body_until(self, marker: bytes, timeout: float = 5.0) -> bytes:
        """Return the de-chunked body once it contains ``marker``."""
        self._read_until(lambda: marker in self._dechunked(), timeout)
        return self._dechunked()

    def _dechunked(self) -> bytes:
        body, rest = b"", self.buffer
        while b"\r\n" in rest:
            size_line, after = rest.split(b"\r\n", 1)
            size = int(size_line, 16)
            if len(after) < size + 2:
                break
            body += after[:size]
            rest = after[size + 2:]
        return body

    def _read_until(self, done, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"timed out; received so far: {self.buffer[-2000:]!r}")
            self.sock.settimeout(remaining)
            chunk = self.sock.recv(65536)
            if not chunk:
                raise AssertionError(f"connection closed; received: {self.buffer[-2000:]!r}")
            self.buffer += chunk

    def close(self) -> None:
        self.sock.close()


def session_header(api: Api) -> dict[str, str]:
    return {"Cookie": f"punt_session={api.http.cookies['punt_session']}"}


# -- Envelope and framing ---------------------------------------------------------------------


def test_frame_carries_id_and_envelope(shared: ServerProcess, owner: Api) -> None:
    project = owner.create_project(project_key())
    raw = RawStream(shared, f"/api/projects/{project['id']}/events",
                    {**session_header(owner), "Accept-Encoding": "gzip, deflate, br"})
    try:
        status, headers = raw.read_head()
        assert status == 200
        assert headers["content-type"].startswith("text/event-stream")
        assert headers["cache-control"] == "no-cache"
        assert headers["x-accel-buffering"] == "no"
        assert headers.get("content-encoding", "identity") == "identity"

        with_tab = owner.create_ticket(project["id"], "with a tab id")
        without_tab = Api(shared.url)
        without_tab.http.cookies = owner.http.cookies
        without_tab.create_ticket(project["id"], "without a tab id")
        body = raw.read_body_until(b"without a tab id")
    finally:
        raw.close()

    frames = [block for block in body.decode().split("\n\n") if block and not block.startswith(":")]
    expected_ids = logged_offsets(shared.db, project["id"], 0)
    assert len(frames) == 2
    envelopes = []
    for frame, expected_id in zip(frames, expected_ids):
        lines = frame.split("\n")
        assert lines[0] == f"id: {expected_id}"
        assert len(lines) == 2, f"expected an id and one data line, got {lines!r}"
        assert lines[1].startswith("data: ")
        assert not any(line.startswith("event:") for line in lines)
        envelopes.append(msgspec.json.decode(lines[1][len("data: "):]))

    for envelope in envelopes:
        assert list(envelope) == ["type", "data", "tabId", "timestamp"]
        assert envelope["type"] == "ticket.created"
    assert envelopes[0]["data"]["id"] == with_tab["id"]
    assert envelopes[0]["tabId"] == "owner-tab"
    assert envelopes[1]["tabId"] is None
    assert envelopes[0]["timestamp"].endswith("Z")


# -- Resume after a disconnect ----------------------------------------------------------------


def _resume_after_disconnect(server: ServerProcess, api: Api, resume: dict[str, str], query: str) -> None:
    project = api.create_project(project_key())
    first = project_stream(server, api, project["id"])
    for number in range(3):
        api.create_ticket(project["id"], f"before {number}")
    received = first.wait_for(3)
    first.close()
    assert first.ids() == logged_offsets(server.db, project["id"], 0)

    last_seen = received[1].id  # resume from the middle, as if the last frame was lost
    for number in range(4):
        api.create_ticket(project["id"], f"while away {number}")
    headers = {name: value.format(last=last_seen) for name, value in resume.items()}
    path = f"/api/projects/{project['id']}/events" + query.format(last=last_seen)
    second = open_stream(server.url, path, cookies=api.http.cookies, headers=headers)
    api.create_ticket(project["id"], "after the reconnect")

    expected = logged_offsets(server.db, project["id"], last_seen)
    assert len(expected) == 6
    second.wait_for(len(expected))
    time.sleep(0.2)  # a duplicate would arrive right behind the last expected frame
    second.close()
    assert second.ids() == expected


def test_resume_with_last_event_id_header(shared: ServerProcess, owner: Api) -> None:
    _resume_after_disconnect(shared, owner, {"Last-Event-ID": "{last}"}, "")


def test_resume_with_last_event_id_query(shared: ServerProcess, owner: Api) -> None:
    _resume_after_disconnect(shared, owner, {}, "?lastEventId={last}")


def test_resume_header_wins_over_query(shared: ServerProcess, owner: Api) -> None:
    # The query names offset 1, which would replay the project's whole history.
    _resume_after_disconnect(shared, owner, {"Last-Event-ID": "{last}"}, "?lastEventId=1")


# -- Resume across a crash --------------------------------------------------------------------


def test_resume_after_server_killed(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "punt.db").start()
    try:
        api = signed_in(server, "crash")
        project = api.create_project(project_key())
        stream = project_stream(server, api, project["id"])
        for number in range(3):
            api.create_ticket(project["id"], f"before the crash {number}")
        stream.wait_for(3)
        last_seen = stream.ids()[-1]
        server.kill()
        assert wait_until_ended(stream)
        stream.close()

        server.start()
        for number in range(2):
            api.create_ticket(project["id"], f"after the restart {number}")
        resumed = project_stream(server, api, project["id"], **{"Last-Event-ID": str(last_seen)})
        api.create_ticket(project["id"], "live after the restart")
        expected = logged_offsets(server.db, project["id"], last_seen)
        assert len(expected) == 3
        resumed.wait_for(len(expected))
        time.sleep(0.2)
        resumed.close()
        assert stream.ids() == logged_offsets(server.db, project["id"], 0)[:3]
        assert resumed.ids() == expected
    finally:
        server.stop()


# -- Two worker processes ---------------------------------------------------------------------


def _worker_pids(server: ServerProcess) -> set[int]:
    children = Path(f"/proc/{server.process.pid}/task/{server.process.pid}/children").read_text()
    return {int(pid) for pid in children.split()}


def _socket_inodes(pid: int) -> set[str]:
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = fd.readlink().name
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:["):-1])
    return inodes


def serving_worker(server: ServerProcess, client_port: int) -> int:
    """Return the pid of the worker process that owns the server side of a client's connection."""
    wanted = f"0100007F:{server.port:04X} 0100007F:{client_port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if f"{fields[1]} {fields[2]}" == wanted:
            inode = fields[9]
            break
    else:
        raise AssertionError(f"no server socket for client port {client_port}")
    for pid in _worker_pids(server):
        if inode in _socket_inodes(pid):
            return pid
    raise AssertionError(f"no worker owns socket inode {inode}")


def _client_port(response: httpx.Response) -> int:
    return response.extensions["network_stream"].get_extra_info("client_addr")[1]


def create_ticket_on_new_connection(server: ServerProcess, api: Api, project_id: str, title: str) -> int:
    """Create a ticket over a fresh connection; return the pid of the worker that handled it."""
    with httpx.Client(base_url=server.url, cookies=api.http.cookies, timeout=30) as client:
        with client.stream("POST", f"/api/projects/{project_id}/tickets", json={"title": title}) as response:
            response.read()
            assert response.status_code == 201, response.text
            return serving_worker(server, _client_port(response))


@pytest.fixture(scope="module")
def two_workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = ServerProcess(tmp_path_factory.mktemp("workers") / "punt.db", workers=2).start()
    yield server
    server.stop()


def test_stream_gets_commits_of_both_workers(two_workers: ServerProcess) -> None:
    api = signed_in(two_workers, "workers")
    project = api.create_project(project_key())
    start = log_head(two_workers.db)
    stream = project_stream(two_workers, api, project["id"])
    handled_by = [create_ticket_on_new_connection(two_workers, api, project["id"], f"ticket {number}")
                  for number in range(40)]

    expected = logged_offsets(two_workers.db, project["id"], start)
    assert len(expected) == 40
    stream.wait_for(40)
    time.sleep(0.2)
    stream.close()
    # The kernel decides which worker accepts each connection, so both
    # usually get some but not always; the two-process tests below cross
    # processes on purpose.
    assert handled_by
    assert stream.ids() == expected


@pytest.fixture(scope="module")
def two_processes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two separate server processes on one database file, as workers are, but each with its own port."""
    db = tmp_path_factory.mktemp("processes") / "punt.db"
    first = ServerProcess(db).start()
    second = ServerProcess(db).start()
    yield first, second
    second.stop()
    first.stop()


def test_stream_gets_other_process_commits(two_processes: tuple[ServerProcess, ServerProcess]) -> None:
    first, second = two_processes
    api = signed_in(first, "processes")
    project = api.create_project(project_key())
    start = log_head(first.db)
    stream = project_stream(first, api, project["id"])

    for number in range(20):
        server = second if number % 2 == 0 else first
        response = api.http.post(f"{server.url}/api/projects/{project['id']}/tickets", json={"title": f"t{number}"})
        assert response.status_code == 201

    expected = logged_offsets(first.db, project["id"], start)
    assert len(expected) == 20
    stream.wait_for(20)
    time.sleep(0.2)
    stream.close()
    assert stream.ids() == expected


def test_resume_on_other_process(two_processes: tuple[ServerProcess, ServerProcess]) -> None:
    first, second = two_processes
    api = signed_in(first, "resumer")
    project = api.create_project(project_key())
    last_seen = log_head(first.db)
    for round_number in range(6):
        writer, reader = (first, second) if round_number % 2 == 0 else (second, first)
        response = api.http.post(f"{writer.url}/api/projects/{project['id']}/tickets", json={"title": "x"})
        assert response.status_code == 201

        stream = project_stream(reader, api, project["id"], **{"Last-Event-ID": str(last_seen)})
        expected = logged_offsets(first.db, project["id"], last_seen)
        stream.wait_for(len(expected))
        time.sleep(0.1)
        stream.close()
        assert stream.ids() == expected
        last_seen = expected[-1]


def test_resume_with_two_workers(two_workers: ServerProcess) -> None:
    api = signed_in(two_workers, "workers")
    project = api.create_project(project_key())
    last_seen = log_head(two_workers.db)
    for round_number in range(8):
        create_ticket_on_new_connection(two_workers, api, project["id"], f"round {round_number}")
        stream = project_stream(two_workers, api, project["id"], **{"Last-Event-ID": str(last_seen)})
        expected = logged_offsets(two_workers.db, project["id"], last_seen)
        stream.wait_for(len(expected))
        stream.close()
        assert stream.ids() == expected
        last_seen = expected[-1]


# -- Rejected connections and a resume beyond the end -----------------------------------------


def _stream_status(server: ServerProcess, path: str, cookies: httpx.Cookies | None = None,
                   headers: dict[str, str] | None = None) -> httpx.Response:
    with httpx.Client(base_url=server.url, cookies=cookies, timeout=10) as client:
        with client.stream("GET", path, headers=headers) as response:
            response.read()
            return response


def test_stream_without_session_is_401(shared: ServerProcess, owner: Api) -> None:
    project = owner.create_project(project_key())
    for path in (f"/api/projects/{project['id']}/events", "/api/projects/events", "/api/users/events"):
        response = _stream_status(shared, path)
        assert response.status_code == 401, path
        assert "error" in response.json()


def test_stream_of_non_member_is_403(shared: ServerProcess, owner: Api) -> None:
    project = owner.create_project(project_key())
    outsider = signed_in(shared, "outsider")
    response = _stream_status(shared, f"/api/projects/{project['id']}/events", outsider.http.cookies)
    assert response.status_code == 403


def test_stream_of_unknown_project_is_404(shared: ServerProcess, owner: Api) -> None:
    response = _stream_status(shared, "/api/projects/NOSUCH/events", owner.http.cookies)
    assert response.status_code == 404


@pytest.mark.parametrize("value", ["abc", "-1", "1.5", "+5", "0x10", "1e3", "99999999999999999999"])
def test_malformed_resume_id_is_400(shared: ServerProcess, owner: Api, value: str) -> None:
    project = owner.create_project(project_key())
    path = f"/api/projects/{project['id']}/events"
    by_header = _stream_status(shared, path, owner.http.cookies, {"Last-Event-ID": value})
    query = httpx.QueryParams({"lastEventId": value})
    by_query = _stream_status(shared, f"{path}?{query}", owner.http.cookies)
    assert by_header.status_code == 400, by_header.text
    assert by_query.status_code == 400, by_query.text
    assert "Last-Event-ID" in by_header.json()["error"] + str(by_header.json().get("details"))


def test_resume_beyond_end_sends_reset(shared: ServerProcess, owner: Api) -> None:
    project = owner.create_project(project_key())
    head = log_head(shared.db)
    stream = project_stream(shared, owner, project["id"], **{"Last-Event-ID": str(head + 1000)})
    stream.wait_for(1)
    ticket = owner.create_ticket(project["id"], "after the reset")
    frames = stream.wait_for(2)
    stream.close()

    assert frames[0].envelope["type"] == "stream.reset"
    assert frames[0].envelope["data"] == {"lastEventId": head + 1000, "head": frames[0].id}
    assert frames[0].id >= head
    assert frames[0].envelope["tabId"] is None
    assert frames[1].envelope["type"] == "ticket.created"
    assert frames[1].envelope["data"]["id"] == ticket["id"]
    assert [frame.id for frame in frames[1:]] == logged_offsets(shared.db, project["id"], frames[0].id)


# -- Stream limits ----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with small stream limits and a fan-out ring of only 8 events."""
    server = ServerProcess(tmp_path_factory.mktemp("limited") / "punt.db", env={
        "PUNT_MAX_STREAMS_PER_USER": "3",
        "PUNT_MAX_STREAMS_PER_PROJECT": "4",
        "PUNT_FANOUT_RING_SIZE": "8",
    }).start()
    yield server
    server.stop()


def test_streams_past_user_limit_get_429(limited: ServerProcess) -> None:
    api = signed_in(limited, "limited")
    project = api.create_project(project_key())
    paths = [f"/api/projects/{project['id']}/events", "/api/projects/events", "/api/users/events"]
    streams = [open_stream(limited.url, path, cookies=api.http.cookies) for path in paths]
    try:
        for path in paths:
            response = _stream_status(limited, path, api.http.cookies)
            assert response.status_code == 429, path
            assert "PUNT_MAX_STREAMS_PER_USER" in response.json()["error"]
            assert int(response.headers["retry-after"]) > 0
    finally:
        for stream in streams:
            stream.close()


def test_streams_past_project_limit_get_429(limited: ServerProcess) -> None:
    owner = signed_in(limited, "limited")
    project = owner.create_project(project_key())
    members = [signed_in(limited, "member") for _ in range(3)]
    for member in members:
        owner.add_member(project["id"], member.user["username"])
    streams = [project_stream(limited, api, project["id"]) for api in (owner, owner, *members[:2])]
    try:
        response = _stream_status(limited, f"/api/projects/{project['id']}/events", members[2].http.cookies)
        assert response.status_code == 429
        assert "PUNT_MAX_STREAMS_PER_PROJECT" in response.json()["error"]
        # The project limit leaves the user's other streams alone.
        streams.append(open_stream(limited.url, "/api/users/events", cookies=members[2].http.cookies))
    finally:
        for stream in streams:
            stream.close()


def test_dropped_streams_free_their_slots(limited: ServerProcess) -> None:
    api = signed_in(limited, "churn")
    for attempt in range(50):
        stream = open_stream(limited.url, "/api/users/events", cookies=api.http.cookies)
        stream.close()
    assert limited.log().count("stream closed") >= 50


def test_blocked_stream_frees_slot_on_disconnect(limited: ServerProcess) -> None:
    """A client that stops reading makes the server wait in send(); dropping it must still free its slot."""
    api = signed_in(limited, "blocked")
    project = api.create_project(project_key())
    ticket_ids = [api.create_ticket(project["id"], f"ticket {number}")["id"] for number in range(60)]
    for round_number in range(5):
        response = api.http.patch(f"/api/projects/{project['id']}/tickets", json={
            "ticketIds": ticket_ids, "updates": {"description": str(round_number) * 20_000}})
        assert response.status_code == 200, response.text

    # Three slots: hold two with blocked replays of about 6 MB each, then drop them.
    blocked = [RawStream(limited, f"/api/projects/{project['id']}/events?lastEventId=0", session_header(api),
                         receive_buffer=4096) for _ in range(2)]
    for raw in blocked:
        assert raw.read_head()[0] == 200
    time.sleep(0.3)
    closed_before = limited.log().count("stream closed")
    for raw in blocked:
        raw.close()

    deadline = time.monotonic() + 5
    while limited.log().count("stream closed") < closed_before + 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    streams = [open_stream(limited.url, "/api/users/events", cookies=api.http.cookies) for _ in range(3)]
    for stream in streams:
        stream.close()


# -- Keepalive --------------------------------------------------------------------------------


def test_keepalive_comment_during_silence(shared: ServerProcess, owner: Api) -> None:
    stream = open_stream(shared.url, "/api/users/events", cookies=owner.http.cookies)
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and not any(frame.comment == "keepalive" for frame in stream.frames):
        time.sleep(0.05)
    stream.close()
    assert any(frame.comment == "keepalive" for frame in stream.frames), stream.frames


def test_keepalive_while_other_projects_busy(shared: ServerProcess, owner: Api) -> None:
    """Events of other projects wake the stream but send it nothing, so they must not hold back keepalives."""
    quiet = owner.create_project(project_key())
    busy = owner.create_project(project_key())
    stream = project_stream(shared, owner, quiet["id"])
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and not any(frame.comment == "keepalive" for frame in stream.frames):
        owner.create_ticket(busy["id"], "traffic elsewhere")
        time.sleep(0.1)
    stream.close()
    assert any(frame.comment == "keepalive" for frame in stream.frames), stream.frames
    assert stream.events() == []


# -- Access checked on every event ------------------------------------------------------------


def test_removed_member_stream_ends(shared: ServerProcess, owner: Api) -> None:
    project = owner.create_project(project_key())
    member = signed_in(shared, "member")
    membership = owner.add_member(project["id"], member.user["username"])
    start = log_head(shared.db)
    stream = project_stream(shared, member, project["id"])
    owner.create_ticket(project["id"], "seen by the member")
    response = owner.http.delete(f"/api/projects/{project['id']}/members/{membership['id']}")
    assert response.status_code == 200, response.text
    owner.create_ticket(project["id"], "after the removal")

    assert wait_until_ended(stream)
    types = [frame.envelope["type"] for frame in stream.events()]
    assert types == ["ticket.created", "member.removed"]
    assert stream.events()[1].envelope["data"]["userId"] == member.user["id"]
    assert stream.ids() == logged_offsets(shared.db, project["id"], start, "")[:2]
    stream.close()


def test_sign_out_ends_that_session_streams(shared: ServerProcess, owner: Api) -> None:
    project = owner.create_project(project_key())
    leaving = Api(shared.url).login(owner.user["username"])
    other_session = Api(shared.url).login(owner.user["username"])
    signed_out = [project_stream(shared, leaving, project["id"]),
                  open_stream(shared.url, "/api/users/events", cookies=leaving.http.cookies)]
    kept = project_stream(shared, other_session, project["id"])

    response = leaving.http.post("/api/auth/signout")
    assert response.status_code == 200, response.text
    for stream in signed_out:
        assert wait_until_ended(stream)
        assert stream.events() == []
        stream.close()

    ticket = other_session.create_ticket(project["id"], "after the sign-out")
    kept.wait_for(1)
    assert not kept.ended.is_set()
    kept.close()
    assert [frame.envelope["data"]["id"] for frame in kept.events()] == [ticket["id"]]


def test_revoked_api_key_ends_its_streams(shared: ServerProcess, owner: Api) -> None:
    project = owner.create_project(project_key())
    response = owner.http.post("/api/me/mcp-key")
    assert response.status_code == 201, response.text
    stream = open_stream(shared.url, f"/api/projects/{project['id']}/events",
                         headers={"X-MCP-API-Key": response.json()["apiKey"]})
    owner.create_ticket(project["id"], "before the revocation")
    stream.wait_for(1)
    assert owner.http.delete("/api/me/mcp-key").status_code == 200
    assert wait_until_ended(stream)
    stream.close()
    assert [frame.envelope["type"] for frame in stream.events()] == ["ticket.created"]


def test_project_deleted_ends_stream(shared: ServerProcess, owner: Api) -> None:
    project = owner.create_project(project_key())
    stream = project_stream(shared, owner, project["id"])
    response = owner.http.delete(f"/api/projects/{project['id']}")
    assert response.status_code == 200, response.text
    assert wait_until_ended(stream)
    stream.close()
    assert [frame.envelope["type"] for frame in stream.events()] == ["project.deleted"]
    assert stream.events()[0].envelope["data"] == {"id": project["id"]}


def test_project_list_shows_visible_projects(shared: ServerProcess, owner: Api) -> None:
    watcher = signed_in(shared, "watcher")
    stream = open_stream(shared.url, "/api/projects/events", cookies=watcher.http.cookies)

    hidden = owner.create_project(project_key())
    shared_project = owner.create_project(project_key())
    membership = owner.add_member(shared_project["id"], watcher.user["username"])
    for project in (hidden, shared_project):
        assert owner.http.patch(f"/api/projects/{project['id']}", json={"name": "Renamed"}).status_code == 200
    own = watcher.create_project(project_key())
    assert owner.http.delete(f"/api/projects/{shared_project['id']}/members/{membership['id']}").status_code == 200
    assert owner.http.patch(f"/api/projects/{shared_project['id']}", json={"name": "Unseen"}).status_code == 200
    assert owner.http.delete(f"/api/projects/{shared_project['id']}").status_code == 200
    assert owner.http.delete(f"/api/projects/{hidden['id']}").status_code == 200
    assert watcher.http.delete(f"/api/projects/{own['id']}").status_code == 200

    expected = [
        ("member.added", shared_project["id"]),
        ("project.updated", shared_project["id"]),
        ("project.created", own["id"]),
        ("member.added", own["id"]),
        ("member.removed", shared_project["id"]),
        ("project.deleted", own["id"]),
    ]
    stream.wait_for(len(expected))
    time.sleep(0.2)
    stream.close()
    received = [(frame.envelope["type"], frame.envelope["data"].get("projectId") or frame.envelope["data"]["id"])
                for frame in stream.events()]
    assert received == expected
    ids = stream.ids()
    assert ids == sorted(ids)


def test_users_stream_sends_profile_summary(shared: ServerProcess, owner: Api) -> None:
    watcher = signed_in(shared, "watcher")
    stream = open_stream(shared.url, "/api/users/events", cookies=watcher.http.cookies)
    response = owner.http.patch("/api/me", json={"name": "New Name", "avatarColor": "#123456"})
    assert response.status_code == 200, response.text
    frames = stream.wait_for(1)
    stream.close()

    assert len(frames) == 1
    assert frames[0].envelope["type"] == "user.updated"
    assert frames[0].envelope["tabId"] == "owner-tab"
    assert frames[0].envelope["data"] == {
        "id": owner.user["id"],
        "username": owner.user["username"],
        "name": "New Name",
        "avatar": None,
        "avatarColor": "#123456",
    }
    assert frames[0].id == log_head(shared.db)


def test_database_wipe_ends_every_stream(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "punt.db").start()
    try:
        admin = signed_in(server, "admin")
        user = signed_in(server, "user")
        project = user.create_project(project_key())
        streams = [
            project_stream(server, user, project["id"]),
            project_stream(server, admin, project["id"]),
            open_stream(server.url, "/api/projects/events", cookies=user.http.cookies),
            open_stream(server.url, "/api/users/events", cookies=admin.http.cookies),
        ]
        response = admin.http.post("/api/admin/database/wipe", json={
            "confirmPassword": PASSWORD, "confirmation": "wipe all data"})
        assert response.status_code == 200, response.text

        for stream in streams:
            assert wait_until_ended(stream)
            stream.close()
            assert [frame.envelope["type"] for frame in stream.events()] == ["database.wiped"]
            assert stream.ids() == offsets_of_type(server.db, "database.wiped")
    finally:
        server.stop()


# -- Shutdown ---------------------------------------------------------------------------------


def test_sigterm_with_open_streams_exits(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "punt.db").start()
    try:
        api = signed_in(server, "shutdown")
        project = api.create_project(project_key())
        streams = [project_stream(server, api, project["id"]) for _ in range(3)]
        streams.append(open_stream(server.url, "/api/users/events", cookies=api.http.cookies))
        seconds = server.stop(signal.SIGTERM)
        assert server.process.returncode is not None
        # A liveness bound: the server must not wait for clients that never leave.
        assert seconds < 10
        for stream in streams:
            assert wait_until_ended(stream)
            stream.close()
    finally:
        server.stop()


# -- A subscriber slower than the fan-out ring -----------------------------------------------


def test_slow_subscriber_falls_back_and_rejoins(limited: ServerProcess) -> None:
    api = signed_in(limited, "slow")
    project = api.create_project(project_key())
    ticket_ids = [api.create_ticket(project["id"], f"ticket {number}")["id"] for number in range(30)]
    start = log_head(limited.db)

    client = httpx.Client(base_url=limited.url, cookies=api.http.cookies, timeout=httpx.Timeout(30, read=60))
    response = client.send(client.build_request("GET", f"/api/projects/{project['id']}/events"), stream=True)
    assert response.status_code == 200
    # Each bulk update commits 30 events at once, more than the ring of 8 keeps,
    # and nothing reads the response meanwhile.
    for round_number in range(3):
        update = {"ticketIds": ticket_ids, "updates": {"storyPoints": round_number + 1}}
        assert api.http.patch(f"/api/projects/{project['id']}/tickets", json=update).status_code == 200
        api.create_ticket(project["id"], f"single {round_number}")

    expected = logged_offsets(limited.db, project["id"], start)
    assert len(expected) == 93
    stream = SseReader(response, client).start()
    stream.wait_for(len(expected))
    api.create_ticket(project["id"], "live after catching up")
    expected = logged_offsets(limited.db, project["id"], start)
    stream.wait_for(len(expected))
    time.sleep(0.2)
    stream.close()
    assert stream.ids() == expected
