"""Identifier extractors, one module each, registered here in one place."""

from __future__ import annotations

from collections.abc import Sequence

from caselens.extract.base import ExtractionContext, Extractor, Mention
from caselens.extract.identifiers.banking import BicExtractor, IbanExtractor
from caselens.extract.identifiers.cards import CardExtractor
from caselens.extract.identifiers.crypto import (
    BitcoinExtractor,
    EthereumExtractor,
    LitecoinExtractor,
    MoneroExtractor,
    TronExtractor,
)
from caselens.extract.identifiers.email import EmailExtractor
from caselens.extract.identifiers.imei import ImeiExtractor
from caselens.extract.identifiers.network import DomainExtractor, IpExtractor, UrlExtractor
from caselens.extract.identifiers.phone import PhoneExtractor

EXTRACTORS: list[type[Extractor]] = [
    PhoneExtractor,
    EmailExtractor,
    IbanExtractor,
    BicExtractor,
    CardExtractor,
    ImeiExtractor,
    BitcoinExtractor,
    LitecoinExtractor,
    TronExtractor,
    EthereumExtractor,
    MoneroExtractor,
    IpExtractor,
    UrlExtractor,
    DomainExtractor,
]

# A mention inside a longer one of these kinds is part of it, not a selector of its own:
# the domain of an e-mail address or URL, the digits of an IBAN or a card read as a phone.
CONTAINED_BY: dict[str, frozenset[str]] = {
    "domain": frozenset({"email", "url"}),
    "phone": frozenset({"iban", "card", "imei", "url", "ipv4", "ipv6", "btc", "eth"}),
    "card": frozenset({"iban", "url"}),
    "imei": frozenset({"iban", "card", "url"}),
    "ipv4": frozenset({"url"}),
    "ipv6": frozenset({"url"}),
    "email": frozenset({"url"}),
}


def extract_identifiers(
    text: str,
    context: ExtractionContext | None = None,
    extractors: Sequence[type[Extractor]] | None = None,
) -> list[Mention]:
    """Every identifier in ``text``, in text order, without mentions that are part of others."""
    context = context or ExtractionContext()
    found: list[Mention] = []
    for extractor in extractors if extractors is not None else EXTRACTORS:
        found.extend(extractor().find(text, context))
    found.sort(key=lambda m: (m.start, -m.end, m.kind))
    return [m for m in found if not _inside_another(m, found)]


def _inside_another(mention: Mention, found: list[Mention]) -> bool:
    outer_kinds = CONTAINED_BY.get(mention.kind)
    if not outer_kinds:
        return False
    return any(
        other is not mention
        and other.kind in outer_kinds
        and other.start <= mention.start
        and mention.end <= other.end
        for other in found
    )
