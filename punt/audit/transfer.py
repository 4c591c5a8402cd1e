"""Export the log as NDJSON, and import it back.

One line per event, in offset order, holding the stored columns, with
``data`` and ``metadata`` embedded as the exact JSON bytes that the hash
covers. Reading a file checks every line before anything is written: the
JSON shape, gapless offsets from 1, the hash chain, and that each event
decodes. A bad line is rejected with its line number.

Two ways to import:

- ``import_log`` copies the file into an empty database: the same
  offsets, hashes and state, so ``punt verify`` passes on the copy.
- ``load_state`` + ``replace_state`` re-create the file's final state in a
  live database as new events, after a ``database.wiped``. The live
  database's earlier history stays in its log.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator

import msgspec

from punt import events as ev
from punt.commands.access import Actor
from punt.commands.admin import require_system_admin
from punt.errors import FieldError, InvalidInput
from punt.eventstore.records import GENESIS_HASH, StoredEvent, chain_hash
from punt.eventstore.schema import EVENTS_TABLE
from punt.eventstore.writer import Transaction
from punt.events import decode_event
from punt.projections import queries
from punt.projections.apply import apply_event
from punt.projections.rebuild import iter_log
from punt.projections.schema import PROJECTION_SCHEMA

__all__ = ["ImportedState", "export_batch", "export_lines", "import_log", "load_state", "read_export", "replace_state"]


class ExportedEvent(msgspec.Struct, frozen=True):
    """One line of an export file."""

    offset: int
    stream: str
    version: int
    type: str
    schemaVersion: int
    data: msgspec.Raw
    metadata: msgspec.Raw
    projectId: str | None
    timestamp: str
    hash: str


_COLUMNS = "offset, stream, version, type, schema_version, data, metadata, project_id, timestamp, hash"

_encode_line = msgspec.json.Encoder().encode
_decode_line = msgspec.json.Decoder(ExportedEvent).decode


def export_lines(conn: sqlite3.Connection) -> Iterator[bytes]:
    """Yield the whole log as NDJSON lines, reading it in batches."""
    for stored in iter_log(conn):
        yield _export_line(stored)


def export_batch(conn: sqlite3.Connection, after: int, upto: int, limit: int) -> list[bytes]:
    """Return the NDJSON lines of up to ``limit`` events with after < offset <= upto."""
    rows = conn.execute(
        f"SELECT {_COLUMNS} FROM {EVENTS_TABLE} WHERE offset > ? AND offset <= ? ORDER BY offset LIMIT ?",
        (after, upto, limit),
    ).fetchall()
    return [_export_line(StoredEvent(*row)) for row in rows]


def _export_line(stored: StoredEvent) -> bytes:
    line = ExportedEvent(
        offset=stored.offset, stream=stored.stream, version=stored.version, type=stored.type,
        schemaVersion=stored.schema_version, data=msgspec.Raw(bytes(stored.data)),
        metadata=msgspec.Raw(bytes(stored.metadata)), projectId=stored.project_id,
        timestamp=stored.timestamp, hash=stored.hash,
    )
    return _encode_line(line) + b"\n"


def _rejected(line_number: int, message: str) -> InvalidInput:
    return InvalidInput(f"invalid export file, line {line_number}: {message}; nothing was imported",
                        [FieldError("file", f"line {line_number}: {message}")])


def read_export(lines: Iterable[bytes | str]) -> Iterator[tuple[StoredEvent, ev.Event]]:
    """Yield each event of an export file after checking its line; raise InvalidInput on the first bad line."""
    expected, previous_hash = 1, GENESIS_HASH
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            exported = _decode_line(line)
        except msgspec.DecodeError as exc:
            raise _rejected(line_number, f"not an exported event ({exc})") from None
        stored = _stored(exported)
        if stored.offset != expected:
            raise _rejected(line_number, f"offset {stored.offset} where {expected} was expected")
        digest = chain_hash(previous_hash, stored.offset, stored.stream, stored.version, stored.type,
                            stored.schema_version, stored.data, stored.metadata, stored.timestamp)
        if digest != stored.hash:
            raise _rejected(line_number, f"the hash of offset {stored.offset} does not match its content")
        try:
            event = decode_event(stored.type, stored.schema_version, stored.data)
        except (KeyError, msgspec.ValidationError, msgspec.DecodeError) as exc:
            raise _rejected(line_number, f"event {stored.type!r} does not decode ({exc!r})") from None
        yield stored, event
        expected, previous_hash = expected + 1, stored.hash


def _stored(exported: ExportedEvent) -> StoredEvent:
    return StoredEvent(
        offset=exported.offset, stream=exported.stream, version=exported.version, type=exported.type,
        schema_version=exported.schemaVersion, data=bytes(exported.data), metadata=bytes(exported.metadata),
        project_id=exported.projectId, timestamp=exported.timestamp, hash=exported.hash,
    )


def import_log(conn: sqlite3.Connection, lines: Iterable[bytes | str]) -> int:
    """Copy an export file into an empty database, in one transaction; return the last offset.

    On any bad line the transaction is rolled back, so the database is left
    as it was.
    """
    conn.execute("BEGIN IMMEDIATE")
    try:
        count = conn.execute(f"SELECT count(*) FROM {EVENTS_TABLE}").fetchone()[0]
        if count:
            raise InvalidInput.field("db", f"the database already contains {count} events; import into a new file")
        head = 0
        for stored, event in read_export(lines):
            _insert(conn, stored)
            apply_event(conn, stored, event)
            head = stored.offset
        conn.execute("UPDATE projection_checkpoint SET offset = ? WHERE name = 'all'", (head,))
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return head


def _insert(conn: sqlite3.Connection, stored: StoredEvent) -> None:
    conn.execute(
        f"INSERT INTO {EVENTS_TABLE} (offset, stream, version, type, schema_version, data, metadata, project_id,"
        " timestamp, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (stored.offset, stored.stream, stored.version, stored.type, stored.schema_version, stored.data,
         stored.metadata, stored.project_id, stored.timestamp, stored.hash),
    )


@dataclass
class ImportedState:
    """The final state of an export file, as rows shaped like the API's, ready to re-create."""

    users: list[dict[str, Any]] = field(default_factory=list)
    projects: list[dict[str, Any]] = field(default_factory=list)
    columns: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    members: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    labels: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    tickets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    deactivated: list[str] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "users": len(self.users),
            "projects": len(self.projects),
            "labels": sum(len(rows) for rows in self.labels.values()),
            "tickets": sum(len(rows) for rows in self.tickets.values()),
        }


def load_state(lines: Iterable[bytes | str]) -> ImportedState:
    """Check an export file and replay it in memory; return the state it ends in."""
    state = sqlite3.connect(":memory:", isolation_level=None)
    try:
        state.executescript(PROJECTION_SCHEMA)
        state.execute("BEGIN")
        for stored, event in read_export(lines):
            apply_event(state, stored, event)
        state.execute("COMMIT")
        return _collect(state)
    finally:
        state.close()


def _collect(state: sqlite3.Connection) -> ImportedState:
    user_ids = [row[0] for row in state.execute("SELECT id FROM users ORDER BY created_at, id")]
    imported = ImportedState(users=[queries.find_user(state, user_id) for user_id in user_ids])
    imported.deactivated = [user_id for user_id in user_ids if queries.is_deactivated(state, user_id)]
    imported.projects = queries.list_projects(state, None)
    for project in imported.projects:
        project_id = project["id"]
        imported.columns[project_id] = queries.list_columns(state, project_id)
        imported.members[project_id] = queries.list_members(state, project_id)
        imported.labels[project_id] = queries.list_labels(state, project_id)
        imported.tickets[project_id] = queries.list_tickets(state, project_id)
    return imported


def replace_state(tx: Transaction, actor: Actor, imported: ImportedState) -> dict[str, int]:
    """Wipe the current state and re-create the imported one as new events.

    Every session and API key ends, so every client signs in again.
    Passwords are kept for the imported users that exist here already. The
    importing admin is kept as well, so that someone can still sign in.
    """
    require_system_admin(actor)
    importer = queries.find_user(tx.conn, actor.user_id)
    imported_ids = {user["id"] for user in imported.users}
    if importer["id"] not in imported_ids and any(
        user["username"].lower() == importer["username"].lower() for user in imported.users
    ):
        raise InvalidInput.field("file", f"it contains another user named {importer['username']!r}, so your account "
                                         "cannot be kept; sign in as a user of the file and import again")

    tx.append(ev.DatabaseWiped())
    kept_ids = imported_ids | {importer["id"]}
    _drop_credentials_except(tx.conn, kept_ids)

    users = imported.users if importer["id"] in imported_ids else [*imported.users, importer]
    for user in users:
        _recreate_user(tx, user)
    for user_id in imported.deactivated:
        # The importing admin stays able to sign in, whatever the file contains.
        if user_id != importer["id"]:
            tx.append(ev.UserDeactivated(id=user_id))
    for project in imported.projects:
        _recreate_project(tx, imported, project)
    return imported.counts()


def _drop_credentials_except(conn: sqlite3.Connection, user_ids: set[str]) -> None:
    conn.execute("DELETE FROM sessions")
    conn.execute("DELETE FROM api_keys")
    conn.execute("DELETE FROM credentials WHERE user_id NOT IN (SELECT value FROM json_each(?))",
                 (msgspec.json.encode(sorted(user_ids)).decode(),))


def _recreate_user(tx: Transaction, user: dict[str, Any]) -> None:
    tx.append(ev.UserRegistered(
        id=user["id"], username=user["username"], email=user["email"], name=user["name"],
        avatarColor=user["avatarColor"], isSystemAdmin=user["isSystemAdmin"], createdAt=user["createdAt"],
    ))
    if user["avatar"] is not None:
        tx.append(ev.UserUpdated(id=user["id"], username=user["username"], name=user["name"],
                                 avatar=user["avatar"], avatarColor=user["avatarColor"]))


def _recreate_project(tx: Transaction, imported: ImportedState, project: dict[str, Any]) -> None:
    project_id = project["id"]
    tx.append(ev.ProjectCreated(
        id=project_id, name=project["name"], key=project["key"], description=project["description"],
        color=project["color"], createdAt=project["createdAt"], updatedAt=project["updatedAt"],
    ))
    for column in imported.columns[project_id]:
        tx.append(ev.ColumnCreated(id=column["id"], projectId=project_id, name=column["name"], order=column["order"]))
    for member in imported.members[project_id]:
        tx.append(ev.MemberAdded(id=member["id"], projectId=project_id, userId=member["userId"], role=member["role"]))
    for label in imported.labels[project_id]:
        tx.append(ev.LabelCreated(id=label["id"], projectId=project_id, name=label["name"], color=label["color"]))
    # Tickets come sorted by column and order, so each lands at the end of
    # its column and no other ticket shifts.
    # NOTE: the project's ticket counter restarts at the highest ticket left,
    # so numbers of deleted tickets above it can be given out again.
    for ticket in imported.tickets[project_id]:
        tx.append(_ticket_created(ticket))


def _ticket_created(ticket: dict[str, Any]) -> ev.TicketCreated:
    fields = {name: ticket[name] for name in (
        "id", "number", "key", "title", "description", "priority", "order", "columnId", "assigneeId", "creatorId",
        "parentId", "sprintId", "storyPoints", "estimate", "startDate", "dueDate", "environment",
        "affectedVersion", "fixVersion", "labelIds", "projectId", "createdAt", "updatedAt",
    )}
    return ev.TicketCreated(type_=ticket["type"], **fields)
