"""Server settings, read from PUNT_* environment variables."""

from __future__ import annotations

import os
from dataclasses import dataclass

from punt.errors import PuntError

__all__ = ["Settings"]


def _int_setting(name: str, default: int, minimum: int) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise PuntError(f"{name}={raw!r} is not a whole number; unset it or give one such as {default}") from None
    if value < minimum:
        raise PuntError(f"{name}={value} is below the minimum of {minimum}")
    return value


@dataclass(frozen=True)
class Settings:
    """Everything a punt server process needs to know at start."""

    db: str = "punt.db"
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 1
    keepalive_seconds: float = 30
    max_streams_per_user: int = 10
    max_streams_per_project: int = 100
    # How often each process checks the log for events that another worker
    # process committed; commits in this process wake streams at once.
    poll_interval_seconds: float = 0.05
    # Events each process keeps decoded in memory for its live streams. A
    # subscriber further behind reads from the database instead.
    fanout_ring_size: int = 4096

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            db=os.environ.get("PUNT_DB") or "punt.db",
            host=os.environ.get("PUNT_HOST") or "127.0.0.1",
            port=_int_setting("PUNT_PORT", 8000, 1),
            workers=_int_setting("PUNT_WORKERS", 1, 1),
            keepalive_seconds=_int_setting("PUNT_SSE_KEEPALIVE_SECONDS", 30, 1),
            max_streams_per_user=_int_setting("PUNT_MAX_STREAMS_PER_USER", 10, 1),
            max_streams_per_project=_int_setting("PUNT_MAX_STREAMS_PER_PROJECT", 100, 1),
            fanout_ring_size=_int_setting("PUNT_FANOUT_RING_SIZE", 4096, 2),
        )
