"""The peer library: the same ticket events modelled with ``eventsourcing`` (PyPI) on SQLite."""

from __future__ import annotations

from pathlib import Path

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate, event

__all__ = ["Ticket", "TicketApp", "new_ticket", "open_app", "synchronous_setting"]


class Ticket(Aggregate):
    """A ticket with the fields punt's ticket.created carries that the benchmark fills in."""

    @event("Created")
    def __init__(self, project_id: str, number: int, key: str, title: str, description: str, priority: str,
                 column_id: str, creator_id: str) -> None:
        self.project_id = project_id
        self.number = number
        self.key = key
        self.title = title
        self.description = description
        self.priority = priority
        self.column_id = column_id
        self.creator_id = creator_id

    @event("Updated")
    def update(self, title: str, priority: str) -> None:
        self.title = title
        self.priority = priority


class TicketApp(Application):
    """An eventsourcing application with its default settings apart from the SQLite file."""


def open_app(path: Path) -> TicketApp:
    return TicketApp(env={"PERSISTENCE_MODULE": "eventsourcing.sqlite", "SQLITE_DBNAME": str(path)})


def new_ticket(number: int) -> Ticket:
    return Ticket(project_id="bench-project", number=number, key=f"B0-{number}", title=f"Ticket {number} of B0",
                  description="Created by the benchmark log builder.", priority="Medium",
                  column_id="bench-column", creator_id="bench-user")


def synchronous_setting(app: TicketApp) -> int:
    """Return the ``PRAGMA synchronous`` level of the app's connections (2 is FULL)."""
    with app.recorder.datastore.transaction(commit=False) as cursor:
        cursor.execute("PRAGMA synchronous")
        return cursor.fetchone()[0]
