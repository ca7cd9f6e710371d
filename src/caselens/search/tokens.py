"""The one tokenizer both search backends index with and every query goes through.

Tokens are runs of letters and digits of any script, case-folded, in compatibility
decomposition with diacritics removed ("Müller" -> "muller", "ﬁne" -> "fine").
caselens tokenizes itself rather than leaving it to FTS5's unicode61 or PostgreSQL's
parser, because the two split text differently (an e-mail address is one token to
PostgreSQL, three to FTS5): with one tokenizer, the same query finds the same items on
either database.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator

VERSION = "1"

# Longer runs are encoded blobs (base64, hex dumps), not words anyone searches for.
MAX_TOKEN_CHARS = 64

_ASCII_TOKEN = re.compile(r"[a-z0-9]+")
_TOKEN = re.compile(r"[^\W_]+")
# Combining diacritical marks, dropped after decomposition.
_MARK = re.compile(r"[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
# Symbols that decompose into letters or digits ("™" -> "TM", "㎏" -> "kg", "⒜"): they
# separate words, as written, instead of joining the words around them.
_SYMBOLS = re.compile(
    "[\u0345\u20a8\u2100\u2101\u2103\u2105\u2106\u2109\u2116\u2120-\u2122\u213b"
    "\u249c-\u24e9\u2e9f\u2ef3\u2f00-\u2fd5\u3196-\u319f\u3200-\u321e\u322a-\u3247"
    "\u3250\u3260-\u327e\u328a-\u32b0\u32c0-\u33ff\ufdfc\U0001f110-\U0001f12e"
    "\U0001f130-\U0001f14f\U0001f16a-\U0001f16c\U0001f190\U0001f200-\U0001f202"
    "\U0001f210-\U0001f23b\U0001f240-\U0001f248\U0001f250\U0001f251]"
)


def tokenize(text: str) -> list[str]:
    """The tokens of ``text``, in order."""
    found = _ASCII_TOKEN.findall(text.lower()) if text.isascii() else _TOKEN.findall(_fold(text))
    return [token for token in found if len(token) <= MAX_TOKEN_CHARS]


def tokens_with_offsets(text: str) -> Iterator[tuple[str, int, int]]:
    """Each token of ``text`` with the span of ``text`` it came from, for highlighting.

    Yields the tokens ``tokenize`` returns, in the same order. Slower than ``tokenize``
    on text that is not ASCII (it folds character by character to keep offsets).
    """
    if text.isascii():
        for match in _ASCII_TOKEN.finditer(text.lower()):
            if match.end() - match.start() <= MAX_TOKEN_CHARS:
                yield match.group(), match.start(), match.end()
        return
    pieces: list[str] = []
    origin: list[int] = []  # for each folded character, the index it came from
    for index, char in enumerate(text):
        folded = char.lower() if char.isascii() else _fold(char)
        pieces.append(folded)
        origin.extend([index] * len(folded))
    for match in _TOKEN.finditer("".join(pieces)):
        if match.end() - match.start() <= MAX_TOKEN_CHARS:
            yield match.group(), origin[match.start()], origin[match.end() - 1] + 1


def _fold(text: str) -> str:
    return _MARK.sub("", unicodedata.normalize("NFKD", _SYMBOLS.sub(" ", text).casefold()))
