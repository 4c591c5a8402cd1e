"""One log follower per process, fanning new events out to every subscriber.

The follower keeps the most recent events, decoded and framed, in a ring
with contiguous offsets. Subscribers hold no buffer of their own, only the
offset they have sent: they take what follows it from the ring, and one
that has fallen behind the ring's start reads the database instead until
it catches up. Memory therefore stays bounded however slow a subscriber is.

The ring is filled from the database, never from the writer's memory, so
an event committed by another worker process reaches these subscribers
too. The writer of this process wakes the follower at once. Commits of
other processes are found by one cheap ``max(offset)`` poll per process,
whatever the number of subscribers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from punt.api.frames import LiveEvent
from punt.eventstore.reader import LogReader

__all__ = ["Fanout"]

logger = logging.getLogger(__name__)

RING_SIZE = 4096
_READ_BATCH = 1000


class Fanout:
    """Follows the log's head and wakes subscribers waiting for new events."""

    def __init__(self, reader: LogReader, poll_interval: float, ring_size: int = RING_SIZE) -> None:
        self._reader = reader
        self._poll_interval = poll_interval
        self._ring_size = ring_size
        self._ring: list[LiveEvent] = []
        self._ring_start = 0
        self.head = 0
        self._wake = asyncio.Event()
        self._changed = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.subscribers = 0

    async def start(self) -> None:
        self.head = self._ring_start = await self._reader.head()
        self._task = asyncio.create_task(self._follow(), name="punt-fanout")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def wake(self) -> None:
        """Tell the follower that new events were committed (call on the event loop)."""
        self._wake.set()

    def events_after(self, offset: int) -> list[LiveEvent] | None:
        """Return the ring's events after ``offset``, or None if the ring no longer reaches back that far."""
        if offset < self._ring_start:
            return None
        return self._ring[offset - self._ring_start :]

    async def wait(self, offset: int, timeout: float) -> bool:
        """Wait until the head passes ``offset``; return False if ``timeout`` seconds pass first."""
        if self.head > offset:
            return True
        changed = self._changed
        try:
            # asyncio.timeout wraps no extra task around the wait, unlike
            # wait_for, which matters with thousands of waiting subscribers.
            async with asyncio.timeout(max(timeout, 0)):
                await changed.wait()
        except TimeoutError:
            return False
        return True

    async def _follow(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self._poll_interval)
            self._wake.clear()
            try:
                await self._catch_up()
            except Exception:
                # A failed read is retried on the next round; subscribers
                # meanwhile wait, and nothing is skipped.
                logger.exception("reading new events for the live streams failed; retrying")
                await asyncio.sleep(self._poll_interval)

    async def _catch_up(self) -> None:
        head = await self._reader.head()
        while self.head < head:
            batch = await self._reader.read_all(self.head, head, _READ_BATCH)
            self._ring.extend(LiveEvent(stored) for stored in batch)
            self.head = batch[-1].offset
            self._trim()
            self._notify()

    def _trim(self) -> None:
        # Trimming in chunks of half the ring keeps the copy cost amortised.
        excess = len(self._ring) - self._ring_size
        if excess > self._ring_size // 2:
            del self._ring[:excess]
            self._ring_start += excess

    def _notify(self) -> None:
        changed, self._changed = self._changed, asyncio.Event()
        changed.set()
