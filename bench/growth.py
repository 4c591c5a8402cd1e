"""Growth: append latency, resume cost and replay time as the log grows, in one table.

For each log size: the latency of 200 single-event commands through the
Writer (each fsync'd), the time to read a project's last 1,000 events
from the database as a resuming stream does (the stream's own selectors,
through LogReader), and a full rebuild of the projections.
"""

from __future__ import annotations

import asyncio
import random
import time
from functools import partial
from pathlib import Path

from bench.common import int_list, new_parser, scratch_dir
from bench.logs import Board, LogSpec, cached_log, ticket_events
from bench.replay import punt_replay
from bench.report import Table, percentile, write_record
from punt import database
from punt.api.subscriptions import ProjectSubscription
from punt.commands.access import Actor
from punt.eventstore.reader import LogReader
from punt.eventstore.writer import Writer
from punt.projections import apply_event

__all__ = ["main"]


def _board(db: Path) -> Board:
    conn = database.connect(db)
    project_id, number = conn.execute("SELECT id, last_ticket_number FROM projects WHERE key = 'B0'").fetchone()
    column_id = conn.execute('SELECT id FROM columns WHERE project_id = ? ORDER BY "order"', (project_id,)).fetchone()[0]
    count = conn.execute("SELECT count(*) FROM tickets WHERE column_id = ?", (column_id,)).fetchone()[0]
    user_id = conn.execute("SELECT id FROM users").fetchone()[0]
    conn.close()
    board = Board(project_id, "B0", column_id, user_id, [f"existing-{n}" for n in range(number)], count)
    return board


def append_latencies(db: Path, commands: int) -> list[float]:
    board = _board(db)
    events = [event for event in ticket_events(board, commands * 2, random.Random(2))
              if type(event).__name__ == "TicketCreated"][:commands]
    writer = Writer(str(db), apply_event)
    writer.start()
    latencies = []
    try:
        for event in events:
            started = time.perf_counter()
            writer.execute_sync(partial(lambda tx, e: tx.append(e), e=event))
            latencies.append((time.perf_counter() - started) * 1000)
    finally:
        writer.close()
    return latencies


async def resume_seconds(db: Path, tail: int) -> float:
    board = _board(db)
    selectors = ProjectSubscription(Actor(board.creator_id, True), board.project_id).selectors()
    conn = database.connect(db)
    offsets = conn.execute("SELECT offset FROM events WHERE project_id = ? ORDER BY offset DESC LIMIT ?",
                           (board.project_id, tail)).fetchall()
    head = conn.execute("SELECT max(offset) FROM events").fetchone()[0]
    conn.close()
    reader = LogReader(db)
    await reader.open()
    try:
        position, read = offsets[-1][0] - 1, 0
        started = time.perf_counter()
        while position < head:
            events, position = await reader.read_selected(selectors, position, head, 500)
            read += len(events)
        return time.perf_counter() - started
    finally:
        await reader.close()


def run(sizes: list[int], commands: int, tail: int) -> Table:
    directory = scratch_dir()
    table = Table("Growth: cost against log size",
                  ["log events", "append p50 ms", "append p99 ms", f"resume {tail:,} events ms", "replay s",
                   "replay events/s"])
    for size in sizes:
        print(f"growth: {size:,} events", flush=True)
        replayed = punt_replay(size, directory)
        db = cached_log(LogSpec(size, projects=4), directory / f"growth-{size}.db")
        resume = asyncio.run(resume_seconds(db, tail))
        latencies = append_latencies(db, commands)
        table.add(size, percentile(latencies, 0.5), percentile(latencies, 0.99), resume * 1000,
                  replayed["seconds"], replayed["events"] / replayed["seconds"])
    return table


def main(argv: list[str] | None = None) -> None:
    parser = new_parser("growth", __doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int_list, default=[10_000, 100_000, 300_000],
                        help="log sizes in events (default 10000,100000,300000; the full target adds 1000000)")
    parser.add_argument("--commands", type=int, default=200, help="append commands timed per size (default 200)")
    parser.add_argument("--tail", type=int, default=1000, help="events a resume reads (default 1000)")
    args = parser.parse_args(argv)
    write_record("Growth", [run(args.sizes, args.commands, args.tail)])
