"""WhatsApp for Android: messages in ``msgstore.db``, contacts in ``wa.db``.

Parties are JIDs: ``447700900123@s.whatsapp.net`` is the account of +447700900123 (the
E.164 number is its id, service "whatsapp"), ``…@g.us`` a group (a thread, not a
person), ``status@broadcast`` the status updates. Times are milliseconds since 1970.

``msgstore.db`` comes in two schemas. The older keeps each message in ``messages``,
naming its chat by ``key_remote_jid`` and, in groups, its author by ``remote_resource``,
with its text in ``data`` and media in ``media_*`` columns. Versions since 2022 split it:
``message`` rows point to ``chat`` (``chat_row_id``) and ``jid`` (``sender_jid_row_id``),
with text in ``text_data``, media in ``message_media`` and places in
``message_location``. When both are there, the newer is read: the app writes only there.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from caselens.ingest.errors import UnsupportedVersion
from caselens.ingest.formats.phone.comms import Comms, Party, normalize_phone
from caselens.ingest.formats.phone.database import PhoneReader, Schema
from caselens.ingest.formats.phone.readers.android.rows import (
    ROW_ERRORS,
    Problems,
    quoted,
    require,
    rows,
    select,
    text,
    usable,
)
from caselens.ingest.formats.phone.readers.values import flag, integer
from caselens.ingest.formats.phone.times import from_unix_ms
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

PHONE_SERVERS = frozenset({"s.whatsapp.net", "c.us"})
GROUP_SERVERS = frozenset({"g.us", "broadcast", "newsletter"})  # chats, not people
PLACEHOLDER_JID = "-1"  # the first row of every msgstore.db, not a message

# message_type (media_wa_type in the old schema)
TYPES = {
    **{0: "text", 1: "image", 2: "audio", 3: "video", 4: "contact card", 5: "location"},
    **{7: "system", 9: "document", 13: "animated image", 15: "deleted by sender"},
    **{16: "live location", 20: "sticker"},
}
REVOKED = 15
STATUS = {0: "received", 4: "waiting on server", 5: "delivered", 6: "control", 8: "played"}
STATUS[13] = "read by recipient"

LEGACY_NEEDED = ("_id", "key_remote_jid", "key_from_me", "data", "timestamp")
# Our name for each value -> the old schema's column.
LEGACY_COLUMNS = {
    "chat_jid": "key_remote_jid",
    "from_me": "key_from_me",
    "moment": "timestamp",
    "body": "data",
    "author_jid": "remote_resource",
    "kind": "media_wa_type",
    "status": "status",
    "key_id": "key_id",
    "starred": "starred",
    "received": "received_timestamp",
    "media_mime": "media_mime_type",
    "media_name": "media_name",
    "media_url": "media_url",
    "media_size": "media_size",
    "caption": "media_caption",
    "latitude": "latitude",
    "longitude": "longitude",
}
MESSAGE_NEEDED = ("_id", "chat_row_id", "from_me", "timestamp")
MESSAGE_COLUMNS = {
    "from_me": "from_me",
    "moment": "timestamp",
    "body": "text_data",
    "kind": "message_type",
    "status": "status",
    "key_id": "key_id",
    "starred": "starred",
    "received": "received_timestamp",
}
MEDIA_COLUMNS = {
    "media_mime": "mime_type",
    "media_name": "file_path",
    "media_size": "file_size",
    "caption": "media_caption",
}
LOCATION_COLUMNS = {"latitude": "latitude", "longitude": "longitude", "place": "place_name"}
CONTACT_OPTIONAL = ("_id", "display_name", "wa_name", "number", "is_whatsapp_user", "status")


def jid_account(comms: Comms, jid: str | None, name: str | None = None) -> Party | None:
    """The WhatsApp account of a JID: its phone number in E.164 when it is one."""
    raw = (jid or "").strip()
    if not raw:
        return None
    user, _, server = raw.partition("@")
    user = user.split(":", 1)[0].split(".", 1)[0]  # a linked device: 4477...0.0:12@…
    if server in PHONE_SERVERS and user.isdigit():
        phone = normalize_phone("+" + user, None)
        if phone:
            return comms.account(phone, name=name, service="whatsapp", phone=phone)
    return comms.account(raw, name=name, service="whatsapp")


def _server(jid: str) -> str:
    return jid.partition("@")[2]


class WhatsAppMessagesReader(PhoneReader):
    """``msgstore.db``, either schema."""

    name = "android-whatsapp"
    service = "whatsapp"

    @classmethod
    def recognises(cls, schema: Schema) -> bool:
        legacy = "key_remote_jid" in schema.get("messages", frozenset())
        return legacy or {"message", "jid", "chat"} <= schema.keys()

    def read(self, db: sqlite3.Connection, schema: Schema, source: Source, sink: Sink) -> None:
        reading = _Messages(db, schema, sink, Comms(sink, source, self.service))
        if _new_schema_ok(schema):
            reading.read(_new_sql(schema), "message", _new_subjects(schema))
        elif usable(schema, "messages", *LEGACY_NEEDED):
            subjects = None
            if usable(schema, "chat_list", "key_remote_jid", "subject"):
                subjects = "SELECT key_remote_jid AS jid, subject FROM chat_list"
            reading.read(_legacy_sql(schema), "messages", subjects)
        elif "message" not in schema:
            require(schema, "messages", *LEGACY_NEEDED)
        else:
            require(schema, "message", *MESSAGE_NEEDED)
            require(schema, "chat", "_id", "jid_row_id")
            require(schema, "jid", "_id")
            raise UnsupportedVersion("table jid has neither raw_string nor user and server")
        reading.problems.report(sink)
        if reading.placeholders:
            sink.warn(f"{reading.placeholders} placeholder row(s) without a chat not read")


def _jid_expression(schema: Schema, alias: str) -> str | None:
    columns = schema.get("jid", frozenset())
    joined = f"{alias}.user || '@' || {alias}.server" if {"user", "server"} <= columns else None
    if "raw_string" in columns:
        return f"COALESCE({alias}.raw_string, {joined})" if joined else f"{alias}.raw_string"
    return joined


def _new_schema_ok(schema: Schema) -> bool:
    return (
        usable(schema, "message", *MESSAGE_NEEDED)
        and usable(schema, "chat", "_id", "jid_row_id")
        and usable(schema, "jid", "_id")
        and _jid_expression(schema, "j") is not None
    )


def _columns(schema: Schema, table: str, alias: str, columns: dict[str, str]) -> list[str]:
    present = schema.get(table, frozenset())
    return [
        f"{alias}.{quoted(column)} AS {name}" if column in present else f"NULL AS {name}"
        for name, column in columns.items()
    ]


def _legacy_sql(schema: Schema) -> str:
    columns = ["m._id AS _id", *_columns(schema, "messages", "m", LEGACY_COLUMNS)]
    columns.append("NULL AS place")
    return f"SELECT {', '.join(columns)} FROM messages m ORDER BY m._id"  # noqa: S608


def _new_sql(schema: Schema) -> str:
    chat_jid = _jid_expression(schema, "cj")
    columns = ["m._id AS _id", f"{chat_jid} AS chat_jid"]
    columns += _columns(schema, "message", "m", MESSAGE_COLUMNS)
    joins = [
        "LEFT JOIN chat c ON c._id = m.chat_row_id",
        "LEFT JOIN jid cj ON cj._id = c.jid_row_id",
    ]
    if "sender_jid_row_id" in schema["message"]:
        columns.append(f"{_jid_expression(schema, 'sj')} AS author_jid")
        joins.append("LEFT JOIN jid sj ON sj._id = m.sender_jid_row_id")
    else:
        columns.append("NULL AS author_jid")
    media = usable(schema, "message_media", "message_row_id")
    columns += _columns(schema, "message_media" if media else "", "mm", MEDIA_COLUMNS)
    columns.append("NULL AS media_url")
    if media:
        joins.append("LEFT JOIN message_media mm ON mm.message_row_id = m._id")
    place = usable(schema, "message_location", "message_row_id")
    columns += _columns(schema, "message_location" if place else "", "ml", LOCATION_COLUMNS)
    if place:
        joins.append("LEFT JOIN message_location ml ON ml.message_row_id = m._id")
    selected, joined = ", ".join(columns), " ".join(joins)
    return f"SELECT {selected} FROM message m {joined} ORDER BY m._id"  # noqa: S608


def _new_subjects(schema: Schema) -> str | None:
    if "subject" not in schema["chat"]:
        return None
    jid = _jid_expression(schema, "cj")
    joined = "FROM chat c JOIN jid cj ON cj._id = c.jid_row_id"
    return f"SELECT {jid} AS jid, c.subject AS subject {joined}"


class _Messages:
    def __init__(self, db: sqlite3.Connection, schema: Schema, sink: Sink, comms: Comms) -> None:
        self.db = db
        self.schema = schema
        self.sink = sink
        self.comms = comms
        self.problems = Problems()
        self.placeholders = 0
        self._parties: dict[str, Party | None] = {}
        self._subjects: dict[str, str] = {}

    def party(self, jid: str | None) -> Party | None:
        if jid is None:
            return None
        if jid not in self._parties:
            self._parties[jid] = jid_account(self.comms, jid)
        return self._parties[jid]

    def read(self, sql: str, table: str, subjects: str | None) -> None:
        if subjects is not None:
            for row in rows(self.db, subjects, self.sink, "chat subjects"):
                jid, subject = text(row["jid"]), text(row["subject"])
                if jid and subject:
                    self._subjects[jid.strip()] = subject
        for row in rows(self.db, sql, self.sink, table):
            record = f"{table}/_id={row['_id']}"
            try:
                self._message(row, table, record)
            except ROW_ERRORS as err:
                self.problems.skip(table, record, err)

    def _message(self, row: sqlite3.Row, table: str, record: str) -> None:
        ident = integer(row["_id"])
        if ident is None:
            raise ValueError(f"_id {row['_id']!r} is not a number")
        chat = (text(row["chat_jid"]) or "").strip() or None
        body = text(row["body"]) or text(row["caption"])
        if chat in (None, PLACEHOLDER_JID) and body is None:
            self.placeholders += 1
            return
        in_group = chat is not None and _server(chat) in GROUP_SERVERS
        peer = None if chat is None or in_group else self.party(chat)
        from_me = flag(row["from_me"])
        sender: Party | None
        if from_me:
            sender, recipients, direction = self.comms.owner(), [peer], "outgoing"
        elif from_me is False:
            author = (text(row["author_jid"]) or "").strip() or None
            sender = self.party(author) if in_group else peer
            recipients, direction = [self.comms.owner()], "incoming"
        else:
            sender, recipients, direction = None, [], "unknown"
        moment = from_unix_ms(row["moment"])
        if moment is None and row["moment"] is not None:
            self.problems.bad_time(table)
        kind = integer(row["kind"])
        received = from_unix_ms(row["received"])
        status = integer(row["status"])
        attachment = text(row["media_name"]) or text(row["media_url"])
        flags: dict[str, Any] = {
            "kind": TYPES.get(kind, str(kind)) if kind is not None else None,
            "status": STATUS.get(status, str(status)) if status is not None else None,
            "message_id": text(row["key_id"]),
            "starred": flag(row["starred"]),
            "revoked": True if kind == REVOKED else None,
            "received_at": received.iso if received and not from_me else None,
            "media_type": text(row["media_mime"]),
            "media_size": integer(row["media_size"]),
        }
        subject = self._subjects.get(chat) if chat else None
        key = f"{table}/{ident}"
        self.comms.message(
            key,
            sender=sender,
            recipients=recipients,
            moment=moment,
            body=body,
            record=record,
            thread=f"{subject} ({chat})" if subject else chat,
            direction=direction,
            attachments=[attachment] if attachment else [],
            **flags,
        )
        latitude, longitude = row["latitude"], row["longitude"]
        located = isinstance(latitude, int | float) and isinstance(longitude, int | float)
        if located and (latitude, longitude) != (0, 0):  # 0, 0: no fix
            self.comms.location(
                f"location/{key}",
                latitude=float(latitude),
                longitude=float(longitude),
                moment=moment,
                record=record,
                name=text(row["place"]),
            )


class WhatsAppContactsReader(PhoneReader):
    """``wa.db``: WhatsApp's view of the address book, one ``wa_contacts`` row a JID."""

    name = "android-whatsapp-contacts"
    service = "whatsapp"

    @classmethod
    def recognises(cls, schema: Schema) -> bool:
        return "wa_contacts" in schema

    def read(self, db: sqlite3.Connection, schema: Schema, source: Source, sink: Sink) -> None:
        require(schema, "wa_contacts", "jid")
        comms = Comms(sink, source, self.service)
        problems = Problems()
        sql = select(schema, "wa_contacts", ("jid",), CONTACT_OPTIONAL) + " ORDER BY rowid"
        for row in rows(db, sql, sink, "wa_contacts"):
            jid = (text(row["jid"]) or "").strip()
            ident = integer(row["_id"])
            record = f"wa_contacts/_id={ident}" if ident is not None else f"wa_contacts/jid={jid}"
            try:
                _contact(comms, sink, row, jid, record)
            except ROW_ERRORS as err:
                problems.skip("wa_contacts", record, err)
        problems.report(sink)


def _contact(comms: Comms, sink: Sink, row: sqlite3.Row, jid: str, record: str) -> None:
    if not jid:
        raise ValueError("no jid")
    shown = text(row["display_name"])
    if _server(jid) in GROUP_SERVERS:
        sink.add_text(f"whatsapp group {shown or '(no name)'} ({jid})\n")
        return
    own_name = text(row["wa_name"])  # the name the person gave themselves on WhatsApp
    party = jid_account(comms, jid, own_name)
    number = text(row["number"])
    phones = [number.strip()] if number else []
    if not phones and party is not None and party.label.startswith("whatsapp:+"):
        phones = [party.label.removeprefix("whatsapp:")]  # the number the JID is made of
    comms.contact(
        f"wa_contacts/{jid}",
        name=shown or own_name,
        phones=phones,
        accounts=[party] if party else [],
        record=record,
        whatsapp_user=flag(row["is_whatsapp_user"]),
        about=text(row["status"]),
        whatsapp_name=own_name,
    )
