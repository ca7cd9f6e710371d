"""What the search index holds of one item, built the same way at ingest and on rebuild.

Ingest builds it in the worker from what the ingestors and extractors found; a rebuild
builds it from the same facts read back from the store, so the two give one index.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parseaddr
from typing import Any

from caselens.search.tokens import tokenize

# The item's date for date ranges and the histogram: the first of these it has.
DATE_PROPERTIES = ("date", "authoredAt", "publishedAt", "createdAt", "modifiedAt")
TITLE_PROPERTIES = ("subject", "title", "fileName")
SENDER_PROPERTIES = ("from", "sender")
RECIPIENT_PROPERTIES = ("to", "cc", "bcc")
LANGUAGE_PROPERTIES = ("language", "detectedLanguage")
# Of the kinds extractors find, those a selector query or has: can ask for.
TEXT_COLUMNS = ("title", "sender", "recipients", "body")
# Bits of search_docs.kinds, so the identifier-kind facet is counted in the same pass as
# the others. Append only: a kind keeps its bit for as long as indexes exist.
KIND_BITS = (
    "phone", "email", "iban", "bic", "card", "imei", "btc", "ltc", "trx", "eth", "xmr",
    "ipv4", "ipv6", "url", "domain", "person", "organization", "location",
)  # fmt: skip


def kinds_mask(selectors: Iterable[tuple[str, str]]) -> int:
    kinds = {kind for kind, _ in selectors}
    return sum(1 << bit for bit, kind in enumerate(KIND_BITS) if kind in kinds)


def mask_kinds(mask: int) -> list[str]:
    return [kind for bit, kind in enumerate(KIND_BITS) if mask & (1 << bit)]


@dataclass(slots=True)
class SearchDocument:
    case_id: str
    item_id: str
    generation: int
    doc_type: str  # the FollowTheMoney schema, lower case: email, pages, plaintext...
    title: str | None
    sender: str | None  # the sender's address (or name), for the sender facet
    date: str | None  # ISO 8601, UTC, second precision
    lang: str | None  # ISO 639-3
    # Tokens per column (title, sender, recipients, body), in text order, joined by
    # spaces: what FTS5 takes, and cheap to pass between processes.
    columns: dict[str, str] = field(default_factory=dict)
    selectors: set[tuple[str, str]] = field(default_factory=set)  # (kind, normalized value)


def build_document(
    case_id: str,
    item_id: str,
    generation: int,
    entity: Mapping[str, Any],
    pages: Mapping[int, str],
    selectors: Iterable[tuple[str, str]],
) -> SearchDocument:
    """The search document of an item from its own entity, its text and its mentions."""
    properties: Mapping[str, Sequence[str]] = entity.get("properties", {})
    title_values = _values(properties, TITLE_PROPERTIES)
    senders = _values(properties, SENDER_PROPERTIES)
    recipients = _values(properties, RECIPIENT_PROPERTIES)
    body = " ".join(token for page in sorted(pages) for token in tokenize(pages[page]))
    return SearchDocument(
        case_id=case_id,
        item_id=item_id,
        generation=generation,
        doc_type=str(entity.get("schema", "Document")).lower(),
        title=title_values[0] if title_values else None,
        sender=_sender_key(senders[0]) if senders else None,
        date=_first_date(properties),
        lang=_first(properties, LANGUAGE_PROPERTIES),
        columns={
            "title": " ".join(tokenize(" \n".join(title_values))),
            "sender": " ".join(tokenize(" \n".join(senders))),
            "recipients": " ".join(tokenize(" \n".join(recipients))),
            "body": body,
        },
        selectors=set(selectors),
    )


def _values(properties: Mapping[str, Sequence[str]], names: Sequence[str]) -> list[str]:
    found: list[str] = []
    for name in names:
        for value in properties.get(name, ()):
            if value not in found:
                found.append(value)
    return found


def _first(properties: Mapping[str, Sequence[str]], names: Sequence[str]) -> str | None:
    for name in names:
        values = properties.get(name)
        if values:
            return values[0]
    return None


def _first_date(properties: Mapping[str, Sequence[str]]) -> str | None:
    value = _first(properties, DATE_PROPERTIES)
    if not value:
        return None
    # Stored without a zone they are UTC already; a date alone is its first instant.
    value = value.rstrip("Z")[:19]
    if len(value) == 10:
        value += "T00:00:00"
    elif len(value) == 16:
        value += ":00"
    return value if len(value) == 19 else None


def _sender_key(display: str) -> str:
    name, address = parseaddr(display)
    return address.lower() if "@" in address else (name or display).strip()
