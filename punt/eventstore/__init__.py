"""The append-only event log: schema, group-commit writer and offset reads."""

from punt.eventstore.records import StoredEvent
from punt.eventstore.writer import Transaction, Writer

__all__ = ["StoredEvent", "Transaction", "Writer"]
