"""Server-Sent Event frames: an ``id:`` line with the offset, one ``data:`` line with the envelope."""

from __future__ import annotations

import msgspec

from punt.events import EVENT_TYPES, Event, decode_event, encode_event
from punt.eventstore.records import StoredEvent

__all__ = ["KEEPALIVE", "LiveEvent", "reset_frame"]

KEEPALIVE = b": keepalive\n\n"

_encode = msgspec.json.Encoder().encode


class _Metadata(msgspec.Struct):
    actorId: str | None = None
    tabId: str | None = None


_decode_metadata = msgspec.json.Decoder(_Metadata).decode


class LiveEvent:
    """A log event with its SSE frame, encoded once for every subscriber.

    The event's data is decoded only when a subscription needs one of its
    fields: most events are routed by their type and project alone, and a
    stream catching up reads thousands of them a second.
    """

    __slots__ = ("_data", "_event", "_schema_version", "actor_id", "frame", "offset", "project_id", "type")

    def __init__(self, stored: StoredEvent) -> None:
        self.offset = stored.offset
        self.type = stored.type
        self.project_id = stored.project_id
        self._data = stored.data
        self._schema_version = stored.schema_version
        self._event: Event | None = None
        metadata = _decode_metadata(stored.metadata)
        self.actor_id = metadata.actorId

        # Stored data is already compact JSON on one line; only data of an
        # older schema version is encoded again, in its current shape.
        current = stored.schema_version == EVENT_TYPES[stored.type].schema_version
        data = stored.data if current else encode_event(self.event)
        self.frame = b"".join((
            b"id: %d\ndata: {\"type\":" % stored.offset,
            _encode(stored.type),
            b",\"data\":",
            data,
            b",\"tabId\":",
            _encode(metadata.tabId),
            b",\"timestamp\":",
            _encode(stored.timestamp),
            b"}\n\n",
        ))

    @property
    def event(self) -> Event:
        """The decoded event, upcast to its current schema version."""
        if self._event is None:
            self._event = decode_event(self.type, self._schema_version, self._data)
        return self._event


def reset_frame(requested: int, head: int, timestamp: str) -> bytes:
    """Build the ``stream.reset`` frame for a resume id beyond the end of the log.

    Its id is the current head, so the client's next reconnect resumes from there.
    """
    envelope = {
        "type": "stream.reset",
        "data": {"lastEventId": requested, "head": head},
        "tabId": None,
        "timestamp": timestamp,
    }
    return b"id: %d\ndata: %s\n\n" % (head, _encode(envelope))
