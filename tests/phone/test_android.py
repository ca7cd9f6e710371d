"""Android databases: SMS/MMS, contacts, call log and WhatsApp, on databases built here from
the apps' published schemas (several versions each), and on the corpus's real files."""

from __future__ import annotations

import dataclasses
import hashlib
import importlib
import inspect
import pkgutil
import shutil
import sqlite3
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pytest
from followthemoney.proxy import EntityProxy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from caselens.db.schema import entities, item_texts, items
from caselens.ingest.errors import BrokenFile, NotMyFormat, UnsupportedVersion
from caselens.ingest.formats.phone import readers as phone_readers
from caselens.ingest.formats.phone.comms import Comms
from caselens.ingest.formats.phone.database import PhoneDatabaseIngestor, PhoneReader
from caselens.ingest.formats.phone.readers.android import ANDROID_READERS
from caselens.ingest.formats.phone.readers.android.whatsapp import jid_account
from caselens.ingest.harness import CASE_ID, source_for
from caselens.ingest.sink import Sink
from caselens.services import Caselens
from caselens.services.ingest import Acquisition
from tests.conftest import ADMIN, CORPUS, needs_corpus

Rows = Mapping[str, Iterable[Mapping[str, Any]]]
T0 = 1_700_000_000_000  # 2023-11-14T22:13:20Z in milliseconds


# --- helpers ----------------------------------------------------------------------------


def build(path: Path, schema: str, rows: Rows) -> Path:
    """A database with ``schema`` (CREATE statements) and ``rows`` inserted per table."""
    path.parent.mkdir(parents=True, exist_ok=True)
    db = sqlite3.connect(path)
    db.execute("PRAGMA synchronous=OFF")  # test files need no durability; fsync is slow here
    db.executescript(schema)
    for table, records in rows.items():
        for record in records:
            names = ", ".join(record)
            marks = ", ".join("?" for _ in record)
            db.execute(f"INSERT INTO {table} ({names}) VALUES ({marks})", tuple(record.values()))
    db.commit()
    db.close()
    return path


def ingest(path: Path, work: Path, **changes: Any) -> Sink:
    """Run the phone database ingestor on ``path`` as the pipeline would (region etc. set)."""
    source, store = source_for(path, work)
    source = dataclasses.replace(source, **changes)
    sink = Sink(
        CASE_ID,
        source.item_id,
        source.limits,
        lambda stream: store.put_stream(stream, head_size=0, keep_limit=0).digests,
        source.size,
    )
    PhoneDatabaseIngestor().ingest(source, sink)
    return sink


def emitted(sink: Sink, schema: str) -> list[tuple[EntityProxy, dict[str, Any]]]:
    return [
        (entity, sink.contexts.get(index, {}))
        for index, entity in enumerate(sink.entities)
        if entity.schema.name == schema
    ]


def by_record(sink: Sink, schema: str) -> dict[str, tuple[dict[str, list[str]], dict[str, Any]]]:
    """Entities of ``schema`` by their record locator, as plain properties and context."""
    return {
        context["record"]: (dict(entity.properties), context)
        for entity, context in emitted(sink, schema)
    }


def account(sink: Sink, entity_id: str) -> dict[str, list[str]]:
    """Properties of an account, merged over its emissions."""
    merged: dict[str, list[str]] = {}
    for entity in sink.entities:
        if entity.id == entity_id:
            for name, values in entity.properties.items():
                merged.setdefault(name, [])
                merged[name] += [v for v in values if v not in merged[name]]
    return merged


def owner_id(sink: Sink) -> str:
    (owner,) = [e for e, c in emitted(sink, "UserAccount") if c.get("role") == "device owner"]
    assert owner.id
    return owner.id


def set_text(path: Path, table: str, column: str, ident: int, raw: bytes) -> None:
    """Store bytes as TEXT (not BLOB), as an app writing broken UTF-8 would."""
    db = sqlite3.connect(path)
    db.execute(f"UPDATE {table} SET {column} = CAST(? AS TEXT) WHERE _id = ?", (raw, ident))
    db.commit()
    db.close()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


# --- mmssms.db ----------------------------------------------------------------------------

# TelephonyProvider's MmsSmsDatabaseHelper as of Android 10 (sub_id, creator, text_only).
MMSSMS_ANDROID_10 = """
CREATE TABLE android_metadata (locale TEXT);
CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, person INTEGER,
  date INTEGER, date_sent INTEGER DEFAULT 0, protocol INTEGER, read INTEGER DEFAULT 0,
  status INTEGER DEFAULT -1, type INTEGER, reply_path_present INTEGER, subject TEXT,
  body TEXT, service_center TEXT, locked INTEGER DEFAULT 0, sub_id INTEGER DEFAULT -1,
  error_code INTEGER DEFAULT 0, creator TEXT, seen INTEGER DEFAULT 0, priority INTEGER DEFAULT -1);
CREATE TABLE canonical_addresses (_id INTEGER PRIMARY KEY AUTOINCREMENT, address TEXT);
CREATE TABLE threads (_id INTEGER PRIMARY KEY AUTOINCREMENT, date INTEGER DEFAULT 0,
  message_count INTEGER DEFAULT 0, recipient_ids TEXT, snippet TEXT,
  snippet_cs INTEGER DEFAULT 0, read INTEGER DEFAULT 1, archived INTEGER DEFAULT 0,
  type INTEGER DEFAULT 0, error INTEGER DEFAULT 0, has_attachment INTEGER DEFAULT 0);
CREATE TABLE pdu (_id INTEGER PRIMARY KEY AUTOINCREMENT, thread_id INTEGER, date INTEGER,
  date_sent INTEGER DEFAULT 0, msg_box INTEGER, read INTEGER DEFAULT 0, m_id TEXT, sub TEXT,
  sub_cs INTEGER, ct_t TEXT, ct_l TEXT, exp INTEGER, m_cls TEXT, m_type INTEGER, v INTEGER,
  m_size INTEGER, pri INTEGER, rr INTEGER, rpt_a INTEGER, resp_st INTEGER, st INTEGER,
  tr_id TEXT, retr_st INTEGER, retr_txt TEXT, retr_txt_cs INTEGER, read_status INTEGER,
  ct_cls INTEGER, resp_txt TEXT, d_tm INTEGER, d_rpt INTEGER, locked INTEGER DEFAULT 0,
  sub_id INTEGER DEFAULT -1, seen INTEGER DEFAULT 0, creator TEXT, text_only INTEGER DEFAULT 0);
CREATE TABLE addr (_id INTEGER PRIMARY KEY, msg_id INTEGER, contact_id INTEGER,
  address TEXT, type INTEGER, charset INTEGER);
CREATE TABLE part (_id INTEGER PRIMARY KEY AUTOINCREMENT, mid INTEGER, seq INTEGER DEFAULT 0,
  ct TEXT, name TEXT, chset INTEGER, cd TEXT, fn TEXT, cid TEXT, cl TEXT, ctt_s INTEGER,
  ctt_t TEXT, _data TEXT, text TEXT);
"""

# Before Android 4.0: no date_sent, no error_code, no seen; no MMS tables kept here.
MMSSMS_BEFORE_4 = """
CREATE TABLE sms (_id INTEGER PRIMARY KEY, thread_id INTEGER, address TEXT, person INTEGER,
  date INTEGER, protocol INTEGER, read INTEGER DEFAULT 0, status INTEGER DEFAULT -1,
  type INTEGER, reply_path_present INTEGER, subject TEXT, body TEXT, service_center TEXT,
  locked INTEGER DEFAULT 0);
CREATE TABLE threads (_id INTEGER PRIMARY KEY AUTOINCREMENT, date INTEGER DEFAULT 0,
  message_count INTEGER DEFAULT 0, recipient_ids TEXT, snippet TEXT, read INTEGER DEFAULT 1);
"""


def mmssms_android_10(path: Path) -> Path:
    sms = [
        # Incoming, written nationally: the case's region (GB) makes it E.164.
        {"_id": 1, "thread_id": 1, "address": "07700 900123", "date": T0, "type": 1,
         "date_sent": T0 - 4000, "read": 1, "seen": 1, "status": -1, "body": "Meet at 6"},
        {"_id": 2, "thread_id": 1, "address": "+447700900123", "date": T0 + 60_000, "type": 2,
         "read": 1, "seen": 1, "status": 0, "body": "OK", "service_center": None},
        # A draft without an address: its parties come from its thread.
        {"_id": 3, "thread_id": 1, "address": None, "date": T0 + 120_000, "type": 3,
         "body": "draft reply"},
        # An alphanumeric sender is not a phone number.
        {"_id": 4, "thread_id": 2, "address": "HSBC", "date": T0 + 180_000, "type": 1,
         "read": 0, "seen": 0, "body": "Your code is 493021", "locked": 1},
        # A time no phone could have written.
        {"_id": 5, "thread_id": 1, "address": "07700900123", "date": 99_999_999_999_999_999,
         "type": 1, "body": "bad time"},
        {"_id": 6, "thread_id": 1, "address": "07700900123", "date": T0 + 240_000, "type": 1,
         "body": "placeholder for broken UTF-8"},
        # No box at all.
        {"_id": 7, "thread_id": 1, "address": "07700900123", "date": T0 + 300_000, "type": None,
         "body": "which way?"},
        {"_id": 8, "thread_id": 3, "address": "+33612345678", "date": T0 + 360_000, "type": 5,
         "status": 64, "error_code": 1, "body": "failed one", "subject": "Re: rent"},
    ]  # fmt: skip
    rows = {
        "canonical_addresses": [
            {"_id": 1, "address": "+447700900123"},
            {"_id": 2, "address": "HSBC"},
            {"_id": 3, "address": "+33612345678"},
            {"_id": 4, "address": "+447700900456"},
        ],
        "threads": [
            {"_id": 1, "recipient_ids": "1"},
            {"_id": 2, "recipient_ids": "2"},
            {"_id": 3, "recipient_ids": "3"},
            {"_id": 4, "recipient_ids": "1 4"},
        ],
        "sms": sms,
        "pdu": [
            {
                "_id": 10,
                "thread_id": 4,
                "date": 1_700_000_500,
                "date_sent": 1_700_000_490,
                "msg_box": 1,
                "read": 1,
                "seen": 1,
                "sub": "Photo",
                "m_type": 132,
            },
            {
                "_id": 11,
                "thread_id": 4,
                "date": 1_700_000_600,
                "msg_box": 2,
                "read": 1,
                "m_type": 128,
            },
        ],
        "addr": [
            {"_id": 1, "msg_id": 10, "address": "+447700900456", "type": 137},
            {"_id": 2, "msg_id": 10, "address": "+447700900123", "type": 151},
            {"_id": 3, "msg_id": 10, "address": "insert-address-token", "type": 151},
            {"_id": 4, "msg_id": 11, "address": "+447700900999", "type": 137},
            {"_id": 5, "msg_id": 11, "address": "+447700900123", "type": 151},
            {"_id": 6, "msg_id": 11, "address": "+447700900456", "type": 130},
        ],
        "part": [
            {"_id": 1, "mid": 10, "seq": -1, "ct": "application/smil", "text": "<smil/>"},
            {"_id": 2, "mid": 10, "seq": 0, "ct": "text/plain", "text": "Look at this"},
            {
                "_id": 3,
                "mid": 10,
                "seq": 1,
                "ct": "image/jpeg",
                "cl": "IMG_0001.jpg",
                "_data": "/data/user_de/0/com.android.providers.telephony/app_parts/PART_1",
            },
            {
                "_id": 4,
                "mid": 11,
                "seq": 0,
                "ct": "image/png",
                "name": None,
                "cl": None,
                "_data": "/data/data/com.android.providers.telephony/app_parts/PART_2.png",
            },
        ],
    }
    build(path, MMSSMS_ANDROID_10, rows)
    set_text(path, "sms", "body", 6, b"caf\xe9 \xff ok")
    return path


def test_sms_and_mms_android_10(tmp_path: Path) -> None:
    db = mmssms_android_10(tmp_path / "mmssms.db")
    sink = ingest(db, tmp_path / "work", region="GB")
    assert sink.document_properties["generator"] == ["android-sms"]
    messages = by_record(sink, "Message")
    assert sorted(messages) == [f"pdu/_id={i}" for i in (10, 11)] + [
        f"sms/_id={i}" for i in range(1, 9)
    ]
    owner = owner_id(sink)

    props, context = messages["sms/_id=1"]
    alice = props["senderAccount"][0]
    assert account(sink, alice) == {
        "username": ["+447700900123"],
        "service": ["phone"],
        "phone": ["+447700900123"],
    }
    assert props == {
        "senderAccount": [alice],
        "recipientAccount": [owner],
        "date": ["2023-11-14T22:13:20"],
        "bodyText": ["Meet at 6"],
        "threadTopic": ["thread 1: +447700900123"],
        "recordId": ["sms/_id=1"],
        "parent": [sink.document_id],
    }
    assert context == {
        "record": "sms/_id=1",
        "time_zone": "UTC",
        "direction": "incoming",
        "box": "inbox",
        "read": True,
        "seen": True,
        "status": "none",
        "locked": False,
        "sent_at": "2023-11-14T22:13:16",
    }

    sent, sent_context = messages["sms/_id=2"]
    assert sent["senderAccount"] == [owner] and sent["recipientAccount"] == [alice]
    assert (sent_context["direction"], sent_context["status"]) == ("outgoing", "complete")

    draft, draft_context = messages["sms/_id=3"]
    assert draft["recipientAccount"] == [alice]
    assert draft_context["box"] == "draft" and draft_context["parties_from_thread"] is True

    bank, bank_context = messages["sms/_id=4"]
    assert account(sink, bank["senderAccount"][0])["username"] == ["HSBC"]
    assert account(sink, bank["senderAccount"][0])["service"] == ["sms"]
    assert bank_context["read"] is False and bank_context["locked"] is True

    bad_time, _ = messages["sms/_id=5"]
    assert "date" not in bad_time and bad_time["bodyText"] == ["bad time"]
    assert "sms: 1 row(s) with a time that is not a plausible date" in sink.warnings

    assert messages["sms/_id=6"][0]["bodyText"] == ["caf\ufffd \ufffd ok"]

    unknown, unknown_context = messages["sms/_id=7"]
    assert "senderAccount" not in unknown and "recipientAccount" not in unknown
    assert unknown_context["direction"] == "unknown"
    assert unknown_context["counterpart"] == "+447700900123"

    failed, failed_context = messages["sms/_id=8"]
    assert failed["subject"] == ["Re: rent"]
    assert failed_context["box"] == "failed" and failed_context["status"] == "failed"
    assert failed_context["error_code"] == 1

    mms, mms_context = messages["pdu/_id=10"]
    bob = mms["senderAccount"][0]
    assert account(sink, bob)["username"] == ["+447700900456"]
    assert sorted(mms["recipientAccount"]) == sorted([alice, owner])
    assert mms["bodyText"] == ["Look at this"] and mms["subject"] == ["Photo"]
    assert mms["date"] == ["2023-11-14T22:21:40"]
    assert mms["threadTopic"] == ["thread 4: +447700900123, +447700900456"]
    assert mms_context["attachments"] == ["IMG_0001.jpg"]
    assert mms_context["direction"] == "incoming" and mms_context["mms_type"] == "retrieved"

    mms_sent, mms_sent_context = messages["pdu/_id=11"]
    assert mms_sent["senderAccount"] == [owner]
    assert sorted(mms_sent["recipientAccount"]) == sorted([alice, bob])
    assert mms_sent_context["attachments"] == ["PART_2.png"]
    # The device's own number, written as the sender of a sent MMS, names the owner.
    assert account(sink, owner)["phone"] == ["+447700900999"]

    text = "\n".join(sink.pages.values())
    assert "2023-11-14T22:13:20 UTC sms +447700900123 -> device owner: Meet at 6" in text


def test_sms_before_android_4_has_no_seen_or_sent_time(tmp_path: Path) -> None:
    rows = {
        "threads": [{"_id": 1, "recipient_ids": "1"}],
        "sms": [
            {"_id": 1, "thread_id": 1, "address": "+15551234567", "date": T0, "type": 1,
             "read": 1, "body": "old phone"},
            {"_id": 2, "thread_id": 1, "address": "+15551234567", "date": T0 + 1, "type": 2,
             "body": "reply"},
        ],
    }  # fmt: skip
    sink = ingest(build(tmp_path / "mmssms.db", MMSSMS_BEFORE_4, rows), tmp_path / "work")
    messages = by_record(sink, "Message")
    assert len(messages) == 2
    props, context = messages["sms/_id=1"]
    # No canonical_addresses: the thread is named by its id only.
    assert props["threadTopic"] == ["thread 1"]
    assert context == {
        "record": "sms/_id=1",
        "time_zone": "UTC",
        "direction": "incoming",
        "box": "inbox",
        "read": True,
        "status": "none",
        "locked": False,
    }
    assert messages["sms/_id=2"][1]["direction"] == "outgoing"
    assert sink.warnings == []


def test_sms_table_without_body_is_an_unsupported_version(tmp_path: Path) -> None:
    schema = "CREATE TABLE sms (_id INTEGER PRIMARY KEY, address TEXT, date INTEGER, type INTEGER);"
    schema += "CREATE TABLE threads (_id INTEGER PRIMARY KEY, recipient_ids TEXT);"
    db = build(tmp_path / "mmssms.db", schema, {"sms": [{"_id": 1, "address": "1"}]})
    with pytest.raises(UnsupportedVersion, match=r"android-sms.*sms lacks column.*body"):
        ingest(db, tmp_path / "work")


def test_mms_tables_of_an_unknown_version_leave_sms_read(tmp_path: Path) -> None:
    schema = MMSSMS_BEFORE_4 + "CREATE TABLE pdu (_id INTEGER PRIMARY KEY, thread_id INTEGER);"
    rows = {"sms": [{"_id": 1, "address": "+15551234567", "date": T0, "type": 1, "body": "x"}]}
    sink = ingest(build(tmp_path / "mmssms.db", schema, rows), tmp_path / "work")
    assert len(emitted(sink, "Message")) == 1
    assert "table pdu of an unknown version, not read (needs _id, date, msg_box)" in sink.warnings
    assert "table addr missing, not read (needs msg_id, address, type)" in sink.warnings


SQLITE_VALUES = st.one_of(
    st.none(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=20),
    st.binary(max_size=20),
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.fixed_dictionaries({c: SQLITE_VALUES for c in ("address", "date", "type",
       "body", "read", "status", "thread_id", "seen")}), min_size=1, max_size=6))  # fmt: skip
def test_hostile_sms_values_never_lose_a_row(values: list[dict[str, Any]]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        rows = {"sms": [{"_id": i + 1, **row} for i, row in enumerate(values)]}
        sink = ingest(build(root / "mmssms.db", MMSSMS_ANDROID_10, rows), root / "work")
    skipped = sum(int(w.split()[1]) for w in sink.warnings if "skipped" in w)
    assert len(emitted(sink, "Message")) + skipped == len(values)


def test_truncated_database_is_broken_or_read_in_part(tmp_path: Path) -> None:
    rows = {
        "sms": [
            {"_id": i, "address": "+447700900123", "date": T0 + i, "type": 1, "body": "x" * 300}
            for i in range(1, 400)
        ]
    }
    whole = build(tmp_path / "whole.db", MMSSMS_ANDROID_10, rows).read_bytes()
    cut = tmp_path / "mmssms.db"
    cut.write_bytes(whole[: len(whole) // 2])
    try:
        sink = ingest(cut, tmp_path / "work")
    except BrokenFile as err:
        assert "damaged" in str(err) or "malformed" in str(err)
    else:
        assert 0 < len(emitted(sink, "Message")) < 399
        assert any("reading stopped after" in warning for warning in sink.warnings)


# --- contacts2.db and calllog.db ------------------------------------------------------

# ContactsDatabaseHelper (Android 4.1 to 6): accounts table, raw_contacts.account_id, and
# the call log still in contacts2.db.
CONTACTS2_ANDROID_6 = """
CREATE TABLE accounts (_id INTEGER PRIMARY KEY AUTOINCREMENT, account_name TEXT,
  account_type TEXT, data_set TEXT);
CREATE TABLE contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT, name_raw_contact_id INTEGER,
  photo_id INTEGER, custom_ringtone TEXT, send_to_voicemail INTEGER NOT NULL DEFAULT 0,
  times_contacted INTEGER NOT NULL DEFAULT 0, last_time_contacted INTEGER,
  starred INTEGER NOT NULL DEFAULT 0, has_phone_number INTEGER NOT NULL DEFAULT 0, lookup TEXT);
CREATE TABLE raw_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT,
  account_id INTEGER REFERENCES accounts(_id), sourceid TEXT, raw_contact_is_read_only INTEGER
  NOT NULL DEFAULT 0, version INTEGER NOT NULL DEFAULT 1, dirty INTEGER NOT NULL DEFAULT 0,
  deleted INTEGER NOT NULL DEFAULT 0, contact_id INTEGER REFERENCES contacts(_id),
  aggregation_mode INTEGER NOT NULL DEFAULT 0, custom_ringtone TEXT,
  send_to_voicemail INTEGER NOT NULL DEFAULT 0, times_contacted INTEGER NOT NULL DEFAULT 0,
  last_time_contacted INTEGER, starred INTEGER NOT NULL DEFAULT 0, display_name TEXT,
  display_name_alt TEXT, display_name_source INTEGER NOT NULL DEFAULT 0, sort_key TEXT);
CREATE TABLE mimetypes (_id INTEGER PRIMARY KEY AUTOINCREMENT, mimetype TEXT NOT NULL);
CREATE TABLE data (_id INTEGER PRIMARY KEY AUTOINCREMENT, package_id INTEGER,
  mimetype_id INTEGER REFERENCES mimetype(_id) NOT NULL,
  raw_contact_id INTEGER REFERENCES raw_contacts(_id) NOT NULL,
  is_read_only INTEGER NOT NULL DEFAULT 0, is_primary INTEGER NOT NULL DEFAULT 0,
  is_super_primary INTEGER NOT NULL DEFAULT 0, data_version INTEGER NOT NULL DEFAULT 0,
  data1 TEXT, data2 TEXT, data3 TEXT, data4 TEXT, data5 TEXT, data6 TEXT, data7 TEXT,
  data8 TEXT, data9 TEXT, data10 TEXT, data11 TEXT, data12 TEXT, data13 TEXT, data14 TEXT,
  data15 TEXT, data_sync1 TEXT, data_sync2 TEXT, data_sync3 TEXT, data_sync4 TEXT);
CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT,
  presentation INTEGER NOT NULL DEFAULT 1, date INTEGER, duration INTEGER, data_usage INTEGER,
  type INTEGER, features INTEGER NOT NULL DEFAULT 0, subscription_component_name TEXT,
  subscription_id TEXT, new INTEGER, name TEXT, numbertype INTEGER, numberlabel TEXT,
  countryiso TEXT, voicemail_uri TEXT, is_read INTEGER, geocoded_location TEXT,
  lookup_uri TEXT, matched_number TEXT, normalized_number TEXT, photo_id INTEGER NOT NULL
  DEFAULT 0, formatted_number TEXT, _data TEXT, has_content INTEGER, mime_type TEXT,
  source_data TEXT, source_package TEXT, transcription TEXT, state INTEGER);
CREATE TABLE voicemail_status (_id INTEGER PRIMARY KEY AUTOINCREMENT, source_package TEXT);
"""

# Android 2.x: raw_contacts name their account; the call log has no country or presentation.
CONTACTS2_ANDROID_2 = """
CREATE TABLE raw_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT, account_name STRING DEFAULT
  NULL, account_type STRING DEFAULT NULL, sourceid TEXT, version INTEGER NOT NULL DEFAULT 1,
  dirty INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0, contact_id INTEGER,
  times_contacted INTEGER NOT NULL DEFAULT 0, last_time_contacted INTEGER,
  starred INTEGER NOT NULL DEFAULT 0, display_name TEXT);
CREATE TABLE mimetypes (_id INTEGER PRIMARY KEY AUTOINCREMENT, mimetype TEXT NOT NULL);
CREATE TABLE data (_id INTEGER PRIMARY KEY AUTOINCREMENT, mimetype_id INTEGER NOT NULL,
  raw_contact_id INTEGER NOT NULL, data1 TEXT, data2 TEXT, data3 TEXT);
CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT, date INTEGER,
  duration INTEGER, type INTEGER, new INTEGER, name TEXT, numbertype INTEGER,
  numberlabel TEXT);
"""

MIMETYPES = [
    {"_id": 1, "mimetype": "vnd.android.cursor.item/name"},
    {"_id": 2, "mimetype": "vnd.android.cursor.item/phone_v2"},
    {"_id": 3, "mimetype": "vnd.android.cursor.item/email_v2"},
    {"_id": 4, "mimetype": "vnd.android.cursor.item/vnd.com.whatsapp.profile"},
    {"_id": 5, "mimetype": "vnd.android.cursor.item/organization"},
]


def contacts2_android_6(path: Path) -> Path:
    calls = [
        {"_id": 1, "number": "07700 900123", "date": T0, "duration": 65, "type": 1, "new": 0,
         "name": "Alice", "countryiso": "GB", "is_read": 1, "geocoded_location": "United Kingdom",
         "normalized_number": "+447700900123"},
        {"_id": 2, "number": "0612345678", "date": T0 + 1000, "duration": 12, "type": 2,
         "countryiso": "FR", "features": 1},
        {"_id": 3, "number": "-2", "date": T0 + 2000, "duration": 0, "type": 3, "new": 1},
        {"_id": 4, "number": "07700900123", "date": T0 + 3000, "duration": 30, "type": 4,
         "countryiso": "GB"},
        {"_id": 5, "number": "07700900123", "date": "yesterday", "duration": 5, "type": 1,
         "countryiso": "GB"},
        {"_id": 6, "number": "07700900123", "date": T0 + 5000, "duration": -1, "type": 9,
         "countryiso": "GB"},
        {"_id": 7, "number": "", "presentation": 2, "date": T0 + 6000, "duration": 0,
         "type": 6},
    ]  # fmt: skip
    data = [
        {"raw_contact_id": 1, "mimetype_id": 1, "data1": "Alice Example"},
        {"raw_contact_id": 1, "mimetype_id": 2, "data1": "07700 900123", "data4": "+447700900123"},
        {"raw_contact_id": 1, "mimetype_id": 3, "data1": "alice@example.org"},
        {"raw_contact_id": 1, "mimetype_id": 4, "data1": "447700900123@s.whatsapp.net"},
        {"raw_contact_id": 1, "mimetype_id": 5, "data1": "Example Ltd"},
        {"raw_contact_id": 2, "mimetype_id": 1, "data1": "Bob Deleted"},
        {"raw_contact_id": 2, "mimetype_id": 2, "data1": "020 7946 0000"},
        # Values of a raw contact that is no longer in raw_contacts.
        {"raw_contact_id": 9, "mimetype_id": 2, "data1": "+15551234567"},
    ]
    rows = {
        "accounts": [{"_id": 1, "account_name": "alice.owner@gmail.com",
                      "account_type": "com.google"}],
        "raw_contacts": [
            {"_id": 1, "account_id": 1, "contact_id": 1, "display_name": "Alice Example",
             "starred": 1, "times_contacted": 4, "last_time_contacted": T0},
            {"_id": 2, "account_id": 1, "contact_id": 2, "display_name": "Bob Deleted",
             "deleted": 1},
        ],
        "mimetypes": MIMETYPES,
        "data": data,
        "calls": calls,
    }  # fmt: skip
    return build(path, CONTACTS2_ANDROID_6, rows)


def test_contacts2_android_6_calls_and_contacts(tmp_path: Path) -> None:
    sink = ingest(contacts2_android_6(tmp_path / "contacts2.db"), tmp_path / "work", region="GB")
    assert sink.document_properties["generator"] == ["android-contacts"]
    owner = owner_id(sink)
    calls = by_record(sink, "Call")
    assert sorted(calls) == [f"calls/_id={i}" for i in range(1, 8)]

    props, context = calls["calls/_id=1"]
    assert props == {
        "callerNumber": ["+447700900123"],
        "date": ["2023-11-14T22:13:20"],
        "duration": ["65"],
        "recordId": ["calls/_id=1"],
    }
    alice = context["caller_account"]
    assert context == {
        "record": "calls/_id=1",
        "time_zone": "UTC",
        "direction": "incoming",
        "contact_name": "Alice",
        "number_location": "United Kingdom",
        "new": False,
        "read": True,
        "video": False,
        "caller_account": alice,
        "receiver_account": owner,
    }
    assert account(sink, alice)["name"] == ["Alice"]

    # The row's own country (FR) reads the national number, not the case's (GB).
    outgoing, outgoing_context = calls["calls/_id=2"]
    assert outgoing["receiverNumber"] == ["+33612345678"]
    assert outgoing_context["direction"] == "outgoing" and outgoing_context["video"] is True

    withheld, withheld_context = calls["calls/_id=3"]
    assert "callerNumber" not in withheld and "caller_account" not in withheld_context
    assert withheld_context["number_withheld"] == "restricted"
    assert withheld_context["direction"] == "missed" and withheld_context["new"] is True

    assert calls["calls/_id=4"][1]["call_type"] == "voicemail"
    assert "date" not in calls["calls/_id=5"][0]
    assert "calls: 1 row(s) with a time that is not a plausible date" in sink.warnings
    unknown, unknown_context = calls["calls/_id=6"]
    assert unknown_context["direction"] == "unknown" and unknown_context["call_type"] == 9
    assert unknown_context["counterpart"] == "+447700900123" and "duration" not in unknown
    blocked = calls["calls/_id=7"][1]
    assert blocked["direction"] == "blocked" and blocked["number_withheld"] == "restricted"

    people = by_record(sink, "Person")
    assert sorted(people) == ["data/raw_contact_id=9", "raw_contacts/_id=1", "raw_contacts/_id=2"]
    person, person_context = people["raw_contacts/_id=1"]
    assert person == {
        "name": ["Alice Example"],
        "phone": ["+447700900123"],
        "email": ["alice@example.org"],
    }
    assert person_context == {
        "record": "raw_contacts/_id=1",
        "organization": "Example Ltd",
        "deleted": False,
        "starred": True,
        "account": "alice.owner@gmail.com (com.google)",
        "times_contacted": 4,
        "last_contacted": "2023-11-14T22:13:20",
        "contact_id": 1,
    }
    person_id = [e.id for e, c in emitted(sink, "Person") if c["record"] == "raw_contacts/_id=1"]
    whatsapp = [
        e.id for e in sink.entities if e.schema.name == "UserAccount" and e.get("service") == [
            "whatsapp"]
    ]  # fmt: skip
    assert account(sink, whatsapp[0])["owner"] == person_id
    assert account(sink, whatsapp[0])["username"] == ["+447700900123"]
    deleted, deleted_context = people["raw_contacts/_id=2"]
    assert deleted_context["deleted"] is True and deleted["phone"] == ["+442079460000"]
    assert people["data/raw_contact_id=9"][0]["phone"] == ["+15551234567"]


def test_contacts2_android_2_without_country_or_presentation(tmp_path: Path) -> None:
    rows = {
        "raw_contacts": [{"_id": 1, "account_name": "a@b.example", "account_type": "com.google",
                          "display_name": "Old Name"}],
        "mimetypes": MIMETYPES,
        "data": [{"raw_contact_id": 1, "mimetype_id": 2, "data1": "(555) 123-4567"}],
        "calls": [{"_id": 1, "number": "5551234567", "date": T0, "duration": 3, "type": 2,
                   "new": 0, "name": "Old Name"}],
    }  # fmt: skip
    db = build(tmp_path / "contacts2.db", CONTACTS2_ANDROID_2, rows)
    sink = ingest(db, tmp_path / "w", region="US")
    (call,) = by_record(sink, "Call").values()
    assert call[0]["receiverNumber"] == ["+15551234567"]
    assert call[1]["direction"] == "outgoing" and call[1]["contact_name"] == "Old Name"
    (person,) = by_record(sink, "Person").values()
    assert person[0]["name"] == ["Old Name"]
    assert person[1]["account"] == "a@b.example (com.google)"
    assert sink.warnings == []


# The call log provider of its own, Android 7 and later (CallLogDatabaseHelper, Android 10).
CALLLOG_ANDROID_10 = """
CREATE TABLE android_metadata (locale TEXT);
CREATE TABLE properties (property_key TEXT PRIMARY KEY, property_value TEXT);
CREATE TABLE calls (_id INTEGER PRIMARY KEY AUTOINCREMENT, number TEXT,
  presentation INTEGER NOT NULL DEFAULT 1, post_dial_digits TEXT NOT NULL DEFAULT '',
  via_number TEXT NOT NULL DEFAULT '', date INTEGER, duration INTEGER, data_usage INTEGER,
  type INTEGER, features INTEGER NOT NULL DEFAULT 0, subscription_component_name TEXT,
  subscription_id TEXT, phone_account_address TEXT, phone_account_hidden INTEGER NOT NULL
  DEFAULT 0, sub_id INTEGER DEFAULT -1, new INTEGER, name TEXT, numbertype INTEGER,
  numberlabel TEXT, countryiso TEXT, voicemail_uri TEXT, is_read INTEGER,
  geocoded_location TEXT, lookup_uri TEXT, matched_number TEXT, normalized_number TEXT,
  photo_id INTEGER NOT NULL DEFAULT 0, photo_uri TEXT, formatted_number TEXT,
  add_for_all_users INTEGER NOT NULL DEFAULT 1, last_modified INTEGER DEFAULT 0,
  _data TEXT, has_content INTEGER, mime_type TEXT, source_data TEXT, source_package TEXT,
  transcription TEXT, transcription_state INTEGER NOT NULL DEFAULT 0, state INTEGER,
  dirty INTEGER NOT NULL DEFAULT 0, deleted INTEGER NOT NULL DEFAULT 0,
  backed_up INTEGER NOT NULL DEFAULT 0, restored INTEGER NOT NULL DEFAULT 0,
  archived INTEGER NOT NULL DEFAULT 0, is_omtp_voicemail INTEGER NOT NULL DEFAULT 0,
  call_screening_component_name TEXT, call_screening_app_name TEXT,
  block_reason INTEGER NOT NULL DEFAULT 0);
CREATE TABLE voicemail_status (_id INTEGER PRIMARY KEY AUTOINCREMENT, source_package TEXT
  NOT NULL, phone_account_component_name TEXT, phone_account_id TEXT, settings_uri TEXT,
  voicemail_access_uri TEXT, configuration_state INTEGER, data_channel_state INTEGER,
  notification_channel_state INTEGER);
"""


def test_calllog_android_10(tmp_path: Path) -> None:
    rows = {
        "calls": [
            {"_id": 1, "number": "+49301234567", "date": T0, "duration": 300, "type": 1,
             "features": 1, "new": 0, "is_read": 1, "countryiso": "DE"},
            {"_id": 2, "number": "", "presentation": 3, "date": T0 + 1, "duration": 0,
             "type": 3, "new": 1},
            {"_id": 3, "number": "+49301234567", "date": T0 + 2, "duration": 0, "type": 5,
             "deleted": 1},
            {"_id": 4, "number": "+49301234567", "date": T0 + 3, "duration": 0, "type": 7},
        ]
    }  # fmt: skip
    sink = ingest(build(tmp_path / "calllog.db", CALLLOG_ANDROID_10, rows), tmp_path / "work")
    assert sink.document_properties["generator"] == ["android-calllog"]
    owner = owner_id(sink)
    calls = by_record(sink, "Call")
    assert len(calls) == 4
    props, context = calls["calls/_id=1"]
    assert props == {
        "callerNumber": ["+49301234567"],
        "date": ["2023-11-14T22:13:20"],
        "duration": ["300"],
        "recordId": ["calls/_id=1"],
    }
    assert context == {
        "record": "calls/_id=1",
        "time_zone": "UTC",
        "direction": "incoming",
        "new": False,
        "read": True,
        "video": True,
        "deleted": False,
        "caller_account": context["caller_account"],
        "receiver_account": owner,
    }
    assert calls["calls/_id=2"][1]["number_withheld"] == "unknown"
    assert calls["calls/_id=3"][1]["direction"] == "rejected"
    assert calls["calls/_id=3"][1]["deleted"] is True
    assert calls["calls/_id=4"][1]["call_type"] == "answered on another device"
    assert emitted(sink, "Person") == []


def test_calllog_without_type_is_unsupported_and_viber_calls_are_not_android(
    tmp_path: Path,
) -> None:
    schema = "CREATE TABLE calls (_id INTEGER PRIMARY KEY, number TEXT, date INTEGER, new INTEGER);"
    schema += "CREATE TABLE voicemail_status (_id INTEGER PRIMARY KEY);"
    with pytest.raises(UnsupportedVersion, match=r"calls lacks column.*type"):
        ingest(build(tmp_path / "calllog.db", schema, {}), tmp_path / "w1")
    # Viber keeps calls in a table of the same name, with its own columns.
    viber = (
        "CREATE TABLE calls (_id INTEGER PRIMARY KEY, call_id LONG, number TEXT, "
        "canonized_number TEXT, viber_call BOOLEAN, date LONG, duration LONG, type INT);"
    )
    with pytest.raises(NotMyFormat):
        ingest(build(tmp_path / "viber_data", viber, {}), tmp_path / "w2")


def test_contacts2_without_usable_tables_is_unsupported(tmp_path: Path) -> None:
    schema = "CREATE TABLE raw_contacts (_id INTEGER PRIMARY KEY, display_name TEXT);"
    schema += "CREATE TABLE data (_id INTEGER PRIMARY KEY, raw_contact_id INTEGER);"
    with pytest.raises(UnsupportedVersion, match="data lacks column"):
        ingest(build(tmp_path / "contacts2.db", schema, {}), tmp_path / "work")


# --- WhatsApp ------------------------------------------------------------------------------

# msgstore.db before the 2022 migration (the ``messages`` table; chat names in chat_list).
MSGSTORE_LEGACY = """
CREATE TABLE messages (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT NOT NULL,
  key_from_me INTEGER, key_id TEXT NOT NULL, status INTEGER, needs_push INTEGER, data TEXT,
  timestamp INTEGER, media_url TEXT, media_mime_type TEXT, media_wa_type TEXT,
  media_size INTEGER, media_name TEXT, media_caption TEXT, media_hash TEXT,
  media_duration INTEGER, origin INTEGER, latitude REAL, longitude REAL, thumb_image TEXT,
  remote_resource TEXT, received_timestamp INTEGER, send_timestamp INTEGER,
  receipt_server_timestamp INTEGER, receipt_device_timestamp INTEGER,
  read_device_timestamp INTEGER, played_device_timestamp INTEGER, raw_data BLOB,
  recipient_count INTEGER, participant_hash TEXT, starred INTEGER, quoted_row_id INTEGER,
  mentioned_jids TEXT, multicast_id TEXT, edit_version INTEGER, media_enc_hash TEXT,
  payment_transaction_id TEXT, forwarded INTEGER);
CREATE TABLE chat_list (_id INTEGER PRIMARY KEY AUTOINCREMENT, key_remote_jid TEXT UNIQUE,
  message_table_id INTEGER, subject TEXT, creation INTEGER, last_read_message_table_id INTEGER,
  archived INTEGER, sort_timestamp INTEGER);
"""
ALICE_JID = "447700900123@s.whatsapp.net"
BOB_JID = "447700900456@s.whatsapp.net"
GROUP_JID = "120363012345678901@g.us"


def msgstore_legacy(path: Path) -> Path:
    messages = [
        {"_id": 1, "key_remote_jid": "-1", "key_from_me": 0, "key_id": "-1", "status": -1,
         "timestamp": 0},
        {"_id": 2, "key_remote_jid": ALICE_JID, "key_from_me": 0, "key_id": "3EB0AA01",
         "status": 0, "data": "Hello from WhatsApp", "timestamp": T0, "media_wa_type": "0",
         "received_timestamp": T0 + 900},
        {"_id": 3, "key_remote_jid": ALICE_JID, "key_from_me": 1, "key_id": "3EB0AA02",
         "status": 13, "data": "Hi Alice", "timestamp": T0 + 1000, "media_wa_type": "0",
         "starred": 1},
        {"_id": 4, "key_remote_jid": GROUP_JID, "key_from_me": 0, "key_id": "3EB0AA03",
         "status": 0, "data": "Hi all", "timestamp": T0 + 2000,
         "remote_resource": "447700900456:3@s.whatsapp.net"},
        {"_id": 5, "key_remote_jid": GROUP_JID, "key_from_me": 1, "key_id": "3EB0AA04",
         "status": 5, "data": "Hi back", "timestamp": T0 + 3000},
        {"_id": 6, "key_remote_jid": ALICE_JID, "key_from_me": 0, "key_id": "3EB0AA05",
         "media_wa_type": "1", "media_mime_type": "image/jpeg", "media_size": 12345,
         "media_name": "IMG-20231114-WA0001.jpg", "media_caption": "look",
         "media_url": "https://mmg.whatsapp.net/d/f/abc.enc", "timestamp": T0 + 4000},
        {"_id": 7, "key_remote_jid": ALICE_JID, "key_from_me": 0, "key_id": "3EB0AA06",
         "media_wa_type": "5", "latitude": 51.5007, "longitude": -0.1246,
         "timestamp": T0 + 5000},
        {"_id": 8, "key_remote_jid": ALICE_JID, "key_from_me": 0, "key_id": "3EB0AA07",
         "media_wa_type": "15", "timestamp": T0 + 6000, "data": None},
        {"_id": 9, "key_remote_jid": ALICE_JID, "key_from_me": 0, "key_id": "3EB0AA08",
         "data": "bad time", "timestamp": -5},
    ]  # fmt: skip
    rows = {"messages": messages, "chat_list": [{"key_remote_jid": GROUP_JID, "subject": "Family"}]}
    return build(path, MSGSTORE_LEGACY, rows)


def test_whatsapp_legacy_msgstore(tmp_path: Path) -> None:
    sink = ingest(msgstore_legacy(tmp_path / "msgstore.db"), tmp_path / "work")
    assert sink.document_properties["generator"] == ["android-whatsapp"]
    owner = owner_id(sink)
    messages = by_record(sink, "Message")
    assert sorted(messages) == [f"messages/_id={i}" for i in range(2, 10)]
    assert "1 placeholder row(s) without a chat not read" in sink.warnings

    props, context = messages["messages/_id=2"]
    alice = props["senderAccount"][0]
    assert account(sink, alice) == {
        "username": ["+447700900123"],
        "service": ["whatsapp"],
        "phone": ["+447700900123"],
    }
    assert props == {
        "senderAccount": [alice],
        "recipientAccount": [owner],
        "date": ["2023-11-14T22:13:20"],
        "bodyText": ["Hello from WhatsApp"],
        "threadTopic": [ALICE_JID],
        "recordId": ["messages/_id=2"],
        "parent": [sink.document_id],
    }
    assert context == {
        "record": "messages/_id=2",
        "time_zone": "UTC",
        "direction": "incoming",
        "kind": "text",
        "status": "received",
        "message_id": "3EB0AA01",
        "received_at": "2023-11-14T22:13:20",
    }
    out, out_context = messages["messages/_id=3"]
    assert out["senderAccount"] == [owner] and out["recipientAccount"] == [alice]
    assert out_context["status"] == "read by recipient" and out_context["starred"] is True

    group_in, _ = messages["messages/_id=4"]
    # A linked device's JID (":3") is the same person's account.
    assert account(sink, group_in["senderAccount"][0])["username"] == ["+447700900456"]
    assert group_in["recipientAccount"] == [owner]
    assert group_in["threadTopic"] == [f"Family ({GROUP_JID})"]
    group_out, _ = messages["messages/_id=5"]
    assert group_out["senderAccount"] == [owner] and "recipientAccount" not in group_out

    image, image_context = messages["messages/_id=6"]
    assert image["bodyText"] == ["look"]
    assert image_context["attachments"] == ["IMG-20231114-WA0001.jpg"]
    assert image_context["media_type"] == "image/jpeg" and image_context["media_size"] == 12345
    (place,) = emitted(sink, "Address")
    assert place[0].get("latitude") == ["51.500700"]
    assert place[1]["record"] == "messages/_id=7"
    assert messages["messages/_id=8"][1]["revoked"] is True
    assert "date" not in messages["messages/_id=9"][0]


# msgstore.db since 2022: message, jid and chat (the legacy table left empty beside them).
MSGSTORE_2023 = (
    MSGSTORE_LEGACY
    + """
CREATE TABLE jid (_id INTEGER PRIMARY KEY AUTOINCREMENT, user TEXT NOT NULL,
  server TEXT NOT NULL, agent INTEGER, device INTEGER, type INTEGER, raw_string TEXT);
CREATE TABLE chat (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid_row_id INTEGER UNIQUE,
  hidden INTEGER, subject TEXT, created_timestamp INTEGER, display_message_row_id INTEGER,
  last_message_row_id INTEGER, last_read_message_row_id INTEGER, archived INTEGER,
  sort_timestamp INTEGER);
CREATE TABLE message (_id INTEGER PRIMARY KEY AUTOINCREMENT, chat_row_id INTEGER NOT NULL,
  from_me INTEGER NOT NULL, key_id TEXT NOT NULL, sender_jid_row_id INTEGER, status INTEGER,
  broadcast INTEGER, recipient_count INTEGER, participant_hash TEXT,
  origination_flags INTEGER, origin INTEGER, timestamp INTEGER, received_timestamp INTEGER,
  receipt_server_timestamp INTEGER, message_type INTEGER, text_data TEXT, starred INTEGER,
  lookup_tables INTEGER, message_add_on_flags INTEGER, sort_id INTEGER);
CREATE TABLE message_media (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER,
  autotransfer_retry_enabled INTEGER, multicast_id TEXT, media_job_uuid TEXT,
  transferred INTEGER, transcoded INTEGER, file_path TEXT, file_size INTEGER,
  suspicious_content INTEGER, trim_from INTEGER, trim_to INTEGER, face_x INTEGER,
  face_y INTEGER, media_key BLOB, media_key_timestamp INTEGER, width INTEGER, height INTEGER,
  has_streaming_sidecar INTEGER, direct_path TEXT, message_url TEXT, mime_type TEXT,
  file_length INTEGER, media_name TEXT, file_hash TEXT, media_duration INTEGER,
  page_count INTEGER, enc_file_hash TEXT, media_caption TEXT);
CREATE TABLE message_location (message_row_id INTEGER PRIMARY KEY, chat_row_id INTEGER,
  latitude REAL, longitude REAL, place_name TEXT, place_address TEXT, url TEXT,
  live_location_share_duration INTEGER);
"""
)


def msgstore_2023(path: Path) -> Path:
    rows = {
        "jid": [
            {"_id": 1, "user": "447700900123", "server": "s.whatsapp.net", "raw_string": ALICE_JID},
            {"_id": 2, "user": "120363012345678901", "server": "g.us", "raw_string": GROUP_JID},
            {"_id": 3, "user": "447700900456", "server": "s.whatsapp.net", "raw_string": None},
            {"_id": 4, "user": "98765432101234", "server": "lid",
             "raw_string": "98765432101234@lid"},
        ],
        "chat": [
            {"_id": 1, "jid_row_id": 1},
            {"_id": 2, "jid_row_id": 2, "subject": "Family"},
            {"_id": 3, "jid_row_id": 4},
        ],
        "message": [
            {"_id": 1, "chat_row_id": -1, "from_me": 0, "key_id": "-1", "timestamp": 0},
            {"_id": 2, "chat_row_id": 1, "from_me": 0, "key_id": "A1", "sender_jid_row_id": 0,
             "status": 0, "timestamp": T0, "message_type": 0, "text_data": "new schema hello",
             "received_timestamp": T0 + 500},
            {"_id": 3, "chat_row_id": 1, "from_me": 1, "key_id": "A2", "status": 13,
             "timestamp": T0 + 1000, "message_type": 0, "text_data": "reply"},
            {"_id": 4, "chat_row_id": 2, "from_me": 0, "key_id": "A3", "sender_jid_row_id": 3,
             "status": 0, "timestamp": T0 + 2000, "message_type": 0, "text_data": "group hi"},
            {"_id": 5, "chat_row_id": 1, "from_me": 0, "key_id": "A4", "timestamp": T0 + 3000,
             "message_type": 9, "text_data": None},
            {"_id": 6, "chat_row_id": 1, "from_me": 1, "key_id": "A5", "timestamp": T0 + 4000,
             "message_type": 5},
            {"_id": 7, "chat_row_id": 3, "from_me": 0, "key_id": "A6", "timestamp": T0 + 5000,
             "message_type": 0, "text_data": "from a linked identity"},
            {"_id": 8, "chat_row_id": 1, "from_me": 0, "key_id": "A7", "timestamp": T0 + 6000,
             "message_type": 0, "text_data": "placeholder"},
        ],
        "message_media": [
            {"message_row_id": 5, "chat_row_id": 1, "mime_type": "application/pdf",
             "file_path": "Media/WhatsApp Documents/invoice.pdf", "file_size": 2048,
             "media_caption": "the invoice"},
        ],
        "message_location": [
            {"message_row_id": 6, "chat_row_id": 1, "latitude": 48.8584, "longitude": 2.2945,
             "place_name": "Tour Eiffel"},
        ],
        # Rows left in the legacy table by the migration are not read twice.
        "messages": [{"key_remote_jid": ALICE_JID, "key_from_me": 0, "key_id": "OLD",
                      "data": "legacy copy", "timestamp": T0}],
    }  # fmt: skip
    build(path, MSGSTORE_2023, rows)
    set_text(path, "message", "text_data", 8, b"broken \xc3\x28 utf-8")
    return path


def test_whatsapp_msgstore_2023_schema(tmp_path: Path) -> None:
    sink = ingest(msgstore_2023(tmp_path / "msgstore.db"), tmp_path / "work")
    owner = owner_id(sink)
    messages = by_record(sink, "Message")
    assert sorted(messages) == [f"message/_id={i}" for i in range(2, 9)]
    props, context = messages["message/_id=2"]
    alice = props["senderAccount"][0]
    assert account(sink, alice)["username"] == ["+447700900123"]
    assert props == {
        "senderAccount": [alice],
        "recipientAccount": [owner],
        "date": ["2023-11-14T22:13:20"],
        "bodyText": ["new schema hello"],
        "threadTopic": [ALICE_JID],
        "recordId": ["message/_id=2"],
        "parent": [sink.document_id],
    }
    assert context == {
        "record": "message/_id=2",
        "time_zone": "UTC",
        "direction": "incoming",
        "kind": "text",
        "status": "received",
        "message_id": "A1",
        "received_at": "2023-11-14T22:13:20",
    }
    assert messages["message/_id=3"][0]["recipientAccount"] == [alice]
    group, _ = messages["message/_id=4"]
    # jid 3 has no raw_string: user@server is used.
    assert account(sink, group["senderAccount"][0])["username"] == ["+447700900456"]
    assert group["threadTopic"] == [f"Family ({GROUP_JID})"]
    document, document_context = messages["message/_id=5"]
    assert document["bodyText"] == ["the invoice"]
    assert document_context["attachments"] == ["Media/WhatsApp Documents/invoice.pdf"]
    assert document_context["kind"] == "document"
    (place,) = emitted(sink, "Address")
    assert place[0].get("full") == ["Tour Eiffel"] and place[1]["record"] == "message/_id=6"
    linked, _ = messages["message/_id=7"]
    assert account(sink, linked["senderAccount"][0])["username"] == ["98765432101234@lid"]
    assert messages["message/_id=8"][0]["bodyText"] == ["broken \ufffd( utf-8"]
    assert "legacy copy" not in "".join(sink.pages.values())


def test_whatsapp_message_table_without_needed_columns_is_unsupported(tmp_path: Path) -> None:
    schema = "CREATE TABLE jid (_id INTEGER PRIMARY KEY, raw_string TEXT);"
    schema += "CREATE TABLE chat (_id INTEGER PRIMARY KEY, jid_row_id INTEGER);"
    schema += "CREATE TABLE message (_id INTEGER PRIMARY KEY, chat_row_id INTEGER);"
    with pytest.raises(UnsupportedVersion, match=r"android-whatsapp.*message lacks.*from_me"):
        ingest(build(tmp_path / "msgstore.db", schema, {}), tmp_path / "work")


WA_DB = """
CREATE TABLE wa_contacts (_id INTEGER PRIMARY KEY AUTOINCREMENT, jid TEXT NOT NULL,
  is_whatsapp_user BOOLEAN NOT NULL, status TEXT, status_timestamp INTEGER, number TEXT,
  raw_contact_id INTEGER, display_name TEXT, phone_type INTEGER, phone_label TEXT,
  unseen_msg_count INTEGER, photo_ts INTEGER, thumb_ts INTEGER, photo_id_timestamp INTEGER,
  given_name TEXT, family_name TEXT, wa_name TEXT, sort_name TEXT, nickname TEXT,
  company TEXT, title TEXT, status_autodownload_disabled INTEGER, keep_timestamp INTEGER,
  is_spam_reported INTEGER, is_sidelist_synced BOOLEAN DEFAULT 0,
  is_business_synced BOOLEAN DEFAULT 0);
"""


def test_whatsapp_wa_db_contacts(tmp_path: Path) -> None:
    rows = {
        "wa_contacts": [
            {"_id": 1, "jid": ALICE_JID, "is_whatsapp_user": 1, "status": "Busy",
             "number": "07700 900123", "display_name": "Alice Example", "wa_name": "Ally"},
            {"_id": 2, "jid": GROUP_JID, "is_whatsapp_user": 1, "display_name": "Family"},
            {"_id": 3, "jid": BOB_JID, "is_whatsapp_user": 1, "number": None,
             "display_name": None, "wa_name": "Bob"},
            {"_id": 4, "jid": "", "is_whatsapp_user": 0},
        ]
    }  # fmt: skip
    sink = ingest(build(tmp_path / "wa.db", WA_DB, rows), tmp_path / "work", region="GB")
    assert sink.document_properties["generator"] == ["android-whatsapp-contacts"]
    people = by_record(sink, "Person")
    assert sorted(people) == ["wa_contacts/_id=1", "wa_contacts/_id=3"]
    alice, alice_context = people["wa_contacts/_id=1"]
    assert alice == {"name": ["Alice Example"], "phone": ["+447700900123"]}
    assert alice_context == {
        "record": "wa_contacts/_id=1",
        "whatsapp_user": True,
        "about": "Busy",
        "whatsapp_name": "Ally",
    }
    whatsapp_accounts = [
        e for e in sink.entities if e.schema.name == "UserAccount" and e.get("name") == ["Ally"]
    ]
    assert whatsapp_accounts[0].get("username") == ["+447700900123"]
    assert people["wa_contacts/_id=3"][0] == {"name": ["Bob"], "phone": ["+447700900456"]}
    assert f"whatsapp group Family ({GROUP_JID})" in "".join(sink.pages.values())
    assert any(w.startswith("wa_contacts: 1 row(s) skipped") for w in sink.warnings)


@pytest.mark.parametrize(
    ("jid", "username"),
    [
        ("447700900123@s.whatsapp.net", "+447700900123"),
        ("447700900123.0:12@s.whatsapp.net", "+447700900123"),
        ("15551234567@c.us", "+15551234567"),
        ("120363012345678901@g.us", "120363012345678901@g.us"),
        ("status@broadcast", "status@broadcast"),
        ("12@s.whatsapp.net", "12@s.whatsapp.net"),  # too short to be a number
    ],
)
def test_jids_become_whatsapp_accounts(tmp_path: Path, jid: str, username: str) -> None:
    source, store = source_for(mmssms_android_10(tmp_path / "x.db"), tmp_path / "work")
    sink = Sink(CASE_ID, source.item_id, source.limits, lambda s: store.put_stream(s).digests)
    party = jid_account(Comms(sink, source, "whatsapp"), jid)
    assert party is not None
    (entity,) = sink.entities
    assert entity.get("username") == [username] and entity.get("service") == ["whatsapp"]


# --- registration ----------------------------------------------------------------------


def test_every_android_reader_is_registered_in_order() -> None:
    package = importlib.import_module("caselens.ingest.formats.phone.readers.android")
    found = set()
    for module_info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"{package.__name__}.{module_info.name}")
        for _, cls in inspect.getmembers(module, inspect.isclass):
            if issubclass(cls, PhoneReader) and cls is not PhoneReader:
                found.add(cls)
    assert found == set(ANDROID_READERS)
    assert set(ANDROID_READERS) <= set(phone_readers.READERS)


# --- the corpus's real databases -------------------------------------------------------------


@needs_corpus
def test_corpus_mmssms(tmp_path: Path) -> None:
    path = CORPUS / "phone" / "android" / "mmssms.db"
    before = sha256(path)
    sink = ingest(path, tmp_path / "work", region="US")
    assert sha256(path) == before
    messages = by_record(sink, "Message")
    assert len(messages) == 9
    directions = [context["direction"] for _, context in messages.values()]
    assert directions.count("incoming") == 4 and directions.count("outgoing") == 5
    owner = owner_id(sink)
    props, context = messages["sms/_id=3"]
    fred = props["senderAccount"][0]
    assert account(sink, fred) == {
        "username": ["+15555215554"],
        "service": ["phone"],
        "phone": ["+15555215554"],
    }
    assert props == {
        "senderAccount": [fred],
        "recipientAccount": [owner],
        "date": ["2013-10-29T17:05:41"],
        "bodyText": ["What message?"],
        "threadTopic": ["thread 1: +15555215554"],
        "recordId": ["sms/_id=3"],
        "parent": [sink.document_id],
    }
    assert context == {
        "record": "sms/_id=3",
        "time_zone": "UTC",
        "direction": "incoming",
        "box": "inbox",
        "read": False,
        "seen": False,
        "status": "none",
        "locked": False,
        "sent_at": "2013-10-29T17:05:40",
    }
    # "1 555-521-5554" (sent) and "15555215554" (received) are one party.
    assert {a for p, _ in messages.values() for a in p["senderAccount"]} == {owner, fred}
    assert sink.warnings == []


@needs_corpus
def test_corpus_contacts2(tmp_path: Path) -> None:
    path = CORPUS / "phone" / "android" / "contacts2.db"
    before = sha256(path)
    sink = ingest(path, tmp_path / "work")  # no region: the rows' countryiso (US) is used
    assert sha256(path) == before
    calls = by_record(sink, "Call")
    assert sorted(calls) == ["calls/_id=714", "calls/_id=715", "calls/_id=717"]
    assert [c["direction"] for _, c in calls.values()] == ["missed", "outgoing", "incoming"]
    owner = owner_id(sink)
    props, context = calls["calls/_id=715"]
    assert props == {
        "receiverNumber": ["+15404561685"],
        "date": ["2013-11-06T21:18:53"],
        "duration": ["126"],
        "recordId": ["calls/_id=715"],
    }
    barney = context["receiver_account"]
    assert context == {
        "record": "calls/_id=715",
        "time_zone": "UTC",
        "direction": "outgoing",
        "contact_name": "Barney",
        "number_location": "Bedrock",
        "new": False,
        "caller_account": owner,
        "receiver_account": barney,
    }
    assert account(sink, barney)["name"] == ["Barney"]
    assert emitted(sink, "Person") == []  # the contact tables are empty in this file


# --- write-ahead log and evidence integrity ----------------------------------------------


def test_wal_sibling_is_read_and_evidence_untouched(tmp_path: Path) -> None:
    live = tmp_path / "live" / "mmssms.db"
    live.parent.mkdir()
    db = sqlite3.connect(live)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA wal_autocheckpoint=0")  # keep new pages in the log, as a phone does
    db.executescript(MMSSMS_BEFORE_4)
    db.execute(
        "INSERT INTO sms (_id, address, date, type, body) VALUES (1, '+15551234567', ?, 1, ?)",
        (T0, "in the main file"),
    )
    db.commit()
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.execute(
        "INSERT INTO sms (_id, address, date, type, body) VALUES (2, '+15551234567', ?, 2, ?)",
        (T0 + 1, "only in the WAL"),
    )
    db.commit()
    seized = tmp_path / "seized"
    seized.mkdir()
    # Seized while the app still had it open: the log has not been written back.
    shutil.copyfile(live, seized / "mmssms.db")
    shutil.copyfile(live.with_name("mmssms.db-wal"), seized / "mmssms.db-wal")
    db.close()

    alone = tmp_path / "alone" / "mmssms.db"
    alone.parent.mkdir()
    shutil.copyfile(seized / "mmssms.db", alone)
    check = sqlite3.connect(alone)
    assert check.execute("SELECT count(*) FROM sms").fetchone() == (1,)
    check.close()

    hashes = {path.name: sha256(path) for path in seized.iterdir()}
    wal = str(seized / "mmssms.db-wal").encode()
    sink = ingest(seized / "mmssms.db", tmp_path / "work", siblings=(("-wal", wal),))
    bodies = sorted(p["bodyText"][0] for p, _ in by_record(sink, "Message").values())
    assert bodies == ["in the main file", "only in the WAL"]
    assert "read together with the -wal file seized next to it" in sink.warnings
    assert {path.name: sha256(path) for path in seized.iterdir()} == hashes  # no -shm either

    without = ingest(seized / "mmssms.db", tmp_path / "work2")
    assert len(emitted(without, "Message")) == 1


# --- end to end through the service ------------------------------------------------------


def test_mmssms_ingested_into_a_case(app: Caselens, tmp_path: Path) -> None:
    app.users.init(ADMIN)
    app.cases.create(ADMIN, "PH-1", "phones", jurisdiction="GB-ENG", default_purpose="testing")
    folder = tmp_path / "exhibit"
    mmssms_android_10(folder / "mmssms.db")
    summary = app.ingest.ingest(ADMIN, "PH-1", [str(folder)], Acquisition(exhibit="PHONE/1"))
    assert dict(summary.states) == {"ingested": 1}
    with app.runtime.transaction() as connection:
        item = connection.execute(select(items).where(items.c.name == "mmssms.db")).one()
        assert (item.state, item.format) == ("ingested", "phone-db")
        assert item.warnings == ["sms: 1 row(s) with a time that is not a plausible date"]
        found = connection.execute(
            select(entities.c.schema, entities.c.properties, entities.c.context).where(
                entities.c.item_id == item.id, entities.c.superseded.is_(False)
            )
        ).all()
        text = "".join(
            connection.execute(
                select(item_texts.c.text).where(item_texts.c.item_id == item.id)
            ).scalars()
        )
    messages = {row.context["record"]: row for row in found if row.schema == "Message"}
    assert len(messages) == 10
    first = messages["sms/_id=1"]
    assert first.properties["bodyText"] == ["Meet at 6"]
    assert first.context["direction"] == "incoming" and first.context["read"] is True
    # The case is in England: "07700 900123" is read as a UK number.
    assert "2023-11-14T22:13:20 UTC sms +447700900123 -> device owner: Meet at 6" in text
