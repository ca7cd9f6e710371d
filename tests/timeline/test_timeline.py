"""The case timeline on a case built here: an e-mail, a WhatsApp export read in the
exhibit's zone, a picture with its EXIF time, a call and a transcribed recording stored
directly, custody records, and a plaso json_line import with a bad line."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from PIL import ExifTags, Image
from sqlalchemy import func, insert, select

from caselens.cli import app as cli_app
from caselens.cli import timeline as timeline_cli
from caselens.cli.app import main
from caselens.db.schema import (
    entities,
    items,
    log_records,
    timeline_events,
    transcript_segments,
    transcripts,
)
from caselens.identity import entity_id
from caselens.services import Caselens
from caselens.services.ingest import Acquisition
from caselens.services.timeline import TimelineService
from caselens.timeline.events import SOURCES
from caselens.timeline.model import KINDS
from tests.conftest import ADMIN

EMAIL = """\
From: Sophie Lang <s.lang@blueharbor.test>
To: Margaret Ellison <maggie@example.com>
Subject: Welcome to BlueHarbor
Date: Mon, 19 Jan 2026 16:22:05 +0100
Message-ID: <welcome@blueharbor.test>

Your account BHC-20417 is verified.
"""
# Winter in London: local time is UTC, so 19:02 local is 19:02Z.
CHAT = """\
14/01/2026, 19:02 - Daniel Whitmore: Good evening my darling
14/01/2026, 19:05 - Maggie Ellison: Hello Daniel!
20/01/2026, 10:04 - Maggie Ellison: Done! sent with reference BHC-DEP-20417
"""
PLASO_LINES = [
    {
        "__container_type__": "event",
        "timestamp": 1768500000123456,  # 2026-01-15T18:00:00.123456Z
        "timestamp_desc": "Content Modification Time",
        "data_type": "fs:stat",
        "parser": "filestat",
        "display_name": "OS:/home/dw/wallet.txt",
        "filename": "/home/dw/wallet.txt",
        "message": "wallet.txt modified",
        "hostname": "laptop-dw",
        "username": "dw",
    },
    "{not json",
    {"timestamp": 0, "datetime": "Not set", "message": "no time"},
    {
        "datetime": "2026-01-16T09:30:00+01:00",
        "timestamp_desc": "Last Visited Time",
        "data_type": "chrome:history:page_visited",
        "parser": "sqlite/chrome_27_history",
        "message": "https://blueharbor-capital.test/register (=cmd)",
        "visits": 3,
    },
]


@pytest.fixture
def built(app: Caselens, tmp_path: Path) -> Iterator[tuple[Caselens, dict[str, str]]]:
    app.users.init(ADMIN)
    app.cases.create(ADMIN, "TL", "Timeline", default_purpose="testing", jurisdiction="GB")
    mail = tmp_path / "mail"
    mail.mkdir()
    (mail / "welcome.eml").write_text(EMAIL)
    picture = Image.new("RGB", (32, 24), (10, 120, 200))
    exif = Image.Exif()
    sub = exif.get_ifd(ExifTags.IFD.Exif)
    sub[ExifTags.Base.DateTimeOriginal] = "2026:01:15 08:30:00"
    sub[ExifTags.Base.OffsetTimeOriginal] = "+01:00"
    picture.save(mail / "dashboard.jpg", exif=exif)
    (mail / "statement.txt").write_text("recorded statement")
    app.ingest.ingest(ADMIN, "TL", [str(mail)], Acquisition(exhibit="MAIL/1"))
    phone = tmp_path / "phone"
    phone.mkdir()
    (phone / "WhatsApp Chat with Daniel Whitmore.txt").write_text(CHAT)
    acquisition = Acquisition(exhibit="PHONE/1", timezone="Europe/London")
    app.ingest.ingest(ADMIN, "TL", [str(phone)], acquisition)
    ids = _store_call_and_recording(app)
    yield app, ids


def _store_call_and_recording(app: Caselens) -> dict[str, str]:
    """A call and a transcribed recording, stored as their readers would store them."""
    with app.runtime.transaction() as connection:
        case_id, item, generation = connection.execute(
            select(items.c.case_id, items.c.id, items.c.generation).where(
                items.c.name == "statement.txt"
            )
        ).one()
        call_id = entity_id(case_id, "Call", "test", "1")
        recording_id = entity_id(case_id, "Audio", "test", "1")
        base = {"case_id": case_id, "item_id": item, "generation": generation}
        connection.execute(
            insert(entities),
            [
                {
                    **base,
                    "entity_id": call_id,
                    "schema": "Call",
                    "properties": {
                        "callerNumber": ["+447700900481"],
                        "receiverNumber": ["+447700900736"],
                        "date": ["2026-01-17T12:00:00"],
                        "duration": ["73"],
                    },
                    "context": {"record": "calls/1", "direction": "outgoing", "time_zone": "UTC"},
                },
                {
                    **base,
                    "entity_id": recording_id,
                    "schema": "Audio",
                    "properties": {"authoredAt": ["2026-01-18T10:00:00"], "fileName": ["s.m4a"]},
                    "context": {"created": {"utc": "2026-01-18T10:00:00", "time_zone": "UTC"}},
                },
            ],
        )
        connection.execute(
            insert(transcripts),
            [{"item_id": item, "generation": generation, "model": "test", "model_version": "1"}],
        )
        connection.execute(
            insert(transcript_segments),
            [
                {"item_id": item, "generation": generation, "number": 1, "start": 0.0,
                 "end": 4.5, "text": "I sent the money", "confidence": 0.9},
                {"item_id": item, "generation": generation, "number": 2, "start": 65.25,
                 "end": 70.0, "text": "to K Doyle", "confidence": 0.8},
            ],
        )  # fmt: skip
    return {"call": call_id, "recording": recording_id, "statement": item}


def service(app: Caselens) -> TimelineService:
    return TimelineService(app.runtime)


def test_every_kind_has_a_source() -> None:
    assert {source.kind for source in SOURCES} == set(KINDS)


def test_the_events_come_in_order_with_their_zones_and_parties(
    built: tuple[Caselens, dict[str, str]],
) -> None:
    app, _ = built
    page = service(app).events(
        ADMIN, "TL", kinds=[k for k in KINDS if k not in ("file", "custody")]
    )
    found = [(e.time, e.kind) for e in page.events]
    assert found == [
        ("2026-01-14T19:02:00Z", "message"),
        ("2026-01-14T19:05:00Z", "message"),
        ("2026-01-15T07:30:00Z", "picture"),
        ("2026-01-17T12:00:00Z", "call"),
        ("2026-01-18T10:00:00Z", "recording"),
        ("2026-01-18T10:00:00Z", "transcript"),
        ("2026-01-18T10:01:05.250000Z", "transcript"),
        ("2026-01-19T15:22:05Z", "email"),
        ("2026-01-20T10:04:00Z", "message"),
    ]
    assert page.more is False
    first = page.events[0].as_dict()
    assert first["summary"] == (
        "message whatsapp:Daniel Whitmore -> whatsapp:Maggie Ellison: Good evening my darling"
    )
    assert first["time_zone"] == "Europe/London" and first["time_zone_assumed"] is True
    assert [p["role"] for p in first["parties"]] == ["from", "to"]
    assert first["source"] == "Message.date" and first["details"]["record"] == "line 1"
    email = page.events[7]
    assert email.time_zone == "+01:00" and email.time_zone_assumed is False
    assert email.summary == (
        "e-mail Sophie Lang <s.lang@blueharbor.test> -> Margaret Ellison <maggie@example.com>: "
        "Welcome to BlueHarbor"
    )
    assert [p.label for p in email.parties] == ["s.lang@blueharbor.test", "maggie@example.com"]
    picture = page.events[2]
    assert (picture.time_zone, picture.time_zone_assumed) == ("+01:00", False)
    assert picture.details == {"as_written": "2026:01:15 08:30:00", "tag": "DateTimeOriginal"}
    call = page.events[3]
    assert call.summary == "call outgoing +447700900481 -> +447700900736, 73 s"
    assert call.details["duration"] == 73
    said = page.events[6]
    assert said.summary == "said: to K Doyle" and said.details["review_state"] == "machine"


def test_window_kinds_limit_and_offset(built: tuple[Caselens, dict[str, str]]) -> None:
    app, _ = built
    timeline = service(app)
    messages = timeline.events(ADMIN, "TL", kinds=["message"])
    assert len(messages.events) == 3
    window = timeline.events(
        ADMIN,
        "TL",
        start=datetime(2026, 1, 15, tzinfo=UTC),
        end=datetime(2026, 1, 19, 15, 22, 5, tzinfo=UTC),
        kinds=["message", "email", "picture", "call"],
    )
    assert [e.kind for e in window.events] == ["picture", "call"]  # end is exclusive
    day = timeline.events(ADMIN, "TL", start=datetime(2026, 1, 14), end=datetime(2026, 1, 15))
    assert {e.kind for e in day.events} == {"message"} and len(day.events) == 2
    everything = timeline.events(ADMIN, "TL")
    kinds = {e.kind for e in everything.events}
    assert {"file", "custody", "email", "transcript"} <= kinds
    keys = [e.time.rstrip("Z") for e in everything.events]
    assert keys == sorted(keys)
    first_two = timeline.events(ADMIN, "TL", limit=2)
    next_two = timeline.events(ADMIN, "TL", limit=2, offset=2)
    assert first_two.more and [e.as_dict() for e in first_two.events + next_two.events] == [
        e.as_dict() for e in everything.events[:4]
    ]
    with pytest.raises(Exception, match="unknown kind"):
        timeline.events(ADMIN, "TL", kinds=["tweet"])


def test_entity_filter_by_id_account_and_phone_number(
    built: tuple[Caselens, dict[str, str]],
) -> None:
    app, _ = built
    timeline = service(app)
    by_name = timeline.events(ADMIN, "TL", entity="daniel whitmore")
    assert [e.time for e in by_name.events] == [
        "2026-01-14T19:02:00Z",
        "2026-01-14T19:05:00Z",
        "2026-01-20T10:04:00Z",  # Maggie's reply goes to Daniel too
    ]
    by_number = timeline.events(ADMIN, "TL", entity="07700 900481")  # national form, case GB
    assert [e.kind for e in by_number.events] == ["call"]
    by_address = timeline.events(ADMIN, "TL", entity="maggie@example.com")
    assert [e.kind for e in by_address.events] == ["email"]
    sender = by_address.events[0].parties[0].entity_id
    assert sender is not None
    by_id = timeline.events(ADMIN, "TL", entity=sender)
    assert [e.kind for e in by_id.events] == ["email"]
    nobody = timeline.events(ADMIN, "TL", entity="+1 202 555 0100")
    assert nobody.events == []


def _plaso_file(path: Path) -> Path:
    lines = [line if isinstance(line, str) else json.dumps(line) for line in PLASO_LINES]
    path.write_text("\n".join(lines[:2]) + "\n\n" + "\n".join(lines[2:]) + "\n")
    return path


def test_plaso_import_counts_bad_lines_and_joins_the_timeline(
    built: tuple[Caselens, dict[str, str]], tmp_path: Path
) -> None:
    app, _ = built
    timeline = service(app)
    source = _plaso_file(tmp_path / "laptop.jsonl")
    result = timeline.import_plaso(ADMIN, "TL", source, exhibit="LAPTOP/1")
    assert (result.events, result.lines, result.blank, result.bad_lines, result.undated) == (
        2, 5, 1, 1, 1,
    )  # fmt: skip
    assert result.problems[0][0] == 2 and result.problems[0][1].startswith("not JSON")
    assert result.problems[1] == (4, "no time (not set or unreadable)")
    imported = timeline.events(ADMIN, "TL", kinds=["plaso"])
    assert [e.time for e in imported.events] == [
        "2026-01-15T18:00:00.123456Z",
        "2026-01-16T08:30:00Z",
    ]
    wallet = imported.events[0]
    assert wallet.item_id == result.item_id
    assert wallet.summary == "Content Modification Time: wallet.txt modified"
    assert wallet.details == {
        "timestamp_desc": "Content Modification Time",
        "parser": "filestat",
        "data_type": "fs:stat",
        "display_name": "OS:/home/dw/wallet.txt",
        "hostname": "laptop-dw",
        "username": "dw",
        "line": 1,
    }
    # Again by the item's hash prefix: the events are replaced, not doubled.
    with app.runtime.transaction() as connection:
        sha = connection.execute(
            select(items.c.sha256).where(items.c.id == result.item_id)
        ).scalar_one()
    again = timeline.import_plaso(ADMIN, "TL", sha[:12])
    assert again.replaced == 2 and again.events == 2
    with app.runtime.transaction() as connection:
        stored = connection.execute(select(func.count()).select_from(timeline_events)).scalar()
        nul = connection.execute(  # the rest of the record, as plaso wrote it
            select(timeline_events.c.attributes).where(timeline_events.c.line == 5)
        ).scalar_one()
        derived = connection.execute(
            select(func.count())
            .select_from(log_records)
            .where(log_records.c.action == "derived", log_records.c.item_id == result.item_id)
        ).scalar()
    assert stored == 2 and nul["visits"] == 3 and derived == 2
    window = timeline.events(
        ADMIN, "TL", start=datetime(2026, 1, 15, 17), end=datetime(2026, 1, 16)
    )
    assert [e.kind for e in window.events] == ["plaso"]


Runner = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(
    cli_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Runner:
    # Until the command and the service are registered in the application, add them here.
    if not any(c.name == "timeline" for c in cli_app.app.registered_commands):
        monkeypatch.setattr(cli_app.app, "registered_commands", [*cli_app.app.registered_commands])
        cli_app.app.command("timeline")(timeline_cli.timeline)
    original = Caselens.__init__

    def with_timeline(self: Caselens, settings: Any) -> None:
        original(self, settings)
        if not hasattr(self, "timeline"):
            self.timeline = TimelineService(self.runtime)  # type: ignore[attr-defined]

    monkeypatch.setattr(Caselens, "__init__", with_timeline)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def test_cli_table_csv_json_and_import(
    built: tuple[Caselens, dict[str, str]], run: Runner, tmp_path: Path
) -> None:
    source = _plaso_file(tmp_path / "laptop.jsonl")
    code, out, err = run("--as", "admin", "timeline", "import-plaso", "TL", str(source))
    assert code == 0, err
    assert "2 events imported" in out and "line 2: not JSON" in out
    code, out, _ = run(
        "--as", "admin", "timeline", "TL", "--kind", "message", "--kind", "plaso",
        "--from", "2026-01-14T19:03", "--to", "2026-01-16", "--json",
    )  # fmt: skip
    assert code == 0
    found = json.loads(out)
    assert [(e["time"], e["kind"]) for e in found["events"]] == [
        ("2026-01-14T19:05:00Z", "message"),
        ("2026-01-15T18:00:00.123456Z", "plaso"),
        ("2026-01-16T08:30:00Z", "plaso"),  # --to a date includes that day
    ]
    code, out, _ = run("--as", "admin", "timeline", "TL", "--kind", "plaso", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["time"] for r in rows] == ["2026-01-15T18:00:00.123456Z", "2026-01-16T08:30:00Z"]
    assert rows[1]["summary"] == (
        "Last Visited Time: https://blueharbor-capital.test/register (=cmd)"
    )
    assert json.loads(rows[0]["details"])["line"] == 1
    code, out, _ = run("--as", "admin", "timeline", "TL", "--entity", "+447700900481", "--csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["kind"], r["parties"]) for r in rows] == [
        ("call", "caller:+447700900481; receiver:+447700900736")
    ]
    code, out, _ = run("--as", "admin", "timeline", "TL", "--kind", "email")
    assert code == 0 and "2026-01-19" in out and "email" in out
    code, _, err = run("--as", "admin", "timeline", "TL", "--from", "yesterday")
    assert code == 2 and "not an ISO 8601" in err


def test_plaso_text_is_made_storable_and_odd_lines_are_counted() -> None:
    from caselens.timeline.plaso import PlasoReport, read_events

    data = (
        b'{"timestamp": 1768500000000000, "message": "a\\u0000b", "x": "\\ud800"}\n'
        b"[1, 2]\n"
        b'{"timestamp": NaN}\n'
        b"\xff\xfe\n"
        b'{"timestamp": 99999999999999999999999}\n' + b"[" * 5000 + b"\n"
    )
    report = PlasoReport()
    events = list(read_events(io.BytesIO(data), report))
    assert [(e.message, e.attributes["x"]) for e in events] == [("a\\u0000b", "\\ud800")]
    assert (report.lines, report.bad, report.undated) == (6, 4, 1)
    assert [line for line, _ in report.problems] == [2, 3, 4, 5, 6]
