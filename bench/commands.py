"""Commands over HTTP: ticket creations per second and latency against ``punt serve`` with 1 and 2 workers.

Reference: a bare Litestar endpoint on uvicorn (one worker) that only
decodes the same JSON body, the framework's limit. Every punt request is a
full command: session lookup, access check, validation, a durable commit
and the projection update.
"""

from __future__ import annotations

import asyncio
import time

import msgspec

from bench.common import fresh_db, int_list, new_parser, scratch_dir
from bench.loadgen import HttpConnection, build_request
from bench.report import Table, percentile, write_record
from bench.servers import punt_server, reference_server
from bench.session import create_project, sign_in

__all__ = ["main"]

_BODY = msgspec.json.encode({"title": "Benchmark ticket", "priority": "High", "description": "Load test."})


async def _load(port: int, raw: bytes, clients: int, requests: int, max_seconds: float) -> tuple[float, list[float]]:
    """Send ``requests`` requests from ``clients`` connections (stop early after ``max_seconds``); return rate and latencies in ms."""
    latencies: list[float] = []
    remaining = [requests]
    deadline = time.monotonic() + max_seconds

    async def client() -> None:
        conn = await HttpConnection.open(port)
        try:
            while remaining[0] > 0 and time.monotonic() < deadline:
                remaining[0] -= 1
                started = time.perf_counter()
                status, _, body = await conn.request(raw)
                latencies.append((time.perf_counter() - started) * 1000)
                if status != 201:
                    raise RuntimeError(f"ticket creation returned status {status}: {body[:200]!r}")
        finally:
            conn.close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return len(latencies) / (time.perf_counter() - started), latencies


def _measure(port: int, raw: bytes, levels: list[int], requests: int, max_seconds: float) -> dict[int, tuple]:
    results = {}
    asyncio.run(_load(port, raw, 4, 50, max_seconds))  # warm-up
    for clients in levels:
        rate, latencies = asyncio.run(_load(port, raw, clients, max(requests, clients * 4), max_seconds))
        results[clients] = (rate, percentile(latencies, 0.5), percentile(latencies, 0.99))
        print(f"  {clients} clients: {rate:,.0f}/s", flush=True)
    return results


def run(levels: list[int], worker_counts: list[int], requests: int, max_seconds: float) -> Table:
    directory = scratch_dir()
    print("commands: bare Litestar endpoint", flush=True)
    with reference_server("bare_app", directory) as bare:
        raw = build_request("POST", "/api/projects/B0/tickets", bare.port, _BODY)
        reference = _measure(bare.port, raw, levels, requests, max_seconds)

    db = fresh_db(directory, "commands.db")
    punt: dict[int, dict[int, tuple]] = {}
    for index, workers in enumerate(worker_counts):
        print(f"commands: punt serve --workers {workers}", flush=True)
        with punt_server(db, workers) as server:
            cookie = asyncio.run(sign_in(server.port, register=index == 0))
            if index == 0:
                asyncio.run(create_project(server.port, cookie, "B0"))
            raw = build_request("POST", "/api/projects/B0/tickets", server.port, _BODY, cookie)
            punt[workers] = _measure(server.port, raw, levels, requests, max_seconds)

    columns = ["clients", "bare /s", "bare p50 ms", "bare p99 ms"]
    for workers in worker_counts:
        columns += [f"punt {workers}w /s", f"{workers}w p50 ms", f"{workers}w p99 ms", f"{workers}w / bare"]
    table = Table("Commands over HTTP: ticket creations", columns)
    for clients in levels:
        cells: list[object] = [clients, *reference[clients]]
        for workers in worker_counts:
            rate, p50, p99 = punt[workers][clients]
            cells += [rate, p50, p99, rate / reference[clients][0]]
        table.add(*cells)
    table.notes.append(f"each level sends {requests:,} requests or runs {max_seconds:g} s, whichever ends first; "
                       "the load generator runs in the benchmark process on the same machine")
    return table


def main(argv: list[str] | None = None) -> None:
    parser = new_parser("commands", __doc__.splitlines()[0])
    parser.add_argument("--clients", type=int_list, default=[1, 8, 32, 128], help="concurrency levels (default 1,8,32,128)")
    parser.add_argument("--workers", type=int_list, default=[1, 2], help="punt worker counts (default 1,2)")
    parser.add_argument("--requests", type=int, default=2000, help="requests per level (default 2000)")
    parser.add_argument("--max-seconds", type=float, default=15, help="time limit per level in seconds (default 15)")
    args = parser.parse_args(argv)
    write_record("Commands over HTTP", [run(args.clients, args.workers, args.requests, args.max_seconds)])
