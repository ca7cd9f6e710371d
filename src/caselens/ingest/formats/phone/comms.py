"""Messages, calls, contacts and accounts from phones and chat apps, as FollowTheMoney.

Readers of every phone source (SQLite databases, chat exports, forensic reports, call
detail records) put what they find through one ``Comms`` writer, so that parties are
named the same way everywhere: a phone number becomes its E.164 form (with the case's
country for numbers written nationally), an app account its service and id. The
device's own user, whom most databases never name, is one account per item.

Each message or call also becomes a line of the item's text (searchable, and read by the
identifier extractors) and carries a context: its record in the source, time zone,
direction and read / deleted flags, which FollowTheMoney has no properties for.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import phonenumbers
from followthemoney.proxy import EntityProxy

from caselens.ingest.formats.phone.times import Moment
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

DIRECTIONS = frozenset({"incoming", "outgoing", "missed", "rejected", "blocked", "unknown"})
_DIAL_CHARS = re.compile(r"[\s().\-/]")
_DIALABLE = re.compile(r"^\+?\d{3,20}$")


@dataclass(frozen=True, slots=True)
class Party:
    """Someone on a message or call: the account entity and how it is shown."""

    entity_id: str
    label: str  # "+447700900123", "whatsapp:alice", "device owner"


def normalize_phone(raw: str, region: str | None) -> str | None:
    """E.164 for a dialable number that is possible in its country; None otherwise.

    Short codes and alphanumeric sender names ("HSBC", "32665") are not phone numbers
    of a person: callers keep them as they are.
    """
    text = _DIAL_CHARS.sub("", raw.strip())
    if text.startswith("00"):
        text = "+" + text[2:]
    if not _DIALABLE.match(text):
        return None
    try:
        number = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Comms:
    """Writes one source's communications into a sink."""

    def __init__(self, sink: Sink, source: Source, service: str) -> None:
        self.sink = sink
        self.source = source
        self.service = service  # "sms", "whatsapp", "telegram", "phone" ...
        self._accounts: dict[tuple[str, str], Party] = {}
        self._names: dict[tuple[str, str], set[str]] = {}
        self._raw_phones: dict[str, Party] = {}  # as written in the source -> its account
        self._owner: Party | None = None
        self.messages = 0
        self.calls = 0
        self.contacts = 0

    # -- parties -------------------------------------------------------------------

    def phone(self, raw: str | None, name: str | None = None) -> Party | None:
        """The account of a phone number (E.164 when it is one, else the text as written)."""
        if raw is None or not str(raw).strip():
            return None
        text = str(raw).strip()
        known = self._raw_phones.get(text)
        if known is not None and not name:
            return known  # parsing a number costs more than the rest of a message
        normalized = normalize_phone(text, self.source.region)
        if normalized is None:
            party = self.account(text, name=name, service=self.service)
        else:
            party = self._account("phone", normalized, name=name, phone=normalized)
        if party is not None:
            self._raw_phones[text] = party
        return party

    def account(
        self,
        identifier: str | None,
        *,
        name: str | None = None,
        service: str | None = None,
        phone: str | None = None,
        email: str | None = None,
    ) -> Party | None:
        """An app account (a WhatsApp JID, a Telegram user id, a Skype name...)."""
        if identifier is None or not str(identifier).strip():
            return None
        normalized_phone = normalize_phone(phone, self.source.region) if phone else None
        return self._account(
            service or self.service,
            str(identifier).strip(),
            name=name,
            phone=normalized_phone,
            email=email,
        )

    def owner(self) -> Party:
        """The device's own user: one account per item, since the source rarely names it."""
        if self._owner is None:
            entity = self.sink.make_entity("UserAccount", "device-owner", self.source.item_id)
            entity.add("name", f"owner of {self.source.name}")
            entity.add("service", self.service)
            self.sink.emit(entity, {"role": "device owner"})
            self._owner = Party(entity.id or "", "device owner")
        return self._owner

    def name_owner(self, identifier: str | None, name: str | None = None) -> None:
        """Record the owner's own number or account id when the source has it."""
        self.owner()
        entity = self.sink.make_entity("UserAccount", "device-owner", self.source.item_id)
        if identifier:
            normalized = normalize_phone(identifier, self.source.region)
            if normalized:
                entity.add("phone", normalized, cleaned=True)
            else:
                entity.add("username", identifier)
        if name:
            entity.add("name", name)
        self.sink.emit(entity)

    def _account(
        self,
        service: str,
        identifier: str,
        *,
        name: str | None = None,
        phone: str | None = None,
        email: str | None = None,
    ) -> Party:
        key = (service, identifier)
        known = self._accounts.get(key)
        if known is not None and (not name or name in self._names.get(key, ())):
            return known  # emitted already; only a name not seen yet adds a fragment
        if name:
            self._names.setdefault(key, set()).add(name)
        entity = self.sink.make_entity("UserAccount", service, identifier)
        entity.add("username", identifier)
        entity.add("service", service)
        # Normalized here already: FollowTheMoney's own cleaning would drop numbers that are
        # possible but not assigned (fictional ranges, new ones its metadata lacks).
        entity.add("phone", phone, cleaned=True)
        entity.add("email", email, quiet=True)
        entity.add("name", name)
        self.sink.emit(entity)
        label = identifier if service == "phone" else f"{service}:{identifier}"
        party = Party(entity.id or "", label)
        self._accounts[key] = party
        return party

    def contact(
        self,
        key: str,
        *,
        name: str | None,
        phones: Iterable[str] = (),
        emails: Iterable[str] = (),
        accounts: Iterable[Party] = (),
        record: str,
        **flags: Any,
    ) -> EntityProxy:
        """An address-book entry: a Person with its numbers, linked to their accounts."""
        person = self.sink.make_entity("Person", self.service, "contact", self.source.item_id, key)
        person.add("name", name or None)
        for raw in phones:
            normalized = normalize_phone(raw, self.source.region)
            if normalized:
                person.add("phone", normalized, cleaned=True)
            party = self.phone(raw)
            if party is not None:
                self._link_owner(party, person)
        for email in emails:
            person.add("email", email, quiet=True)
        for party in accounts:
            self._link_owner(party, person)
        self.sink.emit(person, _context(record, None, None, flags))
        self.contacts += 1
        shown = ", ".join(person.get("phone") + person.get("email"))
        self.sink.add_text(f"contact {name or '(no name)'}: {shown}\n")
        return person

    def _link_owner(self, party: Party, person: EntityProxy) -> None:
        account = self.sink.make_entity("UserAccount")
        account.id = party.entity_id
        account.add("owner", person.id)
        self.sink.emit(account)

    # -- events ----------------------------------------------------------------------

    def message(
        self,
        key: str,
        *,
        sender: Party | None,
        recipients: Iterable[Party | None] = (),
        moment: Moment | None,
        body: str | None,
        record: str,
        thread: str | None = None,
        direction: str | None = None,
        attachments: Iterable[str] = (),
        subject: str | None = None,
        **flags: Any,
    ) -> EntityProxy:
        """One message; ``flags`` are read / deleted / status values the source has."""
        message = self.sink.make_entity("Message", self.service, self.source.item_id, key)
        kept = [party for party in recipients if party is not None]
        if sender is not None:
            message.add("senderAccount", sender.entity_id)
        for party in kept:
            message.add("recipientAccount", party.entity_id)
        if moment is not None:
            message.add("date", moment.iso)
        message.add("bodyText", body or None)
        message.add("threadTopic", thread or None)
        message.add("subject", subject or None)
        message.add("recordId", record)
        message.add("parent", self.sink.document_id)
        names = list(attachments)
        if names:
            flags = {**flags, "attachments": names}
        self.sink.emit(message, _context(record, moment, direction, flags))
        self.messages += 1
        arrow = f"{sender.label if sender else '?'} -> {', '.join(p.label for p in kept) or '?'}"
        when = f"{moment.iso} UTC" if moment else "(no time)"
        extra = f" [attachments: {', '.join(names)}]" if names else ""
        self.sink.add_text(f"{when} {self.service} {arrow}: {body or ''}{extra}\n")
        return message

    def call(
        self,
        key: str,
        *,
        caller: Party | None,
        receiver: Party | None,
        moment: Moment | None,
        duration: float | int | None,
        record: str,
        direction: str | None = None,
        **flags: Any,
    ) -> EntityProxy:
        """One call; ``duration`` in seconds."""
        call = self.sink.make_entity("Call", self.service, self.source.item_id, key)
        for prop, party in (("caller", caller), ("receiver", receiver)):
            if party is None:
                continue
            # Call's parties are legal entities: the account's number goes alongside.
            if party.label.startswith("+"):
                call.add(f"{prop}Number", party.label, cleaned=True)
        if moment is not None:
            call.add("date", moment.iso)
        if duration is not None and duration >= 0:
            call.add("duration", str(int(duration)))
        call.add("recordId", record)
        parties = {"caller_account": caller.entity_id if caller else None}
        parties["receiver_account"] = receiver.entity_id if receiver else None
        self.sink.emit(call, _context(record, moment, direction, {**flags, **parties}))
        self.calls += 1
        when = f"{moment.iso} UTC" if moment else "(no time)"
        seconds = f"{int(duration)} s" if duration is not None else "? s"
        label = f"{caller.label if caller else '?'} -> {receiver.label if receiver else '?'}"
        self.sink.add_text(f"{when} call {direction or ''} {label} {seconds}\n")
        return call

    def location(
        self,
        key: str,
        *,
        latitude: float,
        longitude: float,
        moment: Moment | None,
        record: str,
        name: str | None = None,
        **flags: Any,
    ) -> EntityProxy | None:
        """A place the device was (a GPS fix, a cell site): an Address with coordinates."""
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            self.sink.warn(f"{record}: coordinates out of range ({latitude}, {longitude})")
            return None
        place = self.sink.make_entity("Address", self.service, self.source.item_id, key)
        place.add("latitude", f"{latitude:.6f}")
        place.add("longitude", f"{longitude:.6f}")
        place.add("full", name or f"{latitude:.6f}, {longitude:.6f}")
        self.sink.emit(place, _context(record, moment, None, flags))
        when = f"{moment.iso} UTC" if moment else "(no time)"
        self.sink.add_text(f"{when} location {latitude:.6f}, {longitude:.6f} {name or ''}\n")
        return place


def _context(
    record: str, moment: Moment | None, direction: str | None, flags: dict[str, Any]
) -> dict[str, Any]:
    context: dict[str, Any] = {"record": record}
    if moment is not None:
        context.update(moment.context())
    if direction is not None:
        context["direction"] = direction if direction in DIRECTIONS else "unknown"
    context.update({k: v for k, v in flags.items() if v is not None})
    return context
