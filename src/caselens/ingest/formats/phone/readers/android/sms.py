"""Android's SMS and MMS store: ``mmssms.db`` of com.android.providers.telephony.

SMS are rows of ``sms``: ``type`` is the box (1 inbox, 2 sent, 3 draft, 4 outbox,
5 failed, 6 queued), ``date`` milliseconds since 1970, ``address`` the other party.
Conversations are ``threads`` whose space-separated ``recipient_ids`` point into
``canonical_addresses``. MMS are ``pdu`` rows (``date`` in seconds, ``msg_box`` the box)
with their parties in ``addr`` (137 from, 151 to, 130 cc, 129 bcc) and their text and
attachments in ``part``.
"""

from __future__ import annotations

import posixpath
import sqlite3
from collections import defaultdict
from typing import Any

from caselens.ingest.formats.phone.comms import Comms, Party
from caselens.ingest.formats.phone.database import PhoneReader, Schema
from caselens.ingest.formats.phone.readers.android.rows import (
    ROW_ERRORS,
    Parties,
    Problems,
    require,
    rows,
    select,
    text,
    usable,
)
from caselens.ingest.formats.phone.readers.values import flag, integer
from caselens.ingest.formats.phone.times import Moment, from_unix, from_unix_ms
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

SMS_NEEDED = ("_id", "address", "date", "type", "body")
SMS_OPTIONAL = (
    *("thread_id", "date_sent", "read", "seen", "status", "locked", "subject"),
    *("service_center", "error_code", "deleted"),
)
PDU_NEEDED = ("_id", "date", "msg_box")
PDU_OPTIONAL = ("thread_id", "date_sent", "read", "seen", "sub", "m_type", "locked", "deleted")
ADDR_NEEDED = ("msg_id", "address", "type")
PART_NEEDED = ("mid", "ct", "text")
PART_OPTIONAL = ("seq", "name", "fn", "cl", "_data")

BOXES = {1: "inbox", 2: "sent", 3: "draft", 4: "outbox", 5: "failed", 6: "queued"}
OUTGOING_BOXES = frozenset({2, 3, 4, 5, 6})
SMS_STATUS = {-1: "none", 0: "complete", 32: "pending", 64: "failed"}
MMS_TYPES = {128: "send request", 130: "notification (content not downloaded)", 132: "retrieved"}
FROM, TO, CC, BCC = 137, 151, 130, 129
SELF_TOKEN = "insert-address-token"  # noqa: S105 - MMS's placeholder for the device's own number


class AndroidSmsReader(PhoneReader):
    """``mmssms.db``: SMS always, MMS when its tables are there."""

    name = "android-sms"
    service = "sms"

    @classmethod
    def recognises(cls, schema: Schema) -> bool:
        return "sms" in schema and bool({"threads", "canonical_addresses", "pdu"} & schema.keys())

    def read(self, db: sqlite3.Connection, schema: Schema, source: Source, sink: Sink) -> None:
        sms_ok = usable(schema, "sms", *SMS_NEEDED)
        mms_ok = (
            usable(schema, "pdu", *PDU_NEEDED)
            and usable(schema, "addr", *ADDR_NEEDED)
            and usable(schema, "part", *PART_NEEDED)
        )
        if not sms_ok and not mms_ok:
            require(schema, "sms", *SMS_NEEDED)
        reading = _Reading(db, schema, sink, Comms(sink, source, self.service))
        reading.load_threads()
        if sms_ok:
            reading.sms()
        else:
            _warn_unread(sink, schema, "sms", SMS_NEEDED)
        if mms_ok:
            reading.mms()
        elif "pdu" in schema:
            for table, needed in (
                ("pdu", PDU_NEEDED),
                ("addr", ADDR_NEEDED),
                ("part", PART_NEEDED),
            ):
                _warn_unread(sink, schema, table, needed)
        reading.problems.report(sink)


def _warn_unread(sink: Sink, schema: Schema, table: str, needed: tuple[str, ...]) -> None:
    if not usable(schema, table, *needed):
        present = "missing" if table not in schema else "of an unknown version"
        sink.warn(f"table {table} {present}, not read (needs {', '.join(needed)})")


class _Reading:
    def __init__(self, db: sqlite3.Connection, schema: Schema, sink: Sink, comms: Comms) -> None:
        self.db = db
        self.schema = schema
        self.sink = sink
        self.comms = comms
        self.parties = Parties(comms)
        self.problems = Problems()
        self.threads: dict[int, list[str]] = {}  # thread id -> its canonical addresses
        self._thread_labels: dict[int, str] = {}
        self._owner_named = False

    # -- conversations -------------------------------------------------------------

    def load_threads(self) -> None:
        if not (
            usable(self.schema, "canonical_addresses", "_id", "address")
            and usable(self.schema, "threads", "_id", "recipient_ids")
        ):
            return
        addresses: dict[int, str] = {}
        sql = "SELECT _id, address FROM canonical_addresses"
        for row in rows(self.db, sql, self.sink, "canonical_addresses"):
            ident, address = integer(row["_id"]), text(row["address"])
            if ident is not None and address is not None:
                addresses[ident] = address.strip()
        for row in rows(self.db, "SELECT _id, recipient_ids FROM threads", self.sink, "threads"):
            ident, members = integer(row["_id"]), text(row["recipient_ids"]) or ""
            if ident is None:
                continue
            ids = [integer(part) for part in members.split()]
            self.threads[ident] = [addresses[i] for i in ids if i is not None and i in addresses]

    def thread_label(self, thread_id: int | None) -> str | None:
        if thread_id is None:
            return None
        label = self._thread_labels.get(thread_id)
        if label is None:
            members = [p.label for p in self.thread_parties(thread_id)]
            label = f"thread {thread_id}" + (f": {', '.join(members)}" if members else "")
            self._thread_labels[thread_id] = label
        return label

    def thread_parties(self, thread_id: int | None) -> list[Party]:
        if thread_id is None:
            return []
        found = (self.parties.phone(raw) for raw in self.threads.get(thread_id, []))
        return [party for party in found if party is not None]

    # -- SMS -------------------------------------------------------------------------

    def sms(self) -> None:
        sql = select(self.schema, "sms", SMS_NEEDED, SMS_OPTIONAL) + " ORDER BY _id"
        for row in rows(self.db, sql, self.sink, "sms"):
            record = f"sms/_id={row['_id']}"
            try:
                self._sms(row, record)
            except ROW_ERRORS as err:
                self.problems.skip("sms", record, err)

    def _sms(self, row: sqlite3.Row, record: str) -> None:
        ident = integer(row["_id"])
        if ident is None:
            raise ValueError(f"_id {row['_id']!r} is not a number")
        box = integer(row["type"])
        thread_id = integer(row["thread_id"])
        address = text(row["address"])
        party = self.parties.phone(address.strip() if address else None)
        flags: dict[str, Any] = {}
        others = [party] if party else self.thread_parties(thread_id)
        if party is None and others:
            flags["parties_from_thread"] = True  # no address on the row: its thread's
        sender, recipients, direction = self._parties(box, others)
        if direction == "unknown":
            flags["counterpart"] = ", ".join(p.label for p in others) or None
        moment = self._moment("sms", row["date"], from_unix_ms)
        sent = from_unix_ms(row["date_sent"])
        status = integer(row["status"])
        flags.update(
            box=BOXES.get(box, str(box)) if box is not None else None,
            read=flag(row["read"]),
            seen=flag(row["seen"]),
            status=SMS_STATUS.get(status, str(status)) if status is not None else None,
            locked=flag(row["locked"]),
            deleted=flag(row["deleted"]),
            sent_at=sent.iso if sent else None,
            service_center=text(row["service_center"]),
            error_code=integer(row["error_code"]) or None,
        )
        self.comms.message(
            f"sms/{ident}",
            sender=sender,
            recipients=recipients,
            moment=moment,
            body=text(row["body"]),
            record=record,
            thread=self.thread_label(thread_id),
            direction=direction,
            subject=text(row["subject"]),
            **flags,
        )

    def _parties(
        self, box: int | None, others: list[Party]
    ) -> tuple[Party | None, list[Party | None], str]:
        """Sender, recipients and direction from the box a message is in."""
        if box == 1:
            return (others[0] if len(others) == 1 else None), [self.comms.owner()], "incoming"
        if box in OUTGOING_BOXES:
            return self.comms.owner(), list(others), "outgoing"
        return None, [], "unknown"  # the box says neither: the counterpart goes to context

    def _moment(self, table: str, raw: object, convert: Any) -> Moment | None:
        moment: Moment | None = convert(raw)
        if moment is None and raw is not None:
            self.problems.bad_time(table)
        return moment

    # -- MMS -------------------------------------------------------------------------

    def mms(self) -> None:
        addresses: dict[int, list[tuple[int | None, str]]] = defaultdict(list)
        sql = select(self.schema, "addr", ADDR_NEEDED, ("_id",)) + " ORDER BY msg_id, _id"
        for row in rows(self.db, sql, self.sink, "addr"):
            msg_id, address = integer(row["msg_id"]), text(row["address"])
            if msg_id is not None and address is not None:
                addresses[msg_id].append((integer(row["type"]), address.strip()))
        parts: dict[int, list[sqlite3.Row]] = defaultdict(list)
        sql = select(self.schema, "part", PART_NEEDED, PART_OPTIONAL) + " ORDER BY mid, seq"
        for row in rows(self.db, sql, self.sink, "part"):
            mid = integer(row["mid"])
            if mid is not None:
                parts[mid].append(row)
        sql = select(self.schema, "pdu", PDU_NEEDED, PDU_OPTIONAL) + " ORDER BY _id"
        for row in rows(self.db, sql, self.sink, "pdu"):
            record = f"pdu/_id={row['_id']}"
            try:
                ident = integer(row["_id"])
                if ident is None:
                    raise ValueError(f"_id {row['_id']!r} is not a number")
                self._mms(row, ident, record, addresses.get(ident, []), parts.get(ident, []))
            except ROW_ERRORS as err:
                self.problems.skip("pdu", record, err)

    def _mms(
        self,
        row: sqlite3.Row,
        ident: int,
        record: str,
        addresses: list[tuple[int | None, str]],
        parts: list[sqlite3.Row],
    ) -> None:
        box = integer(row["msg_box"])
        senders = [address for kind, address in addresses if kind == FROM]
        receivers = [self._mms_party(a) for kind, a in addresses if kind in (TO, CC, BCC)]
        if box == 1:
            sender = self._mms_party(senders[0]) if senders else None
            recipients = receivers or [self.comms.owner()]
            direction = "incoming"
        elif box in OUTGOING_BOXES:
            sender, recipients, direction = self.comms.owner(), receivers, "outgoing"
            if senders and senders[0] != SELF_TOKEN and not self._owner_named:
                self.comms.name_owner(senders[0])  # the device's own number, when written
                self._owner_named = True
        else:
            sender = self._mms_party(senders[0]) if senders else None
            recipients, direction = receivers, "unknown"  # from / to are written out here
        body, attachments = _content(parts)
        moment = self._moment("pdu", row["date"], from_unix)
        sent = from_unix(row["date_sent"])
        kind = integer(row["m_type"])
        self.comms.message(
            f"mms/{ident}",
            sender=sender,
            recipients=recipients,
            moment=moment,
            body=body,
            record=record,
            thread=self.thread_label(integer(row["thread_id"])),
            direction=direction,
            attachments=attachments,
            box=BOXES.get(box, str(box)) if box is not None else None,
            read=flag(row["read"]),
            seen=flag(row["seen"]),
            locked=flag(row["locked"]),
            deleted=flag(row["deleted"]),
            sent_at=sent.iso if sent else None,
            mms_type=MMS_TYPES.get(kind, str(kind)) if kind is not None else None,
            subject=text(row["sub"]),
        )

    def _mms_party(self, address: str) -> Party | None:
        return self.comms.owner() if address == SELF_TOKEN else self.parties.phone(address)


def _content(parts: list[sqlite3.Row]) -> tuple[str | None, list[str]]:
    """The text of an MMS's text parts, and the names of its other parts."""
    texts: list[str] = []
    attachments: list[str] = []
    for part in parts:
        kind = (text(part["ct"]) or "").strip().lower()
        body = text(part["text"])
        if kind == "text/plain" and body is not None:
            texts.append(body)
        elif kind != "application/smil":
            stored = text(part["_data"])
            name = (
                text(part["cl"])
                or text(part["name"])
                or text(part["fn"])
                or (posixpath.basename(stored) if stored else None)
                or kind
                or "(unnamed part)"
            )
            attachments.append(name)
    return ("\n".join(texts) or None), attachments
