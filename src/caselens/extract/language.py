"""The language of a text, detected offline, as an ISO 639-3 code ("eng", "deu", "rus").

py3langid (BSD-3-Clause; a naive Bayes model over byte n-grams of 140 languages, shipped
inside the package) decides. FollowTheMoney's ``language`` type also uses ISO 639-3, so
codes are converted with rigour, which FollowTheMoney itself uses.
"""

from __future__ import annotations

from functools import cache
from typing import Any
from unicodedata import east_asian_width

from rigour.langs import iso_639_alpha3

# Fewer letters than this say too little (a greeting, a name, a number); a text is
# judged by its first SAMPLE_CHARS characters, which keeps a long text as fast as a page.
# A Chinese, Japanese or Korean character says about as much as a short word, so counts
# WIDE_LETTER_WEIGHT letters.
MIN_LETTERS = 20
WIDE_LETTER_WEIGHT = 3
SAMPLE_CHARS = 3_000  # on 1,500 Enron mails: the same answers as 10,000 but 3 more "none"
# Below this probability the detector is guessing between close languages (Russian and
# Ukrainian in a short chat line); no answer is better than a wrong one.
MIN_CONFIDENCE = 0.5


@cache
def _identifier() -> Any:
    from py3langid.langid import (  # type: ignore[import-untyped]
        MODEL_FILE,
        LanguageIdentifier,
    )

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def detect_language(text: str) -> str | None:
    """The ISO 639-3 code of the language ``text`` is written in, or None when the text
    is too short, has no language (numbers, code) or the detector is not confident."""
    sample = text[:SAMPLE_CHARS]
    if _letters(sample) < MIN_LETTERS:
        return None
    # Lone surrogates (undecodable bytes kept by surrogateescape) cannot be encoded.
    sample = sample.encode("utf-8", "replace").decode("utf-8")
    label, confidence = _identifier().classify(sample)
    if confidence < MIN_CONFIDENCE:
        return None
    return iso_639_alpha3(str(label))  # None for "zxx", the model's "no language"


def _letters(text: str) -> int:
    count = 0
    for character in text:
        if character.isalpha():
            wide = not character.isascii() and east_asian_width(character) == "W"
            count += WIDE_LETTER_WEIGHT if wide else 1
            if count >= MIN_LETTERS:
                break
    return count


def normalize_language(code_or_name: str) -> str | None:
    """``code_or_name`` ("en", "eng", "English", "de", "ger", "pt-BR"...) as an ISO 639-3
    code, or None when it names no language."""
    return iso_639_alpha3(code_or_name) if code_or_name.strip() else None
