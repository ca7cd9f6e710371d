"""MAPI property sets (Outlook MSG and PST) read into the format-neutral ``MailFields``.

A property set maps a property id (PidTag, the upper half of the tag) to its type and raw
bytes; MSG and PST readers fill it from their own containers, and everything else here
is shared.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from caselens.ingest.formats.mail.headers import (
    Party,
    Warn,
    decode_charset,
    iso_utc,
    normalise_address,
)
from caselens.ingest.formats.mail.message import MailFields, fields_from_headers, parse_rfc822
from caselens.ingest.formats.mail.rtf import RtfError, decompress_rtf, rtf_body_text
from caselens.text.decode import declared_html_charset
from caselens.text.html import html_to_text

PT_LONG, PT_BOOLEAN, PT_OBJECT = 0x0003, 0x000B, 0x000D
PT_STRING8, PT_UNICODE, PT_SYSTIME, PT_BINARY = 0x001E, 0x001F, 0x0040, 0x0102
# Types whose value sits in the 8 bytes of a property entry (MS-OXMSG 2.4.2.1).
FIXED_TYPES = frozenset({0x0002, 0x0003, 0x0004, 0x0005, 0x0006, 0x0007, 0x000A, 0x000B, 0x0014})
FIXED_TYPES = FIXED_TYPES | {PT_SYSTIME}

SUBJECT, CONVERSATION_TOPIC, TRANSPORT_HEADERS = 0x0037, 0x0070, 0x007D
CLIENT_SUBMIT_TIME, DELIVERY_TIME, MESSAGE_CLASS = 0x0039, 0x0E06, 0x001A
SENDER_NAME, SENDER_ADDRESS, SENDER_SMTP = 0x0C1A, 0x0C1F, 0x5D01
REPRESENTING_NAME, REPRESENTING_ADDRESS, REPRESENTING_SMTP = 0x0042, 0x0065, 0x5D02
DISPLAY_TO, DISPLAY_CC, DISPLAY_BCC = 0x0E04, 0x0E03, 0x0E02
BODY, BODY_HTML, RTF_COMPRESSED = 0x1000, 0x1013, 0x1009
MESSAGE_ID, IN_REPLY_TO, REFERENCES = 0x1035, 0x1042, 0x1039
MESSAGE_CODEPAGE, INTERNET_CODEPAGE = 0x3FFD, 0x3FDE
DISPLAY_NAME, ADDRESS, SMTP_ADDRESS, RECIPIENT_TYPE = 0x3001, 0x3003, 0x39FE, 0x0C15
ATTACH_DATA, ATTACH_FILENAME, ATTACH_LONG_FILENAME = 0x3701, 0x3704, 0x3707
ATTACH_METHOD, ATTACH_MIME_TYPE, ATTACH_CONTENT_ID = 0x3705, 0x370E, 0x3712
ATTACH_PATHNAME, ATTACH_LONG_PATHNAME = 0x3708, 0x370D
RECIPIENT_ROLES = {1: "to", 2: "cc", 3: "bcc"}
# Windows code page numbers that are not Python codec names "cpNNN".
CODEPAGES = {
    65001: "utf-8",
    20127: "ascii",
    1200: "utf-16-le",
    1201: "utf-16-be",
    20866: "koi8-r",
    21866: "koi8-u",
    50220: "iso2022-jp",
    50221: "iso2022-jp",
    50222: "iso2022-jp",
    51932: "euc-jp",
    51949: "euc-kr",
    52936: "hz",
    54936: "gb18030",
    65000: "utf-7",
    **{28590 + n: f"iso8859-{n}" for n in range(1, 16)},
}


def codec_for(codepage: int | None) -> str | None:
    if not codepage:
        return None
    return CODEPAGES.get(codepage, f"cp{codepage}")


@dataclass
class PropertySet:
    """Properties of one message, recipient or attachment: id -> (type, raw bytes)."""

    values: dict[int, tuple[int, bytes]] = field(default_factory=dict)
    codepage: str | None = None  # for 8-bit strings (PT_STRING8)

    def has(self, pid: int) -> bool:
        return pid in self.values

    def string(self, pid: int, warn: Warn) -> str | None:
        found = self.values.get(pid)
        if found is None:
            return None
        kind, data = found
        if kind == PT_UNICODE:
            text = data.decode("utf-16-le", "replace")
        elif kind == PT_STRING8:
            text = decode_charset(data, self.codepage, warn) if data.strip(b"\0") else ""
        elif kind == PT_BINARY:  # HTML bodies are binary; read as text here
            text = decode_charset(data, self.codepage, warn)
        else:
            return None
        return text.split("\0", 1)[0].strip() or None

    def binary(self, pid: int) -> bytes | None:
        found = self.values.get(pid)
        return found[1] if found is not None and found[0] in (PT_BINARY, PT_STRING8) else None

    def integer(self, pid: int) -> int | None:
        found = self.values.get(pid)
        if found is None or found[0] not in (PT_LONG, PT_BOOLEAN, 0x0002) or len(found[1]) < 4:
            return None
        return int(struct.unpack_from("<i", found[1])[0])

    def time(self, pid: int) -> str | None:
        found = self.values.get(pid)
        if found is None or found[0] != PT_SYSTIME or len(found[1]) < 8:
            return None
        ticks = struct.unpack_from("<Q", found[1])[0]
        if ticks == 0 or ticks >= 0x7FFFFFFFFFFFFFFF:
            return None
        try:  # FILETIME: 100-nanosecond steps since 1601, UTC
            return iso_utc(datetime(1601, 1, 1) + timedelta(microseconds=ticks // 10))
        except OverflowError:
            return None


@dataclass
class MapiAttachment:
    properties: PropertySet
    # Reads the content (MSG: a stream; PST: libpff), or None for an embedded message.
    open_data: Callable[[], bytes] | None = None
    size: int = 0
    embedded: MapiMessage | None = None

    def filename(self, warn: Warn) -> str | None:
        for pid in (ATTACH_LONG_FILENAME, ATTACH_FILENAME, DISPLAY_NAME):
            name = self.properties.string(pid, warn)
            if name:
                return name
        return None


@dataclass
class MapiMessage:
    properties: PropertySet
    recipients: list[PropertySet] = field(default_factory=list)
    attachments: list[MapiAttachment] = field(default_factory=list)


def set_codepage(properties: PropertySet) -> None:
    """Take the 8-bit string code page from the message's own properties."""
    for pid in (MESSAGE_CODEPAGE, INTERNET_CODEPAGE):
        codec = codec_for(properties.integer(pid))
        if codec:
            properties.codepage = codec
            return


def mail_fields(message: MapiMessage, warn: Warn) -> MailFields:
    """Header fields of a MAPI message; transport headers fill what MAPI lacks."""
    props = message.properties
    headers = props.string(TRANSPORT_HEADERS, warn)
    if headers:
        first, _, rest = headers.strip().partition("\n")
        if ":" not in first:  # "Microsoft Mail Internet Headers Version 2.0"
            headers = rest
        parsed = parse_rfc822(headers.strip().encode("utf-8", "surrogatepass") + b"\r\n\r\n")
        fields = fields_from_headers(list(parsed.raw_items()), warn)
    else:
        fields = MailFields()
        references = props.string(REFERENCES, warn)
        if references:  # kept like a header, as threads read it from there
            fields.headers.append(("References", references))
            fields.references = [part.strip("<>") for part in references.split() if part]
    fields.subject = props.string(SUBJECT, warn) or fields.subject
    fields.thread_topic = props.string(CONVERSATION_TOPIC, warn) or fields.thread_topic
    fields.date = fields.date or props.time(CLIENT_SUBMIT_TIME) or props.time(DELIVERY_TIME)
    message_id = props.string(MESSAGE_ID, warn)
    if message_id:
        fields.message_id = message_id.strip().strip("<>")
    in_reply_to = props.string(IN_REPLY_TO, warn)
    if in_reply_to and not fields.in_reply_to:
        fields.in_reply_to = [in_reply_to.strip().strip("<>")]
    _add_parties(message, fields, warn)
    return fields


def _add_parties(message: MapiMessage, fields: MailFields, warn: Warn) -> None:
    props = message.properties
    sender = _party(props, SENDER_NAME, (SENDER_SMTP, SENDER_ADDRESS), warn)
    representing = _party(props, REPRESENTING_NAME, (REPRESENTING_SMTP, REPRESENTING_ADDRESS), warn)
    author = representing or sender
    if author and (author.address or not fields.parties.get("from")):
        fields.parties["from"] = [author]
    if sender and author and sender.address != author.address:
        fields.parties["sender"] = [sender]
    roles: dict[str, list[Party]] = {}
    for recipient in message.recipients:
        role = RECIPIENT_ROLES.get(recipient.integer(RECIPIENT_TYPE) or 1, "to")
        party = _party(recipient, DISPLAY_NAME, (SMTP_ADDRESS, ADDRESS), warn)
        if party:
            roles.setdefault(role, []).append(party)
    if not roles:  # no recipient table: the display lists give names only
        for role, pid in (("to", DISPLAY_TO), ("cc", DISPLAY_CC), ("bcc", DISPLAY_BCC)):
            names = [name.strip() for name in (props.string(pid, warn) or "").split(";")]
            if any(names) and not fields.parties.get(role):
                roles[role] = [Party(name, "") for name in names if name]
    fields.parties.update(roles)


def _party(
    props: PropertySet, name_pid: int, address_pids: tuple[int, ...], warn: Warn
) -> Party | None:
    name = props.string(name_pid, warn) or ""
    address = ""
    for pid in address_pids:
        address = normalise_address(props.string(pid, warn) or "")
        if address:
            break  # an Exchange address ("/o=.../cn=...") is not kept as an address
    if not name and not address:
        return None
    return Party(name.strip("'\" "), address)


def body_text(message: MapiMessage, warn: Warn) -> str:
    """Plain body, else the HTML body as text, else the compressed RTF body as text."""
    props = message.properties
    plain = props.string(BODY, warn)
    if plain:
        return plain
    html = html_body(message, warn)
    if html:
        try:
            return html_to_text(html)[0]
        except (AssertionError, ValueError) as err:
            warn(f"HTML body could not be converted to text: {err}")
    rtf = rtf_body(message, warn)
    return rtf_body_text(rtf) if rtf else ""


def html_body(message: MapiMessage, warn: Warn) -> str | None:
    found = message.properties.values.get(BODY_HTML)
    if found is None:
        return None
    kind, data = found
    if kind == PT_UNICODE:
        return data.decode("utf-16-le", "replace").rstrip("\0") or None
    codec = codec_for(message.properties.integer(INTERNET_CODEPAGE)) or declared_html_charset(data)
    return decode_charset(data, codec, warn).rstrip("\0") or None


def rtf_body(message: MapiMessage, warn: Warn) -> bytes | None:
    data = message.properties.binary(RTF_COMPRESSED)
    if not data:
        return None
    try:
        return decompress_rtf(data)
    except RtfError as err:
        warn(f"compressed RTF body unreadable: {err}")
        return None
