"""The analyzer stage: what the extractors find in one item's text, ready for the store.

Identifiers, the language of the text, and (with the ``names`` extra) names of people,
organisations and places. Mentions keep their page and offsets; the values also become
the FollowTheMoney "...Mentioned" properties of the item's document.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from caselens.extract.base import NAME_KINDS, ExtractionContext, Mention
from caselens.extract.fingerprint import display_name
from caselens.extract.identifiers import extract_identifiers
from caselens.extract.language import SAMPLE_CHARS, detect_language

# Names are looked for in this much of an item's text (about four seconds of one core
# with the small English model), so a thousand-page document cannot stall a worker.
MAX_NAME_CHARS_PER_ITEM = 200_000

MENTIONED_PROPERTY = {
    "email": "emailMentioned",
    "phone": "phoneMentioned",
    "iban": "ibanMentioned",
    "ipv4": "ipMentioned",
    "ipv6": "ipMentioned",
    "person": "peopleMentioned",
    "organization": "companiesMentioned",
    "location": "locationMentioned",
}


@dataclass(slots=True)
class Analysis:
    mentions: list[tuple[int, Mention]] = field(default_factory=list)  # (page, mention)
    language: str | None = None  # ISO 639-3
    properties: dict[str, list[str]] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


class Analyzer:
    def __init__(self, context: ExtractionContext, *, names: bool = False) -> None:
        self.context = context
        self.names = names

    def analyze(self, pages: Mapping[int, str]) -> Analysis:
        analysis = Analysis()
        ordered = sorted(pages.items())
        analysis.language = detect_language(_opening(ordered))
        for page, text in ordered:
            analysis.mentions.extend((page, m) for m in extract_identifiers(text, self.context))
        if self.names:
            self._find_names(ordered, analysis)
        for _, mention in analysis.mentions:
            prop = MENTIONED_PROPERTY.get(mention.kind)
            if prop is None:
                continue
            value = display_name(mention.raw) if mention.kind in NAME_KINDS else mention.value
            _add(analysis.properties, prop, value)
            if mention.kind in NAME_KINDS:
                _add(analysis.properties, "namesMentioned", value)
        if analysis.language:
            _add(analysis.properties, "detectedLanguage", analysis.language)
        return analysis

    def _find_names(self, pages: list[tuple[int, str]], analysis: Analysis) -> None:
        from caselens.extract.names import NameExtractor

        extractor = NameExtractor(language=analysis.language or "eng")
        budget = MAX_NAME_CHARS_PER_ITEM
        for page, text in pages:
            if budget <= 0:
                analysis.warnings.append(
                    f"names were looked for in the first {MAX_NAME_CHARS_PER_ITEM:,} "
                    "characters of the text only"
                )
                break
            part = text[:budget]
            budget -= len(part)
            analysis.mentions.extend((page, m) for m in extractor.find(part, self.context))


def _opening(pages: list[tuple[int, str]]) -> str:
    """The first SAMPLE_CHARS characters of the text, without joining every page."""
    parts: list[str] = []
    size = 0
    for _, text in pages:
        parts.append(text[: SAMPLE_CHARS - size])
        size += len(parts[-1]) + 1
        if size >= SAMPLE_CHARS:
            break
    return "\n".join(parts)


def _add(properties: dict[str, list[str]], name: str, value: str) -> None:
    values = properties.setdefault(name, [])
    if value not in values:
        values.append(value)
