"""Text-based phone exports on samples written here: WhatsApp chat exports in several
locales, Telegram Desktop JSON, Cellebrite UFED XML (alone and in a .ufdr) and operators'
call detail records read through column mappings."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from caselens.db.schema import entities, items
from caselens.identity import entity_id
from caselens.ingest.errors import BrokenFile, LimitReached, NotMyFormat
from caselens.ingest.formats.archives import ARCHIVE_INGESTORS
from caselens.ingest.formats.fallback import FallbackIngestor
from caselens.ingest.formats.phone import cdr
from caselens.ingest.formats.phone.cdr import CdrIngestor, load_mapping
from caselens.ingest.formats.phone.telegram_export import TelegramExportIngestor
from caselens.ingest.formats.phone.ufed import UfedReportIngestor
from caselens.ingest.formats.phone.whatsapp_export import WhatsAppExportIngestor
from caselens.ingest.formats.structured import JsonIngestor, XmlIngestor
from caselens.ingest.formats.text import TextIngestor
from caselens.ingest.harness import CASE_ID, Extraction, source_for
from caselens.ingest.limits import Limits
from caselens.ingest.registry import Ingestor, candidates
from caselens.ingest.sink import Sink
from caselens.services.ingest import Acquisition
from caselens.store.blobs import Readable
from caselens.store.hashing import Digests
from tests.conftest import ADMIN, new_installation

# Where the lead registers them: before the generic text, JSON, XML and zip readers.
REGISTERED: list[type[Ingestor]] = [
    UfedReportIngestor,
    TelegramExportIngestor,
    WhatsAppExportIngestor,
    CdrIngestor,
    *ARCHIVE_INGESTORS,
    XmlIngestor,
    JsonIngestor,
    TextIngestor,
    FallbackIngestor,
]
WHATSAPP_PLUGIN = "caselens.ingest.formats.phone.whatsapp_export:WhatsAppExportIngestor"


def run(
    ingestor: type[Ingestor],
    tmp_path: Path,
    name: str,
    data: bytes,
    *,
    timezone: str | None = None,
    region: str | None = None,
    cdr_mappings: tuple[Path, ...] = (),
    limits: Limits | None = None,
) -> Extraction:
    path = tmp_path / name
    path.write_bytes(data)
    source, store = source_for(path, tmp_path / "work", limits=limits)
    source = dataclasses.replace(
        source, timezone=timezone, region=region, cdr_mappings=cdr_mappings
    )

    def store_child(stream: Readable) -> Digests:
        return store.put_stream(stream, head_size=0, keep_limit=0).digests

    sink = Sink(CASE_ID, source.item_id, source.limits, store_child, source.size)
    ingestor().ingest(source, sink)
    return Extraction(sink, source, store, dict(sink.document_properties))


def best(tmp_path: Path, name: str, data: bytes, **replaced: Any) -> type[Ingestor]:
    path = tmp_path / name
    path.write_bytes(data)
    source, _ = source_for(path, tmp_path / "work")
    return candidates(REGISTERED, dataclasses.replace(source, **replaced))[0]


def records(found: Extraction, schema: str) -> list[tuple[dict[str, list[str]], dict[str, Any]]]:
    """(properties, context) of the emitted entities of one schema, in order."""
    return [
        (dict(entity.properties), found.sink.contexts.get(index, {}))
        for index, entity in enumerate(found.sink.entities)
        if entity.schema.name == schema
    ]


def account(service: str, identifier: str) -> str:
    return entity_id(CASE_ID, "UserAccount", service, identifier)


def owner() -> str:
    return entity_id(CASE_ID, "UserAccount", "device-owner", "1" * 32)


def lines(text: str) -> bytes:
    return (text.strip("\n") + "\n").encode()


# --- WhatsApp -------------------------------------------------------------------------

WHATSAPP_US = lines("""
12/31/23, 9:41 PM - Messages and calls are end-to-end encrypted. Tap to learn more.
12/31/23, 9:41 PM - Alice Smith: Happy new year soon!
12/31/23, 9:42 PM - +44 7700 900123: Who is this?
It's me, Bob

new number
12/31/23, 9:43 PM - Alice Smith: IMG-20231231-WA0001.jpg (file attached)
Look at this
1/1/24, 12:05 AM - Alice Smith: <Media omitted>
1/1/24, 12:06 AM - Alice Smith: This message was deleted
1/1/24, 12:07 AM - Alice Smith changed the subject from "Old" to "New: year"
""")

WHATSAPP_IOS_DE = lines("""
\u200e[15.07.23, 21:41:05] Familie: \u200eNachrichten und Anrufe sind Ende-zu-Ende-verschlüsselt.
[15.07.23, 21:41:05] Alice: Hallo
[15.07.23, 21:42:10] Bob: \u200e<attached: 00000012-PHOTO-2023-07-15-21-41-05.jpg>
[16.07.23, 00:00:01] Alice: Zweite
Zeile
[16.07.23, 00:01:00] Bob: \u200eimage omitted
""")


def test_whatsapp_us_export_in_full(tmp_path: Path) -> None:
    found = run(
        WhatsAppExportIngestor,
        tmp_path,
        "WhatsApp Chat with Alice Smith.txt",
        WHATSAPP_US,
        timezone="America/New_York",
        region="GB",
    )
    messages = records(found, "Message")
    assert len(messages) == 7
    assert found.sink.document_context == {"date_order": "mdy"}
    alice, bob = account("whatsapp", "Alice Smith"), account("phone", "+447700900123")
    properties, context = messages[2]
    assert properties == {
        "senderAccount": [bob],
        "recipientAccount": [alice],
        "date": ["2024-01-01T02:42:00"],  # 9:42 PM in New York, in UTC
        "bodyText": ["Who is this?\nIt's me, Bob\n\nnew number"],
        "threadTopic": ["Alice Smith"],
        "recordId": ["line 3"],
        "parent": [found.sink.document_id],
    }
    assert context == {
        "record": "line 3",
        "time_zone": "America/New_York",
        "time_zone_assumed": True,
    }
    photo, omitted, deleted, subject = (m for m in messages[3:])
    assert photo[0]["bodyText"] == ["Look at this"]
    assert photo[1]["attachments"] == ["IMG-20231231-WA0001.jpg"]
    assert omitted[1]["attachments"] == ["<Media omitted>"]
    assert omitted[1]["media_omitted"] is True and "bodyText" not in omitted[0]
    assert deleted[1]["deleted"] is True
    # A notice whose words hold ": " is not taken for a message of "Alice Smith changed…".
    assert subject[1]["system"] is True and "senderAccount" not in subject[0]
    assert messages[0][1]["system"] is True
    assert found.sink.warnings == []


def test_whatsapp_ios_german_export(tmp_path: Path) -> None:
    found = run(
        WhatsAppExportIngestor, tmp_path, "_chat.txt", WHATSAPP_IOS_DE, timezone="Europe/Berlin"
    )
    messages = records(found, "Message")
    assert len(messages) == 5
    notice, hello, photo, second, image = messages
    # iOS writes notices under the group's name, marked with a left-to-right mark.
    assert notice[1]["system"] is True and notice[0]["threadTopic"] == ["Familie"]
    assert hello[0]["date"] == ["2023-07-15T19:41:05"]  # CEST is UTC+2
    assert hello[0]["senderAccount"] == [account("whatsapp", "Alice")]
    assert hello[0]["recipientAccount"] == [account("whatsapp", "Bob")]
    assert photo[1]["attachments"] == ["00000012-PHOTO-2023-07-15-21-41-05.jpg"]
    assert "bodyText" not in photo[0]
    assert second[0]["bodyText"] == ["Zweite\nZeile"]
    assert image[1]["attachments"] == ["image omitted"] and image[1]["media_omitted"] is True
    assert found.sink.document_context == {"date_order": "dmy"}


@pytest.mark.parametrize(
    ("sample", "order", "when"),
    [
        (b"31/12/2023, 21:41 - Alice: hi\n", "dmy", "2023-12-31T21:41:00"),
        (b"2023-12-31 21:41 - Alice: hi\n", "ymd", "2023-12-31T21:41:00"),
        (b"12/31/2023, 21:41 - Alice: hi\n", "mdy", "2023-12-31T21:41:00"),
        (b"31.12.23, 9.41 p. m. - Alice: hola\n", "dmy", "2023-12-31T21:41:00"),
        ("12/31/23, 9:41\u202fPM - Alice: hi\n".encode(), "mdy", "2023-12-31T21:41:00"),
    ],
)
def test_whatsapp_locales(tmp_path: Path, sample: bytes, order: str, when: str) -> None:
    found = run(WhatsAppExportIngestor, tmp_path, "chat.txt", sample, timezone="UTC")
    assert found.sink.document_context["date_order"] == order
    assert [p["date"] for p, _ in records(found, "Message")] == [[when]]
    assert [c["time_zone"] for _, c in records(found, "Message")] == ["UTC"]


def test_whatsapp_ambiguous_dates_read_by_time_order(tmp_path: Path) -> None:
    sample = lines("""
01/02/23, 10:00 - Alice: first
01/03/23, 10:00 - Bob: second
02/02/23, 10:00 - Alice: third
""")
    found = run(WhatsAppExportIngestor, tmp_path, "chat.txt", sample, timezone="UTC")
    # Day first would put the third message before the second: month first it is.
    assert found.sink.document_context["date_order"] == "mdy"
    assert [p["date"] for p, _ in records(found, "Message")] == [
        ["2023-01-02T10:00:00"],
        ["2023-01-03T10:00:00"],
        ["2023-02-02T10:00:00"],
    ]
    assert found.sink.warnings == [
        "day/month order is ambiguous (no day above 12): month/day/year assumed, "
        "the order that keeps the messages in time order"
    ]


def test_whatsapp_fully_ambiguous_dates_say_what_was_assumed(tmp_path: Path) -> None:
    found = run(WhatsAppExportIngestor, tmp_path, "chat.txt", b"01/02/23, 10:00 - A: x\n")
    assert found.sink.document_context["date_order"] == "dmy"
    assert records(found, "Message")[0][0]["date"] == ["2023-02-01T10:00:00"]
    assert found.sink.warnings == [
        "day/month order is ambiguous (no day above 12): day/month/year assumed, "
        "the habit of exports written like these",
        "no time zone given for the exhibit: local times read as UTC (assumed)",
    ]
    twelve_hour = run(WhatsAppExportIngestor, tmp_path, "c.txt", b"01/02/23, 10:00 AM - A: x\n")
    assert twelve_hour.sink.document_context["date_order"] == "mdy"


def test_whatsapp_impossible_date_and_lines_that_are_not_messages(tmp_path: Path) -> None:
    sample = lines("""
Exported by a tool
31/12/2023, 21:41 - Alice: one
31/02/2023, 21:42 - Alice: an impossible day
31/12/2023, 25:00 - Bob: an impossible hour
""")
    found = run(WhatsAppExportIngestor, tmp_path, "chat.txt", sample, timezone="Europe/London")
    messages = records(found, "Message")
    assert [p.get("date") for p, _ in messages] == [["2023-12-31T21:41:00"], None, None]
    assert [p["bodyText"] for p, _ in messages[1:]] == [
        ["an impossible day"],
        ["an impossible hour"],
    ]
    assert "Exported by a tool" in found.text
    assert found.sink.warnings == [
        "1 lines before the first message are not messages (kept as text)",
        "2 messages have an impossible date or time, kept without one: lines 3, 4",
    ]


def test_whatsapp_detection_by_content(tmp_path: Path) -> None:
    assert best(tmp_path, "_chat.txt", WHATSAPP_IOS_DE) is WhatsAppExportIngestor
    assert best(tmp_path, "anything.log", WHATSAPP_US) is WhatsAppExportIngestor
    note = b"Meeting notes\n12/31/23, 9:41 PM - Alice: a quote inside a note\n"
    assert best(tmp_path, "WhatsApp Chat with Alice.txt", note) is TextIngestor
    assert best(tmp_path, "chat.txt", b"just some words\n") is TextIngestor
    with pytest.raises(NotMyFormat):
        run(WhatsAppExportIngestor, tmp_path, "x.txt", b"no chat here\nnor here\n")


def test_whatsapp_export_inside_its_zip_goes_to_the_chat_reader(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("_chat.txt", WHATSAPP_IOS_DE)
        archive.writestr("00000012-PHOTO-2023-07-15-21-41-05.jpg", b"\xff\xd8\xff\xd9")
    assert best(tmp_path, "WhatsApp Chat - Familie.zip", buffer.getvalue()).name == "zip"
    assert best(tmp_path, "_chat.txt", WHATSAPP_IOS_DE) is WhatsAppExportIngestor


# --- Telegram -------------------------------------------------------------------------

TELEGRAM_CHAT: dict[str, Any] = {
    "name": "Alice Smith",
    "type": "personal_chat",
    "id": 111,
    "messages": [
        {
            "id": 1,
            "type": "message",
            "date": "2023-12-31T22:41:05",
            "date_unixtime": "1704058865",
            "from": "Alice Smith",
            "from_id": "user111",
            "text": "Hi there",
            "text_entities": [{"type": "plain", "text": "Hi there"}],
        },
        {
            "id": 2,
            "type": "message",
            "date": "2023-12-31T22:42:05",
            "date_unixtime": "1704058925",
            "from": "Me Myself",
            "from_id": "user999",
            "text": ["See ", {"type": "link", "text": "https://example.org"}, " now"],
            "photo": "photos/photo_1@31-12-2023_22-42-05.jpg",
            "width": 800,
            "height": 600,
        },
        {
            "id": 3,
            "type": "service",
            "date": "2023-12-31T22:43:20",
            "date_unixtime": "1704059000",
            "actor": "Alice Smith",
            "actor_id": "user111",
            "action": "phone_call",
            "duration_seconds": 42,
            "discard_reason": "hangup",
            "text": "",
        },
        {
            "id": 4,
            "type": "service",
            "date": "2023-12-31T22:50:00",
            "date_unixtime": "1704059400",
            "actor": "Alice Smith",
            "actor_id": "user111",
            "action": "phone_call",
            "discard_reason": "missed",
            "text": "",
        },
        {
            "id": 5,
            "type": "message",
            "date": "2023-12-31T23:00:00",
            "from": "Me Myself",
            "from_id": "user999",
            "text": "",
            "file": "files/report.pdf",
            "media_type": "document",
        },
    ],
}


def test_telegram_single_chat_in_full(tmp_path: Path) -> None:
    data = json.dumps(TELEGRAM_CHAT, indent=1).encode()
    assert best(tmp_path, "result.json", data) is TelegramExportIngestor
    found = run(TelegramExportIngestor, tmp_path, "result.json", data, timezone="Europe/Berlin")
    messages, calls = records(found, "Message"), records(found, "Call")
    assert (len(messages), len(calls)) == (3, 2)
    alice, me = account("telegram", "user111"), account("telegram", "user999")
    properties, context = messages[1]
    assert properties == {
        "senderAccount": [me],
        "recipientAccount": [alice],
        "date": ["2023-12-31T21:42:05"],
        "bodyText": ["See https://example.org now"],
        "threadTopic": ["Alice Smith"],
        "recordId": ["messages[1]"],
        "parent": [found.sink.document_id],
    }
    assert context == {
        "record": "messages[1]",
        "time_zone": "UTC",
        "direction": "outgoing",
        "attachments": ["photos/photo_1@31-12-2023_22-42-05.jpg"],
    }
    assert messages[0][1]["direction"] == "incoming"
    assert messages[0][0]["recipientAccount"] == [owner()]  # the export does not name "me"
    # Without date_unixtime the desktop's local time is read in the exhibit's zone.
    assert messages[2][0]["date"] == ["2023-12-31T22:00:00"]
    assert messages[2][1]["time_zone_assumed"] is True
    assert [c["direction"] for _, c in calls] == ["incoming", "missed"]
    assert calls[0][0]["duration"] == ["42"] and calls[0][0]["date"] == ["2023-12-31T21:43:20"]
    assert found.sink.warnings == [
        "1 times have no date_unixtime and were read as local times of the exporting "
        "computer (zone assumed)"
    ]


def test_telegram_full_export_with_contacts(tmp_path: Path) -> None:
    group = {
        "name": "Project",
        "type": "private_group",
        "id": 555,
        "messages": [
            {
                "id": 10,
                "type": "service",
                "date_unixtime": "1704058865",
                "actor": "Alice Smith",
                "actor_id": "user111",
                "action": "create_group",
                "title": "Project",
                "text": "",
            },
            {
                "id": 11,
                "type": "message",
                "date_unixtime": "1704058870",
                "from": "Me Myself",
                "from_id": "user999",
                "text": "hello group",
            },
            "not a message",
        ],
    }
    export = {
        "about": "Here is the data you requested.",
        "personal_information": {
            "user_id": 999,
            "first_name": "Me",
            "last_name": "Myself",
            "phone_number": "+44 7700 900999",
            "bio": "",
        },
        "contacts": {
            "about": "",
            "list": [
                {
                    "user_id": 111,
                    "first_name": "Alice",
                    "last_name": "Smith",
                    "phone_number": "+44 7700 900111",
                    "date_unixtime": "1700000000",
                }
            ],
        },
        "frequent_contacts": {
            "about": "",
            "list": [{"id": 111, "category": "people", "type": "user", "name": "Alice"}],
        },
        "chats": {"about": "", "list": [TELEGRAM_CHAT, group]},
    }
    data = json.dumps(export).encode()
    assert best(tmp_path, "result.json", data) is TelegramExportIngestor
    found = run(TelegramExportIngestor, tmp_path, "result.json", data)
    assert (len(records(found, "Message")), len(records(found, "Call"))) == (5, 2)
    (person, person_context), *_ = records(found, "Person")
    assert person["name"] == ["Alice Smith"] and person["phone"] == ["+447700900111"]
    assert person_context == {"record": "contacts.list[0]", "added": "2023-11-14T22:13:20"}
    created, hello = records(found, "Message")[-2:]
    assert created[0]["bodyText"] == ["create_group"] and created[1]["system"] is True
    assert created[1]["direction"] == "incoming"  # the account's owner is known here
    assert hello[1]["direction"] == "outgoing" and hello[0]["threadTopic"] == ["Project"]
    assert "frequent contact Alice (user)" in found.text
    assert found.sink.warnings == [
        "1 times have no date_unixtime and were read as local times of the exporting "
        "computer (zone assumed)",
        "1 records could not be read: chats.list[1].messages[2]",
    ]


def test_telegram_broken_and_foreign_json(tmp_path: Path) -> None:
    broken = json.dumps(TELEGRAM_CHAT, indent=1).encode()[:400]
    with pytest.raises(BrokenFile, match="Telegram export is not valid JSON at line"):
        run(TelegramExportIngestor, tmp_path, "result.json", broken)
    foreign = b'{"type": "personal_chat", "note": "no messages key"}'
    assert best(tmp_path, "result.json", foreign) is JsonIngestor
    with pytest.raises(NotMyFormat):
        run(TelegramExportIngestor, tmp_path, "other.json", b'[{"messages": []}]')


# --- Cellebrite UFED ------------------------------------------------------------------


def field(name: str, value: str, kind: str = "String") -> str:
    value_element = f'<value type="{kind}"><![CDATA[{value}]]></value>'
    return f'<field name="{name}" type="{kind}">{value_element}</field>'


def party(identifier: str, role: str, name: str = "", owner: bool = False) -> str:
    return (
        '<model type="Party" id="p">'
        + field("Identifier", identifier)
        + field("Role", role)
        + (field("Name", name) if name else "")
        + field("IsPhoneOwner", "True" if owner else "False", "Boolean")
        + "</model>"
    )


UFED_REPORT = (
    '<?xml version="1.0" encoding="utf-8"?>\n'
    '<project id="r1" name="Handset of J. Doe" reportVersion="7.60.0.1" '
    'xmlns="http://pa.cellebrite.com/report/2.0">'
    '<metadata section="Device Info"><item name="IMEI"><![CDATA[356938035643809]]></item>'
    "</metadata>"
    '<taggedFiles><file id="f1" path="/a.jpg"><metadata section="File"/></file></taggedFiles>'
    "<decodedData>"
    '<modelType type="Contact">'
    '<model type="Contact" id="c1" deleted_state="Intact">'
    + field("Source", "Phone")
    + field("Name", "Alice Smith")
    + '<multiModelField type="ContactEntry" name="Entries">'
    '<model type="PhoneNumber" id="e1">'
    + field("Category", "Mobile")
    + field("Value", "07700 900111")
    + '</model><model type="EmailAddress" id="e2">'
    + field("Value", "alice@example.org")
    + "</model></multiModelField></model></modelType>"
    '<modelType type="Call">'
    '<model type="Call" id="call1" deleted_state="Intact">'
    + field("Source", "Phone")
    + field("Direction", "Incoming", "CallDirection")
    + field("Status", "Established", "CallStatus")
    + field("TimeStamp", "2023-07-15T21:41:05.000+02:00", "TimeStamp")
    + field("Duration", "00:01:23", "TimeSpan")
    + '<multiModelField type="Party" name="Parties">'
    + party("+447700900111", "From", "Alice Smith")
    + "</multiModelField></model>"
    '<model type="Call" id="call2" deleted_state="Deleted">'
    + field("Direction", "Incoming", "CallDirection")
    + field("Status", "Missed", "CallStatus")
    + field("TimeStamp", "2023-07-15T22:00:00", "TimeStamp")
    + '<multiModelField type="Party" name="Parties">'
    + party("07700 900222", "From")
    + "</multiModelField></model></modelType>"
    '<modelType type="SMS">'
    '<model type="SMS" id="sms1" deleted_state="Trash">'
    + field("Folder", "Inbox")
    + field("Status", "Read")
    + field("Body", "See you at 9")
    + field("TimeStamp", "2023-07-15T20:00:00+00:00", "TimeStamp")
    + '<multiModelField type="Party" name="Parties">'
    + party("+447700900111", "From")
    + "</multiModelField></model></modelType>"
    '<modelType type="Chat">'
    '<model type="Chat" id="chat1" deleted_state="Intact">'
    + field("Source", "WhatsApp")
    + field("Name", "Weekend")
    + '<multiModelField type="Party" name="Participants">'
    + party("447700900111@s.whatsapp.net", "General", "Alice")
    + party("447700900999@s.whatsapp.net", "General", "Me", owner=True)
    + "</multiModelField>"
    '<multiModelField type="InstantMessage" name="Messages">'
    '<model type="InstantMessage" id="im1" deleted_state="Intact">'
    + field("Body", "Are we on?")
    + field("TimeStamp", "2023-07-15T18:00:00.000+00:00", "TimeStamp")
    + field("Status", "Read")
    + '<modelField type="Party" name="From">'
    + party("447700900111@s.whatsapp.net", "From", "Alice")
    + "</modelField></model>"
    '<model type="InstantMessage" id="im2" deleted_state="Intact">'
    + field("Body", "Yes, photo attached")
    + field("TimeStamp", "2023-07-15T18:01:00.000+00:00", "TimeStamp")
    + '<modelField type="Party" name="From">'
    + party("447700900999@s.whatsapp.net", "From", "Me", owner=True)
    + '</modelField><multiModelField type="Attachment" name="Attachments">'
    '<model type="Attachment" id="a1">'
    + field("Filename", "IMG-20230715-WA0001.jpg")
    + "</model></multiModelField></model>"
    "</multiModelField></model></modelType>"
    '<modelType type="Location">'
    '<model type="Location" id="loc1" deleted_state="Intact">'
    + field("Name", "Home")
    + field("TimeStamp", "2023-07-15T17:00:00+01:00", "TimeStamp")
    + '<modelField type="Coordinate" name="Position"><model type="Coordinate" id="co1">'
    + field("Latitude", "51.5007", "Double")
    + field("Longitude", "-0.1246", "Double")
    + "</model></modelField></model></modelType>"
    '<modelType type="UserAccount">'
    '<model type="UserAccount" id="ua1" deleted_state="Intact">'
    + field("Name", "J. Doe")
    + field("ServiceType", "Telegram")
    + field("Username", "jdoe")
    + "</model></modelType>"
    '<modelType type="CellTower"><model type="CellTower" id="t1"/></modelType>'
    "</decodedData></project>"
)


def test_ufed_report_in_full(tmp_path: Path) -> None:
    data = UFED_REPORT.encode()
    assert best(tmp_path, "report.xml", data) is UfedReportIngestor
    found = run(UfedReportIngestor, tmp_path, "report.xml", data, region="GB", timezone="UTC")
    messages, calls = records(found, "Message"), records(found, "Call")
    assert (len(messages), len(calls), len(records(found, "Person"))) == (3, 2, 1)
    properties, context = calls[0]
    assert properties == {
        "callerNumber": ["+447700900111"],
        "date": ["2023-07-15T19:41:05"],
        "duration": ["83"],
        "recordId": ["Call/id=call1"],
    }
    assert context == {
        "record": "Call/id=call1",
        "time_zone": "+02:00",
        "direction": "incoming",
        "deleted": False,
        "caller_account": account("phone", "+447700900111"),
        "receiver_account": owner(),
    }
    assert calls[1][1]["direction"] == "missed" and calls[1][1]["deleted"] is True
    assert calls[1][1]["time_zone_assumed"] is True  # written without an offset
    assert calls[1][0]["callerNumber"] == ["+447700900222"]  # national, read in the case's country
    sms = messages[0]
    assert sms[0]["bodyText"] == ["See you at 9"]
    assert sms[1]["deleted_state"] == "Trash" and sms[1]["read"] is True
    first, second = messages[1:]
    alice = account("whatsapp", "447700900111@s.whatsapp.net")
    me = account("whatsapp", "447700900999@s.whatsapp.net")
    assert first[0]["senderAccount"] == [alice] and first[0]["recipientAccount"] == [me]
    assert first[0]["threadTopic"] == ["Weekend"]
    assert first[1]["record"] == "Chat/id=chat1/InstantMessage/id=im1"
    assert first[1]["direction"] == "incoming" and second[1]["direction"] == "outgoing"
    assert second[1]["attachments"] == ["IMG-20230715-WA0001.jpg"]
    (place, place_context), *_ = records(found, "Address")
    assert (place["latitude"], place["longitude"]) == (["51.500700"], ["-0.124600"])
    assert place_context["time_zone"] == "+01:00"
    person = records(found, "Person")[0][0]
    assert person["phone"] == ["+447700900111"] and person["email"] == ["alice@example.org"]
    assert account("telegram", "jdoe") in {e.id for e in found.sink.entities}
    assert found.properties["generator"] == ["Cellebrite UFED report 7.60.0.1"]
    assert found.sink.warnings == ["model types not read: CellTower (1)"]
    assert found.sink.document_context == {"records_read": 9}  # the chat counts too


def test_ufdr_takes_the_report_from_the_zip(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("files/Image/IMG-20230715-WA0001.jpg", b"\xff\xd8\xff\xd9")
        archive.writestr("report.xml", UFED_REPORT)
    data = buffer.getvalue()
    assert best(tmp_path, "phone.ufdr", data) is UfedReportIngestor
    assert best(tmp_path, "phone.zip", data).name == "zip"
    found = run(UfedReportIngestor, tmp_path, "phone.ufdr", data)
    assert len(records(found, "Message")) == 3
    with pytest.raises(LimitReached, match=r"report\.xml inside the \.ufdr"):
        run(UfedReportIngestor, tmp_path, "b.ufdr", data, limits=Limits(max_expanded_bytes=1000))
    without = io.BytesIO()
    with zipfile.ZipFile(without, "w") as archive:
        archive.writestr("other.xml", UFED_REPORT)
    with pytest.raises(NotMyFormat):
        run(UfedReportIngestor, tmp_path, "c.ufdr", without.getvalue())


def test_ufed_malformed_and_hostile_xml(tmp_path: Path) -> None:
    cut = UFED_REPORT[: UFED_REPORT.index('<modelType type="Location">') + 60].encode()
    found = run(UfedReportIngestor, tmp_path, "report.xml", cut)
    assert len(records(found, "Message")) == 3  # everything before the damage
    (warning,) = found.sink.warnings
    assert warning.startswith("report.xml is not well-formed (")
    assert warning.endswith("the 7 records before that point were read")
    with pytest.raises(BrokenFile, match="not well-formed"):
        run(UfedReportIngestor, tmp_path, "r2.xml", UFED_REPORT[:400].encode())
    bomb = (
        '<?xml version="1.0"?>\n<!DOCTYPE project [\n'
        '<!ENTITY a "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa">\n'
        '<!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">\n'
        '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;">\n'
        '<!ENTITY x SYSTEM "file:///etc/passwd">\n]>\n'
        '<project xmlns="http://pa.cellebrite.com/report/2.0"><decodedData>'
        '<modelType type="SMS"><model type="SMS" id="s">'
        + field("Body", "&c;&x;").replace("<![CDATA[&c;&x;]]>", "&c;&x;")
        + "</model></modelType></decodedData></project>"
    ).encode()
    assert best(tmp_path, "bomb.xml", bomb) is UfedReportIngestor
    with pytest.raises(BrokenFile, match="declares XML entities: refused"):
        run(UfedReportIngestor, tmp_path, "bomb.xml", bomb)
    other = b'<?xml version="1.0"?><project><name>a build file</name></project>'
    assert best(tmp_path, "build.xml", other) is XmlIngestor


# --- call detail records --------------------------------------------------------------

IDS = "356938035643809,234150999999999"  # the subscriber's IMEI and IMSI
CDR_UTC = lines(f"""
Calling Number,Called Number,Start Time,Duration,Cell ID,IMEI,IMSI,Record Type
+447700900123,07700 900456,2023-12-31 21:41:05,65,234-15-1234-5678,{IDS},MOC
07700 900456,+447700900123,2023-12-31 22:00:00,0,234-15-1234-5678,{IDS},MTC-MISSED
+447700900456,+447700900123,2023-02-30 10:00:00,10,234-15-1234-5678,{IDS},MTC
+447700900123,+447700900456,2023-12-31 23:00:00,,234-15-1234-9999,{IDS},SMS-MO
,,2023-12-31 23:30:00,5,,,,MOC
+447700900123,+447700900789,2023-12-31 23:45:00,1:02:03,,,,DATA
""")


def test_cdr_with_a_builtin_mapping_in_full(tmp_path: Path) -> None:
    assert best(tmp_path, "records.csv", CDR_UTC) is CdrIngestor
    found = run(CdrIngestor, tmp_path, "records.csv", CDR_UTC, region="GB")
    calls, messages = records(found, "Call"), records(found, "Message")
    assert (len(calls), len(messages)) == (3, 1)
    properties, context = calls[0]
    assert properties == {
        "callerNumber": ["+447700900123"],
        "receiverNumber": ["+447700900456"],
        "date": ["2023-12-31T21:41:05"],
        "duration": ["65"],
        "recordId": ["line 2"],
    }
    assert context == {
        "record": "line 2",
        "time_zone": "UTC",
        "direction": "outgoing",
        "cell_id": "234-15-1234-5678",
        "imei": "356938035643809",
        "imsi": "234150999999999",
        "record_type": "MOC",
        "caller_account": account("phone", "+447700900123"),
        "receiver_account": account("phone", "+447700900456"),
    }
    assert calls[1][1]["direction"] == "missed"
    assert calls[2][1]["direction"] == "unknown" and calls[2][0]["duration"] == ["3723"]
    assert messages[0][1]["direction"] == "outgoing" and messages[0][1]["record"] == "line 5"
    assert found.properties["rowCount"] == ["6"]
    assert found.sink.document_context == {"cdr_mapping": "generic-csv-utc"}
    assert found.sink.warnings == [
        "2 rows skipped: line 4 (impossible or unreadable start '2023-02-30 10:00:00'), "
        "line 6 (no caller nor callee)",
        "record types not in mapping generic-csv-utc: 'DATA' (1)",
    ]


def test_cdr_local_times_with_separate_date_and_time(tmp_path: Path) -> None:
    sample = lines("""
A_PARTY;B_PARTY;DATE;TIME;DURATION_SEC;CELL_ID;IMEI;IMSI;DIRECTION
+491701234567;+491707654321;15.07.2023;21:41:05;30;262-01-100-200;356938035643809;262011234567890;OUT
+491707654321;+491701234567;16.07.2023;08:00:00;0;262-01-100-200;356938035643809;262011234567890;SMS_IN
""")
    assert best(tmp_path, "cdr.csv", sample) is CdrIngestor
    found = run(CdrIngestor, tmp_path, "cdr.csv", sample, timezone="Europe/Berlin")
    (call, context), *_ = records(found, "Call")
    assert call["date"] == ["2023-07-15T19:41:05"]
    assert (context["time_zone"], context["time_zone_assumed"]) == ("Europe/Berlin", True)
    (message, message_context), *_ = records(found, "Message")
    assert message["senderAccount"] == [account("phone", "+491707654321")]
    assert message_context["direction"] == "incoming"
    assert found.sink.warnings == []


def test_cdr_user_mapping_and_the_documented_example(tmp_path: Path) -> None:
    example = Path(cdr.__file__).parent / "cdr_mappings" / "example.yaml"
    mapping = load_mapping(example)
    assert mapping.columns.required() == ["CALLING_MSISDN", "CALLED_MSISDN", "EVENT_START"]
    sample = lines("""
EVENT_TYPE,CALLING_MSISDN,CALLED_MSISDN,EVENT_START,DURATION
VOICE_IN,+447700900111,+447700900222,2023-12-31 21:41:05,01:30
""")
    # Documentation only: not tried on evidence until a user lists a mapping like it.
    assert best(tmp_path, "x.csv", sample) is TextIngestor
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: broken\ncolumns: {caller: A}\n")
    mappings = (broken, example)
    assert best(tmp_path, "x.csv", sample, cdr_mappings=mappings) is CdrIngestor
    found = run(CdrIngestor, tmp_path, "x.csv", sample, cdr_mappings=mappings)
    (call, context), *_ = records(found, "Call")
    assert call["duration"] == ["90"] and context["direction"] == "incoming"
    (problem,) = found.sink.warnings
    assert problem.startswith(f"CDR mapping {broken}: ")


def test_a_table_that_is_not_a_cdr(tmp_path: Path) -> None:
    plain = b"name,amount\nAlice,10\n"
    assert best(tmp_path, "a.csv", plain) is TextIngestor
    with pytest.raises(NotMyFormat):
        run(CdrIngestor, tmp_path, "a.csv", plain)


# --- through the service --------------------------------------------------------------


def test_whatsapp_export_into_a_case_with_the_exhibit_time_zone(
    tmp_path: Path, database_url: str | None
) -> None:
    app = new_installation(
        tmp_path / "home",
        database_url,
        "chat export",
        workers=1,
        batch_seconds=0.2,
        ingestor_plugins=[WHATSAPP_PLUGIN],
    )
    export = tmp_path / "WhatsApp Chat with Alice Smith.txt"
    export.write_bytes(WHATSAPP_US.replace(b"12/31/23", b"7/31/23").replace(b"1/1/24", b"8/1/23"))
    acquisition = Acquisition(exhibit="PHONE/1", timezone="Europe/London")
    summary = app.ingest.ingest(ADMIN, "C", [str(export)], acquisition)
    assert dict(summary.states) == {"ingested": 1}
    with app.runtime.transaction() as connection:
        item = connection.execute(select(items)).one()
        rows = connection.execute(
            select(entities.c.properties, entities.c.context).where(
                entities.c.item_id == item.id, entities.c.schema == "Message"
            )
        ).all()
    assert item.format == "whatsapp-export"
    assert len(rows) == 7
    dated = [row for row in rows if row.context["record"] == "line 2"]
    (hello,) = dated
    assert hello.properties["date"] == ["2023-07-31T20:41:00"]  # 9:41 PM BST
    assert hello.context == {
        "record": "line 2",
        "time_zone": "Europe/London",
        "time_zone_assumed": True,
    }
    assert all(row.context["time_zone"] == "Europe/London" for row in rows)
    app.close()


# --- hostile and random input ---------------------------------------------------------


def _ufdr() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("report.xml", UFED_REPORT)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("ingestor", "name", "data"),
    [
        (WhatsAppExportIngestor, "_chat.txt", WHATSAPP_US),
        (WhatsAppExportIngestor, "_chat.txt", WHATSAPP_IOS_DE),
        (TelegramExportIngestor, "result.json", json.dumps(TELEGRAM_CHAT).encode()),
        (UfedReportIngestor, "report.xml", UFED_REPORT.encode()),
        (UfedReportIngestor, "phone.ufdr", _ufdr()),
        (CdrIngestor, "cdr.csv", CDR_UTC),
    ],
)
def test_truncated_and_damaged_samples_never_crash(
    tmp_path: Path, ingestor: type[Ingestor], name: str, data: bytes
) -> None:
    expected = (NotMyFormat, BrokenFile, LimitReached)
    for step, cut in enumerate(range(1, len(data), max(1, len(data) // 25))):
        for number, variant in enumerate(
            (data[:cut], data[:cut] + b"\x00\xff\xfe" + data[cut + 3 :])
        ):
            folder = tmp_path / f"{step}-{number}"
            folder.mkdir()
            with contextlib.suppress(expected):  # anything else fails the test
                run(ingestor, folder, name, variant, timezone="UTC")


@settings(max_examples=40, deadline=None)
@given(
    moments=st.lists(
        st.datetimes(min_value=datetime(2012, 1, 1), max_value=datetime(2030, 12, 31)),
        min_size=1,
        max_size=12,
    ).map(sorted),
    style=st.sampled_from(["us", "uk", "de-ios"]),
)
def test_whatsapp_dates_round_trip(
    tmp_path_factory: Any, moments: list[datetime], style: str
) -> None:
    """Chronological exports in any locale come back with their own times, whenever a day
    above 12 settles the order (which the file then shows for all of its lines)."""
    moments = [
        m.replace(second=0 if style != "de-ios" else m.second, microsecond=0) for m in moments
    ]
    written = []
    for moment in moments:
        if style == "us":
            clock = moment.strftime("%I:%M %p").lstrip("0")
            written.append(f"{moment.month}/{moment.day}/{moment:%y}, {clock} - A: x")
        elif style == "uk":
            written.append(f"{moment:%d/%m/%Y, %H:%M} - A: x")
        else:
            written.append(f"[{moment:%d.%m.%y, %H:%M:%S}] A: x")
    tmp_path = tmp_path_factory.mktemp("round")
    found = run(
        WhatsAppExportIngestor, tmp_path, "_chat.txt", lines("\n".join(written)), timezone="UTC"
    )
    dates = [p["date"][0] for p, _ in records(found, "Message")]
    if any(m.day > 12 for m in moments):
        assert dates == [m.isoformat() for m in moments]
