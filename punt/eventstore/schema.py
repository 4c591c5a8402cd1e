"""The log's table, its indexes and the triggers that make it append-only."""

from __future__ import annotations

__all__ = ["ACTOR_EXPRESSION", "EVENTS_TABLE", "LOG_SCHEMA"]

EVENTS_TABLE = "events"

# The acting user's id inside an event's metadata. A query must spell the
# expression exactly like this for SQLite to use the index built on it.
ACTOR_EXPRESSION = "json_extract(metadata, '$.actorId')"

# `offset` is the rowid, assigned by the writer as head + 1 inside a
# BEGIN IMMEDIATE transaction, so offsets are gapless and commit in order.
LOG_SCHEMA = f"""
CREATE TABLE IF NOT EXISTS {EVENTS_TABLE} (
    offset INTEGER PRIMARY KEY,
    stream TEXT NOT NULL,
    version INTEGER NOT NULL,
    type TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    data BLOB NOT NULL,
    metadata BLOB NOT NULL,
    project_id TEXT,
    timestamp TEXT NOT NULL,
    hash TEXT NOT NULL,
    UNIQUE (stream, version)
);
CREATE INDEX IF NOT EXISTS events_by_project ON {EVENTS_TABLE} (project_id, offset)
    WHERE project_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS events_by_type ON {EVENTS_TABLE} (type, offset);
CREATE INDEX IF NOT EXISTS events_by_actor ON {EVENTS_TABLE} ({ACTOR_EXPRESSION}, offset);
CREATE INDEX IF NOT EXISTS events_by_timestamp ON {EVENTS_TABLE} (timestamp);
CREATE TRIGGER IF NOT EXISTS events_reject_update BEFORE UPDATE ON {EVENTS_TABLE}
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: UPDATE is not allowed');
END;
CREATE TRIGGER IF NOT EXISTS events_reject_delete BEFORE DELETE ON {EVENTS_TABLE}
BEGIN
    SELECT RAISE(ABORT, 'the event log is append-only: DELETE is not allowed');
END;
"""

