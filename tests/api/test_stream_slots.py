"""Stream slots: the per-user and per-project limits, and their release."""

from __future__ import annotations

import gc

import pytest

from punt.api.streams import StreamSlots
from punt.errors import TooManyRequests


def test_slots_limit_per_user() -> None:
    slots = StreamSlots(per_user=2, per_project=10)
    # A lease is released when it is garbage-collected, so the test keeps them.
    leases = [slots.acquire("alice", None), slots.acquire("alice", "p1")]
    with pytest.raises(TooManyRequests, match="PUNT_MAX_STREAMS_PER_USER"):
        slots.acquire("alice", None)
    assert slots.acquire("bob", None) is not None
    leases[0].release()
    assert slots.acquire("alice", None) is not None


def test_slots_limit_per_project() -> None:
    slots = StreamSlots(per_user=10, per_project=1)
    held = slots.acquire("alice", "p1")
    with pytest.raises(TooManyRequests, match="PUNT_MAX_STREAMS_PER_PROJECT"):
        slots.acquire("bob", "p1")
    held.release()


def test_lease_released_only_once() -> None:
    slots = StreamSlots(per_user=10, per_project=10)
    kept = slots.acquire("alice", "p1")
    lease = slots.acquire("alice", "p1")
    lease.release()
    lease.release()
    assert slots.users["alice"] == 1
    assert slots.projects["p1"] == 1
    kept.release()


def test_never_started_stream_frees_slot() -> None:
    """A stream whose generator never ran still gives its slot back once it is dropped."""
    slots = StreamSlots(per_user=1, per_project=1)

    async def frames(lease):
        try:
            yield b": connected\n\n"
        finally:
            lease.release()

    stream = frames(slots.acquire("alice", "p1"))
    del stream
    gc.collect()
    assert slots.users == {}
    assert slots.projects == {}
