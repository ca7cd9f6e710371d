"""EXIF values as Pillow returns them, made safe: text, whole numbers and exact rationals.

Evidence files can hold anything in a tag: NUL padding, bytes where text belongs, tuples
where one value belongs, rationals with a zero denominator. These helpers return None
for what is unusable rather than guessing.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, TypeGuard

MAX_TEXT = 256  # longer "camera names" are junk or an attack on the display
_CONTROL = re.compile(r"[\x00-\x1f\x7f]+")


def text(value: Any) -> str | None:
    """A tag's text without NUL padding, control characters or surrounding blanks."""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if isinstance(value, tuple) and len(value) == 1:
        return text(value[0])
    if not isinstance(value, str):
        return None
    cleaned = _CONTROL.sub(" ", value.split("\x00", 1)[0]).strip()
    return cleaned[:MAX_TEXT] or None


def whole(value: Any) -> int | None:
    """A SHORT/LONG/BYTE tag as an int (BYTE tags sometimes arrive as one-byte bytes)."""
    if isinstance(value, bytes) and len(value) == 1:
        return value[0]
    if isinstance(value, tuple) and len(value) == 1:
        return whole(value[0])
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return None


def rational(value: Any) -> Fraction | None:
    """A RATIONAL tag exactly; None for a zero denominator or a value that is no number."""
    if isinstance(value, tuple) and len(value) == 1:
        return rational(value[0])
    numerator = getattr(value, "numerator", None)
    denominator = getattr(value, "denominator", None)
    if _finite(numerator) and _finite(denominator):
        # Pillow's IFDRational keeps the raw pair, so 0/0 is still visible here.
        return None if denominator == 0 else Fraction(numerator) / Fraction(denominator)
    return Fraction(value) if _finite(value) else None


def _finite(value: Any) -> TypeGuard[float]:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return value == value and abs(value) != float("inf")


def raw(value: Any) -> Any:
    """A JSON-safe rendering of a tag for the record (rationals as "n/d")."""
    if isinstance(value, tuple):
        return [raw(part) for part in value]
    numerator = getattr(value, "numerator", None)
    denominator = getattr(value, "denominator", None)
    if isinstance(numerator, int) and isinstance(denominator, int):
        return numerator if denominator == 1 else f"{numerator}/{denominator}"
    if isinstance(value, bytes):
        return value[:MAX_TEXT].hex()
    if isinstance(value, str):
        return value[:MAX_TEXT]
    if isinstance(value, int | float):
        return value
    return None
