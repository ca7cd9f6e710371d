"""What every identifier extractor shares: the mention it reports and the interface.

A pattern only proposes a candidate; the extractor's validator decides (checksums,
numbering plans, issuer ranges). Offsets are character offsets into the text given,
which is one page of an item, so a mention can be shown in place.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import ClassVar

# The kinds of names (as opposed to identifiers) the name extractor reports.
NAME_KINDS = ("person", "organization", "location")
# Entity properties whose values are selectors (a contact's phone, an account's e-mail),
# and the selector kind of each.
IDENTIFIER_PROPERTIES = {"email": "email", "phone": "phone", "iban": "iban"}


def identifier_value(kind: str, value: str) -> str:
    """A property's value as the selector it is: e-mail addresses compare lower-cased."""
    return value.lower() if kind == "email" else value


@dataclass(frozen=True, slots=True)
class ExtractionContext:
    """What an extractor may know of the case: its default region and country hints."""

    default_region: str | None = None  # ISO 3166-1 alpha-2, for numbers written nationally
    country_hints: tuple[str, ...] = ()  # more regions to try, most likely first


@dataclass(frozen=True, slots=True)
class Mention:
    kind: str  # phone, email, iban, bic, card, imei, btc, eth, ipv4, ipv6, url, domain, ...
    value: str  # the normalized value: what a selector query matches
    raw: str  # the text exactly as found (text[start:end])
    start: int
    end: int
    extractor: str
    version: str
    detail: dict[str, str] = field(default_factory=dict)  # e.g. country, issuer, network


class Extractor(ABC):
    """One kind (or a family of kinds) of identifier."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    kinds: ClassVar[frozenset[str]]

    @abstractmethod
    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        """Every valid identifier in ``text``, with its offsets."""

    def mention(
        self, kind: str, value: str, text: str, start: int, end: int, **detail: str
    ) -> Mention:
        return Mention(kind, value, text[start:end], start, end, self.name, self.version, detail)
