"""punt: an event-sourced issue-tracker backend with resumable event streams."""

__version__ = "0.1.0"
