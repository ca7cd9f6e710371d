"""IMEI and IMEISV numbers of mobile devices.

Any Luhn-valid fifteen-digit number would pass the check digit, so an IMEI needs more
than that: either the word IMEI within 30 characters before it, or the layout in which
IMEIs are printed, TAC-SNR-CD with hyphens ("35-209900-176148-1" or
"35209900-176148-1"). An IMEISV (sixteen digits, no check digit) is taken only after the
keyword; its value is its sixteen digits, with detail ``svn``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from caselens.extract.base import ExtractionContext, Extractor, Mention
from caselens.extract.identifiers.cards import DIGIT_RUN, groups, luhn_ok, run_ends_cleanly

_KEYWORD = re.compile(r"imei", re.IGNORECASE)
_KEYWORD_SV = re.compile(r"imei[ /\-]?sv|software\s+version", re.IGNORECASE)
_LAYOUT = re.compile(r"\d{2}-?\d{6}-\d{6}-\d")
_WINDOW = 30


class ImeiExtractor(Extractor):
    name = "imei"
    version = "1"
    kinds = frozenset({"imei"})

    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        for run in DIGIT_RUN.finditer(text):
            if not run_ends_cleanly(text, run.end()):
                continue
            spans = groups(text, run.start(), run.end())
            count = sum(e - s for s, e in spans)
            if count not in (15, 16):
                continue
            digits = "".join(text[s:e] for s, e in spans)
            start, end = spans[0][0], spans[-1][1]
            before = text[max(0, start - _WINDOW) : start]
            if count == 15:
                layout = _LAYOUT.fullmatch(text, start, end) is not None
                if luhn_ok(digits) and (layout or _KEYWORD.search(before)):
                    yield self.mention("imei", digits, text, start, end, tac=digits[:8])
            elif _KEYWORD_SV.search(before):
                yield self.mention(
                    "imei", digits, text, start, end, tac=digits[:8], svn=digits[14:]
                )
