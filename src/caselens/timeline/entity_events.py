"""Events from the case's FollowTheMoney entities: e-mails, messages, calls, calendar
entries, picture capture, recording creation and document times.

Each source is one dated property of some schemata, read from the current
(non-superseded) entity fragments of the case in the order of that property's text,
which for FollowTheMoney's UTC dates is chronological. There is no index on a date
inside the JSON: a query scans the case's fragments of those schemata once (the
database sorts only what the page needs), and the window and an entity filter are
applied in SQL before any row reaches Python.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_tz
from typing import Any

from sqlalchemy import Row, select

from caselens.db.schema import entities
from caselens.timeline.model import Party, TimelineEvent, key_of_text
from caselens.timeline.parties import load_labels
from caselens.timeline.reading import Reader, json_text, mentions_any, pushable

SUMMARY_TEXT = 200  # characters of a message body shown in a summary
# Context keys that are not details of the event itself.
_CONTEXT_TIME = frozenset({"time_zone", "time_zone_assumed", "caller_account", "receiver_account"})


@dataclass(frozen=True, slots=True)
class Facts:
    """What a builder makes of one entity fragment."""

    summary: str
    parties: list[Party]
    time_zone: str | None = None
    time_zone_assumed: bool | None = None
    details: dict[str, Any] | None = None


class Fragment:
    """One entity fragment as read, with the labels of its parties at hand."""

    def __init__(self, row: Row[Any], labels: dict[str, str]) -> None:
        self.row = row
        self.properties: dict[str, Any] = row.properties if isinstance(row.properties, dict) else {}
        self.context: dict[str, Any] = row.context if isinstance(row.context, dict) else {}
        self.labels = labels

    def values(self, name: str) -> list[str]:
        found = self.properties.get(name)
        return [str(v) for v in found] if isinstance(found, list) else []

    def first(self, name: str) -> str | None:
        found = self.values(name)
        return found[0] if found else None

    def parties(self, role: str, name: str) -> list[Party]:
        return [Party(role, i, self.labels.get(i, i[:12])) for i in self.values(name)]

    def zone(self, holder: dict[str, Any] | None = None) -> tuple[str | None, bool | None]:
        found = self.context if holder is None else holder
        zone = found.get("time_zone")
        if not isinstance(zone, str):
            return None, None
        return zone, bool(found.get("time_zone_assumed", False))


Builder = Callable[[Fragment], Facts]


@dataclass(frozen=True, slots=True)
class DatedProperty:
    kind: str
    prop: str
    schemata: tuple[str, ...]  # empty: every schema not in ``excluded``
    build: Builder
    party_properties: tuple[str, ...] = ()  # properties holding party entity ids
    party_context: tuple[str, ...] = ()  # context keys holding party entity ids
    excluded: tuple[str, ...] = ()

    def read(self, reader: Reader) -> Iterator[TimelineEvent]:
        when = json_text(entities.c.properties, self.prop, 0)
        ordered = reader.ordered(when)
        query = select(
            entities.c.id,
            entities.c.entity_id,
            entities.c.schema,
            entities.c.item_id,
            entities.c.properties,
            entities.c.context,
            when.label("when"),
        ).where(
            entities.c.case_id == reader.case_id,
            entities.c.superseded.is_(False),
            when.is_not(None),
        )
        if self.schemata:
            query = query.where(entities.c.schema.in_(self.schemata))
        if self.excluded:
            query = query.where(entities.c.schema.not_in(self.excluded))
        selection = reader.selection
        if selection.start is not None:
            query = query.where(ordered >= selection.start)
        if selection.end is not None:
            query = query.where(ordered < selection.end)
        wanted = sorted((selection.party_ids or set()) | selection.party_labels)
        if selection.party_ids is not None and pushable(wanted):
            query = query.where(mentions_any([entities.c.properties, entities.c.context], wanted))
        query = query.order_by(ordered, entities.c.id)
        for batch in reader.batches(query):
            load_labels(reader.connection, reader.case_id, self._party_ids(batch), reader.labels)
            for row in batch:
                event = self._event(row, reader.labels)
                if selection.keeps(event):
                    yield event

    def _party_ids(self, batch: list[Row[Any]] | Any) -> set[str]:
        found: set[str] = set()
        for row in batch:
            properties = row.properties if isinstance(row.properties, dict) else {}
            context = row.context if isinstance(row.context, dict) else {}
            for name in self.party_properties:
                found.update(str(v) for v in properties.get(name) or [])
            for name in self.party_context:
                if isinstance(context.get(name), str):
                    found.add(context[name])
        return found

    def _event(self, row: Row[Any], labels: dict[str, str]) -> TimelineEvent:
        facts = self.build(Fragment(row, labels))
        return TimelineEvent(
            key=key_of_text(row.when),
            kind=self.kind,
            summary=facts.summary,
            source=f"{row.schema}.{self.prop}",
            item_id=row.item_id,
            entity_id=row.entity_id,
            parties=facts.parties,
            time_zone=facts.time_zone,
            time_zone_assumed=facts.time_zone_assumed,
            details=facts.details or {},
        )


def _shown(parties: list[Party]) -> str:
    return ", ".join(p.label for p in parties) or "?"


def _email(found: Fragment) -> Facts:
    senders = found.parties("from", "emitters")
    recipients = found.parties("to", "recipients")
    sender_text = ", ".join(found.values("from")) or _shown(senders)
    recipient_text = ", ".join(found.values("to")) or _shown(recipients)
    subject = found.first("subject") or "(no subject)"
    zone = _header_zone(found.first("headers"))
    details = {"subject": found.first("subject"), "message_id": found.first("messageId")}
    return Facts(
        f"e-mail {sender_text} -> {recipient_text}: {subject}",
        senders + recipients,
        zone,
        False if zone else None,
        {k: v for k, v in details.items() if v},
    )


def _header_zone(headers: str | None) -> str | None:
    """The offset of the Date header as written ("+01:00"), when the headers were kept."""
    if not headers:
        return None
    try:
        pairs = json.loads(headers)
    except ValueError:
        return None
    for pair in pairs if isinstance(pairs, list) else []:
        if isinstance(pair, list) and len(pair) == 2 and str(pair[0]).lower() == "date":
            parsed = parsedate_tz(str(pair[1]))
            if parsed is None or parsed[9] is None:
                return None
            offset = parsed[9] // 60
            sign = "+" if offset >= 0 else "-"
            return "UTC" if offset == 0 else f"{sign}{abs(offset) // 60:02d}:{abs(offset) % 60:02d}"
    return None


def _flags(found: Fragment) -> dict[str, Any]:
    return {k: v for k, v in found.context.items() if k not in _CONTEXT_TIME}


def _message(found: Fragment) -> Facts:
    senders = found.parties("from", "senderAccount")
    recipients = found.parties("to", "recipientAccount")
    body = (found.first("bodyText") or "").replace("\n", " ")
    if len(body) > SUMMARY_TEXT:
        body = body[:SUMMARY_TEXT] + "..."
    details = {"thread": found.first("threadTopic"), **_flags(found)}
    zone, assumed = found.zone()
    return Facts(
        f"message {_shown(senders)} -> {_shown(recipients)}: {body}",
        senders + recipients,
        zone,
        assumed,
        {k: v for k, v in details.items() if v is not None},
    )


def _call(found: Fragment) -> Facts:
    parties: list[Party] = []
    for role, account, number in (
        ("caller", "caller_account", "callerNumber"),
        ("receiver", "receiver_account", "receiverNumber"),
    ):
        identifier = found.context.get(account)
        written = found.first(number)
        if isinstance(identifier, str):
            parties.append(Party(role, identifier, found.labels.get(identifier, written or "?")))
        elif written:
            parties.append(Party(role, None, written))
    duration = found.first("duration")
    direction = found.context.get("direction")
    caller = _shown([p for p in parties if p.role == "caller"])
    receiver = _shown([p for p in parties if p.role == "receiver"])
    length = f", {duration} s" if duration is not None else ""
    zone, assumed = found.zone()
    details = {"duration": int(duration) if duration and duration.isdigit() else duration}
    return Facts(
        f"call{' ' + direction if direction else ''} {caller} -> {receiver}{length}",
        parties,
        zone,
        assumed,
        {**{k: v for k, v in details.items() if v is not None}, **_flags(found)},
    )


def _calendar(found: Fragment) -> Facts:
    parties = found.parties("organizer", "organizer") + found.parties("involved", "involved")
    details = {"end": found.first("endDate"), "location": found.first("location")}
    return Facts(
        f"calendar: {found.first('name') or '(no summary)'}",
        parties,
        details={k: v for k, v in details.items() if v},
    )


def _picture(found: Fragment) -> Facts:
    captured = found.context.get("captured")
    captured = captured if isinstance(captured, dict) else {}
    zone, assumed = found.zone(captured)
    details = {"as_written": captured.get("local"), "tag": captured.get("tag")}
    return Facts(
        f"picture taken: {found.first('fileName') or '(no name)'}",
        [],
        zone,
        assumed,
        {k: v for k, v in details.items() if v},
    )


def _recording(found: Fragment) -> Facts:
    created = found.context.get("created")
    zone, assumed = found.zone(created if isinstance(created, dict) else {})
    duration = found.first("duration")
    length = f" ({duration} s)" if duration else ""
    return Facts(
        f"recording made: {found.first('fileName') or '(no name)'}{length}", [], zone, assumed
    )


def _document(action: str) -> Builder:
    def build(found: Fragment) -> Facts:
        name = found.first("title") or found.first("fileName") or "(no name)"
        return Facts(f"document {action}: {name}", [])

    return build


# Schemata whose dates are read as their own kinds, not as document times.
_COMMUNICATIONS = ("Email", "Message", "Call", "Event")
_MEDIA = ("Image", "Audio", "Video")

ENTITY_SOURCES: tuple[DatedProperty, ...] = (
    DatedProperty("email", "date", ("Email",), _email, ("emitters", "recipients")),
    DatedProperty("message", "date", ("Message",), _message, ("senderAccount", "recipientAccount")),
    DatedProperty(
        "call", "date", ("Call",), _call, party_context=("caller_account", "receiver_account")
    ),
    DatedProperty("calendar", "startDate", ("Event",), _calendar, ("organizer", "involved")),
    DatedProperty("picture", "authoredAt", ("Image",), _picture),
    DatedProperty("recording", "authoredAt", ("Audio", "Video"), _recording),
    DatedProperty(
        "document", "authoredAt", (), _document("created"), excluded=_COMMUNICATIONS + _MEDIA
    ),
    DatedProperty("document", "modifiedAt", (), _document("modified"), excluded=_COMMUNICATIONS),
)
