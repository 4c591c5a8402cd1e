"""Append: durable events per second through punt's Writer, with 1 and with 32 concurrent writers.

References, on the same disk at the same durability (WAL, synchronous=FULL):

- raw ``sqlite3``, inserting the same rows into the same table: one
  transaction per event for 1 writer, and for N writers one transaction per
  N rows, the best any group commit of N concurrent commands can do;
- the ``eventsourcing`` library, saving one new aggregate (one event) per
  call, from N threads for N writers.

punt runs twice: appending to the log alone, and with the projections
applied in the same transaction, as the server does.
"""

from __future__ import annotations

import asyncio
import random
import threading
import time
from functools import partial
from pathlib import Path

from bench import peers
from bench.common import fresh_db, int_list, new_parser, scratch_dir
from bench.logs import Board, create_boards, ticket_events
from bench.report import Table, write_record
from punt import database
from punt import events as ev
from punt.eventstore.records import StoredEvent
from punt.eventstore.schema import EVENTS_TABLE
from punt.eventstore.writer import Transaction, Writer
from punt.projections import apply_event

__all__ = ["main"]


def _no_projection(*_args: object) -> None:
    return None


def _created_events(board: Board, count: int) -> list[ev.Event]:
    # Only creations, so every event starts a new stream, like the peer's new aggregates.
    rng = random.Random(1)
    events = []
    while len(events) < count:
        events += [event for event in ticket_events(board, count, rng) if isinstance(event, ev.TicketCreated)]
    return events[:count]


def _append_one(tx: Transaction, event: ev.Event) -> int:
    return tx.append(event).offset


async def _drive(writer: Writer, events: list[ev.Event], concurrency: int) -> None:
    async def client(part: list[ev.Event]) -> None:
        for event in part:
            await writer.execute(partial(_append_one, event=event))

    await asyncio.gather(*(client(events[index::concurrency]) for index in range(concurrency)))


def punt_append(path: Path, count: int, concurrency: int, projections: bool) -> tuple[float, list[StoredEvent]]:
    """Append ``count`` ticket.created events, one command each; return events/s and the stored rows."""
    writer = Writer(str(path), apply_event if projections else _no_projection)
    writer.start()
    try:
        # The log alone checks no references, so a board needs no project behind it.
        board = create_boards(writer, 1)[1][0] if projections else Board("bench-project", "B0", "bench-column",
                                                                          "bench-user", [])
        events = _created_events(board, count)
        started = time.perf_counter()
        asyncio.run(_drive(writer, events, concurrency))
        elapsed = time.perf_counter() - started
    finally:
        writer.close()
    conn = database.connect(path)
    rows = conn.execute(f"SELECT * FROM {EVENTS_TABLE} ORDER BY offset DESC LIMIT ?", (count,)).fetchall()
    conn.close()
    return count / elapsed, [StoredEvent(*row) for row in reversed(rows)]


def raw_insert(path: Path, rows: list[StoredEvent], per_commit: int) -> float:
    """Insert the rows with plain sqlite3, ``per_commit`` rows per transaction; return rows/s."""
    conn = database.connect(path)
    sql = f"INSERT INTO {EVENTS_TABLE} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
    values = _as_tuples(rows)
    started = time.perf_counter()
    for start in range(0, len(values), per_commit):
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, values[start:start + per_commit])
        conn.execute("COMMIT")
    elapsed = time.perf_counter() - started
    conn.close()
    return len(values) / elapsed


def _as_tuples(rows: list[StoredEvent]) -> list[tuple[object, ...]]:
    return [(r.offset, r.stream, r.version, r.type, r.schema_version, r.data, r.metadata, r.project_id,
             r.timestamp, r.hash) for r in rows]


def eventsourcing_append(path: Path, count: int, concurrency: int) -> float:
    """Save ``count`` new one-event aggregates with eventsourcing from ``concurrency`` threads; return events/s."""
    app = peers.open_app(path)
    assert peers.synchronous_setting(app) == 2, "eventsourcing's connections are not at synchronous=FULL"
    tickets = [peers.new_ticket(number) for number in range(1, count + 1)]

    def save_all(part: list[peers.Ticket]) -> None:
        for ticket in part:
            app.save(ticket)

    threads = [threading.Thread(target=save_all, args=(tickets[index::concurrency],)) for index in range(concurrency)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    app.close()
    return count / elapsed


def run(counts: dict[int, int]) -> Table:
    directory = scratch_dir()
    table = Table("Append: durable events per second (WAL, synchronous=FULL)",
                  ["writers", "events", "punt log only", "punt + projections", "raw sqlite3", "eventsourcing",
                   "punt log / raw", "punt+proj / raw", "punt+proj / eventsourcing"])
    for writers, count in counts.items():
        print(f"append: {writers} writer(s), {count:,} events", flush=True)
        log_rate, rows = punt_append(fresh_db(directory, f"log-{writers}.db"), count, writers, projections=False)
        full_rate, _ = punt_append(fresh_db(directory, f"full-{writers}.db"), count, writers, projections=True)
        raw_rate = raw_insert(fresh_db(directory, f"raw-{writers}.db"), rows, per_commit=writers)
        peer_rate = eventsourcing_append(directory / f"es-{writers}.db", count, writers)
        table.add(writers, count, log_rate, full_rate, raw_rate, peer_rate, log_rate / raw_rate,
                  full_rate / raw_rate, full_rate / peer_rate)
    table.notes.append("raw sqlite3 commits once per event with 1 writer and once per N rows with N writers, "
                       "the limit for grouping N concurrent commands")
    table.notes.append("punt: one command per event, awaited by N asyncio tasks; eventsourcing: one save per "
                       "event from N threads")
    return table


def main(argv: list[str] | None = None) -> None:
    parser = new_parser("append", __doc__.splitlines()[0])
    parser.add_argument("--writers", type=int_list, default=[1, 32], help="concurrent writer counts (default 1,32)")
    parser.add_argument("--events-single", type=int, default=1000,
                        help="events appended with 1 writer, each fsync'd alone (default 1000)")
    parser.add_argument("--events", type=int, default=10_000,
                        help="events appended with more than 1 writer (default 10000)")
    args = parser.parse_args(argv)
    counts = {writers: args.events_single if writers == 1 else args.events for writers in args.writers}
    write_record("Append", [run(counts)])
