"""Checks on the values every reader meets: ISO 4217 currencies and amounts.

Currencies come from the Unicode CLDR territory data that Babel ships (every currency
that is or was legal tender somewhere, so a 2022 statement in HRK still reads), plus the
ISO 4217 precious-metal and SDR codes and XBT for bitcoin, which exchanges use though ISO
has no code for it. A three-letter string that is none of these is refused.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from functools import cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from babel.core import get_global

_SPECIAL_CODES = frozenset({"XAU", "XAG", "XPD", "XPT", "XDR", "XBT"})
# An unsigned decimal number with "." as separator, as the vectorised readers see it
# after a mapping's own separators have been rewritten.
NUMBER_PATTERN = r"^\s*\+?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"
_SIGNED_NUMBER = r"^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$"


@cache
def iso_currencies() -> frozenset[str]:
    """Every ISO 4217 code a payment may carry (current and former tender)."""
    codes: set[str] = set(_SPECIAL_CODES)
    for spans in get_global("territory_currencies").values():
        codes.update(span[0] for span in spans)
    return frozenset(code for code in codes if re.fullmatch(r"[A-Z]{3}", code))


def is_currency(code: str | None) -> bool:
    return code is not None and code in iso_currencies()


def currency_array() -> pa.Array:
    return pa.array(sorted(iso_currencies()))


def decimal_amount(text: str | None) -> Decimal | None:
    """An amount written with "." as separator (ISO 20022, normalised MT940); None if not."""
    if text is None or not re.fullmatch(_SIGNED_NUMBER, text):
        return None
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        return None
    return value if value.is_finite() else None


def amount_problem(amount: float | Decimal | None) -> str | None:
    """Why an amount cannot be a payment's, or None when it can."""
    if amount is None:
        return "unparseable amount"
    number = float(amount)
    if not math.isfinite(number):
        return "amount is not a finite number"
    if number < 0:
        return "negative amount"
    return None


def parse_amount_column(
    text: pa.Array, *, decimal: str = ".", thousands: str | None = None, signed: bool = False
) -> tuple[pa.Array, np.ndarray]:
    """Amounts from text, vectorised: float64 values (0 where bad) and a mask of the bad.

    ``decimal`` and ``thousands`` are the source's separators; ``signed`` lets a leading
    minus through (statement exports with one signed amount column).
    """
    cleaned = pc.utf8_trim_whitespace(text)
    if thousands:
        cleaned = pc.replace_substring(cleaned, thousands, "")
    if decimal != ".":
        cleaned = pc.replace_substring(cleaned, decimal, ".")
    pattern = _SIGNED_NUMBER if signed else NUMBER_PATTERN
    valid = pc.fill_null(pc.match_substring_regex(cleaned, pattern), False)
    numbers = pc.cast(pc.if_else(valid, cleaned, "0"), pa.float64())
    bad = ~np.asarray(valid, dtype=bool) | ~np.isfinite(np.asarray(numbers))
    return numbers, bad


def currency_column(
    text: pa.Array, aliases: dict[str, str] | None = None
) -> tuple[pa.Array, np.ndarray]:
    """ISO codes from text (upper-cased; ``aliases`` maps the source's own names first)."""
    keys = list(aliases or {})
    upper = pc.utf8_upper(pc.utf8_trim_whitespace(text))
    if keys:
        position = pc.index_in(pc.utf8_trim_whitespace(text), value_set=pa.array(keys))
        renamed = pc.take(pa.array([aliases[key] for key in keys] if aliases else []), position)
        upper = pc.coalesce(renamed, upper)
    known = pc.fill_null(pc.is_in(upper, value_set=currency_array()), False)
    return pc.fill_null(upper, ""), ~np.asarray(known, dtype=bool)
