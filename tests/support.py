"""Helpers shared by the test suites: a real server process, HTTP clients and an SSE reader."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator

import httpx
import msgspec

PASSWORD = "CorrectHorse9Battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """``punt serve`` in a subprocess on a loopback port, with its own database file."""

    def __init__(self, db: Path, *, workers: int = 1, env: dict[str, str] | None = None,
                 port: int | None = None) -> None:
        self.db = db
        self.workers = workers
        self.port = port or free_port()
        self.env = {**os.environ, **(env or {})}
        self.log_path = db.with_suffix(f".{self.port}.log")
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 20.0) -> ServerProcess:
        command = [sys.executable, "-m", "punt.cli", "serve", "--db", str(self.db), "--host", "127.0.0.1",
                   "--port", str(self.port), "--workers", str(self.workers)]
        self._log = open(self.log_path, "ab")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, env=self.env,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"punt serve exited with {self.process.returncode}:\n{self.log()}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    if self.workers == 1 or self._all_workers_started():
                        return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"punt serve did not answer within {timeout} s:\n{self.log()}")

    def _all_workers_started(self) -> bool:
        return self.log().count("Application startup complete") >= self.workers

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> float:
        """Signal the server's process group and return how many seconds it took to exit."""
        if self.process is None or self.process.poll() is not None:
            return 0.0
        started = time.monotonic()
        os.killpg(self.process.pid, sig)
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self._log.close()
        return time.monotonic() - started

    def kill(self) -> None:
        self.stop(signal.SIGKILL)


class Api:
    """An httpx client for one user of a running server."""

    def __init__(self, base_url: str, tab_id: str | None = None) -> None:
        headers = {"X-Tab-Id": tab_id} if tab_id else {}
        self.http = httpx.Client(base_url=base_url, headers=headers, timeout=30)
        self.user: dict | None = None

    def register_and_login(self, username: str, password: str = PASSWORD) -> Api:
        response = self.http.post("/api/auth/register", json={"username": username, "password": password})
        assert response.status_code == 201, response.text
        return self.login(username, password)

    def login(self, username: str, password: str = PASSWORD) -> Api:
        response = self.http.post("/api/auth/callback/credentials", json={"username": username, "password": password})
        assert response.status_code == 200, response.text
        self.user = response.json()
        return self

    def create_project(self, key: str, name: str | None = None) -> dict:
        response = self.http.post("/api/projects", json={"name": name or f"Project {key}", "key": key})
        assert response.status_code == 201, response.text
        return response.json()

    def create_ticket(self, project: str, title: str, **fields: object) -> dict:
        response = self.http.post(f"/api/projects/{project}/tickets", json={"title": title, **fields})
        assert response.status_code == 201, response.text
        return response.json()

    def add_member(self, project: str, username: str, role: str = "member") -> dict:
        response = self.http.post(f"/api/projects/{project}/members", json={"username": username, "role": role})
        assert response.status_code == 201, response.text
        return response.json()

    def close(self) -> None:
        self.http.close()


@contextmanager
def signed_in_users(server: ServerProcess, names: Iterable[str]) -> Iterator[dict[str, Api]]:
    """Register and sign in each named user in order (the first becomes system admin); close them afterwards."""
    apis = {name: Api(server.url).register_and_login(name) for name in names}
    try:
        yield apis
    finally:
        for api in apis.values():
            api.close()


@dataclass
class Frame:
    id: int | None
    envelope: dict | None
    comment: str | None = None


@dataclass
class SseReader:
    """Reads an SSE response in a background thread and collects its frames."""

    response: httpx.Response
    client: httpx.Client
    frames: list[Frame] = field(default_factory=list)
    ended: threading.Event = field(default_factory=threading.Event)

    def start(self) -> SseReader:
        threading.Thread(target=self._read, daemon=True).start()
        return self

    def _read(self) -> None:
        event_id, data = None, None
        try:
            for line in self.response.iter_lines():
                if line.startswith(":"):
                    self.frames.append(Frame(None, None, comment=line[1:].strip()))
                elif line.startswith("id: "):
                    event_id = int(line[4:])
                elif line.startswith("data: "):
                    data = msgspec.json.decode(line[6:])
                elif line == "" and data is not None:
                    self.frames.append(Frame(event_id, data))
                    event_id, data = None, None
        except httpx.HTTPError:
            pass
        finally:
            self.ended.set()

    def events(self) -> list[Frame]:
        return [frame for frame in self.frames if frame.envelope is not None]

    def ids(self) -> list[int]:
        return [frame.id for frame in self.events()]

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Frame]:
        """Wait until at least ``count`` events have arrived; return them all."""
        deadline = time.monotonic() + timeout
        while len(self.events()) < count and time.monotonic() < deadline and not self.ended.is_set():
            time.sleep(0.02)
        return self.events()

    def close(self) -> None:
        self.disconnect()
        self.response.close()
        self.client.close()

    def disconnect(self) -> None:
        """Shut the TCP connection down at once, as a closed browser tab would.

        Closing the response alone leaves the socket open while the reader
        thread is blocked in recv(), so the server would not see the client go.
        """
        stream = self.response.extensions.get("network_stream")
        sock = stream.get_extra_info("socket") if stream is not None else None
        if sock is not None:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        self.ended.wait(5)


def open_stream(base_url: str, path: str, *, cookies: httpx.Cookies | None = None,
                headers: dict[str, str] | None = None) -> SseReader:
    """Open an event stream and start reading it; fails the test unless the status is 200."""
    client = httpx.Client(base_url=base_url, cookies=cookies, timeout=httpx.Timeout(30, read=60))
    response = client.send(client.build_request("GET", path, headers=headers), stream=True)
    if response.status_code != 200:
        response.read()
        client.close()
        raise AssertionError(f"stream {path} answered {response.status_code}: {response.text}")
    return SseReader(response, client).start()
