"""Telephone numbers, by libphonenumber's matcher, normalized to E.164.

Numbers written nationally are read in the case's default region, then in each country
hint; without a default region only international numbers (+…) are found. The matcher
runs with VALID leniency: a number must fit its country's numbering plan. Line breaks
count as spaces, so a number broken over two lines is found, and its raw text keeps the
break. Dates ("05.03.2024", "2024-03-05") and amounts ("1,234,567.89") that happen to
fit a numbering plan are rejected. A span found under several regions is reported once,
under the first region that found it.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Iterator

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher, PhoneNumberType

from caselens.extract.base import ExtractionContext, Extractor, Mention

_TYPES: dict[int, str] = {
    value: name.lower()
    for name, value in vars(PhoneNumberType).items()
    if name.isupper() and isinstance(value, int)
}
_DATE = re.compile(r"\d{1,4}([./-])\d{1,2}\1\d{1,4}")
_AMOUNT_AROUND = re.compile(r"\d[.,]\d")
_LINE_BREAKS = str.maketrans({"\n": " ", "\r": " ", "\v": " ", "\f": " "})


def _looks_like_date_or_amount(text: str, start: int, end: int) -> bool:
    raw = text[start:end]
    if _DATE.fullmatch(raw.strip("()[] ")):
        return True
    if re.search(r"\d,\d{3}(?!\d)", raw) and not raw.lstrip().startswith("+"):
        return True  # thousands separators
    before = text[max(0, start - 2) : start + 1]
    after = text[end - 1 : end + 2]
    return bool(_AMOUNT_AROUND.fullmatch(before) or _AMOUNT_AROUND.fullmatch(after))


def _overlaps(taken: list[tuple[int, int]], span: tuple[int, int]) -> bool:
    i = bisect_left(taken, span)
    if i < len(taken) and taken[i][0] < span[1]:
        return True
    return i > 0 and taken[i - 1][1] > span[0]


class PhoneExtractor(Extractor):
    name = "phone"
    version = "1"
    kinds = frozenset({"phone"})

    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        regions: list[str] = []
        for region in (context.default_region or "ZZ", *context.country_hints):
            if region.upper() not in regions:
                regions.append(region.upper())
        flat = text.translate(_LINE_BREAKS)  # same length: offsets hold
        taken: list[tuple[int, int]] = []  # sorted spans already reported
        found: list[Mention] = []
        for region in regions:
            matcher = PhoneNumberMatcher(
                flat, region, leniency=Leniency.VALID, max_tries=len(text) + 1
            )
            for match in matcher:
                span = (match.start, match.end)
                if _overlaps(taken, span) or _looks_like_date_or_amount(text, *span):
                    continue
                taken.insert(bisect_left(taken, span), span)
                number = match.number
                value = phonenumbers.format_number(number, PhoneNumberFormat.E164)
                detail = {
                    "region": phonenumbers.region_code_for_number(number) or "",
                    "type": _TYPES.get(phonenumbers.number_type(number), "unknown"),
                }
                found.append(self.mention("phone", value, text, span[0], span[1], **detail))
        found.sort(key=lambda m: (m.start, m.end))
        yield from found
