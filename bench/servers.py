"""Server processes the benchmarks start and stop: ``punt serve`` and the reference apps, on loopback only."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

__all__ = ["Server", "punt_server", "reference_server", "rss_kib"]

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Server:
    """A server subprocess in its own process group, listening on a free port of 127.0.0.1."""

    def __init__(self, command: list[str], port: int, log_path: Path, env: dict[str, str], health: str,
                 workers: int = 1) -> None:
        self.port = port
        self.log_path = log_path
        self.workers = workers
        self._log = log_path.open("ab")
        self.process = subprocess.Popen(command, stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT,
                                        env={**os.environ, "PYTHONPATH": str(ROOT), **env}, start_new_session=True)
        self._wait_ready(health)

    def _wait_ready(self, health: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; log: {self.log_path}")
            try:
                with urllib.request.urlopen(f"http://{HOST}:{self.port}{health}", timeout=1) as response:
                    started = self.log_path.read_text(errors="replace").count("Application startup complete")
                    if response.status == 200 and started >= self.workers:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not respond at {health} within {timeout} s; see its log at {self.log_path}")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self._log.close()

    def __enter__(self) -> Server:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


def punt_server(db: Path, workers: int = 1, env: dict[str, str] | None = None) -> Server:
    """Start ``punt serve`` on ``db``; stream limits are raised so that thousands of subscribers fit."""
    port = _free_port()
    command = [sys.executable, "-m", "punt.cli", "serve", "--db", str(db), "--host", HOST, "--port", str(port),
               "--workers", str(workers)]
    limits = {"PUNT_MAX_STREAMS_PER_USER": "100000", "PUNT_MAX_STREAMS_PER_PROJECT": "100000"}
    return Server(command, port, db.with_suffix(f".{port}.log"), {**limits, **(env or {})}, "/api/health", workers)


def reference_server(app: str, log_dir: Path) -> Server:
    """Start a reference app from ``bench.reference`` on uvicorn with one worker."""
    port = _free_port()
    command = [sys.executable, "-m", "uvicorn", f"bench.reference:{app}", "--host", HOST, "--port", str(port),
               "--log-level", "warning", "--no-access-log"]
    return Server(command, port, log_dir / f"{app}.{port}.log", {}, "/health", workers=0)


def rss_kib(pid: int) -> int:
    """Return a process's resident memory in KiB, from /proc (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError(f"no VmRSS line in /proc/{pid}/status")
