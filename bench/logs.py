"""Synthetic logs: a user, projects and a stream of ticket events, written through punt's Writer.

Tickets are created at the end of a project's first column (7 in 10
events) and later retitled or reprioritised (3 in 10), the mix of a busy
board. The events are appended directly in bulk commands, so building a
log of a million events takes a minute or two, not hours of HTTP calls,
and every projection is applied as it would be live.
"""

from __future__ import annotations

import random
import shutil
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path

from punt import credentials, database
from punt import events as ev
from punt.commands import projects, users
from punt.commands.access import Actor, new_id
from punt.commands.inputs import CreateProject, Register
from punt.eventstore.writer import CommandMetadata, Transaction, Writer, utc_timestamp
from punt.projections import apply_event, queries

__all__ = ["BENCH_PASSWORD", "BENCH_USERNAME", "Board", "LogSpec", "build_log", "cached_log", "ticket_events"]

BENCH_USERNAME = "bench"
BENCH_PASSWORD = "BenchPassword1"

# Events per bulk command while building a log: big enough that the
# build is not bound by fsyncs, small enough to keep the transaction short.
_BUILD_BATCH = 5_000

CACHE_DIR = Path(tempfile.gettempdir()) / "punt-bench-cache"


@dataclass(frozen=True)
class LogSpec:
    """The shape of a synthetic log: ``events`` ticket events spread round robin over ``projects`` projects."""

    events: int
    projects: int = 1
    seed: int = 1

    def file_name(self) -> str:
        return f"log-{self.events}-p{self.projects}-s{self.seed}.db"


@dataclass
class Board:
    """A project's ids and the tickets created so far, to derive the next events from."""

    project_id: str
    key: str
    column_id: str
    creator_id: str
    tickets: list[str]
    count_in_column: int = 0


def ticket_events(board: Board, count: int, rng: random.Random) -> list[ev.Event]:
    """Return ``count`` next events of one board: seven creations in ten, the rest updates."""
    events: list[ev.Event] = []
    stamp = utc_timestamp()
    for _ in range(count):
        if board.tickets and rng.random() < 0.3:
            events.append(ev.TicketUpdated(
                id=rng.choice(board.tickets), projectId=board.project_id, title=f"Retitled {rng.randrange(10**6)}",
                priority=rng.choice(["Low", "Medium", "High"]), updatedAt=stamp,
            ))
            continue
        number = len(board.tickets) + 1
        ticket_id = new_id()
        events.append(ev.TicketCreated(
            id=ticket_id, number=number, key=f"{board.key}-{number}", title=f"Ticket {number} of {board.key}",
            description="Created by the benchmark log builder.", type_="Task", priority="Medium",
            order=board.count_in_column, columnId=board.column_id, creatorId=board.creator_id,
            projectId=board.project_id, createdAt=stamp, updatedAt=stamp,
        ))
        board.tickets.append(ticket_id)
        board.count_in_column += 1
    return events


def _append_all(tx: Transaction, events: list[ev.Event]) -> int:
    for event in events:
        tx.append(event)
    return tx.head


def create_boards(writer: Writer, projects_count: int) -> tuple[Actor, list[Board]]:
    """Register the benchmark user (a system admin) and create its projects."""
    body = Register(username=BENCH_USERNAME, password=BENCH_PASSWORD)
    user = writer.execute_sync(partial(users.register_user, body=body,
                                       password_hash=credentials.hash_password(BENCH_PASSWORD)))
    actor = Actor(user["id"], user["isSystemAdmin"])
    boards = []
    for index in range(projects_count):
        key = f"B{index}"
        project = writer.execute_sync(partial(projects.create_project, actor=actor,
                                              body=CreateProject(name=f"Bench {index}", key=key)))
        column = writer.execute_sync(lambda tx, pid=project["id"]: queries.list_columns(tx.conn, pid))[0]
        boards.append(Board(project["id"], key, column["id"], actor.user_id, []))
    return actor, boards


def build_log(path: Path, spec: LogSpec) -> list[Board]:
    """Write a fresh database at ``path`` holding the log ``spec`` describes; return its boards."""
    conn = database.connect(path)
    database.create_schema(conn)
    conn.close()
    writer = Writer(str(path), apply_event)
    writer.start()
    try:
        actor, boards = create_boards(writer, spec.projects)
        rng = random.Random(spec.seed)
        metadata = CommandMetadata(actorId=actor.user_id, tabId="bench-builder")
        written = 0
        while written < spec.events:
            count = min(_BUILD_BATCH, spec.events - written)
            batch = _round_robin(boards, count, rng)
            writer.execute_sync(partial(_append_all, events=batch), metadata)
            written += count
    finally:
        writer.close()
    return boards


def _round_robin(boards: list[Board], count: int, rng: random.Random) -> list[ev.Event]:
    per_board = [ticket_events(board, count // len(boards) + 1, rng) for board in boards]
    interleaved = [event for group in zip(*per_board) for event in group]
    return interleaved[:count]


def cached_log(spec: LogSpec, destination: Path) -> Path:
    """Copy a log built once per spec (kept in the temp directory) to ``destination`` and return it.

    NOTE: the copy leaves the boards' ticket lists behind; scenarios that
    append to a copied log create tickets only.
    """
    CACHE_DIR.mkdir(exist_ok=True)
    cached = CACHE_DIR / spec.file_name()
    if not cached.exists():
        partial_path = cached.with_suffix(".building")
        for stale in partial_path.parent.glob(partial_path.name + "*"):
            stale.unlink()
        print(f"building a log of {spec.events:,} events in {cached} (once; later runs reuse it)", flush=True)
        build_log(partial_path, spec)
        _checkpoint(partial_path)
        partial_path.rename(cached)
    shutil.copyfile(cached, destination)
    return destination


def _checkpoint(path: Path) -> None:
    # Fold the WAL into the main file so that a plain copy of it is complete.
    conn = database.connect(path)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    conn.close()
