"""One e-mail into the sink: the Email entity, its senders and recipients, text, attachments.

Shared by every mail format: RFC 822 messages are read here; Outlook formats fill the
same ``MailFields`` from MAPI properties and call ``record_email``.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from email import policy
from email.message import Message
from email.parser import BytesParser

from followthemoney.proxy import EntityProxy
from followthemoney.types import registry

from caselens.ingest.errors import BrokenFile, LimitReached, NotMyFormat
from caselens.ingest.formats.mail.headers import (
    Party,
    Warn,
    decode_words,
    header_text,
    message_ids,
    parse_date,
    parse_parties,
    unfold,
)
from caselens.ingest.formats.mail.parts import add_parts
from caselens.ingest.sink import Sink

# The parser holds a whole message (several times over) in memory.
MAX_MESSAGE_BYTES = 256 * 1024 * 1024
MAX_HEADERS_CHARS = 1_000_000
ADDRESS_HEADERS = ("from", "sender", "to", "cc", "bcc")


@dataclass
class MailFields:
    """What a message says about itself, format-neutral."""

    subject: str | None = None
    date: str | None = None
    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    thread_topic: str | None = None
    parties: dict[str, list[Party]] = field(default_factory=dict)  # "from", "to"...
    headers: list[tuple[str, str]] = field(default_factory=list)  # in order, unfolded


def fields_from_headers(items: list[tuple[str, str]], warn: Warn) -> MailFields:
    """MailFields from raw (name, value) header pairs as the parser keeps them."""
    fields = MailFields()
    for name, raw in items:
        if not isinstance(raw, str):  # a Header object: the message was built, not parsed
            raw = str(raw)
        key = name.lower()
        fields.headers.append((name, unfold(header_text(raw))))
        if key == "subject" and fields.subject is None:
            fields.subject = decode_words(unfold(header_text(raw)), warn)
        elif key == "date" and fields.date is None:
            fields.date = parse_date(raw, warn)
        elif key == "message-id" and fields.message_id is None:
            found = message_ids(raw)
            fields.message_id = found[0] if found else None
        elif key == "in-reply-to":
            fields.in_reply_to.extend(message_ids(raw))
        elif key == "references":
            fields.references.extend(message_ids(raw))
        elif key == "thread-topic" and fields.thread_topic is None:
            fields.thread_topic = decode_words(unfold(header_text(raw)), warn)
        elif key in ADDRESS_HEADERS:
            fields.parties.setdefault(key, []).extend(parse_parties(raw, warn))
    return fields


def record_email(sink: Sink, fields: MailFields) -> None:
    """Set the item's Email entity and emit a LegalEntity per distinct address."""
    headers = json.dumps(fields.headers, ensure_ascii=False)
    if len(headers) > MAX_HEADERS_CHARS:
        sink.warn(f"headers longer than {MAX_HEADERS_CHARS} characters were not kept")
        headers = ""
    sink.set_document(
        "Email",
        subject=fields.subject,
        title=fields.subject,
        date=fields.date,
        messageId=fields.message_id,
        inReplyTo=list(dict.fromkeys(fields.in_reply_to)),
        threadTopic=fields.thread_topic,
        headers=headers,
    )
    people: dict[str, EntityProxy] = {}
    for role in ADDRESS_HEADERS:
        for party in fields.parties.get(role, []):
            sink.add_property(role, party.display)
            email = _valid_email(party.address) if party.address else None
            if email is None:
                continue
            person = people.get(party.address)
            if person is None:
                person = people[party.address] = sink.make_entity("LegalEntity", party.address)
                person.add("email", email, cleaned=True)
            if party.name and party.name.lower() != party.address:
                person.add("name", party.name, quiet=True, cleaned=True)
            link = "emitters" if role in ("from", "sender") else "recipients"
            sink.add_property(link, person.id)
    for address, person in people.items():
        if not person.has("name"):
            person.add("name", address, cleaned=True)
        sink.emit(person)


# FollowTheMoney's e-mail check (IDNA rules) is slow, and the same addresses recur.
@functools.lru_cache(maxsize=65536)
def _valid_email(address: str) -> str | None:
    cleaned = registry.email.clean(address)
    return str(cleaned) if cleaned else None


def parse_rfc822(data: bytes) -> Message:
    # compat32 keeps header values raw and decodes nothing it is not asked for: much
    # faster than policy.default, and the decoding is done (tolerantly) in headers.py.
    return BytesParser(policy=policy.compat32).parsebytes(data)


def ingest_rfc822(data: bytes, sink: Sink) -> MailFields:
    """Read one RFC 822 message into the sink; NotMyFormat when it has no headers at all."""
    if len(data) > MAX_MESSAGE_BYTES:
        raise LimitReached(f"message larger than {MAX_MESSAGE_BYTES // (1 << 20)} MiB not parsed")
    try:
        # A stray blank line before the headers would make them all body.
        message = parse_rfc822(data.lstrip(b"\r\n"))
    except RecursionError as err:  # the parser recurses once per nested multipart
        raise BrokenFile("MIME parts nested too deeply to parse") from err
    items = list(message.raw_items())
    if not items:
        raise NotMyFormat("no RFC 822 header found")
    fields = fields_from_headers(items, sink.warn)
    record_email(sink, fields)
    defects = {type(defect).__name__ for part in message.walk() for defect in part.defects}
    if defects:
        sink.warn("MIME structure defects: " + ", ".join(sorted(defects)))
    add_parts(message, sink)
    return fields
