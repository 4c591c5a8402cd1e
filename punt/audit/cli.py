"""The auditors' subcommands of ``punt``: verify, replay, export, import and state."""

from __future__ import annotations

import argparse
import sqlite3
import sys
from pathlib import Path
from typing import IO

import msgspec

from punt import database
from punt.audit import integrity, replay, timetravel, transfer
from punt.errors import PuntError

__all__ = ["add_audit_commands"]

_BAR_WIDTH = 30


def _open_existing(path: str) -> sqlite3.Connection:
    if not Path(path).is_file():
        raise PuntError(f"no database at {path!r}; give the path of an existing punt database with --db")
    return database.connect(path)


def _verify(args: argparse.Namespace) -> int:
    conn = _open_existing(args.db)
    try:
        checked, broken = integrity.verify_chain(conn)
        if broken is None:
            print(f"hash chain: ok, {checked} events from offset 1 to {checked}")
        else:
            print(f"hash chain: failed at {broken} ({checked} events before it are intact)")
        different = integrity.verify_projections(conn)
        if different is None:
            print("read models: ok, a rebuild from offset 0 equals the live state")
        else:
            print(f"read models: failed, {different}")
    finally:
        conn.close()
    return 0 if broken is None and different is None else 1


def _progress_bar(stream: IO[str]):
    def show(done: int, total: int) -> None:
        share = done / total if total else 1.0
        filled = int(share * _BAR_WIDTH)
        stream.write(f"\rreplay [{'#' * filled}{'.' * (_BAR_WIDTH - filled)}] {done}/{total} events")
        if done == total:
            stream.write("\n")
        stream.flush()
    return show


def _replay(args: argparse.Namespace) -> int:
    result = replay.replay_database(args.db, progress=_progress_bar(sys.stderr))
    print(f"replayed {result.events} events in {result.seconds:.2f} s ({result.events_per_second:,.0f} events/s)")
    return 0


def _export(args: argparse.Namespace) -> int:
    conn = _open_existing(args.db)
    output = open(args.output, "wb") if args.output else sys.stdout.buffer
    try:
        # A read transaction keeps the export to one snapshot of the log.
        conn.execute("BEGIN")
        for line in transfer.export_lines(conn):
            output.write(line)
        conn.execute("COMMIT")
    finally:
        conn.close()
        if args.output:
            output.close()
        else:
            output.flush()
    return 0


def _import(args: argparse.Namespace) -> int:
    path = Path(args.db)
    if not Path(args.file).is_file():
        raise PuntError(f"no export file at {args.file!r}; give the path of a file written by `punt export`")
    created = not path.exists()
    try:
        conn = database.connect(path)
        try:
            database.create_schema(conn)
            with open(args.file, "rb") as lines:
                head = transfer.import_log(conn, lines)
        finally:
            conn.close()
    except BaseException:
        if created:
            # Nothing may be left behind for a rejected file, not even an empty database.
            for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
                leftover.unlink(missing_ok=True)
        raise
    print(f"imported {head} events into {args.db}; run `punt verify --db {args.db}` to check it")
    return 0


def _state(args: argparse.Namespace) -> int:
    conn = _open_existing(args.db)
    try:
        conn.execute("BEGIN")
        board = timetravel.board_at(conn, args.project, args.at)
        conn.execute("COMMIT")
    finally:
        conn.close()
    sys.stdout.buffer.write(msgspec.json.format(msgspec.json.encode(board), indent=2) + b"\n")
    return 0


def _reporting_errors(run):
    """Print a PuntError as one line on standard error and exit with status 1, instead of a traceback."""
    def wrapped(args: argparse.Namespace) -> int:
        try:
            return run(args)
        except PuntError as exc:
            print(f"punt {args.command}: {exc}", file=sys.stderr)
            return 1
    return wrapped


def add_audit_commands(commands: argparse._SubParsersAction) -> None:
    """Add the auditors' subcommands to the ``punt`` parser."""
    verify = commands.add_parser("verify", help="check the hash chain and that a rebuild equals the live state")
    verify.add_argument("--db", required=True, help="SQLite database file to check")
    verify.set_defaults(run=_reporting_errors(_verify))

    rebuild = commands.add_parser("replay", help="rebuild every read model from the log (stop the server first)")
    rebuild.add_argument("--db", required=True, help="SQLite database file to rebuild")
    rebuild.set_defaults(run=_reporting_errors(_replay))

    export = commands.add_parser("export", help="write the log as NDJSON, one event a line")
    export.add_argument("--db", required=True, help="SQLite database file to read")
    export.add_argument("--output", "-o", help="file to write (default: standard output)")
    export.set_defaults(run=_reporting_errors(_export))

    load = commands.add_parser("import", help="copy an NDJSON export into a new, empty database")
    load.add_argument("--db", required=True, help="SQLite database file to create; must not hold events")
    load.add_argument("file", help="NDJSON file written by `punt export`")
    load.set_defaults(run=_reporting_errors(_import))

    state = commands.add_parser("state", help="print a project's board as it was right after an offset, as JSON")
    state.add_argument("--db", required=True, help="SQLite database file to read")
    state.add_argument("--project", required=True, help="project key or id")
    state.add_argument("--at", required=True, type=int, help="log offset; 0 is before the first event")
    state.set_defaults(run=_reporting_errors(_state))
