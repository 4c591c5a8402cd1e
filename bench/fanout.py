"""Fan-out: append-to-receive latency with 1 to 5,000 subscribers on one project's stream, and memory per subscriber.

The publisher creates one ticket every 1/rate seconds over HTTP; each
event carries its sequence number in the title, and every subscriber
records the time from sending the request to receiving the frame. For
punt that includes the durable commit. Reference: a plain in-memory
broadcaster on sse-starlette (``bench.reference``), which persists nothing.
Memory per idle subscriber is the growth of the server's resident memory
from before the subscribers connect to after they are connected and idle,
divided by their number.
"""

from __future__ import annotations

import asyncio
import re
import time

import msgspec

from bench.common import fresh_db, int_list, new_parser, scratch_dir
from bench.loadgen import HttpConnection, SseReader, build_request
from bench.report import Table, percentile, write_record
from bench.servers import Server, punt_server, reference_server, rss_kib
from bench.session import create_project, sign_in

__all__ = ["main"]

_MARK = re.compile(rb'"title":"m(\d+)"')


class _Target:
    """The server, publishing path and stream path of one system under test."""

    def __init__(self, server: Server, publish_path: str, stream_path: str, headers: dict[str, str]) -> None:
        self.server = server
        self.publish_path = publish_path
        self.stream_path = stream_path
        self.headers = headers


async def _subscribe(target: _Target, count: int, on_frames) -> list[SseReader]:
    readers = [SseReader(target.server.port, target.stream_path, target.headers, on_frames) for _ in range(count)]
    for start in range(0, count, 100):
        await asyncio.gather(*(reader.start() for reader in readers[start:start + 100]))
    await asyncio.wait_for(asyncio.gather(*(reader.connected.wait() for reader in readers)), 60)
    return readers


async def _run_level(target: _Target, subscribers: int, rate: float, events: int) -> tuple[list[float], int, int]:
    """Return latencies in ms, the server's memory growth in KiB, and frames missing at the end."""
    sent: dict[int, float] = {}
    latencies: list[float] = []

    def on_frames(chunk: bytes, received: float) -> None:
        for match in _MARK.findall(chunk):
            latencies.append((received - sent[int(match)]) * 1000)

    before = rss_kib(target.server.process.pid)
    readers = await _subscribe(target, subscribers, on_frames)
    await asyncio.sleep(1)
    grown = rss_kib(target.server.process.pid) - before

    conn = await HttpConnection.open(target.server.port)
    try:
        for sequence in range(events):
            body = msgspec.json.encode({"title": f"m{sequence}"})
            sent[sequence] = time.monotonic()
            status, _, answer = await conn.request(
                build_request("POST", target.publish_path, target.server.port, body, target.headers))
            if status != 201:
                raise RuntimeError(f"publishing returned status {status}: {answer[:200]!r}")
            await asyncio.sleep(max(0.0, sent[sequence] + 1 / rate - time.monotonic()))
        deadline = time.monotonic() + 10
        while len(latencies) < subscribers * events and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
    finally:
        conn.close()
        for reader in readers:
            reader.close()
    return latencies, grown, subscribers * events - len(latencies)


def _measure(target: _Target, levels: list[int], rate: float, events: int) -> dict[int, tuple]:
    results = {}
    for subscribers in levels:
        latencies, grown, missing = asyncio.run(_run_level(target, subscribers, rate, events))
        results[subscribers] = (percentile(latencies, 0.5), percentile(latencies, 0.99), grown / subscribers, missing)
        print(f"  {subscribers} subscribers: p99 {results[subscribers][1]:.1f} ms, missing {missing}", flush=True)
        time.sleep(1)
    return results


def run(levels: list[int], rate: float, events: int) -> Table:
    directory = scratch_dir()
    print("fanout: sse-starlette broadcaster", flush=True)
    with reference_server("broadcaster_app", directory) as server:
        reference = _measure(_Target(server, "/publish", "/events", {}), levels, rate, events)

    print("fanout: punt serve", flush=True)
    with punt_server(fresh_db(directory, "fanout.db")) as server:
        cookie = asyncio.run(sign_in(server.port, register=True))
        project = asyncio.run(create_project(server.port, cookie, "B0"))
        target = _Target(server, f"/api/projects/{project}/tickets", f"/api/projects/{project}/events", cookie)
        punt = _measure(target, levels, rate, events)

    table = Table(f"Fan-out: append-to-receive latency at {rate:g} events/s, {events} events per level",
                  ["subscribers", "broadcaster p50 ms", "broadcaster p99 ms", "punt p50 ms", "punt p99 ms",
                   "p99 punt / broadcaster", "KiB per idle subscriber: broadcaster", "punt", "frames missing: punt"])
    for subscribers in levels:
        ref, own = reference[subscribers], punt[subscribers]
        table.add(subscribers, ref[0], ref[1], own[0], own[1], own[1] / ref[1], ref[2], own[2], own[3])
    table.notes.append("latency runs from sending the publishing request to the frame's arrival at each subscriber; "
                       "for punt it includes the fsync'd commit")
    table.notes.append("memory per subscriber is the growth of the server's resident set size divided by the "
                       "subscriber count, so it is noisy at small counts")
    return table


def main(argv: list[str] | None = None) -> None:
    parser = new_parser("fanout", __doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int_list, default=[1, 100, 1000],
                        help="subscriber counts (default 1,100,1000; add 5000 on a machine with the memory)")
    parser.add_argument("--rate", type=float, default=10, help="events published per second (default 10)")
    parser.add_argument("--events", type=int, default=50, help="events published per level (default 50)")
    args = parser.parse_args(argv)
    write_record("Fan-out", [run(args.subscribers, args.rate, args.events)])
