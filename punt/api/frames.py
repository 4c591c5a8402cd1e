"""Server-Sent Event frames: an ``id:`` line with the offset, one ``data:`` line with the envelope."""

from __future__ import annotations

import msgspec

from punt.events import Event, decode_event, encode_event
from punt.eventstore.records import StoredEvent

__all__ = ["KEEPALIVE", "LiveEvent", "reset_frame"]

KEEPALIVE = b": keepalive\n\n"

_encode = msgspec.json.Encoder().encode


class _Metadata(msgspec.Struct):
    actorId: str | None = None
    tabId: str | None = None


_decode_metadata = msgspec.json.Decoder(_Metadata).decode


class LiveEvent:
    """A decoded log event with its SSE frame, encoded once for every subscriber."""

    __slots__ = ("actor_id", "event", "frame", "offset", "project_id", "type")

    def __init__(self, stored: StoredEvent) -> None:
        self.offset = stored.offset
        self.type = stored.type
        self.project_id = stored.project_id
        self.event: Event = decode_event(stored.type, stored.schema_version, stored.data)
        metadata = _decode_metadata(stored.metadata)
        self.actor_id = metadata.actorId

        # Stored data is already compact JSON on one line; only data of an
        # older schema version is encoded again, in its current shape.
        data = stored.data if stored.schema_version == self.event.schema_version else encode_event(self.event)
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
