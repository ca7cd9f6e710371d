"""WhatsApp for iOS: ``ChatStorage.sqlite``.

A Core Data store: messages in ``ZWAMESSAGE`` (dated in seconds from 2001), chats in
``ZWACHATSESSION``, group members in ``ZWAGROUPMEMBER`` and media in ``ZWAMEDIAITEM``.
Parties are JIDs: ``447700900123@s.whatsapp.net`` is the account of +447700900123,
``…@g.us`` a group. In a group the sender of an incoming message is its group member.
"""

from __future__ import annotations

import posixpath
import sqlite3
from dataclasses import dataclass
from typing import Any

from caselens.ingest.errors import UnsupportedVersion
from caselens.ingest.formats.phone.comms import Comms, Party, normalize_phone
from caselens.ingest.formats.phone.database import PhoneReader, Schema, has_columns
from caselens.ingest.formats.phone.readers.ios import whatsapp_tables as tables
from caselens.ingest.formats.phone.readers.ios.sqlrows import (
    ROW_ERRORS,
    Skipped,
    apple_time,
    column,
    rows,
    text,
)
from caselens.ingest.formats.phone.readers.values import flag, integer
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

REQUIRED = ("ZISFROMME", "ZFROMJID", "ZTOJID", "ZTEXT", "ZMESSAGEDATE", "ZCHATSESSION")
PERSONAL_DOMAINS = ("s.whatsapp.net", "c.us")
LOCATION_TYPE = 5
# ZMESSAGETYPE values whose meaning public analyses of the app agree on.
MESSAGE_TYPES = {
    0: "text",
    1: "image",
    2: "video",
    3: "audio",
    4: "contact",
    5: "location",
    6: "group event",
    7: "link",
    8: "document",
    10: "system event",
    11: "gif",
    14: "deleted by sender",
    15: "sticker",
}
# ZMESSAGESTATUS of an outgoing message.
OUTGOING_STATUS = {1: "sent", 6: "delivered", 8: "read"}


class WhatsAppIosReader(PhoneReader):
    name = "ios-whatsapp"
    version = "1"
    service = "whatsapp"

    @classmethod
    def recognises(cls, schema: Schema) -> bool:
        return "zwamessage" in schema and "zwachatsession" in schema

    def read(self, db: sqlite3.Connection, schema: Schema, source: Source, sink: Sink) -> None:
        missing = [name for name in REQUIRED if not has_columns(schema, "ZWAMESSAGE", name)]
        if not has_columns(schema, "ZWACHATSESSION", "ZCONTACTJID"):
            missing.append("ZWACHATSESSION.ZCONTACTJID")
        if missing:
            raise UnsupportedVersion(f"ZWAMESSAGE or ZWACHATSESSION lacks {', '.join(missing)}")
        _WhatsAppRun(db, schema, source, sink).run()


@dataclass(frozen=True, slots=True)
class _Parties:
    sender: Party | None
    recipients: list[Party | None]


class _WhatsAppRun:
    def __init__(self, db: sqlite3.Connection, schema: Schema, source: Source, sink: Sink):
        self.db, self.sink = db, sink
        self.comms = Comms(sink, source, "whatsapp")
        self.sessions = tables.load_sessions(db, sink)
        self.members = tables.load_members(db, schema, sink)
        self.media = tables.load_media(db, schema, sink)
        self.skipped = Skipped()
        self.bad_dates = 0

    def run(self) -> None:
        query = "SELECT Z_PK AS message_pk, * FROM ZWAMESSAGE ORDER BY Z_PK"
        for row in rows(self.db, query, self.sink, "ZWAMESSAGE"):
            try:
                self._message(row)
            except ROW_ERRORS as err:
                self.skipped.add("ZWAMESSAGE", err)
        self.skipped.report(self.sink)
        if self.bad_dates:
            self.sink.warn(f"ZWAMESSAGE: {self.bad_dates} dates out of range, left empty")

    def party(self, jid: str | None, name: str | None = None) -> Party | None:
        """The account of a JID: its phone number for a person's JID, the JID otherwise."""
        if not jid:
            return None
        user, _, domain = jid.partition("@")
        phone = normalize_phone("+" + user, None) if domain in PERSONAL_DOMAINS else None
        if phone is not None:
            return self.comms.account(phone, name=name, phone=phone)
        return self.comms.account(jid, name=name)

    def _message(self, row: sqlite3.Row) -> None:
        pk = integer(row["message_pk"])
        if pk is None:
            raise ValueError("message without a Z_PK")
        session = self.sessions.get(integer(row["ZCHATSESSION"]) or -1)
        outgoing = flag(row["ZISFROMME"]) is True
        parties = self._parties(row, session, outgoing)
        kind = integer(column(row, "ZMESSAGETYPE"))
        media = self.media.for_message(pk, integer(column(row, "ZMEDIAITEM")))
        moment = apple_time(row["ZMESSAGEDATE"])
        flags: dict[str, Any] = {
            "type": MESSAGE_TYPES.get(kind, f"type {kind}") if kind is not None else None,
            "starred": flag(column(row, "ZSTARRED")) or None,
            "stanza_id": text(column(row, "ZSTANZAID")),
            "push_name": text(column(row, "ZPUSHNAME")),
            "chat": session.jid if session else None,
            "group": session.group if session else None,
        }
        if outgoing:
            status = integer(column(row, "ZMESSAGESTATUS"))
            flags["status"] = OUTGOING_STATUS.get(status or -1)
        if moment is None and integer(row["ZMESSAGEDATE"]):
            self.bad_dates += 1
            flags["raw_date"] = str(row["ZMESSAGEDATE"])
        sent = apple_time(column(row, "ZSENTDATE"))
        flags["sent_at"] = sent.iso if sent else None
        attachments: list[str] = []
        if media is not None and media.path:
            attachments.append(posixpath.basename(media.path))
            flags["attachment_paths"] = [media.path]
        if media is not None:
            flags["media_url"] = media.url
            flags["caption"] = media.title
        record = f"ZWAMESSAGE/Z_PK={pk}"
        self.comms.message(
            f"ZWAMESSAGE/{pk}",
            sender=parties.sender,
            recipients=parties.recipients,
            moment=moment,
            body=_body(row["ZTEXT"]),
            record=record,
            thread=(session.name or session.jid) if session else None,
            direction="outgoing" if outgoing else "incoming",
            attachments=attachments,
            **flags,
        )
        if kind == LOCATION_TYPE and media is not None and media.position is not None:
            latitude, longitude = media.position
            self.comms.location(
                f"ZWAMESSAGE/{pk}",
                latitude=latitude,
                longitude=longitude,
                moment=moment,
                record=record,
                name=media.title,
            )

    def _parties(
        self, row: sqlite3.Row, session: tables.Session | None, outgoing: bool
    ) -> _Parties:
        if session is not None and session.group:
            members = self.members.get(session.pk, {})
            if outgoing:
                listed = [self.party(jid, name) for jid, name in members.values()]
                return _Parties(self.comms.owner(), listed)
            member = members.get(integer(column(row, "ZGROUPMEMBER")) or -1)
            sender = self.party(*member) if member else None
            return _Parties(sender, [self.comms.owner()])
        jid = text(row["ZTOJID" if outgoing else "ZFROMJID"]) or (session.jid if session else None)
        # The chat's partner name belongs to the chat's JID only.
        name = session.name if session is not None and session.jid == jid else None
        if outgoing:
            return _Parties(self.comms.owner(), [self.party(jid, name)])
        return _Parties(self.party(jid, name), [self.comms.owner()])


def _body(value: object) -> str | None:
    """The text exactly as typed (bytes decoded leniently); None when there is none."""
    if value is None:
        return None
    body = value.decode("utf-8", errors="replace") if isinstance(value, bytes) else str(value)
    return body if body.strip() else None
