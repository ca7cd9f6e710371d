"""Telephone numbers, by libphonenumber's matcher, normalized to E.164.

Numbers written nationally are read in the case's default region, then in each country
hint; without a default region only international numbers (+…) are found. The matcher
runs with VALID leniency: a number must fit its country's numbering plan. A number broken
over two lines is found (its raw text keeps the break), but only where no number is found
with the lines kept apart: one number per line in a signature block must not be read as
one long candidate. Dates ("05.03.2024", "2024-03-05"), amounts ("1,234,567.89") and the
tail of a time ("20:11:35 -0000") that happen to fit a numbering plan are rejected.

Also found, because people write them so: an area code with only its closing bracket
("713) 533-9149"), and an international number without its "+" after a phone keyword
("tel: 44 207 783 5424"), where the first group must be the country calling code.

The matcher only runs on windows around runs of five or more digits, which is most of
its cost saved on ordinary text. A span found under several regions is reported once,
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
# Digits with the separators numbers are written with; five digits or more make a window.
_DIGIT_RUN = re.compile(r"\d(?:[\s().\-/+]{0,4}\d)+")
_WINDOW_MARGIN = 32  # context the matcher looks at: brackets, "ext. 203", letters around
# An area code closed but never opened: "713) 533-9149" (the bracket becomes a space).
_HALF_BRACKET = re.compile(r"(?<![\d(])(\d{3})\)(?= ?\d)")
# "tel: 44 207 783 5424": a keyword, then a country code and groups, without the "+".
_PLUSLESS = re.compile(
    r"\b(?:tel|telephone|phone|fax|mobile|mob|cell|direct|tél|telefon|handy)\b\.?:?[ \t]*"
    r"(?<![+\d])(\d{1,3})((?:[ .\-][ \t]*\(?\d{1,4}\)?){2,5})(?![\d\w])",
    re.IGNORECASE,
)


def _looks_like_date_or_amount(text: str, start: int, end: int) -> bool:
    raw = text[start:end]
    if _DATE.fullmatch(raw.strip("()[] ")):
        return True
    if re.search(r"\d,\d{3}(?!\d)", raw) and not raw.lstrip().startswith("+"):
        return True  # thousands separators
    if start >= 2 and text[start - 1] == ":" and text[start - 2].isdigit():
        return True  # the seconds or the zone of a time: "20:11:35 -0000"
    before = text[max(0, start - 2) : start + 1]
    after = text[end - 1 : end + 2]
    return bool(_AMOUNT_AROUND.fullmatch(before) or _AMOUNT_AROUND.fullmatch(after))


def _overlaps(taken: list[tuple[int, int]], span: tuple[int, int]) -> bool:
    i = bisect_left(taken, span)
    if i < len(taken) and taken[i][0] < span[1]:
        return True
    return i > 0 and taken[i - 1][1] > span[0]


def _windows(text: str, broken_only: bool = False) -> list[tuple[int, int]]:
    """Merged spans around every run of five or more digits (only the runs that cross a
    line break when ``broken_only``)."""
    windows: list[tuple[int, int]] = []
    for run in _DIGIT_RUN.finditer(text):
        digits = run.group()
        if sum(char.isdigit() for char in digits) < 5:
            continue
        if broken_only and "\n" not in digits and "\r" not in digits:
            continue
        start = max(0, run.start() - _WINDOW_MARGIN)
        end = min(len(text), run.end() + _WINDOW_MARGIN)
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows


MAX_REGIONS = 4  # the case's region, its hints and the text's own, tried in this order


def _add_hints(regions: list[str], found: list[Mention]) -> None:
    for mention in found:
        region = mention.detail.get("region", "")
        international = mention.raw.lstrip("(").startswith(("+", "00"))
        if international and region and region not in regions and len(regions) < MAX_REGIONS:
            regions.append(region)


class PhoneExtractor(Extractor):
    name = "phone"
    version = "3"
    kinds = frozenset({"phone"})

    def find(self, text: str, context: ExtractionContext) -> Iterator[Mention]:
        regions: list[str] = []
        for region in (context.default_region or "ZZ", *context.country_hints):
            if region.upper() not in regions:
                regions.append(region.upper())
        # Both readings keep the text's length, so offsets hold.
        kept = _HALF_BRACKET.sub(r"\1 ", text)
        flat = kept.translate(_LINE_BREAKS)
        taken: list[tuple[int, int]] = []  # sorted spans already reported
        found: list[Mention] = []

        def report(span: tuple[int, int], number: phonenumbers.PhoneNumber) -> None:
            taken.insert(bisect_left(taken, span), span)
            value = phonenumbers.format_number(number, PhoneNumberFormat.E164)
            detail = {
                "region": phonenumbers.region_code_for_number(number) or "",
                "type": _TYPES.get(phonenumbers.number_type(number), "unknown"),
            }
            found.append(self.mention("phone", value, text, span[0], span[1], **detail))

        readings = ((kept, _windows(text)), (flat, _windows(text, broken_only=True)))
        for reading, windows in readings:
            # The list grows while it is walked: the countries of numbers written
            # internationally in this text are hints for the numbers written nationally.
            for region in regions:
                for window_start, window_end in windows:
                    window = reading[window_start:window_end]
                    matcher = PhoneNumberMatcher(
                        window, region, leniency=Leniency.VALID, max_tries=len(window) + 1
                    )
                    for match in matcher:
                        span = (window_start + match.start, window_start + match.end)
                        if _overlaps(taken, span) or _looks_like_date_or_amount(text, *span):
                            continue
                        report(span, match.number)
                _add_hints(regions, found)
        for written in _PLUSLESS.finditer(flat):
            span = (written.start(1), written.end(2))
            if _overlaps(taken, span):
                continue
            digits = re.sub(r"\D", "", written.group(1) + written.group(2))
            try:
                number = phonenumbers.parse("+" + digits, None)
            except phonenumbers.NumberParseException:
                continue
            if number.country_code == int(written.group(1)) and phonenumbers.is_valid_number(
                number
            ):
                report(span, number)
        found.sort(key=lambda m: (m.start, m.end))
        yield from found
