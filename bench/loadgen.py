"""A small asyncio HTTP/1.1 client for load: keep-alive requests and Server-Sent Event readers.

It sends prepared bytes and parses only the status line and Content-Length
or chunked framing, so one client process can drive a server process on
the other core without being the bottleneck as soon as a full client
library would be.
"""

from __future__ import annotations

import asyncio
import re
import time
from typing import Callable

__all__ = ["HttpConnection", "SseReader", "build_request"]

HOST = "127.0.0.1"


def build_request(method: str, path: str, port: int, body: bytes = b"", headers: dict[str, str] | None = None) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{port}"]
    lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
    if body or method in ("POST", "PUT", "PATCH"):
        lines += ["Content-Type: application/json", f"Content-Length: {len(body)}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


class HttpConnection:
    """One keep-alive connection to a loopback server."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader = reader
        self._writer = writer

    @classmethod
    async def open(cls, port: int) -> HttpConnection:
        reader, writer = await asyncio.open_connection(HOST, port, limit=2**20)
        return cls(reader, writer)

    async def request(self, raw: bytes) -> tuple[int, dict[str, str], bytes]:
        """Send one request and return (status, lower-cased headers, body)."""
        self._writer.write(raw)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        headers = {}
        for line in header_lines:
            if line:
                name, _, value = line.partition(":")
                headers.setdefault(name.strip().lower(), value.strip())
        status = int(status_line.split()[1])
        if "content-length" in headers:
            body = await self._reader.readexactly(int(headers["content-length"]))
        elif headers.get("transfer-encoding") == "chunked":
            body = await self._read_chunked()
        else:
            body = b""
        return status, headers, body

    async def _read_chunked(self) -> bytes:
        parts = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).strip(), 16)
            parts.append(await self._reader.readexactly(size + 2))
            if size == 0:
                return b"".join(parts)

    def close(self) -> None:
        self._writer.close()


_ID = re.compile(rb"(?:^|\n)id: (\d+)\n")


class SseReader:
    """Reads one event stream; calls ``on_frames`` with each complete run of frames and its receive time."""

    def __init__(self, port: int, path: str, headers: dict[str, str],
                 on_frames: Callable[[bytes, float], None]) -> None:
        self._raw = build_request("GET", path, port, headers={"Accept": "text/event-stream", **headers})
        self._port = port
        self._on_frames = on_frames
        self.status = 0
        self._task: asyncio.Task[None] | None = None
        self._writer: asyncio.StreamWriter | None = None
        self.connected = asyncio.Event()

    async def start(self) -> None:
        reader, self._writer = await asyncio.open_connection(HOST, self._port, limit=2**20)
        self._writer.write(self._raw)
        head = await reader.readuntil(b"\r\n\r\n")
        self.status = int(head.split(b" ", 2)[1])
        if self.status != 200:
            raise RuntimeError(f"event stream returned status {self.status}: {head[:200]!r}")
        self._task = asyncio.create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        pending = b""
        while data := await reader.read(2**16):
            received = time.monotonic()
            pending += data
            end = pending.rfind(b"\n\n")
            if end >= 0:
                self.connected.set()
                self._on_frames(pending[:end + 2], received)
                pending = pending[end + 2:]

    def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
        if self._writer is not None:
            self._writer.close()


def frame_ids(chunk: bytes) -> list[int]:
    """Return the ``id:`` values of the SSE frames in ``chunk``."""
    return [int(match) for match in _ID.findall(chunk)]
