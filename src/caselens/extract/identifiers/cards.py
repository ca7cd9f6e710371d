"""Payment card numbers: Luhn-valid, in a known issuer range, of that issuer's length.

A run of digit groups (separated by one space or hyphen, or by a line break) proposes
candidates: the whole run, or consecutive groups of it totalling 13 to 19 digits. As
cards are printed, the first group has at least four digits and every group but the
last at least three; a Luhn-valid number with no issuer of that prefix and length
("9999 …", sixteen digits) is rejected. Test numbers such as 4111 1111 1111 1111 have
the real format and are kept.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from caselens.extract.base import ExtractionContext, Extractor, Mention

# Groups of digits with the separators people write between them.
DIGIT_RUN = re.compile(r"(?<![^\W_])\d+(?:(?:[ \-]|[ \t]{0,2}\r?\n[ \t]{0,2})\d+)*")
_GROUP = re.compile(r"\d+")


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = ord(char) - 48
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def groups(text: str, start: int, end: int) -> list[tuple[int, int]]:
    """Offsets of the digit groups between ``start`` and ``end``."""
    return [(g.start(), g.end()) for g in _GROUP.finditer(text, start, end)]


def run_ends_cleanly(text: str, end: int) -> bool:
    """No letter, digit or underscore glued to the end of a run."""
    return end >= len(text) or not (text[end].isalnum() or text[end] == "_")


def _in(prefix: int, low: int, high: int) -> bool:
    return low <= prefix <= high


def card_issuer(digits: str) -> str | None:
    """The issuer whose range and length ``digits`` fits, or None."""
    n = len(digits)
    p2, p3, p4, p6 = int(digits[:2]), int(digits[:3]), int(digits[:4]), int(digits[:6])
    if p2 in (34, 37):
        return "amex" if n == 15 else None
    if digits[0] == "4":
        return "visa" if n in (13, 16, 19) else None
    if _in(p2, 51, 55) or _in(p4, 2221, 2720):
        return "mastercard" if n == 16 else None
    if p4 == 6011 or _in(p3, 644, 649) or p2 == 65 or _in(p6, 622126, 622925):
        return "discover" if 16 <= n <= 19 else None
    if _in(p4, 3528, 3589):
        return "jcb" if 16 <= n <= 19 else None
    if _in(p3, 300, 305) or p2 in (36, 38, 39) or p4 == 3095:
        return "diners" if 14 <= n <= 19 else None
    if p2 == 62:
        return "unionpay" if 16 <= n <= 19 else None
    if p2 == 50 or _in(p2, 56, 69):
        return "maestro" if 12 <= n <= 19 else None
    return None


def _plausible_grouping(sizes: list[int]) -> bool:
    if len(sizes) == 1:
        return True
    return sizes[0] >= 4 and all(size >= 3 for size in sizes[:-1])


class CardExtractor(Extractor):
    name = "card"
    version = "1"
    kinds = frozenset({"card"})

    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        for run in DIGIT_RUN.finditer(text):
            if not run_ends_cleanly(text, run.end()):
                continue
            spans = groups(text, run.start(), run.end())
            if sum(e - s for s, e in spans) < 13:
                continue
            yield from self._cards_in(text, spans)

    def _cards_in(self, text: str, spans: list[tuple[int, int]]) -> Iterator[Mention]:
        taken_until = -1
        i = 0
        while i < len(spans):
            best: tuple[int, str, str] | None = None
            count = 0
            for j in range(i, len(spans)):
                count += spans[j][1] - spans[j][0]
                if count > 19:
                    break
                sizes = [e - s for s, e in spans[i : j + 1]]
                if count < 13 or not _plausible_grouping(sizes):
                    continue
                digits = "".join(text[s:e] for s, e in spans[i : j + 1])
                issuer = card_issuer(digits)
                if issuer and luhn_ok(digits):
                    best = (j, digits, issuer)  # keep the longest
            if best is not None and spans[i][0] > taken_until:
                j, digits, issuer = best
                start, end = spans[i][0], spans[j][1]
                yield self.mention("card", digits, text, start, end, issuer=issuer)
                taken_until = end
                i = j + 1
            else:
                i += 1
