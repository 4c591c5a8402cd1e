"""Schema evolution: a stored version-1 event is read as the current version through its upcaster.

The test plays a later punt in which ``label.created`` gained a required
``description`` field at schema version 2. The log on disk still contains
the version-1 events written by today's code.
"""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import msgspec
import pytest

from punt import database
from punt import events as ev
from punt.audit.integrity import verify_chain
from punt.eventstore.writer import Writer
from punt.projections import apply as projection_apply
from punt.projections.rebuild import dump_projections, iter_log, rebuild_projections
from tests.audit.scenario import write_mixed_history


class LabelCreatedV2(ev.Event, frozen=True, kw_only=True):
    type = "label.created"
    schema_version = 2
    id: str
    projectId: str
    name: str
    color: str
    description: str | None


def _upcast_label_v1(fields: dict) -> dict:
    return {**fields, "description": None}


@pytest.fixture
def v1_log(db_path: Path, writer: Writer) -> Path:
    write_mixed_history(writer, rounds=2)
    writer.close()
    return db_path


@pytest.fixture
def version_two(monkeypatch: pytest.MonkeyPatch) -> None:
    """Install the version-2 class, its decoder and its applier, as a later punt would ship them."""
    monkeypatch.setitem(ev.EVENT_TYPES, "label.created", LabelCreatedV2)
    monkeypatch.setitem(ev._decoders, "label.created", msgspec.json.Decoder(LabelCreatedV2))
    monkeypatch.setitem(projection_apply._APPLIERS, LabelCreatedV2, projection_apply._label_created)


def _stored_labels(db: Path):
    with closing(database.connect(db)) as conn:
        return [stored for stored in iter_log(conn) if stored.type == "label.created"]


def test_version_one_event_upcast_on_read(v1_log: Path, version_two: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ev.UPCASTERS, ("label.created", 1), _upcast_label_v1)
    stored = _stored_labels(v1_log)
    assert stored and all(row.schema_version == 1 for row in stored)

    event = ev.decode_event(stored[0].type, stored[0].schema_version, stored[0].data)
    assert isinstance(event, LabelCreatedV2)
    assert event.description is None
    assert event.name == msgspec.json.decode(stored[0].data)["name"]


def test_version_one_without_upcaster_fails(v1_log: Path, version_two: None) -> None:
    stored = _stored_labels(v1_log)[0]
    with pytest.raises(KeyError):
        ev.decode_event(stored.type, stored.schema_version, stored.data)


def test_current_version_decoded_directly(version_two: None) -> None:
    data = b'{"id":"l1","projectId":"p1","name":"new","color":"#000000","description":"written by v2"}'
    event = ev.decode_event("label.created", 2, data)
    assert event == LabelCreatedV2(id="l1", projectId="p1", name="new", color="#000000", description="written by v2")


def test_rebuild_of_old_log_matches_state(v1_log: Path, version_two: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ev.UPCASTERS, ("label.created", 1), _upcast_label_v1)
    with closing(database.connect(v1_log)) as conn, closing(sqlite3.connect(":memory:")) as rebuilt:
        rebuild_projections(conn, rebuilt)
        assert dump_projections(rebuilt) == dump_projections(conn)
        # Upcasting happens on read only: the stored bytes, and so the hash chain, stay as written.
        assert verify_chain(conn)[1] is None


def test_old_and_new_versions_share_a_log(db_path: Path, version_two: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ev.UPCASTERS, ("label.created", 1), _upcast_label_v1)
    writer = Writer(str(db_path), projection_apply.apply_event)
    writer.start()
    try:
        write_mixed_history(writer, rounds=1)
        writer.execute_sync(lambda tx: tx.append(LabelCreatedV2(
            id="v2-label", projectId="p", name="fresh", color="#111111", description="from version 2")))
    finally:
        writer.close()

    versions = {(row.schema_version, ev.decode_event(row.type, row.schema_version, row.data).description)
                for row in _stored_labels(db_path)}
    assert versions == {(1, None), (2, "from version 2")}
