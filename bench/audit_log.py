"""Build a large log for the auditors' measurements, and time time travel on it.

    python bench/audit_log.py build --db /tmp/audit.db --events 100000 [--layout wide]
    punt replay --db /tmp/audit.db
    python bench/audit_log.py timetravel --db /tmp/audit.db   # skewed layout only

``build`` writes through the real commands and the group-commit writer,
into projects of different sizes, so that time travel can be timed on a
small, a middle-sized and a large project history in the same log.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from contextlib import closing
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from punt import database  # noqa: E402
from punt.audit.timetravel import SNAPSHOTS, project_state_at  # noqa: E402
from punt.commands import projects, tickets, users  # noqa: E402
from punt.commands.access import Actor  # noqa: E402
from punt.commands.inputs import CreateProject, CreateTicket, Register, UpdateTicket  # noqa: E402
from punt.eventstore.writer import CommandMetadata, Writer  # noqa: E402
from punt.projections import apply_event, queries  # noqa: E402

# Share of the log each project gets: one large, one middle-sized, one small
# history, and the rest spread over filler projects.
_PROJECT_SHARES = {"BIG": 0.5, "MID": 0.1, "SMALL": 0.01, "FILL1": 0.13, "FILL2": 0.13, "FILL3": 0.13}
# The `wide` layout: a hundred boards of about a hundred tickets each.
_WIDE_SHARES = {f"WIDE{index}": 0.01 for index in range(100)}
_WINDOW = 512


def _build(db: Path, total_events: int, shares: dict[str, float]) -> None:
    conn = database.connect(db)
    database.create_schema(conn)
    conn.close()
    writer = Writer(str(db), apply_event)
    writer.start()
    try:
        owner = _register(writer, "bench_owner")
        metadata = CommandMetadata(actorId=owner.user_id, tabId="bench")
        rng = random.Random(11)
        for key, share in shares.items():
            _fill(writer, rng, owner, metadata, key, int(total_events * share))
        _top_up(writer, owner, metadata, total_events, key)
    finally:
        writer.close()


def _top_up(writer: Writer, owner: Actor, metadata: CommandMetadata, total_events: int, key: str) -> None:
    """Add tickets to the project ``key`` until the log has ``total_events``.

    A move to the place a ticket already has appends no event, so ``_fill``
    alone can fall a little short.
    """
    head = writer.execute_sync(lambda tx: tx.head)
    commands = [partial(tickets.create_ticket, actor=owner, project_ref=key,
                        body=CreateTicket(title=f"top-up {index}")) for index in range(total_events - head)]
    _run_all(writer, commands, metadata)


def _register(writer: Writer, username: str) -> Actor:
    user = writer.execute_sync(partial(users.register_user, body=Register(username=username, password=""),
                                       password_hash="bench"))
    return Actor(user["id"], user["isSystemAdmin"])


def _fill(writer: Writer, rng: random.Random, owner: Actor, metadata: CommandMetadata, key: str, events: int) -> None:
    """Create tickets, then update and move random ones until the project has about ``events`` events."""
    project = writer.execute_sync(partial(projects.create_project, actor=owner,
                                          body=CreateProject(name=f"Bench {key}", key=key)), metadata)
    columns = [column["id"] for column in writer.execute_sync(lambda tx: queries.list_columns(tx.conn, project["id"]))]
    ticket_count = max(10, events // 10)
    commands = [partial(tickets.create_ticket, actor=owner, project_ref=project["id"],
                        body=CreateTicket(title=f"{key} ticket {index}")) for index in range(ticket_count)]
    _run_all(writer, commands, metadata)

    numbers = range(1, ticket_count + 1)
    changes = []
    for index in range(events - ticket_count - 4):
        ticket_ref = f"{key}-{rng.choice(numbers)}"
        if index % 3:
            body = UpdateTicket(title=f"{key} edit {index}", priority=rng.choice(["Low", "Medium", "High"]))
        else:
            body = UpdateTicket(columnId=rng.choice(columns), order=0)
        changes.append(partial(tickets.update_ticket, actor=owner, project_ref=project["id"], ticket_ref=ticket_ref,
                               body=body))
    _run_all(writer, changes, metadata)


def _run_all(writer: Writer, commands: list, metadata: CommandMetadata) -> None:
    """Submit commands in windows, so the writer commits up to a few hundred per fsync."""
    for start in range(0, len(commands), _WINDOW):
        futures = [writer.submit(command, metadata) for command in commands[start : start + _WINDOW]]
        for future in futures:
            future.result()


def _time_travel(db: Path, repeats: int) -> None:
    with closing(database.connect(db)) as conn:
        head = conn.execute("SELECT max(offset) FROM events").fetchone()[0]
        print(f"log: {head} events")
        print(f"cold: first request, with no snapshot cached; warm: best of {repeats} requests after it")
        print("project  events up to head  cold seconds  warm seconds  cold events/s")
        for key in ("SMALL", "MID"):
            project = queries.find_project(conn, key)
            count = conn.execute("SELECT count(*) FROM events WHERE project_id = ?", (project["id"],)).fetchone()[0]
            cold, warm = _cold_and_warm(conn, project["id"], head, repeats)
            print(f"{key:<8} {count:>17}  {cold:>12.3f}  {warm:>12.3f}  {count / cold:>13,.0f}")

        big = queries.find_project(conn, "BIG")["id"]
        offsets = [row[0] for row in conn.execute("SELECT offset FROM events WHERE project_id = ? ORDER BY offset",
                                                  (big,))]
        print("\nBIG at a growing offset")
        print("events of BIG up to the offset  ticket.moved  cold seconds  warm seconds")
        # The whole of BIG takes minutes (see docs/audit.md), so it stops at half.
        for share in (0.0625, 0.125, 0.25, 0.5):
            upto = offsets[int(len(offsets) * share) - 1]
            cold, warm = _cold_and_warm(conn, big, upto, repeats)
            moves = conn.execute("SELECT count(*) FROM events WHERE project_id = ? AND type = 'ticket.moved'"
                                 " AND offset <= ?", (big, upto)).fetchone()[0]
            print(f"{int(len(offsets) * share):>30}  {moves:>6} moves  {cold:>12.3f}  {warm:>12.3f}")


def _cold_and_warm(conn, project_id: str, at: int, repeats: int) -> tuple[float, float]:
    """Time a request with an empty snapshot cache, then the best of ``repeats`` requests after it."""
    SNAPSHOTS.clear()
    cold = _timed(conn, project_id, at)
    warm = min(_timed(conn, project_id, at) for _ in range(repeats))
    return cold, warm


def _timed(conn, project_id: str, at: int) -> float:
    started = time.perf_counter()
    project_state_at(conn, project_id, at).close()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    build = commands.add_parser("build", help="write a new database with about EVENTS events")
    build.add_argument("--db", required=True, type=Path, help="database file to create; must not exist")
    build.add_argument("--events", type=int, default=100_000, help="number of events (default 100000)")
    build.add_argument("--layout", choices=("skewed", "wide"), default="skewed",
                       help="skewed: projects of 50%%, 10%% and 1%% of the log plus fillers (default); "
                            "wide: 100 projects of 1%% each")
    travel = commands.add_parser("timetravel", help="time the replay of each bench project's history")
    travel.add_argument("--db", required=True, type=Path, help="database built by `build`")
    travel.add_argument("--repeats", type=int, default=3,
                        help="warm runs per project after the cold one; the best is reported")
    args = parser.parse_args()

    if args.command == "build":
        if args.db.exists():
            parser.error(f"{args.db} exists; give a new path")
        started = time.perf_counter()
        _build(args.db, args.events, _PROJECT_SHARES if args.layout == "skewed" else _WIDE_SHARES)
        print(f"built {args.db} in {time.perf_counter() - started:.1f} s")
    else:
        _time_travel(args.db, args.repeats)
    return 0


if __name__ == "__main__":
    sys.exit(main())
