"""Read models built from the log: current projects, columns, members, labels, tickets and users."""

from punt.projections.apply import apply_event

__all__ = ["apply_event"]
