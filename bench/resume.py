"""Resume: a subscriber reconnecting far behind: time to its first event and catch-up events per second.

The log contains one project's ticket events; the subscriber sends
``Last-Event-ID`` that many events before the head and reads until it has
the head's event, while 0 or 1,000 other subscribers follow the same
project live.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

from bench.common import int_list, new_parser, scratch_dir
from bench.fanout import _subscribe, _Target
from bench.loadgen import SseReader, frame_ids
from bench.logs import LogSpec, cached_log
from bench.report import Table, write_record
from bench.servers import punt_server
from bench.session import sign_in

__all__ = ["main", "measure_resume"]


async def measure_resume(port: int, headers: dict[str, str], after: int, head: int,
                         timeout: float = 300) -> tuple[float, float, int]:
    """Read the B0 stream from ``after`` to ``head``; return (seconds to first event, events/s, events)."""
    started = time.monotonic()
    first: list[float] = []
    received = [0]
    done = asyncio.Event()

    def on_frames(chunk: bytes, at: float) -> None:
        ids = frame_ids(chunk)
        if ids and not first:
            first.append(at)
        received[0] += len(ids)
        if ids and ids[-1] >= head:
            done.set()

    reader = SseReader(port, "/api/projects/B0/events", {**headers, "Last-Event-ID": str(after)}, on_frames)
    await reader.start()
    try:
        await asyncio.wait_for(done.wait(), timeout)
    finally:
        reader.close()
    finished = time.monotonic()
    return first[0] - started, received[0] / (finished - first[0]), received[0]


async def _scenario(port: int, behind: int, head: int, others: int) -> tuple[float, float, int]:
    headers = await sign_in(port, register=False)
    readers = await _subscribe(_Target(_Server(port), "", "/api/projects/B0/events", headers), others,
                               lambda *_: None) if others else []
    try:
        return await measure_resume(port, headers, head - behind, head)
    finally:
        for reader in readers:
            reader.close()


class _Server:
    def __init__(self, port: int) -> None:
        self.port = port


def _head(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return conn.execute("SELECT max(offset) FROM events").fetchone()[0]


def run(behind: int, other_counts: list[int]) -> Table:
    directory = scratch_dir()
    db = cached_log(LogSpec(behind, projects=1), directory / "resume.db")
    head = _head(db)
    table = Table(f"Resume: a subscriber {behind:,} events behind", 
                  ["other subscribers", "time to first event ms", "catch-up events/s", "events received"])
    with punt_server(db) as server:
        for others in other_counts:
            print(f"resume: {behind:,} behind with {others} other subscribers", flush=True)
            first, rate, received = asyncio.run(_scenario(server.port, behind, head, others))
            table.add(others, first * 1000, rate, received)
    table.notes.append("the events received exclude the project's creation events before the resume point")
    return table


def main(argv: list[str] | None = None) -> None:
    parser = new_parser("resume", __doc__.splitlines()[0])
    parser.add_argument("--behind", type=int, default=100_000, help="events the subscriber is behind (default 100000)")
    parser.add_argument("--others", type=int_list, default=[0, 1000],
                        help="other live subscriber counts (default 0,1000)")
    args = parser.parse_args(argv)
    write_record("Resume", [run(args.behind, args.others)])
