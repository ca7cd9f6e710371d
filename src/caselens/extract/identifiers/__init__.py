"""Identifier extractors, one module each, registered here in one place."""

from __future__ import annotations

from bisect import bisect_right
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


OUTER_KINDS = frozenset().union(*CONTAINED_BY.values())


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
    outer = _OuterSpans(found)
    return [m for m in found if not outer.contains(m)]


class _OuterSpans:
    """Spans of the kinds that contain others, per kind, for containment checks in
    O(log n) each (a page may hold thousands of mentions)."""

    def __init__(self, found: list[Mention]) -> None:
        self.starts: dict[str, list[int]] = {}
        self.reach: dict[str, list[int]] = {}  # furthest end of the spans started so far
        for mention in found:  # sorted by start
            if mention.kind in OUTER_KINDS:
                starts = self.starts.setdefault(mention.kind, [])
                reach = self.reach.setdefault(mention.kind, [])
                starts.append(mention.start)
                reach.append(max(mention.end, reach[-1] if reach else 0))

    def contains(self, mention: Mention) -> bool:
        for kind in CONTAINED_BY.get(mention.kind, ()):
            starts = self.starts.get(kind)
            if not starts:
                continue
            index = bisect_right(starts, mention.start) - 1
            if index >= 0 and self.reach[kind][index] >= mention.end:
                return True
        return False
