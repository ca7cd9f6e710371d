"""The tables around Apple Messages' ``message`` table: handles, chats and their members,
attachments, and what the database says was deleted."""

from __future__ import annotations

import posixpath
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field

from caselens.ingest.formats.phone.database import Schema, has_columns
from caselens.ingest.formats.phone.readers.ios.sqlrows import apple_time, column, rows, text
from caselens.ingest.formats.phone.readers.values import integer
from caselens.ingest.formats.phone.times import Moment
from caselens.ingest.sink import Sink

GROUP_STYLE = 43  # chat.style: 43 a group conversation, 45 one other person


@dataclass(frozen=True, slots=True)
class Handle:
    """Someone the device messaged with: a phone number or an Apple ID e-mail address."""

    rowid: int
    identifier: str
    service: str | None  # "iMessage", "SMS", "RCS"
    country: str | None  # ISO code the device recorded with the number ("gb")


@dataclass(slots=True)
class Chat:
    rowid: int
    identifier: str | None  # "+447700900123", "chat123456789" for groups
    name: str | None  # the name a user gave a group
    service: str | None
    style: int | None
    handles: list[int] = field(default_factory=list)

    @property
    def group(self) -> bool:
        if self.style is not None:
            return self.style == GROUP_STYLE
        return len(self.handles) > 1


@dataclass(frozen=True, slots=True)
class Attachment:
    name: str  # the file name the sender gave it
    path: str | None  # where the device kept it


@dataclass(frozen=True, slots=True)
class Recoverable:
    """A message in "Recently Deleted" (iOS 16 and later): deleted, not yet purged."""

    chat_id: int
    deleted_at: Moment | None


def load_handles(db: sqlite3.Connection, sink: Sink) -> dict[int, Handle]:
    found: dict[int, Handle] = {}
    for row in rows(db, "SELECT ROWID AS handle_rowid, * FROM handle", sink, "handle"):
        rowid = integer(row["handle_rowid"])
        identifier = text(column(row, "id"))
        if rowid is None or identifier is None:
            continue
        country = text(column(row, "country"))
        found[rowid] = Handle(rowid, identifier, text(column(row, "service")), country)
    return found


def load_chats(db: sqlite3.Connection, schema: Schema, sink: Sink) -> dict[int, Chat]:
    if "chat" not in schema:
        return {}
    chats: dict[int, Chat] = {}
    for row in rows(db, "SELECT ROWID AS chat_rowid, * FROM chat", sink, "chat", required=False):
        rowid = integer(row["chat_rowid"])
        if rowid is None:
            continue
        chats[rowid] = Chat(
            rowid,
            identifier=text(column(row, "chat_identifier")),
            name=text(column(row, "display_name")),
            service=text(column(row, "service_name")),
            style=integer(column(row, "style")),
        )
    if has_columns(schema, "chat_handle_join", "chat_id", "handle_id"):
        query = "SELECT chat_id, handle_id FROM chat_handle_join ORDER BY chat_id, handle_id"
        for row in rows(db, query, sink, "chat_handle_join", required=False):
            chat = chats.get(integer(row["chat_id"]) or -1)
            handle_id = integer(row["handle_id"])
            if chat is not None and handle_id is not None:
                chat.handles.append(handle_id)
    return chats


def message_chats(db: sqlite3.Connection, schema: Schema, sink: Sink) -> dict[int, int]:
    """The chat of each message (the first, when a message was filed in several)."""
    found: dict[int, int] = {}
    if not has_columns(schema, "chat_message_join", "chat_id", "message_id"):
        return found
    query = "SELECT chat_id, message_id FROM chat_message_join ORDER BY message_id, chat_id"
    for row in rows(db, query, sink, "chat_message_join", required=False):
        message_id, chat_id = integer(row["message_id"]), integer(row["chat_id"])
        if message_id is not None and chat_id is not None:
            found.setdefault(message_id, chat_id)
    return found


def recoverable(db: sqlite3.Connection, schema: Schema, sink: Sink) -> dict[int, Recoverable]:
    found: dict[int, Recoverable] = {}
    table = "chat_recoverable_message_join"
    if not has_columns(schema, table, "chat_id", "message_id"):
        return found
    query = f"SELECT * FROM {table} ORDER BY message_id, chat_id"  # noqa: S608 (a constant)
    for row in rows(db, query, sink, table, required=False):
        message_id, chat_id = integer(row["message_id"]), integer(row["chat_id"])
        if message_id is not None and chat_id is not None and message_id not in found:
            found[message_id] = Recoverable(chat_id, apple_time(column(row, "delete_date")))
    return found


def load_attachments(
    db: sqlite3.Connection, schema: Schema, sink: Sink
) -> dict[int, list[Attachment]]:
    found: dict[int, list[Attachment]] = defaultdict(list)
    if not (
        has_columns(schema, "message_attachment_join", "message_id", "attachment_id")
        and "attachment" in schema
    ):
        return found
    query = (
        "SELECT j.message_id AS message_id, a.* FROM message_attachment_join AS j"
        " JOIN attachment AS a ON a.ROWID = j.attachment_id ORDER BY j.message_id, a.ROWID"
    )
    for row in rows(db, query, sink, "attachment", required=False):
        message_id = integer(row["message_id"])
        path = text(column(row, "filename"))
        name = text(column(row, "transfer_name")) or (posixpath.basename(path) if path else None)
        if message_id is not None and name:
            found[message_id].append(Attachment(name, path))
    return found


def deleted_guids(db: sqlite3.Connection, schema: Schema, sink: Sink) -> set[str]:
    """GUIDs in ``deleted_messages``: messages deleted on the device, kept for syncing."""
    if not has_columns(schema, "deleted_messages", "guid"):
        return set()
    query = "SELECT guid FROM deleted_messages"
    return {
        guid
        for row in rows(db, query, sink, "deleted_messages", required=False)
        if (guid := text(row["guid"]))
    }
