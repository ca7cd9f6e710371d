"""An RFC 822 message rebuilt from a MAPI message (PST items, messages embedded in MSG).

Outlook stores a message as properties, not as its original MIME bytes, so the bytes
cannot be recovered exactly. The rebuilt message keeps the transport headers as received
(the original MIME structure headers are dropped, since the structure is new) or, when
there are none (drafts, sent items), headers made from the properties; the bodies are
new MIME parts. Children made from it are marked ``reconstructed=True``.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email import policy
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from caselens.ingest.formats.mail.headers import Party, Warn
from caselens.ingest.formats.mail.mapi import (
    BODY,
    TRANSPORT_HEADERS,
    MapiMessage,
    body_text,
    html_body,
    mail_fields,
)
from caselens.ingest.formats.mail.message import MailFields

STRUCTURE_HEADERS = frozenset(
    {
        "content-type",
        "content-transfer-encoding",
        "mime-version",
        "content-disposition",
        "content-length",
    }
)
MAX_EMBEDDING = 8


def rebuild_rfc822(
    message: MapiMessage, warn: Warn, *, with_attachments: bool, depth: int = 0
) -> bytes:
    """RFC 822 bytes for ``message``; attachments included as MIME parts if asked."""
    fields = mail_fields(message, warn)
    if message.properties.string(TRANSPORT_HEADERS, warn):
        lines = [
            f"{name}: {value}"
            for name, value in fields.headers
            if name.lower() not in STRUCTURE_HEADERS
        ]
    else:
        lines = _made_headers(fields)
    body = EmailMessage(policy=policy.SMTP)
    plain = message.properties.string(BODY, warn)
    html = html_body(message, warn)
    if plain or not html:
        body.set_content(plain or body_text(message, warn) or "")
        if html:
            body.add_alternative(html, subtype="html")
    else:
        body.set_content(html, subtype="html")
    if with_attachments:
        _attach(body, message, warn, depth)
    head = "".join(line + "\r\n" for line in lines).encode("utf-8", "replace")
    return head + body.as_bytes()


def _made_headers(fields: MailFields) -> list[str]:
    lines = []
    for role in ("from", "sender", "to", "cc", "bcc"):
        parties = fields.parties.get(role, [])
        if parties:
            lines.append(f"{role.capitalize()}: " + ", ".join(_address(p) for p in parties))
    if fields.subject:
        lines.append("Subject: " + _encoded(fields.subject))
    if fields.date:
        moment = datetime.fromisoformat(fields.date).replace(tzinfo=UTC)
        lines.append("Date: " + format_datetime(moment))
    if fields.message_id:
        lines.append(f"Message-ID: <{fields.message_id}>")
    if fields.in_reply_to:
        lines.append("In-Reply-To: " + " ".join(f"<{m}>" for m in fields.in_reply_to))
    if fields.references:
        lines.append("References: " + " ".join(f"<{m}>" for m in fields.references))
    if fields.thread_topic:
        lines.append("Thread-Topic: " + _encoded(fields.thread_topic))
    return lines


def _address(party: Party) -> str:
    if party.address:
        return formataddr((party.name, party.address), charset="utf-8")
    return _encoded(party.name)


def _encoded(text: str) -> str:
    return text if text.isascii() else Header(text, "utf-8").encode()


def _attach(body: EmailMessage, message: MapiMessage, warn: Warn, depth: int) -> None:
    for number, attachment in enumerate(message.attachments, start=1):
        name = attachment.filename(warn)
        if attachment.embedded is not None:
            if depth >= MAX_EMBEDDING:
                warn(f"messages embedded more than {MAX_EMBEDDING} deep were not read")
                continue
            data = rebuild_rfc822(attachment.embedded, warn, with_attachments=True, depth=depth + 1)
            name = f"{name or f'attachment-{number}'}.eml"
            body.add_attachment(data, "application", "octet-stream", filename=name)
        elif attachment.open_data is not None:
            # Typed as octets: the child's own bytes decide its type when it is ingested.
            name = name or f"attachment-{number}.bin"
            body.add_attachment(
                attachment.open_data(), "application", "octet-stream", filename=name
            )
