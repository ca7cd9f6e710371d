"""Cellebrite UFED XML reports (``report.xml``, alone or inside a ``.ufdr`` zip).

Written from the report's published layout (namespace
``http://pa.cellebrite.com/report/2.0``) and tested on constructed samples only, never
on a report made by Cellebrite's software:

    <project name=... reportVersion=...>
      <decodedData>
        <modelType type="Call">
          <model type="Call" id=... deleted_state="Intact|Deleted|Trash|Unknown">
            <field name="TimeStamp"><value type="TimeStamp">2023-12-31T21:41:05+01:00</value>
            <multiModelField name="Parties"><model type="Party">...</model></multiModelField>
            <modelField name="From"><model type="Party">...</model></modelField>

Contacts, calls, SMS and MMS, instant messages (alone or in chats), locations and user
accounts are read; other model types are counted in a warning. The XML is streamed
(a chat's messages are written and freed one by one), without entity expansion, DTD
loading or network access; a report that declares entities is refused outright.
Media files inside a ``.ufdr`` are not unpacked here: only ``report.xml`` is read.
"""

from __future__ import annotations

import contextlib
import re
import zipfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import IO, Any, ClassVar

from lxml import etree  # type: ignore[import-untyped]

from caselens.ingest.errors import BrokenFile, EncryptedFile, LimitReached, NotMyFormat
from caselens.ingest.formats.archives_zip import ZIP_OPEN_ERRORS, ZIP_READ_ERRORS
from caselens.ingest.formats.phone.comms import Comms, Party, normalize_phone
from caselens.ingest.formats.phone.times import Moment, from_aware, from_local
from caselens.ingest.formats.textfile import GENERIC_TYPES
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

_REPORT_HEAD = re.compile(rb"<project\b[^>]*>", re.S)
_UFED_MARKS = (b"pa.cellebrite.com/report", b"<decodedData")
NATIVE_SOURCES = frozenset({"", "native", "phone", "sim", "android", "ios", "device"})
DIRECTIONS = {"incoming": "incoming", "outgoing": "outgoing", "missed": "missed"}
DIRECTIONS |= {"rejected": "rejected", "declined": "rejected", "blocked": "blocked"}
_TIMESPAN = re.compile(r"(?:(\d+)\.)?(\d+):(\d{2}):(\d{2})(?:\.\d+)?")
MEMBER_CHUNK = 1 << 16
MEMBER_ERRORS: tuple[type[BaseException], ...] = (*ZIP_READ_ERRORS, NotImplementedError)


@dataclass
class _Model:
    """One ``<model>``: its first value per field, and the models of its model fields."""

    type: str
    id: str
    deleted_state: str
    fields: dict[str, str] = field(default_factory=dict)
    models: dict[str, list[_Model]] = field(default_factory=dict)

    def first(self, name: str) -> _Model | None:
        found = self.models.get(name)
        return found[0] if found else None


class UfedReportIngestor(Ingestor):
    """A UFED report: ``report.xml`` by its root element, a ``.ufdr`` by name and zip."""

    name = "ufed-report"
    version = "1"
    extensions: ClassVar[frozenset[str]] = frozenset({".ufdr", ".xml"})
    base_score = 15  # above XML (12) and zip (12), only when the content is a report

    @classmethod
    def score(cls, source: Source) -> int:
        if source.head.startswith(b"PK\x03\x04") and source.extension == ".ufdr":
            return cls.base_score
        xml_like = source.mime_type in {"text/xml", "application/xml", *GENERIC_TYPES}
        return cls.base_score if xml_like and looks_like_report(source.head) else 0

    def ingest(self, source: Source, sink: Sink) -> None:
        if source.head.startswith(b"PK\x03\x04"):
            with _report_member(source, sink) as stream:
                _Report(source, sink).read(stream)
        elif looks_like_report(source.head):
            with source.open() as handle:
                _Report(source, sink).read(handle)
        else:
            raise NotMyFormat


def looks_like_report(head: bytes) -> bool:
    """The root is a ``<project>`` in Cellebrite's namespace, or with decoded data."""
    found = _REPORT_HEAD.search(head[:8192])
    return found is not None and any(mark in head for mark in _UFED_MARKS)


@contextlib.contextmanager
def _report_member(source: Source, sink: Sink) -> Iterator[_Metered]:
    """The ``report.xml`` of a ``.ufdr`` (that member only), read through the item's limits."""
    with source.open() as handle:
        try:
            archive = zipfile.ZipFile(handle)
        except ZIP_OPEN_ERRORS as err:
            raise NotMyFormat from err  # the zip ingestor salvages what it can
        with archive:
            members = [i for i in archive.infolist() if _basename(i) == "report.xml"]
            if not members:
                raise NotMyFormat
            member = min(members, key=lambda i: i.filename.count("/"))  # the one at the root
            if member.flag_bits & 0x1:
                raise EncryptedFile("report.xml inside the .ufdr is encrypted")
            problem = source.limits.expansion_problem(member.file_size, source.size)
            if problem:
                raise LimitReached(f"report.xml inside the .ufdr: {problem}")
            try:
                stream = archive.open(member)
            except MEMBER_ERRORS as err:
                raise BrokenFile(f"report.xml inside the .ufdr cannot be read: {err}") from err
            with stream:
                yield _Metered(stream, sink)


def _basename(info: zipfile.ZipInfo) -> str:
    return info.filename.replace("\\", "/").rpartition("/")[2].lower()


class _Metered:
    """A member stream that counts what it expands against the item's limits."""

    def __init__(self, inner: IO[bytes], sink: Sink) -> None:
        self.inner = inner
        self.sink = sink

    def read(self, size: int = MEMBER_CHUNK) -> bytes:
        try:
            data = self.inner.read(size)
        except ZIP_READ_ERRORS as err:
            raise BrokenFile(f"report.xml inside the .ufdr is damaged: {err}") from err
        self.sink.count_expanded(len(data))
        return data


def _local(tag: object) -> str:
    return tag.rpartition("}")[2] if isinstance(tag, str) else ""


def _parse_model(element: Any) -> _Model:
    model = _Model(
        _local(element.get("type")) or "",
        element.get("id") or "",
        element.get("deleted_state") or "",
    )
    for child in element:
        kind = _local(child.tag)
        name = child.get("name") or ""
        if kind == "field":
            value = next((v for v in child if _local(v.tag) == "value"), None)
            text = (value.text or "") if value is not None else ""
            model.fields.setdefault(name, text.strip())
        elif kind in ("multiModelField", "modelField"):
            inner = [_parse_model(m) for m in child if _local(m.tag) == "model"]
            model.models.setdefault(name, []).extend(inner)
    return model


class _Report:
    def __init__(self, source: Source, sink: Sink) -> None:
        self.source = source
        self.sink = sink
        self.writers: dict[str, Comms] = {}
        self.parties: dict[tuple[str, str, str], Party | None] = {}
        self.read_models = 0
        self.not_read: Counter[str] = Counter()
        self.bad_times = 0
        self.chat: tuple[Any, _Model] | None = None

    def read(self, stream: Any) -> None:
        events = etree.iterparse(
            stream,
            events=("start", "end"),
            resolve_entities=False,
            no_network=True,
            load_dtd=False,
            huge_tree=False,
        )
        try:
            for element in self._ends(events):
                self._handle(element)
        except etree.XMLSyntaxError as err:
            if not self.read_models:
                raise BrokenFile(f"report.xml is not well-formed: {err}") from err
            self.sink.warn(
                f"report.xml is not well-formed ({err}): the {self.read_models} records "
                "before that point were read"
            )
        self._summary()

    def _ends(self, events: Any) -> Iterator[Any]:
        started = False
        for event, element in events:
            if event == "end":
                yield element
            elif not started:
                started = True
                self._check_root(element)

    def _check_root(self, root: Any) -> None:
        dtd = root.getroottree().docinfo.internalDTD
        if dtd is not None and any(True for _ in dtd.iterentities()):
            raise BrokenFile("report.xml declares XML entities: refused (an entity bomb?)")
        if _local(root.tag) != "project":
            raise NotMyFormat
        self.sink.set_document("Document", title=root.get("name") or "UFED report")
        version = root.get("reportVersion")
        self.sink.add_property("generator", f"Cellebrite UFED report {version or ''}".strip())

    def _handle(self, element: Any) -> None:
        parent = element.getparent()
        if parent is None:
            return
        kind, parent_kind = _local(element.tag), _local(parent.tag)
        grandparent = parent.getparent()
        if kind == "model" and parent_kind == "modelType":
            self._top(_parse_model(element))
        elif kind == "model" and parent_kind == "multiModelField":
            if parent.get("name") != "Messages" or _local(grandparent.get("type")) != "Chat":
                return  # kept: read with the model it belongs to
            self._chat_message(_parse_model(element), grandparent)
        elif grandparent is not None and (
            grandparent.getparent() is not None or parent_kind == "decodedData"
        ):
            return  # part of something still being read
        # Done with it: free the memory (tagged files, metadata, models alike).
        element.clear()
        parent.remove(element)

    # -- one model of each type ------------------------------------------------------

    def _top(self, model: _Model) -> None:
        self.read_models += 1
        record = f"{model.type}/id={model.id}"
        if model.type == "Contact":
            self._contact(model, record)
        elif model.type == "Call":
            self._call(model, record)
        elif model.type in ("SMS", "MMS"):
            self._sms(model, record)
        elif model.type == "InstantMessage":
            self._instant(model, record, None)
        elif model.type == "Location":
            self._location(model, record)
        elif model.type == "UserAccount":
            self._account(model, record)
        elif model.type != "Chat":  # a chat's messages were read as they came
            self.read_models -= 1
            self.not_read[model.type or "(no type)"] += 1

    def _chat_message(self, message: _Model, chat_element: Any) -> None:
        if self.chat is None or self.chat[0] is not chat_element:
            self.chat = (chat_element, _parse_model(chat_element))
        chat = self.chat[1]
        self.read_models += 1
        thread = chat.fields.get("Name") or chat.fields.get("Id") or None
        if not message.fields.get("Source"):
            message.fields["Source"] = chat.fields.get("Source", "")
        if "To" not in message.models:
            message.models["To"] = [
                party
                for party in chat.models.get("Participants", [])
                if party.fields.get("Identifier") != _identifier(message.first("From"))
            ]
        self._instant(message, f"Chat/id={chat.id}/InstantMessage/id={message.id}", thread)

    def _contact(self, model: _Model, record: str) -> None:
        comms = self._comms(model, "phone")
        phones, emails, accounts = [], [], []
        for entry in model.models.get("Entries", []):
            value = entry.fields.get("Value", "")
            if not value:
                continue
            if entry.type == "PhoneNumber":
                phones.append(value)
            elif entry.type == "EmailAddress":
                emails.append(value)
            elif (account := comms.account(value)) is not None:
                accounts.append(account)
        comms.contact(
            record,
            name=model.fields.get("Name") or None,
            phones=phones,
            emails=emails,
            accounts=accounts,
            record=record,
            **_deleted(model),
        )

    def _call(self, model: _Model, record: str) -> None:
        comms = self._comms(model, "phone")
        direction = _direction(model.fields.get("Direction") or model.fields.get("Type"))
        status = _direction(model.fields.get("Status"))
        if direction == "incoming" and status in ("missed", "rejected"):
            direction = status
        caller, receivers = self._roles(comms, model.models.get("Parties", []), direction)
        comms.call(
            record,
            caller=caller,
            receiver=receivers[0] if receivers else None,
            moment=self._moment(model.fields.get("TimeStamp")),
            duration=_seconds(model.fields.get("Duration")),
            record=record,
            direction=direction,
            video=_boolean(model.fields.get("VideoCall")),
            **_deleted(model),
        )

    def _sms(self, model: _Model, record: str) -> None:
        comms = self._comms(model, "sms")
        folder = model.fields.get("Folder", "")
        direction = {"inbox": "incoming", "sent": "outgoing", "outbox": "outgoing"}.get(
            folder.lower()
        )
        sender, recipients = self._roles(comms, model.models.get("Parties", []), direction)
        status = model.fields.get("Status", "")
        comms.message(
            record,
            sender=sender,
            recipients=recipients,
            moment=self._moment(model.fields.get("TimeStamp")),
            body=model.fields.get("Body"),
            record=record,
            direction=direction,
            read={"read": True, "unread": False}.get(status.lower()),
            status=status or None,
            folder=folder or None,
            **_deleted(model),
        )

    def _instant(self, model: _Model, record: str, thread: str | None) -> None:
        comms = self._comms(model, "chat")
        sender_model = model.first("From")
        sender = self._party(comms, sender_model) if sender_model else None
        recipients = [self._party(comms, m) for m in model.models.get("To", [])]
        direction = None
        if sender_model is not None:
            owner = _boolean(sender_model.fields.get("IsPhoneOwner"))
            direction = None if owner is None else "outgoing" if owner else "incoming"
        attachments = [
            a.fields.get("Filename") or a.fields.get("URL") or a.id
            for a in model.models.get("Attachments", [])
        ]
        status = model.fields.get("Status", "")
        comms.message(
            record,
            sender=sender,
            recipients=recipients,
            moment=self._moment(model.fields.get("TimeStamp")),
            body=model.fields.get("Body"),
            record=record,
            thread=thread,
            direction=direction,
            attachments=[name for name in attachments if name],
            read={"read": True, "unread": False}.get(status.lower()),
            status=status or None,
            **_deleted(model),
        )

    def _location(self, model: _Model, record: str) -> None:
        position = model.first("Position")
        if position is None:
            self.sink.warn(f"{record}: a location without a position")
            return
        try:
            latitude = float(position.fields.get("Latitude", ""))
            longitude = float(position.fields.get("Longitude", ""))
        except ValueError:
            self.sink.warn(f"{record}: the position is not a pair of numbers")
            return
        self._comms(model, "location").location(
            record,
            latitude=latitude,
            longitude=longitude,
            moment=self._moment(model.fields.get("TimeStamp")),
            record=record,
            name=model.fields.get("Name") or model.fields.get("Description") or None,
            elevation=position.fields.get("Elevation") or None,
            **_deleted(model),
        )

    def _account(self, model: _Model, record: str) -> None:
        comms = self._comms(model, "account")
        values: dict[str, str] = {}
        for entry in model.models.get("Entries", []):
            values.setdefault(entry.type, entry.fields.get("Value", ""))
        identifier = (
            model.fields.get("Username") or values.get("UserID") or values.get("EmailAddress")
        )
        identifier = identifier or values.get("PhoneNumber")
        if not identifier:
            self.sink.warn(f"{record}: a user account without an identifier")
            return
        service = model.fields.get("ServiceType") or comms.service
        comms.account(
            identifier,
            name=model.fields.get("Name") or None,
            service=service.lower(),
            phone=values.get("PhoneNumber") or None,
            email=values.get("EmailAddress") or None,
        )
        comms.name_owner(identifier)  # the report's accounts are the device user's own

    # -- parties, times, flags --------------------------------------------------------

    def _comms(self, model: _Model, default: str) -> Comms:
        source = model.fields.get("Source", "").strip()
        service = default if source.lower() in NATIVE_SOURCES else source.lower()
        if service not in self.writers:
            self.writers[service] = Comms(self.sink, self.source, service)
        return self.writers[service]

    def _party(self, comms: Comms, model: _Model) -> Party | None:
        identifier = model.fields.get("Identifier", "")
        name = model.fields.get("Name", "")
        if not identifier:
            is_owner = _boolean(model.fields.get("IsPhoneOwner"))
            return comms.owner() if is_owner else None
        key = (comms.service, identifier, name)
        if key not in self.parties:
            local, at, domain = identifier.partition("@")
            if at and domain == "s.whatsapp.net":
                party = comms.account(identifier, name=name or None, phone=f"+{local}")
            elif normalize_phone(identifier, self.source.region):
                party = comms.phone(identifier, name or None)
            else:
                party = comms.account(identifier, name=name or None)
            self.parties[key] = party
        return self.parties[key]

    def _roles(
        self, comms: Comms, parties: list[_Model], direction: str | None
    ) -> tuple[Party | None, list[Party | None]]:
        """(sender, receivers) by the parties' roles; the device's user for a missing side."""
        sender = next(
            (self._party(comms, p) for p in parties if p.fields.get("Role") == "From"), None
        )
        receivers = [self._party(comms, p) for p in parties if p.fields.get("Role") == "To"]
        if sender is None and direction == "outgoing":
            sender = comms.owner()
        if not receivers and direction in ("incoming", "missed", "rejected", "blocked"):
            receivers = [comms.owner()]
        return sender, receivers

    def _moment(self, value: str | None) -> Moment | None:
        if not value:
            return None
        try:
            written = datetime.fromisoformat(value)
        except ValueError:
            self.bad_times += 1
            return None
        if written.tzinfo is None:
            return from_local(written, self.source.timezone)
        return from_aware(written)

    def _summary(self) -> None:
        if self.not_read:
            shown = ", ".join(f"{kind} ({count})" for kind, count in sorted(self.not_read.items()))
            self.sink.warn(f"model types not read: {shown}")
        if self.bad_times:
            self.sink.warn(f"{self.bad_times} time stamps could not be read")
        self.sink.document_context["records_read"] = self.read_models


def _identifier(party: _Model | None) -> str | None:
    return party.fields.get("Identifier") if party is not None else None


def _direction(value: str | None) -> str | None:
    return DIRECTIONS.get((value or "").strip().lower())


def _boolean(value: str | None) -> bool | None:
    return {"true": True, "false": False}.get((value or "").strip().lower())


def _seconds(value: str | None) -> float | None:
    """A TimeSpan ("00:01:23", "1.02:03:04") or plain seconds."""
    if not value:
        return None
    found = _TIMESPAN.fullmatch(value.strip())
    if found:
        days, hours, minutes, seconds = (int(part or 0) for part in found.groups())
        return float(((days * 24 + hours) * 60 + minutes) * 60 + seconds)
    try:
        return float(value)
    except ValueError:
        return None


def _deleted(model: _Model) -> dict[str, Any]:
    state = model.deleted_state.strip()
    flags: dict[str, Any] = {
        "deleted": {"intact": False, "deleted": True, "trash": True}.get(state.lower())
    }
    if state and state.lower() != "intact":
        flags["deleted_state"] = state
    return flags
