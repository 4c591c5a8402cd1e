"""Measurements run in a fresh interpreter each, so that each peak-memory figure is its own."""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

from bench import peers
from bench.common import peak_rss_kib
from punt import database
from punt.projections.rebuild import rebuild_projections

_READ_BATCH = 5_000


def punt_replay(source: str, target: str) -> dict[str, Any]:
    """Rebuild every projection of ``source`` into the empty database file ``target``."""
    base = peak_rss_kib()
    source_conn = database.connect(source)
    target_conn = database.connect(target)
    started = time.perf_counter()
    head = rebuild_projections(source_conn, target_conn)
    seconds = time.perf_counter() - started
    count = source_conn.execute("SELECT count(*) FROM events").fetchone()[0]
    return {"events": count, "head": head, "seconds": seconds, "peak_kib": peak_rss_kib(), "base_kib": base}


def eventsourcing_build(path: str, count: int) -> dict[str, Any]:
    """Store ``count`` ticket events with eventsourcing: seven creations in ten, the rest updates."""
    app = peers.open_app(Path(path))
    rng = random.Random(1)
    tickets: list[peers.Ticket] = []
    written = 0
    while written < count:
        batch = []
        for _ in range(min(1000, count - written)):
            if tickets and rng.random() < 0.3:
                ticket = rng.choice(tickets)
                ticket.update(f"Retitled {rng.randrange(10**6)}", rng.choice(["Low", "Medium", "High"]))
            else:
                ticket = peers.new_ticket(len(tickets) + 1)
                tickets.append(ticket)
            batch.append(ticket)
        # One save per batch: a ticket changed twice in a batch is saved once with both events.
        app.save(*{id(ticket): ticket for ticket in batch}.values())
        written += len(batch)
    stored = app.recorder.max_notification_id()
    app.close()
    return {"events": stored}


def eventsourcing_replay(path: str) -> dict[str, Any]:
    """Read every stored event in order and fold it into its aggregate, as a projection rebuild would."""
    base = peak_rss_kib()
    app = peers.open_app(Path(path))
    aggregates: dict[Any, Any] = {}
    count = 0
    started = time.perf_counter()
    start = 1
    while True:
        notifications = app.recorder.select_notifications(start, _READ_BATCH)
        if not notifications:
            break
        for notification in notifications:
            domain_event = app.mapper.to_domain_event(notification)
            aggregates[domain_event.originator_id] = domain_event.mutate(aggregates.get(domain_event.originator_id))
            count += 1
        start = notifications[-1].id + 1
    seconds = time.perf_counter() - started
    app.close()
    return {"events": count, "seconds": seconds, "peak_kib": peak_rss_kib(), "base_kib": base}
