"""Telegram Desktop's machine-readable export (``result.json``).

Two shapes: one chat ("Export chat history": ``name``, ``type``, ``id``, ``messages``),
or the whole account ("Export Telegram data": ``personal_information``, ``contacts``,
``frequent_contacts``, ``chats.list`` and ``left_chats.list``, each chat as above).
Messages name their sender (``from``, ``from_id`` such as ``user123``), their time in
seconds since 1970 (``date_unixtime``; older exports only ``date``, the computer's local
time) and their text as a string or a list of plain strings and entity objects. Media
are file paths relative to the export (``photo``, ``file``, ``thumbnail``). Service
messages record calls, members joining and leaving, and the like.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from typing import Any, ClassVar

from caselens.ingest.errors import BrokenFile, LimitReached, NotMyFormat
from caselens.ingest.formats.phone.comms import Comms, Party
from caselens.ingest.formats.phone.times import Moment, from_local, from_unix
from caselens.ingest.formats.textfile import GENERIC_TYPES
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.text.decode import decode_text

MAX_EXPORT_BYTES = 512 * 1024 * 1024  # a parsed JSON tree takes several times its size
CHAT_TYPES = frozenset(
    {
        "personal_chat",
        "bot_chat",
        "saved_messages",
        "private_group",
        "private_supergroup",
        "public_supergroup",
        "private_channel",
        "public_channel",
    }
)
_SINGLE_CHAT = re.compile(rb'"type"\s*:\s*"(?:' + b"|".join(t.encode() for t in CHAT_TYPES) + b')"')
_MESSAGES = re.compile(rb'"messages"\s*:\s*\[')
# A whole account's export: its sections are {"about": ..., "list": [...]}.
_ACCOUNT = re.compile(
    rb'"personal_information"\s*:\s*\{|'
    rb'"(?:frequent_contacts|left_chats|chats)"\s*:\s*\{\s*"(?:about|list)"'
)
MEDIA_FIELDS = ("photo", "file", "thumbnail", "contact_vcard")
CALL_DIRECTIONS = {"missed": "missed", "busy": "rejected"}


class TelegramExportIngestor(Ingestor):
    """A Telegram Desktop JSON export, recognised by its keys."""

    name = "telegram-export"
    version = "1"
    extensions: ClassVar[frozenset[str]] = frozenset({".json"})
    base_score = 15  # above plain JSON (12), only when the keys are Telegram's

    @classmethod
    def score(cls, source: Source) -> int:
        json_like = source.mime_type == "application/json" or source.mime_type in GENERIC_TYPES
        return cls.base_score if json_like and looks_like_export(source.head) else 0

    def ingest(self, source: Source, sink: Sink) -> None:
        if not looks_like_export(source.head):
            raise NotMyFormat
        if source.size > MAX_EXPORT_BYTES:
            raise LimitReached(
                f"Telegram export of {source.size} bytes is larger than "
                f"{MAX_EXPORT_BYTES // (1024 * 1024)} MiB"
            )
        decoded = decode_text(source.read_bytes())
        try:
            export = json.loads(decoded.text)
        except (RecursionError, ValueError) as err:
            sink.add_text(decoded.text)  # searchable all the same
            where = f" at line {err.lineno}" if isinstance(err, json.JSONDecodeError) else ""
            raise BrokenFile(f"Telegram export is not valid JSON{where}: {err}") from err
        if not isinstance(export, dict):
            raise NotMyFormat
        sink.set_document("Document", title="Telegram export")
        sink.add_property("generator", "Telegram Desktop")
        _Export(source, sink).read(export)


def looks_like_export(head: bytes) -> bool:
    """A JSON object with a Telegram chat's type and messages, or an account's sections."""
    start = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if not start.startswith(b"{"):
        return False
    single = _SINGLE_CHAT.search(head) is not None and _MESSAGES.search(head) is not None
    return single or _ACCOUNT.search(head) is not None


class _Export:
    def __init__(self, source: Source, sink: Sink) -> None:
        self.source = source
        self.sink = sink
        self.comms = Comms(sink, source, "telegram")
        self.owner_id: str | None = None
        self.skipped: list[str] = []
        self.local_times = 0
        self.parties: dict[tuple[str, str | None], Party | None] = {}

    def read(self, export: dict[str, Any]) -> None:
        self._owner(export.get("personal_information"))
        self._contacts(export.get("contacts"))
        self._frequent(export.get("frequent_contacts"))
        if "messages" in export:
            self._chat(export, "")
        for section in ("chats", "left_chats"):
            chats = _listed(export.get(section))
            for index, chat in enumerate(chats):
                if isinstance(chat, dict):
                    self._chat(chat, f"{section}.list[{index}].")
                else:
                    self.skipped.append(f"{section}.list[{index}]")
        if self.local_times:
            self.sink.warn(
                f"{self.local_times} times have no date_unixtime and were read as local "
                "times of the exporting computer (zone assumed)"
            )
        if self.skipped:
            shown = ", ".join(self.skipped[:10]) + (", ..." if len(self.skipped) > 10 else "")
            self.sink.warn(f"{len(self.skipped)} records could not be read: {shown}")

    def _owner(self, info: object) -> None:
        if not isinstance(info, dict):
            return
        user_id = _text(info.get("user_id"))
        name = _full_name(info)
        self.owner_id = f"user{user_id}" if user_id else None
        self.comms.account(self.owner_id, name=name, phone=_text(info.get("phone_number")) or None)
        self.comms.name_owner(_text(info.get("phone_number")) or self.owner_id, name)

    def _contacts(self, section: object) -> None:
        for index, contact in enumerate(_listed(section)):
            record = f"contacts.list[{index}]"
            if not isinstance(contact, dict):
                self.skipped.append(record)
                continue
            user_id = _text(contact.get("user_id"))
            phone = _text(contact.get("phone_number"))
            account = self.comms.account(f"user{user_id}", phone=phone) if user_id else None
            added = self._moment(contact, record)
            self.comms.contact(
                record,
                name=_full_name(contact),
                phones=[phone] if phone else [],
                accounts=[account] if account else [],
                record=record,
                added=added.iso if added else None,
            )

    def _frequent(self, section: object) -> None:
        for index, peer in enumerate(_listed(section)):
            record = f"frequent_contacts.list[{index}]"
            if not isinstance(peer, dict):
                self.skipped.append(record)
                continue
            kind, peer_id, name = (
                _text(peer.get("type")),
                _text(peer.get("id")),
                _text(peer.get("name")),
            )
            prefix = "user" if kind == "user" else "channel" if "channel" in kind else "chat"
            self.comms.account(f"{prefix}{peer_id}" if peer_id else None, name=name or None)
            rating = peer.get("rating")
            self.sink.add_text(f"frequent contact {name or peer_id} ({kind}), rating {rating}\n")

    def _chat(self, chat: dict[str, Any], path: str) -> None:
        kind = _text(chat.get("type"))
        title = _text(chat.get("name")) or None
        chat_id = _text(chat.get("id"))
        peer: Party | None = None
        if kind == "personal_chat" and chat_id:
            peer = self._party(f"user{chat_id}", title)
        messages = chat.get("messages")
        if not isinstance(messages, list):
            self.skipped.append(f"{path}messages")
            return
        for index, message in enumerate(messages):
            record = f"{path}messages[{index}]"
            if isinstance(message, dict):
                self._message(message, record, title, peer)
            else:
                self.skipped.append(record)

    def _message(
        self, message: dict[str, Any], record: str, thread: str | None, peer: Party | None
    ) -> None:
        key = f"{record}/id={_text(message.get('id'))}"
        service = message.get("type") == "service"
        sender_id = _text(message.get("actor_id" if service else "from_id"))
        sender_name = _text(message.get("actor" if service else "from")) or None
        sender = self._party(sender_id, sender_name)
        direction, recipients = self._direction(sender, sender_id, peer)
        moment = self._moment(message, record)
        if service and message.get("action") == "phone_call":
            reason = _text(message.get("discard_reason"))
            if direction == "incoming" and reason in CALL_DIRECTIONS:
                direction = CALL_DIRECTIONS[reason]
            duration = message.get("duration_seconds")
            self.comms.call(
                key,
                caller=sender,
                receiver=recipients[0] if recipients else None,
                moment=moment,
                duration=duration if isinstance(duration, int | float) else None,
                record=record,
                direction=direction,
                discard_reason=reason or None,
            )
            return
        body = _flatten_text(message.get("text"))
        if service:
            action = _text(message.get("action"))
            body = " ".join(part for part in (action, body) if part)
        self.comms.message(
            key,
            sender=sender,
            recipients=recipients,
            moment=moment,
            body=body,
            record=record,
            thread=thread,
            direction=direction,
            attachments=[_text(message[f]) for f in MEDIA_FIELDS if message.get(f)],
            system=True if service else None,
            forwarded_from=_text(message.get("forwarded_from")) or None,
            reply_to=message.get("reply_to_message_id"),
            edited=True if message.get("edited") else None,
            media_type=_text(message.get("media_type")) or None,
        )

    def _direction(
        self, sender: Party | None, sender_id: str, peer: Party | None
    ) -> tuple[str | None, list[Party]]:
        """Direction and recipients, where the chat or the export says who the owner is."""
        if peer is not None and sender is not None:
            if sender.entity_id == peer.entity_id:
                return "incoming", [self._me()]
            return "outgoing", [peer]
        if self.owner_id and sender_id:
            return ("outgoing" if sender_id == self.owner_id else "incoming"), []
        return None, []

    def _party(self, identifier: str, name: str | None) -> Party | None:
        """An account, emitted once per name it is shown with (not once per message)."""
        if not identifier:
            return None
        key = (identifier, name)
        if key not in self.parties:
            self.parties[key] = self.comms.account(identifier, name=name)
        return self.parties[key]

    def _me(self) -> Party:
        if self.owner_id:
            party = self.comms.account(self.owner_id)
            if party is not None:
                return party
        return self.comms.owner()

    def _moment(self, value: dict[str, Any], record: str) -> Moment | None:
        if value.get("date_unixtime") is not None:
            moment = from_unix(_text(value.get("date_unixtime")))
            if moment is None:
                self.skipped.append(f"{record}.date_unixtime")
            return moment
        written = _text(value.get("date"))
        if not written:
            return None
        try:
            naive = datetime.fromisoformat(written)
        except ValueError:
            self.skipped.append(f"{record}.date")
            return None
        if naive.tzinfo is None:
            self.local_times += 1
        return from_local(naive, self.source.timezone)


def _listed(section: object) -> list[Any]:
    """The ``list`` of an export section (``{"about": ..., "list": [...]}``)."""
    if isinstance(section, dict) and isinstance(section.get("list"), list):
        return list(section["list"])
    return []


def _text(value: object) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    return str(value).strip()


def _full_name(record: dict[str, Any]) -> str | None:
    parts = (_text(record.get("first_name")), _text(record.get("last_name")))
    return " ".join(part for part in parts if part) or None


def _flatten_text(text: object) -> str:
    """A message's text: a string, or a list of strings and entities with their own text."""
    if isinstance(text, str):
        return text
    if not isinstance(text, list):
        return ""
    pieces = []
    for piece in text:
        if isinstance(piece, str):
            pieces.append(piece)
        elif isinstance(piece, dict):
            inner = piece.get("text")
            pieces.append(inner if isinstance(inner, str) else "")
    return "".join(pieces)
