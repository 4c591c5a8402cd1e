"""Replay: rebuilding every projection from the whole log, in events per second and peak memory.

Reference: reading and folding the same number of events with the
``eventsourcing`` library, each into its aggregate held in a dict. Each
replay runs in a fresh interpreter; peak memory is that process's maximum
resident set size.
"""

from __future__ import annotations

from bench.common import fresh_db, new_parser, run_child, scratch_dir
from bench.logs import LogSpec, cached_log
from bench.report import Table, write_record

__all__ = ["main", "punt_replay"]


def punt_replay(events: int, directory) -> dict:
    source = cached_log(LogSpec(events, projects=4), directory / f"replay-{events}.db")
    target = fresh_db(directory, f"rebuilt-{events}.db")
    target.unlink()
    return run_child("punt_replay", source, target)


def run(events: int) -> Table:
    directory = scratch_dir()
    print(f"replay: punt, {events:,} events", flush=True)
    own = punt_replay(events, directory)
    print(f"replay: eventsourcing, {events:,} events", flush=True)
    peer_db = directory / "eventsourcing.db"
    run_child("eventsourcing_build", peer_db, events)
    peer = run_child("eventsourcing_replay", peer_db)

    table = Table(f"Replay: every projection from a log of {events:,} ticket events",
                  ["system", "events", "seconds", "events/s", "peak RSS MiB", "RSS at start MiB"])
    for name, result in (("punt rebuild_projections", own), ("eventsourcing read + fold", peer)):
        table.add(name, result["events"], result["seconds"], result["events"] / result["seconds"],
                  result["peak_kib"] / 1024, result["base_kib"] / 1024)
    table.notes.append(f"punt / eventsourcing events/s: {own['events'] / own['seconds'] / (peer['events'] / peer['seconds']):.2f}")
    table.notes.append("punt writes every read model to SQLite and commits it; eventsourcing only builds objects in memory")
    return table


def main(argv: list[str] | None = None) -> None:
    parser = new_parser("replay", __doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=300_000,
                        help="log size in events (default 300000; the full target is 1000000)")
    args = parser.parse_args(argv)
    write_record("Replay", [run(args.events)])
