"""The phone core: times, party numbers, the exhibit's time zone, readers by structure."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from caselens.db.schema import entities, exhibits, items
from caselens.errors import InvalidInput
from caselens.ingest.errors import UnsupportedVersion
from caselens.ingest.formats.phone import times
from caselens.ingest.formats.phone.comms import Comms, normalize_phone
from caselens.ingest.formats.phone.database import PhoneReader, Schema, has_columns
from caselens.ingest.formats.phone.readers import READERS
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.ingest.worker import _siblings
from caselens.services import Caselens
from caselens.services.ingest import Acquisition
from tests.conftest import ADMIN


def test_epoch_counts_become_utc() -> None:
    sms = times.from_unix_ms(1_700_000_000_123)
    assert sms is not None and sms.iso == "2023-11-14T22:13:20" and sms.zone == "UTC"
    assert not sms.assumed
    seconds = times.from_apple(722_000_000)
    nanoseconds = times.from_apple(722_000_000 * 10**9)
    assert seconds is not None and nanoseconds is not None
    assert seconds.iso == nanoseconds.iso == "2023-11-18T11:33:20"
    assert times.from_unix_auto(1_700_000_000) == times.from_unix_auto(1_700_000_000_000)


@pytest.mark.parametrize("value", [None, "", "abc", 0, -5, float("nan"), 1e30, 10**20, True])
def test_impossible_times_are_refused(value: Any) -> None:
    assert times.from_unix(value) is None
    assert times.from_apple(value) is None


def test_local_times_take_the_exhibit_zone_and_say_it_was_assumed() -> None:
    summer = times.from_local(datetime(2024, 7, 1, 12, 0), "Europe/London")
    winter = times.from_local(datetime(2024, 1, 1, 12, 0), "Europe/London")
    assert summer is not None and summer.iso == "2024-07-01T11:00:00"
    assert winter is not None and winter.iso == "2024-01-01T12:00:00"
    assert summer.context() == {"time_zone": "Europe/London", "time_zone_assumed": True}
    unknown = times.from_local(datetime(2024, 7, 1, 12, 0), None)
    assert unknown is not None and unknown.zone == "UTC" and unknown.assumed
    written = times.from_aware(datetime.fromisoformat("2024-07-01T12:00:00+02:00"))
    assert written is not None and written.iso == "2024-07-01T10:00:00"
    assert written.zone == "+02:00" and not written.assumed
    assert times.from_aware(datetime(2024, 7, 1, tzinfo=UTC)) is not None


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("07700 900123", "GB", "+447700900123"),
        ("0044 7700 900123", None, "+447700900123"),
        ("+1 (202) 555-0143", "GB", "+12025550143"),
        ("447700900123", None, None),  # no country: ambiguous, kept as written by callers
        ("HSBC", "GB", None),
        ("", "GB", None),
        ("12", "GB", None),
    ],
)
def test_phone_numbers_normalize_to_e164(raw: str, region: str | None, expected: str) -> None:
    assert normalize_phone(raw, region) == expected


def _source(tmp_path: Path, region: str | None = "GB") -> Source:
    blob = tmp_path / "blob"
    blob.write_bytes(b"x")
    from caselens.store.hashing import digest_bytes

    return Source("item1", "chat.db", blob, digest_bytes(b"x"), "x", b"x", region=region)


def _sink() -> Sink:
    from caselens.ingest.limits import Limits

    return Sink("case1", "item1", Limits(), lambda stream: pytest.fail("no children"))


def test_comms_names_every_party_once_and_writes_a_line_per_event(tmp_path: Path) -> None:
    sink = _sink()
    comms = Comms(sink, _source(tmp_path), "sms")
    alice = comms.phone("07700 900123", name="Alice")
    again = comms.phone("+44 7700 900123")
    bank = comms.phone("HSBC")
    assert alice is not None and again is not None and bank is not None
    assert alice.entity_id == again.entity_id and alice.label == "+447700900123"
    assert bank.label == "sms:HSBC"
    moment = times.from_unix(1_700_000_000)
    comms.message(
        "1",
        sender=alice,
        recipients=[comms.owner(), None],
        moment=moment,
        body="call me",
        record="sms/_id=1",
        direction="incoming",
        read=True,
        deleted=None,
    )
    comms.call(
        "2",
        caller=comms.owner(),
        receiver=alice,
        moment=moment,
        duration=61.9,
        record="calls/_id=2",
        direction="sideways",
    )
    message = next(e for e in sink.entities if e.schema.name == "Message")
    assert message.get("senderAccount") == [alice.entity_id]
    assert message.get("recipientAccount") == [comms.owner().entity_id]
    contexts = list(sink.contexts.values())
    assert {"record": "sms/_id=1", "time_zone": "UTC", "direction": "incoming", "read": True} in (
        contexts
    )
    call_context = next(c for c in contexts if c.get("record") == "calls/_id=2")
    assert call_context["direction"] == "unknown"  # never an invented direction
    call = next(e for e in sink.entities if e.schema.name == "Call")
    assert call.get("receiverNumber") == ["+447700900123"] and call.get("duration") == ["61"]
    text = sink.pages[1]
    assert "2023-11-14T22:13:20 UTC sms +447700900123 -> device owner: call me" in text
    assert "call outgoing" not in text and "61 s" in text
    assert comms.location(
        "3", latitude=91, longitude=0, moment=None, record="loc/1"
    ) is None and any("out of range" in w for w in sink.warnings)


def test_sqlite_siblings_are_found_next_to_the_source_only(tmp_path: Path) -> None:
    database = tmp_path / "msgstore.db"
    database.write_bytes(b"SQLite format 3\x00" + b"\x00" * 100)
    (tmp_path / "msgstore.db-wal").write_bytes(b"wal")
    (tmp_path / "msgstore.db-journal").symlink_to(tmp_path / "msgstore.db-wal")
    found = _siblings(bytes(database), database.read_bytes())
    assert found == (("-wal", bytes(database) + b"-wal"),)
    assert _siblings(bytes(database), b"not sqlite") == ()
    assert _siblings(None, database.read_bytes()) == ()


class _TestReader(PhoneReader):
    """A made-up app, to drive the database ingestor end to end."""

    name = "test-app"
    service = "testapp"

    @classmethod
    def recognises(cls, schema: Schema) -> bool:
        return "test_messages" in schema

    def read(self, db: sqlite3.Connection, schema: Schema, source: Source, sink: Sink) -> None:
        if not has_columns(schema, "test_messages", "sent", "body"):
            raise UnsupportedVersion("test_messages has no 'sent' column")
        comms = Comms(sink, source, self.service)
        for row in db.execute("SELECT rowid, sent, body FROM test_messages"):
            moment = times.from_local(datetime.fromisoformat(row["sent"]), source.timezone)
            comms.message(
                str(row["rowid"]),
                sender=comms.owner(),
                moment=moment,
                body=row["body"],
                record=f"test_messages/rowid={row['rowid']}",
            )


@pytest.fixture
def test_reader() -> Iterator[None]:
    READERS.insert(0, _TestReader)  # workers are forked: they see it too
    yield
    READERS.remove(_TestReader)


def _database(path: Path, columns: str, rows: list[tuple[str, ...]]) -> None:
    with sqlite3.connect(path) as db:
        db.execute(f"CREATE TABLE test_messages ({columns})")
        marks = ", ".join("?" * len(rows[0]))
        db.executemany(f"INSERT INTO test_messages VALUES ({marks})", rows)
    db.close()


def test_a_database_is_read_with_the_exhibit_zone_recorded(
    app: Caselens, case: str, tmp_path: Path, test_reader: None
) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    _database(evidence / "app.db", "sent TEXT, body TEXT", [("2024-07-01 12:00:00", "hello")])
    _database(evidence / "old.db", "body TEXT", [("no time column",)])
    (evidence / "other.db").write_bytes(b"SQLite format 3\x00" + b"\x00" * 200)  # damaged
    before = (evidence / "app.db").read_bytes()
    acquisition = Acquisition(exhibit="PHONE/1", timezone="Europe/London")
    app.ingest.ingest(ADMIN, case, [str(evidence)], acquisition)
    assert (evidence / "app.db").read_bytes() == before  # the evidence was never opened
    with app.runtime.transaction() as connection:
        states = {
            row.name: (row.state, row.format, row.error)
            for row in connection.execute(
                select(items.c.name, items.c.state, items.c.format, items.c.error)
            )
        }
        zone = connection.execute(select(exhibits.c.timezone)).scalar_one()
        message = connection.execute(
            select(entities.c.properties, entities.c.context).where(entities.c.schema == "Message")
        ).one()
    assert zone == "Europe/London"
    assert states["app.db"][:2] == ("ingested", "phone-db")
    assert states["old.db"] == (
        "unsupported",
        "phone-db",
        "unsupported version of the test-app database: test_messages has no 'sent' column",
    )
    assert states["other.db"][0] in {"failed", "unsupported"}
    assert message.properties["date"] == ["2024-07-01T11:00:00"]
    assert message.context == {
        "record": "test_messages/rowid=1",
        "time_zone": "Europe/London",
        "time_zone_assumed": True,
    }


def test_the_exhibit_zone_is_checked(app: Caselens, case: str, tmp_path: Path) -> None:
    note = tmp_path / "note.txt"
    note.write_text("x")
    with pytest.raises(InvalidInput, match="unknown time zone"):
        app.ingest.ingest(ADMIN, case, [str(note)], Acquisition(exhibit="A", timezone="Mars/X"))
    with pytest.raises(InvalidInput, match="give --exhibit"):
        app.ingest.ingest(ADMIN, case, [str(note)], Acquisition(timezone="Europe/Paris"))
    app.ingest.ingest(ADMIN, case, [str(note)], Acquisition(exhibit="A", timezone="Europe/Paris"))
    with pytest.raises(InvalidInput, match="cannot be Asia/Tokyo"):
        app.ingest.ingest(ADMIN, case, [str(note)], Acquisition(exhibit="A", timezone="Asia/Tokyo"))
