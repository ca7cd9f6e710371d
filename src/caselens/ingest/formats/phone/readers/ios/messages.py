"""Apple Messages: iOS ``sms.db`` and macOS ``chat.db`` (iMessage, SMS and RCS).

iOS 6 and later (and every macOS ``chat.db``) keep messages in ``message``, the other
parties in ``handle`` and conversations in ``chat``, joined by ``chat_message_join`` and
``chat_handle_join``. Dates count from 2001 in seconds, or in nanoseconds since iOS 11
and macOS High Sierra. iOS 5 and earlier (``msg_group``, no ``handle``) is recognised
and recorded as unsupported.
"""

from __future__ import annotations

import sqlite3
from typing import Any, ClassVar

from caselens.ingest.errors import UnsupportedVersion
from caselens.ingest.formats.phone.comms import Comms, Party, normalize_phone
from caselens.ingest.formats.phone.database import PhoneReader, Schema, has_columns
from caselens.ingest.formats.phone.readers.ios import messages_tables as tables
from caselens.ingest.formats.phone.readers.ios.sqlrows import (
    ROW_ERRORS,
    Skipped,
    apple_time,
    column,
    rows,
    text,
)
from caselens.ingest.formats.phone.readers.ios.typedstream import attributed_text
from caselens.ingest.formats.phone.readers.values import flag, integer
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

REQUIRED = ("text", "handle_id", "date", "is_from_me")
OBJECT_REPLACEMENT = "\ufffc"  # where an attachment sits in the text
MAX_GUIDS_KEPT = 10_000


class AppleMessagesReader(PhoneReader):
    name = "apple-messages"
    version = "1"
    service = "imessage"

    @classmethod
    def recognises(cls, schema: Schema) -> bool:
        return "message" in schema and ("chat_message_join" in schema or "msg_group" in schema)

    def read(self, db: sqlite3.Connection, schema: Schema, source: Source, sink: Sink) -> None:
        if "handle" not in schema:
            raise UnsupportedVersion("message table without handle table (iOS 5 or earlier)")
        missing = [name for name in REQUIRED if not has_columns(schema, "message", name)]
        if missing or not has_columns(schema, "handle", "id"):
            needed = ", ".join(missing or ["handle.id"])
            raise UnsupportedVersion(f"message or handle table lacks {needed}")
        _MessagesRun(db, schema, source, sink).run()


class _MessagesRun:
    """One database read: the side tables loaded once, then every message."""

    SERVICES: ClassVar[dict[str, str]] = {"imessage": "imessage", "sms": "sms", "rcs": "rcs"}

    def __init__(self, db: sqlite3.Connection, schema: Schema, source: Source, sink: Sink):
        self.db, self.source, self.sink = db, source, sink
        self.handles = tables.load_handles(db, sink)
        self.chats = tables.load_chats(db, schema, sink)
        self.chat_of = tables.message_chats(db, schema, sink)
        self.recoverable = tables.recoverable(db, schema, sink)
        self.attachments = tables.load_attachments(db, schema, sink)
        self.deleted = tables.deleted_guids(db, schema, sink)
        self.comms: dict[str, Comms] = {}
        self.parties: dict[tuple[str, int], Party | None] = {}
        self.owner_ids: set[str] = set()
        self.skipped = Skipped()
        self.counts = {"bad_date": 0, "no_body": 0, "decoded": 0, "differs": 0}
        self.guids_seen: set[str] = set()

    def run(self) -> None:
        query = "SELECT ROWID AS message_rowid, * FROM message ORDER BY ROWID"
        for row in rows(self.db, query, self.sink, "message"):
            try:
                self._message(row)
            except ROW_ERRORS as err:
                self.skipped.add("message", err)
        self.skipped.report(self.sink)
        self._report()

    # -- parties ---------------------------------------------------------------------

    def _service_comms(self, service: str | None) -> Comms:
        key = (service or "iMessage").strip().lower()
        name = self.SERVICES.get(key, key or "imessage")
        if name not in self.comms:
            self.comms[name] = Comms(self.sink, self.source, name)
        return self.comms[name]

    def _party(self, comms: Comms, handle_id: int | None) -> Party | None:
        handle = self.handles.get(handle_id) if handle_id else None
        if handle is None:
            return None
        key = (comms.service, handle.rowid)
        if key not in self.parties:
            self.parties[key] = self._handle_party(comms, handle)
        return self.parties[key]

    def _handle_party(self, comms: Comms, handle: tables.Handle) -> Party | None:
        if "@" in handle.identifier:
            return comms.account(handle.identifier, service=comms.service, email=handle.identifier)
        # The number as the device recorded it, in the country it recorded with it.
        region = handle.country.upper() if handle.country else self.source.region
        return comms.phone(normalize_phone(handle.identifier, region) or handle.identifier)

    def _name_owner(self, comms: Comms, row: sqlite3.Row) -> None:
        # "e:me@icloud.com" / "p:+447700900123": the device's own iMessage identity.
        for value in (column(row, "account"), column(row, "destination_caller_id")):
            identity = text(value)
            if identity and len(identity) > 2 and identity[1] == ":":
                identity = identity[2:]
            if identity and identity not in self.owner_ids:
                self.owner_ids.add(identity)
                comms.name_owner(identity)

    # -- messages --------------------------------------------------------------------

    def _message(self, row: sqlite3.Row) -> None:
        rowid = integer(row["message_rowid"])
        if rowid is None:
            raise ValueError("message without a ROWID")
        handle_id = integer(row["handle_id"])
        handle = self.handles.get(handle_id) if handle_id else None
        recovered = self.recoverable.get(rowid)
        chat_id = self.chat_of.get(rowid)
        if chat_id is None and recovered is not None:
            chat_id = recovered.chat_id
        chat = self.chats.get(chat_id) if chat_id is not None else None
        service = (
            (handle.service if handle else None)
            or text(column(row, "service"))
            or (chat.service if chat else None)
        )
        comms = self._service_comms(service)
        self._name_owner(comms, row)
        outgoing = flag(row["is_from_me"]) is True
        flags: dict[str, Any] = {"service": service, "guid": text(column(row, "guid"))}
        sender, recipients = self._parties(comms, handle_id, chat, outgoing, flags)
        body = self._body(row, flags)
        moment = apple_time(row["date"])
        if moment is None and integer(row["date"]):
            self.counts["bad_date"] += 1
            flags["raw_date"] = str(row["date"])
        self._flags(row, rowid, outgoing, recovered, chat, flags)
        attachments = self.attachments.get(rowid, [])
        paths = [item.path for item in attachments if item.path]
        comms.message(
            f"message/{rowid}",
            sender=sender,
            recipients=recipients,
            moment=moment,
            body=body,
            record=f"message/ROWID={rowid}",
            thread=(chat.name or chat.identifier) if chat else None,
            direction="outgoing" if outgoing else "incoming",
            attachments=[item.name for item in attachments],
            attachment_paths=paths or None,
            **flags,
        )

    def _parties(
        self,
        comms: Comms,
        handle_id: int | None,
        chat: tables.Chat | None,
        outgoing: bool,
        flags: dict[str, Any],
    ) -> tuple[Party | None, list[Party | None]]:
        members = [self._party(comms, member) for member in chat.handles] if chat else []
        other = self._party(comms, handle_id)
        if outgoing:
            return comms.owner(), [p for p in members if p] or [other]
        sender = other
        if sender is None and chat is not None and not chat.group and len(members) == 1:
            # A one-to-one conversation has one possible sender; say that it was inferred.
            sender = members[0]
            flags["sender_from_chat"] = True
        others = [p for p in members if p is not None and p != sender]
        return sender, [comms.owner(), *others]

    def _body(self, row: sqlite3.Row, flags: dict[str, Any]) -> str | None:
        raw = row["text"]
        body = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
        body = str(body).replace(OBJECT_REPLACEMENT, "") if body is not None else None
        blob = column(row, "attributedBody")
        archived = attributed_text(blob) if isinstance(blob, bytes) and blob else None
        if archived is not None:
            archived = archived.replace(OBJECT_REPLACEMENT, "")
        if body is None or not body.strip():
            if archived is not None and archived.strip():
                self.counts["decoded"] += 1
                flags["body_source"] = "attributedBody"
                return archived
            if isinstance(blob, bytes) and blob and archived is None:
                self.counts["no_body"] += 1
                flags["body_missing"] = True  # the text is in a form not read here
            return None
        if archived is not None and archived != body:
            # Both copies of the text should agree; a difference is worth an examiner's look.
            self.counts["differs"] += 1
            flags["attributed_body_text"] = archived
        return body

    def _flags(
        self,
        row: sqlite3.Row,
        rowid: int,
        outgoing: bool,
        recovered: tables.Recoverable | None,
        chat: tables.Chat | None,
        flags: dict[str, Any],
    ) -> None:
        if not outgoing:
            flags["read"] = flag(column(row, "is_read"))
        else:
            flags["delivered"] = flag(column(row, "is_delivered"))
        for name, column_name in (
            ("read_at", "date_read"),
            ("delivered_at", "date_delivered"),
            ("edited_at", "date_edited"),
            ("unsent_at", "date_retracted"),
        ):
            moment = apple_time(column(row, column_name))
            flags[name] = moment.iso if moment else None
        guid = flags.get("guid")
        if recovered is not None:
            flags["deleted"] = True
            flags["deleted_at"] = recovered.deleted_at.iso if recovered.deleted_at else None
        elif guid and guid in self.deleted:
            flags["deleted"] = True
        if guid:
            self.guids_seen.add(guid)
        if chat is not None:
            flags["chat"] = chat.identifier
            flags["group"] = chat.group
        flags["subject"] = text(column(row, "subject"))
        item_type = integer(column(row, "item_type"))
        if item_type:  # group renamed, member added or left...: not a typed message
            flags["item_type"] = item_type
            flags["group_title"] = text(column(row, "group_title"))

    def _report(self) -> None:
        counts = self.counts
        if counts["bad_date"]:
            self.sink.warn(f"message: {counts['bad_date']} dates out of range, left empty")
        if counts["decoded"]:
            self.sink.warn(f"message: {counts['decoded']} texts read from attributedBody")
        if counts["no_body"]:
            self.sink.warn(
                f"message: {counts['no_body']} texts only in an attributedBody that could "
                "not be read (marked body_missing)"
            )
        if counts["differs"]:
            self.sink.warn(
                f"message: {counts['differs']} texts differ from their attributedBody copy "
                "(kept as attributed_body_text)"
            )
        gone = self.deleted - self.guids_seen
        if gone:
            self.sink.warn(
                f"deleted_messages lists {len(gone)} messages no longer in the message "
                "table; only their GUIDs remain"
            )
            listed = sorted(gone)
            # The GUID is the same on every device of the conversation: worth keeping.
            self.sink.document_context["deleted_messages"] = len(listed)
            self.sink.document_context["deleted_message_guids"] = listed[:MAX_GUIDS_KEPT]
