"""An in-process cache of time-travel snapshots: serialized in-memory projection databases.

A snapshot is the state of one project right after one offset, stored as
the bytes of ``sqlite3.Connection.serialize()``. The log is append-only, so
a snapshot never goes stale. Wipes are events in the log, and a replay that
starts from a snapshot applies them like any other event. Each snapshot
also stores the hash of the event at its offset. The hash chain covers every
earlier event, so a matching hash proves that the snapshot was built from
the same log, even when one process opens several databases.
"""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from dataclasses import dataclass

__all__ = ["DEFAULT_MAX_BYTES", "MAX_REPLAY_SECONDS", "SNAPSHOT_INTERVAL", "Snapshot", "SnapshotCache"]

# 64 MiB per process. On the bench log of bench/audit_log.py a snapshot of a
# board of 1,000 tickets is 0.5 MiB and one of 5,000 tickets is 1.9 MiB, so
# this keeps about 30 snapshots of the largest board or 100 of mid-sized ones.
# The bound counts only the stored bytes, not Python's overhead.
DEFAULT_MAX_BYTES = 64 * 1024 * 1024

# A replay stores a snapshot after this many events of the project's slice,
# or after MAX_REPLAY_SECONDS, whichever comes first. Replaying 1,000
# events without moves takes about 30 ms, while serializing a snapshot takes
# 0.1 ms (1,000 tickets) to 0.4 ms (5,000 tickets), so snapshots add little
# to a first replay.
SNAPSHOT_INTERVAL = 1000
# Each ticket.moved renumbers its columns, so on a board with thousands of
# tickets per column 1,000 events can take a second. The time limit keeps
# the replay after the nearest snapshot short on such boards too.
MAX_REPLAY_SECONDS = 0.1


@dataclass(frozen=True)
class Snapshot:
    """The serialized state of one project right after ``offset``."""

    project_id: str
    offset: int
    event_hash: str
    data: bytes


class SnapshotCache:
    """Snapshots keyed by (project id, offset), bounded by total bytes, least recently used out.

    One lock guards the dict and the counters. It is held only for lookups and
    bookkeeping, never while a caller replays events or serializes a database,
    so the reader threads of a ReadPool share one cache.
    """

    def __init__(self, max_bytes: int = DEFAULT_MAX_BYTES, interval: int = SNAPSHOT_INTERVAL,
                 max_replay_seconds: float = MAX_REPLAY_SECONDS) -> None:
        if max_bytes < 0 or interval < 1 or max_replay_seconds < 0:
            raise ValueError(f"max_bytes={max_bytes}, interval={interval}, max_replay_seconds={max_replay_seconds}:"
                             " need max_bytes >= 0, interval >= 1 and max_replay_seconds >= 0")
        self.max_bytes = max_bytes
        self.interval = interval
        self.max_replay_seconds = max_replay_seconds
        self._lock = threading.Lock()
        self._entries: OrderedDict[tuple[str, int], Snapshot] = OrderedDict()
        # Each project's snapshot offsets in ascending order, for bisect.
        self._offsets: dict[str, list[int]] = {}
        self._bytes = 0
        # Events applied by every replay that used this cache, for tests and benchmarks.
        self.replayed_events = 0

    @property
    def total_bytes(self) -> int:
        with self._lock:
            return self._bytes

    def offsets(self, project_id: str) -> list[int]:
        """Return the offsets of the project's snapshots, in ascending order."""
        with self._lock:
            return list(self._offsets.get(project_id, ()))

    def candidates(self, project_id: str, at: int) -> list[Snapshot]:
        """Return the project's snapshots at or below ``at``, greatest offset first."""
        with self._lock:
            offsets = self._offsets.get(project_id, [])
            below = offsets[: bisect.bisect_right(offsets, at)]
            return [self._entries[(project_id, offset)] for offset in reversed(below)]

    def touch(self, snapshot: Snapshot) -> None:
        """Mark a snapshot as used now, so it is evicted last."""
        with self._lock:
            key = (snapshot.project_id, snapshot.offset)
            if key in self._entries:
                self._entries.move_to_end(key)

    def put(self, snapshot: Snapshot) -> None:
        """Store a snapshot, then evict the least recently used ones until the cache fits its bound.

        A snapshot larger than the whole bound is not stored.
        """
        if len(snapshot.data) > self.max_bytes:
            return
        key = (snapshot.project_id, snapshot.offset)
        with self._lock:
            if key in self._entries:
                self._remove(key)
            self._entries[key] = snapshot
            bisect.insort(self._offsets.setdefault(snapshot.project_id, []), snapshot.offset)
            self._bytes += len(snapshot.data)
            while self._bytes > self.max_bytes:
                self._remove(next(iter(self._entries)))

    def count_replayed(self, events: int) -> None:
        with self._lock:
            self.replayed_events += events

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
            self._offsets.clear()
            self._bytes = 0

    def _remove(self, key: tuple[str, int]) -> None:
        snapshot = self._entries.pop(key)
        self._bytes -= len(snapshot.data)
        offsets = self._offsets[snapshot.project_id]
        offsets.pop(bisect.bisect_left(offsets, snapshot.offset))
        if not offsets:
            del self._offsets[snapshot.project_id]
