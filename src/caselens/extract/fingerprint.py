"""Fingerprints of names, so that spellings and scripts of one name meet.

"Владимир Путин", "Vladimir Putin", "PUTIN, Vladimir" and "Mr Vladimir  Putin" all give
``"putin vladimir"``: the name is transliterated to Latin ASCII, lower-cased, stripped of
punctuation, titles and a leading "The", company forms are written one way ("Limited" and
"Ltd" both give ``ltd``), and the words are sorted so their order does not matter.

What it deliberately does not do: drop company forms ("Deutsche Bank" and "Deutsche Bank
AG" may be different legal entities, so they stay apart), or match different
romanizations of one name ("Yuliya" and "Yulia" stay apart; that needs fuzzy matching).
Cyrillic is romanized by BGN/PCGN (Шойгу → shoygu, Ходорковский → khodorkovskiy), the
system English-language sources and sanctions lists mostly follow; Greek by UNGEGN.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache

import icu  # type: ignore[import-untyped]
from rigour.names import remove_org_prefixes, remove_person_prefixes, replace_org_types_compare

# Script-specific romanizations first; Any-Latin catches every other script.
_TRANSLITERATION = "Russian-Latin/BGN; Greek-Latin/UNGEGN; Any-Latin; Latin-ASCII"
_APOSTROPHES = "'’‘`ʼ´"
_JOINERS = re.compile(rf"[{_APOSTROPHES}.]")  # O'Brien → obrien, J.P. → jp
_NOT_WORD = re.compile(r"[\W_]+")
_POSSESSIVE = re.compile(rf"(?<=\w)[{_APOSTROPHES}]s?$", re.IGNORECASE)
_SPACES = re.compile(r"\s+")
_EDGE_JUNK = '"“”„«»‹›()[]{}<>,;:!?*•·-–—/\\|' + _APOSTROPHES


@cache
def _transliterator() -> icu.Transliterator:
    return icu.Transliterator.createInstance(_TRANSLITERATION)


def to_ascii(text: str) -> str:
    """``text`` romanized to Latin ASCII (Cyrillic by BGN/PCGN, Greek by UNGEGN)."""
    if text.isascii():
        return text
    return str(_transliterator().transliterate(text))


@lru_cache(maxsize=65536)  # names repeat a lot within a case
def name_fingerprint(name: str) -> str:
    """The normalized form of ``name`` that its other spellings share; ``""`` when
    nothing of a name is left (only punctuation, titles or symbols)."""
    text = _strip_possessive(_SPACES.sub(" ", unicodedata.normalize("NFKC", name)).strip())
    text = remove_person_prefixes(remove_org_prefixes(text))
    # Company forms are canonicalized before and after romanization: the table holds
    # forms in their own scripts ("gesellschaft mit beschränkter haftung") and romanized.
    text = replace_org_types_compare(text.casefold())
    text = to_ascii(text).lower()
    text = _NOT_WORD.sub(" ", _JOINERS.sub("", text)).strip()
    if not text:
        return ""
    text = replace_org_types_compare(text)
    return " ".join(sorted(text.split()))


def display_name(raw: str) -> str:
    """A name as written, tidied for showing: one space between words, no surrounding
    quotes or punctuation, no possessive "'s". Case and script are kept."""
    text = _SPACES.sub(" ", unicodedata.normalize("NFKC", raw)).strip(" " + _EDGE_JUNK)
    return _strip_possessive(text).strip(" " + _EDGE_JUNK)


def _strip_possessive(text: str) -> str:
    return _POSSESSIVE.sub("", text)
