"""The stored form of an event and the canonical bytes its hash covers."""

from __future__ import annotations

import hashlib

import msgspec

__all__ = ["GENESIS_HASH", "StoredEvent", "chain_hash"]

# The hash chain starts from this value, so the first event's hash is
# computed exactly like every later one.
GENESIS_HASH = "0" * 64

_canonical = msgspec.json.Encoder()


class StoredEvent(msgspec.Struct, frozen=True):
    """One row of the log, as written and as read back."""

    offset: int
    stream: str
    version: int
    type: str
    schema_version: int
    data: bytes
    metadata: bytes
    project_id: str | None
    timestamp: str
    hash: str


def chain_hash(
    previous_hash: str,
    offset: int,
    stream: str,
    version: int,
    event_type: str,
    schema_version: int,
    data: bytes,
    metadata: bytes,
    timestamp: str,
) -> str:
    """Hash an event together with its predecessor's hash (SHA-256, hex).

    Altering, removing or reordering any stored event changes every hash
    from that offset on, so verifying the chain names the first bad offset.
    """
    canonical = _canonical.encode(
        [offset, stream, version, event_type, schema_version, data.decode(), metadata.decode(), timestamp]
    )
    return hashlib.sha256(previous_hash.encode() + canonical).hexdigest()
