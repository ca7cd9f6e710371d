"""iOS and macOS databases: Messages, address book, call history and WhatsApp.

Fixtures are written here from the published schemas of each app version; the real
Messages database of the corpus is read through the ingestor only (it copies it).
"""

from __future__ import annotations

import dataclasses
import hashlib
import sqlite3
import struct
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from caselens.db.schema import entities, items
from caselens.ingest.errors import BrokenFile, UnsupportedVersion
from caselens.ingest.formats.phone.database import PhoneDatabaseIngestor, read_schema
from caselens.ingest.formats.phone.readers import READERS
from caselens.ingest.formats.phone.readers.ios import IOS_READERS
from caselens.ingest.formats.phone.readers.ios.typedstream import HEADER, attributed_text
from caselens.ingest.harness import CASE_ID, Extraction, source_for
from caselens.ingest.sink import Sink
from caselens.services import Caselens
from caselens.services.ingest import Acquisition
from caselens.store.blobs import Readable
from caselens.store.hashing import Digests
from tests.conftest import ADMIN, CORPUS, needs_corpus

APPLE_EPOCH = datetime(2001, 1, 1, tzinfo=UTC)
IMESSAGE_CORPUS = CORPUS / "phone" / "sqlite" / "imessage_chat.db"


def apple(iso: str) -> int:
    """Seconds from 2001 of a UTC time written "2017-03-01T10:00:00"."""
    moment = datetime.fromisoformat(iso).replace(tzinfo=UTC)
    return int((moment - APPLE_EPOCH).total_seconds())


def build(path: Path, schema: str, rows: dict[str, list[tuple[Any, ...]]]) -> Path:
    db = sqlite3.connect(path)
    db.executescript(schema)
    for table, values in rows.items():
        if values:
            marks = ", ".join("?" * len(values[0]))
            db.executemany(f"INSERT INTO {table} VALUES ({marks})", values)
    db.commit()
    db.close()
    return path


def run(
    tmp_path: Path,
    path: Path,
    *,
    region: str | None = None,
    siblings: tuple[tuple[str, bytes], ...] = (),
) -> Extraction:
    """The ingestor on ``path``, as the pipeline would call it (a stored copy, a Source)."""
    source, store = source_for(path, tmp_path / "work")
    source = dataclasses.replace(source, region=region, siblings=siblings)

    def store_child(stream: Readable) -> Digests:
        return store.put_stream(stream, head_size=0, keep_limit=0).digests

    sink = Sink(CASE_ID, source.item_id, source.limits, store_child, source.size)
    PhoneDatabaseIngestor().ingest(source, sink)
    return Extraction(sink, source, store, dict(sink.document_properties))


def records(result: Extraction, schema: str) -> list[tuple[dict[str, list[str]], dict[str, Any]]]:
    """(properties, context) of each entity of a schema, in emission order."""
    return [
        ({k: list(v) for k, v in entity.properties.items()}, result.sink.contexts.get(i, {}))
        for i, entity in enumerate(result.sink.entities)
        if entity.schema.name == schema
    ]


def account_names(result: Extraction) -> dict[str, str]:
    """Account entity id -> its username ("device owner" for the owner's)."""
    names: dict[str, str] = {}
    for i, entity in enumerate(result.sink.entities):
        if entity.schema.name != "UserAccount" or not entity.id:
            continue
        if result.sink.contexts.get(i, {}).get("role") == "device owner":
            names[entity.id] = "device owner"
        elif entity.get("username") and entity.id not in names:
            names[entity.id] = entity.get("username")[0]
    return names


def parties(result: Extraction, props: dict[str, list[str]]) -> tuple[list[str], list[str]]:
    names = account_names(result)
    senders = [names[i] for i in props.get("senderAccount", [])]
    return senders, sorted(names[i] for i in props.get("recipientAccount", []))


def typedstream(text: str, *, end: bytes = b"\x86") -> bytes:
    """An NSAttributedString archived as macOS Ventura / iOS 16 write it (the string part)."""
    data = text.encode("utf-8")
    if len(data) < 0x80:
        length = bytes([len(data)])
    elif len(data) < 0x8000:
        length = b"\x81" + struct.pack("<h", len(data))
    else:
        length = b"\x82" + struct.pack("<i", len(data))
    return (
        HEADER
        + b"\x81\xe8\x03\x84\x01@\x84\x84\x84\x12NSAttributedString\x00\x84\x84\x08NSObject"
        + b"\x00\x85\x92\x84\x84\x84\x08NSString\x01\x94\x84\x01+"
        + length
        + data
        + end
        + b"\x84\x02iI\x01\x05\x92\x84\x84\x84\x0cNSDictionary\x00\x94\x84\x01i\x00\x86\x86"
    )


# --- Messages: iOS 6-10 sms.db / macOS chat.db (dates in seconds) ----------------------

MESSAGES_IOS10 = """
CREATE TABLE _SqliteDatabaseProperties (key TEXT, value TEXT, UNIQUE(key));
CREATE TABLE deleted_messages (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, guid TEXT NOT NULL);
CREATE TABLE handle (ROWID INTEGER PRIMARY KEY AUTOINCREMENT UNIQUE, id TEXT NOT NULL,
    country TEXT, service TEXT NOT NULL, uncanonicalized_id TEXT, UNIQUE (id, service));
CREATE TABLE chat (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
    style INTEGER, state INTEGER, account_id TEXT, properties BLOB, chat_identifier TEXT,
    service_name TEXT, room_name TEXT, account_login TEXT, is_archived INTEGER DEFAULT 0,
    last_addressed_handle TEXT, display_name TEXT, group_id TEXT);
CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
    text TEXT, handle_id INTEGER DEFAULT 0, subject TEXT, attributedBody BLOB,
    service TEXT, account TEXT, date INTEGER, date_read INTEGER, date_delivered INTEGER,
    is_delivered INTEGER DEFAULT 0, is_from_me INTEGER DEFAULT 0, is_read INTEGER DEFAULT 0,
    is_sent INTEGER DEFAULT 0, cache_has_attachments INTEGER DEFAULT 0,
    item_type INTEGER DEFAULT 0, group_title TEXT);
CREATE TABLE chat_handle_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE,
    handle_id INTEGER REFERENCES handle (ROWID) ON DELETE CASCADE, UNIQUE(chat_id, handle_id));
CREATE TABLE chat_message_join (chat_id INTEGER REFERENCES chat (ROWID) ON DELETE CASCADE,
    message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE,
    PRIMARY KEY (chat_id, message_id));
CREATE TABLE attachment (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, guid TEXT UNIQUE NOT NULL,
    created_date INTEGER DEFAULT 0, start_date INTEGER DEFAULT 0, filename TEXT, uti TEXT,
    mime_type TEXT, transfer_state INTEGER DEFAULT 0, is_outgoing INTEGER DEFAULT 0,
    transfer_name TEXT, total_bytes INTEGER DEFAULT 0);
CREATE TABLE message_attachment_join (
    message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE,
    attachment_id INTEGER REFERENCES attachment (ROWID) ON DELETE CASCADE,
    UNIQUE(message_id, attachment_id));
"""

ME = "e:me@example.org"


def message_row(
    rowid: int,
    text: Any,
    handle_id: Any,
    date: Any,
    *,
    from_me: int = 0,
    service: str = "iMessage",
    read: int = 0,
    date_read: int = 0,
    delivered: int = 0,
    body: bytes | None = None,
    item_type: int = 0,
    group_title: str | None = None,
) -> tuple[Any, ...]:
    return (
        rowid, f"GUID-{rowid}", text, handle_id, None, body, service, ME, date, date_read, 0,
        delivered, from_me, read, from_me, 0, item_type, group_title,
    )  # fmt: skip


def build_ios10(path: Path) -> Path:
    t = apple
    return build(
        path,
        MESSAGES_IOS10,
        {
            "handle": [
                (1, "+447700900123", "gb", "iMessage", None),
                (2, "07700900456", "gb", "SMS", None),  # written nationally, country kept
                (3, "carol@example.com", None, "iMessage", None),
                (4, "+447700900789", "gb", "iMessage", None),
            ],
            "chat": [
                (
                    1,
                    "iMessage;-;+447700900123",
                    45,
                    3,
                    None,
                    None,
                    "+447700900123",
                    "iMessage",
                    None,
                    ME,
                    0,
                    None,
                    None,
                    None,
                ),
                (
                    2,
                    "iMessage;+;chat123456",
                    43,
                    3,
                    None,
                    None,
                    "chat123456",
                    "iMessage",
                    "chat123456",
                    ME,
                    0,
                    None,
                    "Allotment",
                    None,
                ),
                (
                    3,
                    "SMS;-;07700900456",
                    45,
                    3,
                    None,
                    None,
                    "07700900456",
                    "SMS",
                    None,
                    ME,
                    0,
                    None,
                    None,
                    None,
                ),
            ],
            "chat_handle_join": [(1, 1), (2, 3), (2, 4), (3, 2)],
            "message": [
                message_row(
                    1,
                    "Meet at 6?",
                    1,
                    t("2017-03-01T10:00:00"),
                    read=1,
                    date_read=t("2017-03-01T10:05:00"),
                ),
                message_row(2, "OK", 1, t("2017-03-01T10:06:00"), from_me=1, delivered=1),
                message_row(3, "Bring the keys", 3, t("2017-03-02T08:00:00")),
                message_row(4, "\ufffcLook", 0, t("2017-03-02T08:01:00"), from_me=1),
                message_row(
                    5, sqlite3.Binary(b"caf\xe9 \xff"), 2, t("2017-03-03T09:00:00"), service="SMS"
                ),
                message_row(6, "who is this", 0, t("2017-03-04T12:00:00")),
                message_row(7, "stray", 99, t("2017-03-04T13:00:00")),
                message_row(8, "far future", 1, 99_999_999_999),
                message_row(9, "delete me", 1, t("2017-03-05T07:00:00")),
                message_row(
                    10,
                    None,
                    0,
                    t("2017-03-05T08:00:00"),
                    from_me=1,
                    item_type=2,
                    group_title="Allotment crew",
                ),
            ],
            "chat_message_join": [
                (1, 1),
                (1, 2),
                (2, 3),
                (2, 4),
                (3, 5),
                (1, 6),
                (1, 8),
                (1, 9),
                (2, 10),
            ],
            "attachment": [
                (
                    1,
                    "ATT-1",
                    0,
                    0,
                    "~/Library/SMS/Attachments/ab/01/IMG_0001.JPG",
                    "public.jpeg",
                    "image/jpeg",
                    5,
                    1,
                    "IMG_0001.JPG",
                    2048,
                ),
            ],
            "message_attachment_join": [(4, 1)],
            "deleted_messages": [(1, "GUID-9"), (2, "GUID-GONE-1"), (3, "GUID-GONE-2")],
        },
    )


def test_ios10_messages_parties_groups_attachments_and_flags(tmp_path: Path) -> None:
    result = run(tmp_path, build_ios10(tmp_path / "sms.db"))
    assert result.properties == {
        "title": ["apple-messages database"],
        "generator": ["apple-messages"],
    }
    messages = records(result, "Message")
    assert len(messages) == 10
    first, context = messages[0]
    assert first == {
        "senderAccount": first["senderAccount"],
        "recipientAccount": first["recipientAccount"],
        "date": ["2017-03-01T10:00:00"],
        "bodyText": ["Meet at 6?"],
        "threadTopic": ["+447700900123"],
        "recordId": ["message/ROWID=1"],
        "parent": [result.sink.document_id],
    }
    assert parties(result, first) == (["+447700900123"], ["device owner"])
    assert context == {
        "record": "message/ROWID=1",
        "time_zone": "UTC",
        "direction": "incoming",
        "service": "iMessage",
        "guid": "GUID-1",
        "read": True,
        "read_at": "2017-03-01T10:05:00",
        "chat": "+447700900123",
        "group": False,
    }
    reply, reply_context = messages[1]
    assert parties(result, reply) == (["device owner"], ["+447700900123"])
    assert reply_context["direction"] == "outgoing" and reply_context["delivered"] is True

    group_in, group_context = messages[2]
    assert parties(result, group_in) == (["carol@example.com"], ["+447700900789", "device owner"])
    assert group_in["threadTopic"] == ["Allotment"] and group_context["group"] is True
    group_out, out_context = messages[3]
    assert parties(result, group_out) == (["device owner"], ["+447700900789", "carol@example.com"])
    assert group_out["bodyText"] == ["Look"]  # the attachment's placeholder is not text
    assert out_context["attachments"] == ["IMG_0001.JPG"]
    assert out_context["attachment_paths"] == ["~/Library/SMS/Attachments/ab/01/IMG_0001.JPG"]

    sms, sms_context = messages[4]
    assert parties(result, sms) == (["+447700900456"], ["device owner"])  # country "gb"
    assert sms["bodyText"] == ["caf\ufffd \ufffd"] and sms_context["service"] == "SMS"

    inferred, inferred_context = messages[5]  # handle 0 in a one-to-one chat
    assert parties(result, inferred)[0] == ["+447700900123"]
    assert inferred_context["sender_from_chat"] is True
    stray, stray_context = messages[6]  # a handle that is not in the table, no chat
    assert parties(result, stray) == ([], ["device owner"])
    assert "chat" not in stray_context
    future, future_context = messages[7]
    assert "date" not in future and future_context["raw_date"] == "99999999999"
    assert messages[8][1]["deleted"] is True
    event = messages[9][1]
    assert event["item_type"] == 2 and event["group_title"] == "Allotment crew"

    assert result.sink.warnings == [
        "message: 1 dates out of range, left empty",
        "deleted_messages lists 2 messages no longer in the message table; only their GUIDs remain",
    ]
    assert result.sink.document_context == {
        "deleted_messages": 2,
        "deleted_message_guids": ["GUID-GONE-1", "GUID-GONE-2"],
    }
    owner = [
        p for p, c in records(result, "UserAccount") if p.get("username") == ["me@example.org"]
    ]
    assert owner, "the owner's own Apple ID is recorded on the owner's account"
    assert "2017-03-01T10:00:00 UTC imessage +447700900123 -> device owner: Meet at 6?" in (
        result.text
    )


# --- Messages: iOS 16+ (nanoseconds, attributedBody, Recently Deleted) ----------------

MESSAGES_IOS16 = (
    MESSAGES_IOS10.replace("group_title TEXT);", "group_title TEXT, date_edited INTEGER,")
    .replace(
        "CREATE TABLE chat_handle_join",
        "date_retracted INTEGER, destination_caller_id TEXT);\nCREATE TABLE chat_handle_join",
        1,
    )
    .replace("message_attachment_join (\n", "message_attachment_join (\n", 1)
    + """
CREATE TABLE chat_recoverable_message_join (chat_id INTEGER REFERENCES chat (ROWID)
    ON DELETE CASCADE, message_id INTEGER REFERENCES message (ROWID) ON DELETE CASCADE,
    delete_date INTEGER, ck_sync_state INTEGER DEFAULT 0, PRIMARY KEY (chat_id, message_id));
"""
)


def build_ios16(path: Path) -> Path:
    def ns(iso: str) -> int:
        return apple(iso) * 1_000_000_000 + 123_456_789

    long_text = "Ünïcödé 🔑 " * 20  # over 127 bytes: a two-byte length

    def row(rowid: int, text: Any, body: bytes | None, date: int, **extra: Any) -> tuple[Any, ...]:
        base = message_row(rowid, text, 1, date, body=body)
        return (*base, extra.get("edited", 0), extra.get("retracted", 0), "+447700900999")

    return build(
        path,
        MESSAGES_IOS16,
        {
            "handle": [(1, "+447700900123", "gb", "iMessage", None)],
            "chat": [
                (
                    1,
                    "iMessage;-;+447700900123",
                    45,
                    3,
                    None,
                    None,
                    "+447700900123",
                    "iMessage",
                    None,
                    ME,
                    0,
                    None,
                    None,
                    None,
                ),
            ],
            "chat_handle_join": [(1, 1)],
            "message": [
                row(1, None, typedstream(long_text), ns("2023-05-01T09:30:00")),
                row(2, None, b"\x04\x0bstreamtyped garbage", ns("2023-05-01T09:31:00")),
                row(3, "gone soon", typedstream("gone soon"), ns("2023-05-01T09:32:00")),
                row(
                    4,
                    "fixed typo",
                    typedstream("fixed typo"),
                    ns("2023-05-01T09:33:00"),
                    edited=ns("2023-05-01T09:34:00"),
                ),
                row(5, None, None, ns("2023-05-01T09:35:00"), retracted=ns("2023-05-01T09:36:00")),
            ],
            "chat_message_join": [(1, 1), (1, 2), (1, 4), (1, 5)],
            "chat_recoverable_message_join": [(1, 3, ns("2023-05-02T00:00:00"), 0)],
        },
    )


def test_ios16_nanoseconds_attributed_body_and_recently_deleted(tmp_path: Path) -> None:
    result = run(tmp_path, build_ios16(tmp_path / "sms.db"))
    messages = records(result, "Message")
    assert len(messages) == 5
    decoded, decoded_context = messages[0]
    assert decoded["bodyText"] == [("Ünïcödé 🔑 " * 20).strip()]
    assert decoded["date"] == ["2023-05-01T09:30:00"]  # nanoseconds, cut to the second
    assert decoded_context["body_source"] == "attributedBody"
    missing, missing_context = messages[1]
    assert "bodyText" not in missing and missing_context["body_missing"] is True
    deleted = messages[2][1]
    assert deleted["deleted"] is True and deleted["deleted_at"] == "2023-05-02T00:00:00"
    assert deleted["chat"] == "+447700900123"  # its chat comes from the recoverable join
    assert messages[3][1]["edited_at"] == "2023-05-01T09:34:00"
    assert messages[4][1]["unsent_at"] == "2023-05-01T09:36:00"
    assert result.sink.warnings == [
        "message: 1 texts read from attributedBody",
        "message: 1 texts only in an attributedBody that could not be read (marked body_missing)",
    ]
    owner = [p for p, c in records(result, "UserAccount") if p.get("phone") == ["+447700900999"]]
    assert owner, "destination_caller_id names the owner's own number"


def test_ios5_sms_db_is_an_unsupported_version(tmp_path: Path) -> None:
    path = build(
        tmp_path / "sms.db",
        """
        CREATE TABLE message (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT,
            date INTEGER, text TEXT, flags INTEGER, replace INTEGER, svc_center TEXT,
            group_id INTEGER, association_id INTEGER, height INTEGER, UIFlags INTEGER,
            version INTEGER, subject TEXT, country TEXT, headers BLOB, recipients BLOB,
            read INTEGER);
        CREATE TABLE msg_group (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, type INTEGER,
            newest_message INTEGER, unread_count INTEGER, hash INTEGER);
        CREATE TABLE group_member (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, group_id INTEGER,
            address TEXT, country TEXT);
        """,
        {},
    )
    with pytest.raises(UnsupportedVersion, match=r"apple-messages.*iOS 5 or earlier"):
        run(tmp_path, path)


def test_messages_without_needed_columns_is_an_unsupported_version(tmp_path: Path) -> None:
    schema = MESSAGES_IOS10.replace("is_from_me INTEGER DEFAULT 0, ", "")
    path = build(tmp_path / "chat.db", schema, {})
    with pytest.raises(UnsupportedVersion, match="message or handle table lacks is_from_me"):
        run(tmp_path, path)


def test_hostile_values_in_every_column_keep_the_rows(tmp_path: Path) -> None:
    path = build(
        tmp_path / "chat.db",
        MESSAGES_IOS10,
        {
            "handle": [(1, "not a number !!", "zz", "iMessage", None), (2, " ", None, "SMS", None)],
            "message": [
                message_row(1, 42, 1, "yesterday"),
                message_row(2, "x", 2, -5, from_me=7, body=b"\x00" * 3),
                message_row(3, "y", "1", 1.5e300, service=""),
            ],
            "chat_message_join": [(99, 1)],  # a chat that is not there
        },
    )
    result = run(tmp_path, path)
    messages = records(result, "Message")
    assert [m["recordId"] for m, _ in messages] == [
        ["message/ROWID=1"],
        ["message/ROWID=2"],
        ["message/ROWID=3"],
    ]
    assert messages[0][0]["bodyText"] == ["42"]
    assert parties(result, messages[0][0])[0] == ["not a number !!"]
    assert all("date" not in m for m, _ in messages)
    assert result.sink.warnings == ["message: 2 dates out of range, left empty"]


def test_truncated_database_is_broken_not_a_traceback(tmp_path: Path) -> None:
    path = build_ios10(tmp_path / "sms.db")
    data = path.read_bytes()
    cut = tmp_path / "cut.db"
    cut.write_bytes(data[: len(data) // 3])
    with pytest.raises(BrokenFile, match="damaged"):
        run(tmp_path, cut)


def test_damaged_page_keeps_the_rows_before_it(tmp_path: Path) -> None:
    texts = {"handle": [(1, "+447700900123", "gb", "iMessage", None)]}
    rows = [message_row(i, f"{i:04d} " + "x" * 600, 1, 500_000_000 + i) for i in range(1, 201)]
    path = build(tmp_path / "sms.db", MESSAGES_IOS10, {**texts, "message": rows})
    data = bytearray(path.read_bytes())
    data[-4096:] = b"\xff" * 4096  # the last page: the end of the message table
    path.write_bytes(bytes(data))
    result = run(tmp_path, path)
    messages = records(result, "Message")
    assert len(messages) == 197
    assert [m["recordId"][0] for m, _ in messages][-1] == "message/ROWID=197"
    assert result.sink.warnings == [
        "message: stopped after 197 rows, the rest is damaged (database disk image is malformed)"
    ]


# --- the attributedBody decoder ---------------------------------------------------------


@pytest.mark.parametrize("text", ["hi", "é" * 100, "x" * 40_000])
def test_attributed_text_lengths(text: str) -> None:
    assert attributed_text(typedstream(text)) == text


def test_attributed_text_refuses_what_does_not_check_out() -> None:
    blob = typedstream("hello")
    assert attributed_text(blob[:40]) is None  # cut inside the string
    assert attributed_text(typedstream("hello", end=b"\x92")) is None  # no end of object
    assert attributed_text(blob.replace(b"hello", b"h\xffllo")) is None  # not UTF-8
    assert attributed_text(b"bplist00" + blob[len(HEADER) :]) is None  # not a typedstream
    assert attributed_text(blob.replace(b"NSString", b"NSNumber")) is None


@given(st.text())
def test_attributed_text_round_trips(text: str) -> None:
    assert attributed_text(typedstream(text)) == text


@given(st.binary(max_size=300))
def test_attributed_text_never_raises(noise: bytes) -> None:
    result = attributed_text(HEADER + b"\x08NSString\x01\x94\x84\x01+" + noise)
    assert result is None or isinstance(result, str)


# --- AddressBook.sqlitedb ------------------------------------------------------------------

ADDRESSBOOK = """
CREATE TABLE ABPerson (ROWID INTEGER PRIMARY KEY AUTOINCREMENT, First TEXT, Last TEXT,
    Middle TEXT, FirstPhonetic TEXT, MiddlePhonetic TEXT, LastPhonetic TEXT, Organization TEXT,
    Department TEXT, Note TEXT, Kind INTEGER, Birthday TEXT, JobTitle TEXT, Nickname TEXT,
    Prefix TEXT, Suffix TEXT, FirstSort TEXT, LastSort TEXT, CreationDate INTEGER,
    ModificationDate INTEGER, CompositeNameFallback TEXT);
CREATE TABLE ABMultiValue (UID INTEGER PRIMARY KEY, record_id INTEGER, property INTEGER,
    identifier INTEGER, label INTEGER, value TEXT, guid TEXT);
CREATE TABLE ABMultiValueLabel (value TEXT, UNIQUE(value));
CREATE TABLE ABMultiValueEntry (parent_id INTEGER, key INTEGER, value TEXT);
"""


def person(rowid: int, first: Any, last: Any, organization: Any = None) -> tuple[Any, ...]:
    created = apple("2016-01-02T03:04:05")
    return (
        rowid, first, last, None, None, None, None, organization, None, None, 0, None, None,
        None, None, None, None, None, created, created, None,
    )  # fmt: skip


def test_addressbook_contacts_numbers_emails_and_labels(tmp_path: Path) -> None:
    path = build(
        tmp_path / "AddressBook.sqlitedb",
        ADDRESSBOOK,
        {
            "ABPerson": [
                person(1, "Alice", "Smith"),
                person(2, None, None, "Acme Locksmiths"),
                person(3, None, None),  # nothing at all
                person(4, "Bob", None),
            ],
            "ABMultiValueLabel": [("_$!<Mobile>!$_",), ("burner",)],
            "ABMultiValue": [
                (1, 1, 3, 0, 1, "07700 900123", None),
                (2, 1, 4, 1, None, "alice@example.com", None),
                (3, 1, 5, 2, None, None, None),  # a postal address: values in another table
                (4, 2, 3, 0, None, "+44 20 7946 0000", None),
                (5, 4, 3, 0, 2, "+447700900555", None),
                (6, 4, 3, 1, None, None, None),  # an empty value
            ],
        },
    )
    result = run(tmp_path, path, region="GB")
    people = records(result, "Person")
    assert [p["name"] for p, _ in people] == [["Alice Smith"], ["Acme Locksmiths"], ["Bob"]]
    alice, alice_context = people[0]
    assert alice["phone"] == ["+447700900123"] and alice["email"] == ["alice@example.com"]
    assert alice_context == {
        "record": "ABPerson/ROWID=1",
        "labels": {"07700 900123": "mobile"},
        "created_at": "2016-01-02T03:04:05",
        "modified_at": "2016-01-02T03:04:05",
    }
    assert people[1][1]["organization"] == "Acme Locksmiths"
    assert people[2][1]["labels"] == {"+447700900555": "burner"}
    assert result.sink.warnings == [
        "ABPerson: 1 entries without a name, number or address, left out"
    ]
    linked = [p["owner"] for p, _ in records(result, "UserAccount") if "owner" in p]
    person_ids = [entity.id for entity in result.sink.entities if entity.schema.name == "Person"]
    assert linked == [[person_ids[0]], [person_ids[1]], [person_ids[2]]]  # number -> person


def test_addressbook_without_name_columns_is_unsupported(tmp_path: Path) -> None:
    path = build(
        tmp_path / "AddressBook.sqlitedb",
        "CREATE TABLE ABPerson (ROWID INTEGER PRIMARY KEY, Name TEXT);"
        "CREATE TABLE ABMultiValue (UID INTEGER PRIMARY KEY, record_id INTEGER,"
        " property INTEGER, value TEXT);",
        {},
    )
    with pytest.raises(UnsupportedVersion, match="ios-addressbook"):
        run(tmp_path, path)


# --- CallHistory.storedata -----------------------------------------------------------------

CALLHISTORY = """
CREATE TABLE ZCALLRECORD (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
    ZANSWERED INTEGER, ZCALLTYPE INTEGER, ZDISCONNECTED_CAUSE INTEGER, ZFACE_TIME_DATA BLOB,
    ZNUMBER_AVAILABILITY INTEGER, ZORIGINATED INTEGER, ZREAD INTEGER, ZDATE TIMESTAMP,
    ZDURATION FLOAT, ZADDRESS VARCHAR, ZDEVICE_ID VARCHAR, ZISO_COUNTRY_CODE VARCHAR,
    ZLOCATION VARCHAR, ZNAME VARCHAR, ZSERVICE_PROVIDER VARCHAR, ZUNIQUE_ID VARCHAR);
CREATE TABLE Z_PRIMARYKEY (Z_ENT INTEGER PRIMARY KEY, Z_NAME VARCHAR, Z_SUPER INTEGER,
    Z_MAX INTEGER);
CREATE TABLE Z_METADATA (Z_VERSION INTEGER PRIMARY KEY, Z_UUID VARCHAR(255), Z_PLIST BLOB);
"""


def call(
    pk: int, address: Any, date: Any, duration: Any, originated: int, answered: int, **extra: Any
) -> tuple[Any, ...]:
    return (
        pk, 2, 1, answered, extra.get("call_type", 1), 0, None, 1, originated,
        extra.get("read", 1), date, duration, address, None, extra.get("country", "gb"),
        extra.get("location"), extra.get("name"),
        extra.get("provider", "com.apple.Telephony"), f"UID-{pk}",
    )  # fmt: skip


def test_callhistory_directions_services_and_hostile_rows(tmp_path: Path) -> None:
    t = apple
    path = build(
        tmp_path / "CallHistory.storedata",
        CALLHISTORY,
        {
            "ZCALLRECORD": [
                call(
                    1,
                    b"07700900123",
                    t("2019-06-01T12:00:00") + 0.25,
                    65.7,
                    0,
                    1,
                    name="Alice",
                    location="United Kingdom",
                ),
                call(2, "+447700900456", t("2019-06-01T13:00:00"), 12.0, 1, 1),
                call(3, "+447700900456", t("2019-06-01T14:00:00"), 0.0, 0, 0, read=0),
                call(
                    4,
                    "carol@example.com",
                    t("2019-06-01T15:00:00"),
                    30.0,
                    1,
                    1,
                    call_type=8,
                    provider="com.apple.FaceTime",
                ),
                call(5, None, t("2019-06-01T16:00:00"), 5.0, 0, 1),  # withheld number
                call(6, "+447700900456", -1e20, "long", 0, 1),
            ],
        },
    )
    result = run(tmp_path, path)
    calls = records(result, "Call")
    assert len(calls) == 6
    first, context = calls[0]
    assert first == {
        "callerNumber": ["+447700900123"],
        "date": ["2019-06-01T12:00:00"],
        "duration": ["65"],
        "recordId": ["ZCALLRECORD/Z_PK=1"],
    }
    names = account_names(result)
    assert names[context.pop("caller_account")] == "+447700900123"
    assert names[context.pop("receiver_account")] == "device owner"
    assert context == {
        "record": "ZCALLRECORD/Z_PK=1",
        "time_zone": "UTC",
        "direction": "incoming",
        "answered": True,
        "service_provider": "com.apple.Telephony",
        "call_type": "phone",
        "country": "gb",
        "location": "United Kingdom",
        "unique_id": "UID-1",
    }
    assert [c["direction"] for _, c in calls] == [
        "incoming", "outgoing", "missed", "outgoing", "incoming", "incoming",
    ]  # fmt: skip
    assert calls[1][0]["receiverNumber"] == ["+447700900456"]
    assert calls[2][1]["read"] is False
    facetime = calls[3][1]
    assert facetime["call_type"] == "facetime video"
    assert names[facetime["receiver_account"]] == "carol@example.com"
    assert calls[4][1].get("caller_account") is None  # withheld: no party
    broken, broken_context = calls[5]
    assert "date" not in broken and "duration" not in broken
    assert broken_context["raw_date"] == "-1e+20"
    assert result.sink.warnings == ["ZCALLRECORD: 1 dates out of range, left empty"]
    alice = [p for p, _ in records(result, "UserAccount") if p.get("name") == ["Alice"]]
    assert alice and alice[0]["phone"] == ["+447700900123"]


def test_callhistory_without_direction_columns_is_unsupported(tmp_path: Path) -> None:
    path = build(
        tmp_path / "CallHistory.storedata",
        "CREATE TABLE ZCALLRECORD (Z_PK INTEGER PRIMARY KEY, ZADDRESS VARCHAR, ZDATE TIMESTAMP,"
        " ZDURATION FLOAT);",
        {},
    )
    with pytest.raises(UnsupportedVersion, match="ZCALLRECORD lacks ZORIGINATED, ZANSWERED"):
        run(tmp_path, path)


# --- WhatsApp ChatStorage.sqlite ---------------------------------------------------------

WHATSAPP = """
CREATE TABLE ZWACHATSESSION (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
    ZARCHIVED INTEGER, ZCONTACTABID INTEGER, ZFLAGS INTEGER, ZMESSAGECOUNTER INTEGER,
    ZSESSIONTYPE INTEGER, ZUNREADCOUNT INTEGER, ZGROUPINFO INTEGER, ZLASTMESSAGE INTEGER,
    ZLASTMESSAGEDATE TIMESTAMP, ZCONTACTJID VARCHAR, ZPARTNERNAME VARCHAR);
CREATE TABLE ZWAGROUPMEMBER (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
    ZISACTIVE INTEGER, ZISADMIN INTEGER, ZCHATSESSION INTEGER, ZCONTACTNAME VARCHAR,
    ZFIRSTNAME VARCHAR, ZMEMBERJID VARCHAR);
CREATE TABLE ZWAMESSAGE (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
    ZCHILDMESSAGESDELIVEREDCOUNT INTEGER, ZFLAGS INTEGER, ZGROUPEVENTTYPE INTEGER,
    ZISFROMME INTEGER, ZMESSAGESTATUS INTEGER, ZMESSAGETYPE INTEGER, ZSORT INTEGER,
    ZSTARRED INTEGER, ZCHATSESSION INTEGER, ZGROUPMEMBER INTEGER, ZMEDIAITEM INTEGER,
    ZMESSAGEDATE TIMESTAMP, ZSENTDATE TIMESTAMP, ZFROMJID VARCHAR, ZPUSHNAME VARCHAR,
    ZSTANZAID VARCHAR, ZTEXT VARCHAR, ZTOJID VARCHAR);
CREATE TABLE ZWAMEDIAITEM (Z_PK INTEGER PRIMARY KEY, Z_ENT INTEGER, Z_OPT INTEGER,
    ZFILESIZE INTEGER, ZMESSAGE INTEGER, ZLATITUDE FLOAT, ZLONGITUDE FLOAT,
    ZMEDIALOCALPATH VARCHAR, ZMEDIAURL VARCHAR, ZTITLE VARCHAR, ZVCARDNAME VARCHAR,
    ZVCARDSTRING VARCHAR);
"""

ALICE = "447700900123@s.whatsapp.net"
BOB = "447700900456@s.whatsapp.net"
GROUP = "447700900123-1600000000@g.us"


def wa_message(
    pk: int,
    session: int,
    from_me: int,
    kind: int,
    text: Any,
    date: Any,
    *,
    from_jid: str | None = None,
    to_jid: str | None = None,
    member: int | None = None,
    media: int | None = None,
    status: int = 0,
) -> tuple[Any, ...]:
    return (
        pk, 9, 1, 0, 0, 0, from_me, status, kind, pk, 0, session, member, media, date,
        date, from_jid, None, f"STANZA{pk}", text, to_jid,
    )  # fmt: skip


def build_whatsapp(path: Path, *, media_table: bool = True) -> Path:
    t = apple
    schema = WHATSAPP if media_table else WHATSAPP.split("CREATE TABLE ZWAMEDIAITEM")[0]
    rows: dict[str, list[tuple[Any, ...]]] = {
        "ZWACHATSESSION": [
            (1, 4, 1, 0, 0, 0, 3, 0, 0, None, 3, None, ALICE, "Alice"),
            (2, 4, 1, 0, 0, 0, 3, 1, 0, 1, 6, None, GROUP, "Allotment"),
        ],
        "ZWAGROUPMEMBER": [
            (1, 6, 1, 1, 0, 2, "Alice", "Alice", ALICE),
            (2, 6, 1, 1, 0, 2, "Bob", "Bob", BOB),
        ],
        "ZWAMESSAGE": [
            wa_message(
                1, 1, 0, 0, "Where are you?", t("2021-07-01T18:00:00") + 0.5, from_jid=ALICE
            ),
            wa_message(
                2, 1, 1, 0, "Nearly there", t("2021-07-01T18:01:00"), to_jid=ALICE, status=8
            ),
            wa_message(3, 1, 0, 1, None, t("2021-07-01T18:02:00"), from_jid=ALICE, media=1),
            wa_message(
                4, 2, 0, 0, "Keys under the mat", t("2021-07-02T09:00:00"), from_jid=GROUP, member=2
            ),
            wa_message(5, 2, 1, 0, "Thanks", t("2021-07-02T09:05:00"), to_jid=GROUP),
            wa_message(6, 1, 0, 5, None, t("2021-07-03T10:00:00"), from_jid=ALICE, media=2),
            wa_message(7, 1, 0, 14, None, t("2021-07-03T11:00:00"), from_jid=ALICE),
        ],
    }
    if media_table:
        rows["ZWAMEDIAITEM"] = [
            (1, 7, 1, 1024, 3, 0.0, 0.0, f"Media/{ALICE}/a/b/3F2A.jpg", "https://mmg/x",
             "the gate", None, "image/jpeg"),
            (2, 7, 1, 0, 6, 51.501, -0.142, None, None, "Green Park", None, None),
        ]  # fmt: skip
    return build(path, schema, rows)


def test_whatsapp_chats_groups_media_and_locations(tmp_path: Path) -> None:
    result = run(tmp_path, build_whatsapp(tmp_path / "ChatStorage.sqlite"))
    assert result.properties == {"title": ["ios-whatsapp database"], "generator": ["ios-whatsapp"]}
    messages = records(result, "Message")
    assert len(messages) == 7
    first, context = messages[0]
    assert first == {
        "senderAccount": first["senderAccount"],
        "recipientAccount": first["recipientAccount"],
        "date": ["2021-07-01T18:00:00"],
        "bodyText": ["Where are you?"],
        "threadTopic": ["Alice"],
        "recordId": ["ZWAMESSAGE/Z_PK=1"],
        "parent": [result.sink.document_id],
    }
    assert parties(result, first) == (["+447700900123"], ["device owner"])
    assert context == {
        "record": "ZWAMESSAGE/Z_PK=1",
        "time_zone": "UTC",
        "direction": "incoming",
        "type": "text",
        "stanza_id": "STANZA1",
        "chat": ALICE,
        "group": False,
        "sent_at": "2021-07-01T18:00:00",
    }
    alice = [p for p, _ in records(result, "UserAccount") if p.get("name") == ["Alice"]]
    assert alice[0]["phone"] == ["+447700900123"] and alice[0]["service"] == ["whatsapp"]

    reply, reply_context = messages[1]
    assert parties(result, reply) == (["device owner"], ["+447700900123"])
    assert reply_context["status"] == "read"
    image = messages[2][1]
    assert image["type"] == "image" and image["attachments"] == ["3F2A.jpg"]
    assert image["attachment_paths"] == [f"Media/{ALICE}/a/b/3F2A.jpg"]
    assert image["caption"] == "the gate"
    group_in, group_context = messages[3]
    assert parties(result, group_in) == (["+447700900456"], ["device owner"])
    assert group_in["threadTopic"] == ["Allotment"] and group_context["group"] is True
    assert parties(result, messages[4][0]) == (
        ["device owner"],
        ["+447700900123", "+447700900456"],
    )
    assert messages[6][1]["type"] == "deleted by sender"
    (place, place_context) = records(result, "Address")[0]
    assert place["latitude"] == ["51.501000"] and place["longitude"] == ["-0.142000"]
    assert place["full"] == ["Green Park"]
    assert place_context["record"] == "ZWAMESSAGE/Z_PK=6"
    assert result.sink.warnings == []


def test_whatsapp_without_media_table(tmp_path: Path) -> None:
    result = run(tmp_path, build_whatsapp(tmp_path / "ChatStorage.sqlite", media_table=False))
    messages = records(result, "Message")
    assert len(messages) == 7
    assert "attachments" not in messages[2][1]
    assert records(result, "Address") == []


def test_whatsapp_without_needed_columns_is_unsupported(tmp_path: Path) -> None:
    schema = WHATSAPP.replace("ZISFROMME INTEGER,", "")
    path = build(tmp_path / "ChatStorage.sqlite", schema, {})
    with pytest.raises(UnsupportedVersion, match=r"ios-whatsapp.*lacks ZISFROMME"):
        run(tmp_path, path)


# --- recognition -------------------------------------------------------------------------


def test_every_ios_reader_is_registered() -> None:
    assert all(reader in READERS for reader in IOS_READERS)
    assert len({reader.name for reader in IOS_READERS}) == len(IOS_READERS) == 4


@needs_corpus
def test_ios_readers_claim_no_other_corpus_database(tmp_path: Path) -> None:
    others = [
        path
        for path in sorted((CORPUS / "phone").rglob("*"))
        if path.is_file() and path.read_bytes()[:16] == b"SQLite format 3\x00"
        and path != IMESSAGE_CORPUS
    ]  # fmt: skip
    assert len(others) >= 20
    for path in others:
        copy = tmp_path / "copy.db"
        copy.write_bytes(path.read_bytes())
        db = sqlite3.connect(f"file:{copy}?immutable=1", uri=True)
        schema = read_schema(db)
        db.close()
        claimed = [reader.name for reader in IOS_READERS if reader.recognises(schema)]
        assert claimed == [], path.name


# --- the real corpus ---------------------------------------------------------------------


@needs_corpus
def test_corpus_imessage_chat_db(tmp_path: Path) -> None:
    before = hashlib.sha256(IMESSAGE_CORPUS.read_bytes()).hexdigest()
    neighbours = sorted(p.name for p in IMESSAGE_CORPUS.parent.iterdir())
    wal = IMESSAGE_CORPUS.with_name(IMESSAGE_CORPUS.name + "-wal")
    siblings = (("-wal", bytes(wal)),) if wal.exists() else ()
    result = run(tmp_path, IMESSAGE_CORPUS, region="GB", siblings=siblings)

    messages = records(result, "Message")
    assert len(messages) == 10
    assert [c["direction"] for _, c in messages].count("outgoing") == 5
    first, context = messages[0]
    assert first == {
        "senderAccount": first["senderAccount"],
        "recipientAccount": first["recipientAccount"],
        "date": ["2015-11-22T18:09:46"],
        "bodyText": [
            "Hey Kenneth, it's Eireanne! I was wondering if you could help me, I was looking "
            'at an Apple MacBook Air 13.3" on the currys website, the product code is 128874! '
            "I was wondering if you would be able to have a look and see if it was with me "
            "getting and if there's any packages I should definitely buy with it! Would "
            "really appreciate it!"
        ],
        "threadTopic": ["+447775446518"],
        "recordId": ["message/ROWID=1"],
        "parent": [result.sink.document_id],
    }
    assert parties(result, first) == (["+447775455555"], ["device owner"])
    assert context == {
        "record": "message/ROWID=1",
        "time_zone": "UTC",
        "direction": "incoming",
        "service": "iMessage",
        "guid": "C78A4031-C135-4746-A974-C455B0C4F5E4",
        "read": True,
        "read_at": "2015-11-22T18:13:22",
        "delivered_at": "2015-11-22T18:13:22",
        "chat": "+447775446518",
        "group": False,
    }
    # Two texts in this file differ from the copies archived in their attributedBody.
    changed = {
        m["recordId"][0]: c["attributed_body_text"]
        for m, c in messages
        if "attributed_body_text" in c
    }
    assert sorted(changed) == ["message/ROWID=10", "message/ROWID=6"]
    assert "Microsoft Office" in changed["message/ROWID=10"]
    assert result.sink.document_context["deleted_messages"] == 226
    assert len(result.sink.document_context["deleted_message_guids"]) == 226
    assert result.sink.warnings[-1] == (
        "deleted_messages lists 226 messages no longer in the message table; only their "
        "GUIDs remain"
    )
    usernames = [p.get("username") for p, _ in records(result, "UserAccount")]
    assert ["ken.doh@icloud.com"] in usernames  # the owner's own Apple ID
    assert hashlib.sha256(IMESSAGE_CORPUS.read_bytes()).hexdigest() == before
    assert sorted(p.name for p in IMESSAGE_CORPUS.parent.iterdir()) == neighbours


# --- end to end --------------------------------------------------------------------------


def test_sms_db_ingested_into_a_case(app: Caselens, case: str, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    path = build_ios10(evidence / "sms.db")
    summary = app.ingest.ingest(ADMIN, case, [str(path)], Acquisition(exhibit="PHONE/1"))
    assert dict(summary.states) == {"ingested": 1}
    with app.runtime.transaction() as connection:
        item = connection.execute(select(items).where(items.c.name == "sms.db")).one()
        assert item.format == "phone-db"
        stored = connection.execute(
            select(entities.c.schema, entities.c.properties, entities.c.context).where(
                entities.c.item_id == item.id, entities.c.superseded.is_(False)
            )
        ).all()
    messages = [row for row in stored if row.schema == "Message"]
    assert len(messages) == 10
    first = next(row for row in messages if row.properties["recordId"] == ["message/ROWID=1"])
    assert first.properties["bodyText"] == ["Meet at 6?"]
    assert first.properties["date"] == ["2017-03-01T10:00:00"]
    assert first.context["direction"] == "incoming" and first.context["read"] is True
    detail = app.items.show(ADMIN, case, item.id)
    text = "\n".join(page["text"] for page in detail.pages)
    assert "+447700900123 -> device owner: Meet at 6?" in text
