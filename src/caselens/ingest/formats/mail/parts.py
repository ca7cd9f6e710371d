"""The MIME tree of a message: body text (plain preferred over HTML) and attachments.

Text parts that are the message's body become the item's text; every other leaf
(attachments, inline images, calendar invitations) and every embedded message becomes
a child item, which the pipeline ingests again.
"""

from __future__ import annotations

import mimetypes
from email import policy
from email.message import Message

from caselens.ingest.formats.mail.headers import decode_charset, decode_words, header_text
from caselens.ingest.sink import Sink
from caselens.text.html import html_to_text

BODY_TYPES = frozenset({"text/plain", "text/html"})
# Delivery reports are read as text: a bounce's reason is the evidence.
REPORT_TYPES = frozenset(
    {"message/delivery-status", "message/disposition-notification", "text/rfc822-headers"}
)
ENCRYPTED_TYPES = frozenset({"multipart/encrypted", "application/pkcs7-mime"})
MAX_PARTS = 10_000
MAX_NESTING = 100


class _Walk:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.texts: list[str] = []
        self.attachments = 0
        self.parts = 0


def add_parts(message: Message, sink: Sink) -> None:
    """Add the body text and the attachments of ``message`` to the sink."""
    walk = _Walk(sink)
    _visit(message, walk, text_wanted=True, depth=0)
    sink.add_text(unix_newlines("\n\n".join(text for text in walk.texts if text.strip())))


def unix_newlines(text: str) -> str:
    """Text with CRLF and bare CR line ends as LF, whatever the mail's line ends were."""
    return text.replace("\r\n", "\n").replace("\r", "\n") if "\r" in text else text


def _visit(part: Message, walk: _Walk, text_wanted: bool, depth: int) -> None:
    walk.parts += 1
    if walk.parts > MAX_PARTS or depth > MAX_NESTING:
        walk.sink.warn(
            f"more than {MAX_PARTS} MIME parts or {MAX_NESTING} levels: the rest were not read"
        )
        return
    content_type = part.get_content_type()
    if content_type in ENCRYPTED_TYPES:
        walk.sink.warn(f"the message body is encrypted ({content_type})")
    if content_type == "message/rfc822" or content_type == "message/global":
        _embedded_message(part, walk)
    elif content_type in REPORT_TYPES and text_wanted:
        walk.texts.append(_report_text(part))
    elif part.is_multipart():
        subparts = [sub for sub in part.get_payload() if isinstance(sub, Message)]
        if content_type == "multipart/alternative" and subparts:
            chosen = _preferred_alternative(subparts)
            wanted = text_wanted
            # An empty preferred version (a blank text/plain beside the HTML) falls back
            # to the next one that has text.
            for sub in [chosen, *(sub for sub in subparts if sub is not chosen)]:
                before = len(walk.texts)
                _visit(sub, walk, wanted, depth + 1)
                if any(text.strip() for text in walk.texts[before:]):
                    wanted = False
        else:
            for sub in subparts:
                _visit(sub, walk, text_wanted, depth + 1)
    elif content_type in BODY_TYPES and not _is_attachment(part):
        if text_wanted:
            walk.texts.append(_body_text(part, content_type, walk.sink))
    else:
        _attachment(part, content_type, walk)


def _preferred_alternative(subparts: list[Message]) -> Message:
    """The alternative whose text to keep: plain text first, then the richest (last) one."""
    for sub in subparts:
        if _contains_plain(sub):
            return sub
    return subparts[-1]


def _contains_plain(part: Message) -> bool:
    if part.is_multipart():
        return any(_contains_plain(sub) for sub in part.get_payload() if isinstance(sub, Message))
    return part.get_content_type() == "text/plain" and not _is_attachment(part)


def _is_attachment(part: Message) -> bool:
    return part.get_content_disposition() == "attachment" or part.get_filename() is not None


def _body_text(part: Message, content_type: str, sink: Sink) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes) or not payload:
        return ""
    text = decode_charset(payload, part.get_content_charset(), sink.warn)
    if content_type == "text/html":
        try:
            text, _title = html_to_text(text)
        except (AssertionError, ValueError) as err:  # html.parser's own failures
            sink.warn(f"HTML body could not be converted to text: {err}")
            return ""
    return text.strip()


def _report_text(part: Message) -> str:
    payload = part.get_payload()
    blocks = payload if isinstance(payload, list) else [part.get_payload(decode=True)]
    texts = []
    for block in blocks:
        if isinstance(block, Message):
            data = _serialised(block)
        else:
            data = block if isinstance(block, bytes) else b""
        texts.append(data.decode("utf-8", "replace").strip())
    return "\n\n".join(texts)


def _attachment(part: Message, content_type: str, walk: _Walk) -> None:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        walk.sink.warn(f"a {content_type} part has no readable content")
        return
    walk.attachments += 1
    name = _filename(part, walk) or _location_name(part)
    if not name:
        extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
        name = f"attachment-{walk.attachments}{extension}"
    metadata: dict[str, str] = {"content_type": content_type}
    disposition = part.get_content_disposition()
    if disposition:
        metadata["disposition"] = disposition
    content_id = part.get("Content-ID")
    if isinstance(content_id, str):
        metadata["content_id"] = header_text(content_id).strip()
    walk.sink.add_child(name.encode("utf-8", "surrogatepass"), payload, **metadata)


def _filename(part: Message, walk: _Walk) -> str | None:
    try:
        name = part.get_filename()
    except (LookupError, UnicodeError, ValueError):  # a broken RFC 2231 charset
        walk.sink.warn("an attachment's file name could not be decoded")
        return None
    if not name:
        return None
    return decode_words(header_text(name), walk.sink.warn).strip() or None


def _location_name(part: Message) -> str | None:
    """The last segment of a Content-Location (saved web pages name their parts so)."""
    location = part.get("Content-Location")
    if not isinstance(location, str):
        return None
    segment = header_text(location).strip().split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return segment or None


def _embedded_message(part: Message, walk: _Walk) -> None:
    payload = part.get_payload()
    if isinstance(payload, list) and payload and isinstance(payload[0], Message):
        data = _serialised(payload[0])
    else:
        decoded = part.get_payload(decode=True)  # an encoded message/rfc822 body
        data = decoded if isinstance(decoded, bytes) else b""
    if not data.strip():
        walk.sink.warn("an embedded message is empty")
        return
    walk.attachments += 1
    name = _filename(part, walk) or f"attachment-{walk.attachments}.eml"
    metadata = {"content_type": "message/rfc822"}
    disposition = part.get_content_disposition()
    if disposition:
        metadata["disposition"] = disposition
    walk.sink.add_child(name.encode("utf-8", "surrogatepass"), data, **metadata)


def _serialised(message: Message) -> bytes:
    # compat32 writes the parsed headers back as they were read (raw, folded as found).
    try:
        return message.as_bytes(policy=policy.compat32)
    except (LookupError, UnicodeError, ValueError, TypeError):
        return b""  # reported by the caller as an unreadable (empty) part
