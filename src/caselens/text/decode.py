"""Decode bytes whose charset is unknown, saying which charset was used and how sure we are."""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass

from charset_normalizer import from_bytes

BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str
    certain: bool  # False when the charset was guessed and the text may be wrong


def decode_text(data: bytes, declared: str | None = None) -> Decoded:
    """BOM, then a declared charset, then strict UTF-8, then statistical detection."""
    for bom, encoding in BOMS:
        if data.startswith(bom):
            return Decoded(data.decode(encoding, errors="replace"), encoding, True)
    if declared:
        try:
            return Decoded(data.decode(declared), codecs.lookup(declared).name, True)
        except (LookupError, UnicodeDecodeError):
            pass
    try:
        return Decoded(data.decode("utf-8"), "utf-8", True)
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[: 1 << 20]).best()
    if best is not None and best.encoding:
        return Decoded(data.decode(best.encoding, errors="replace"), best.encoding, False)
    return Decoded(data.decode("latin-1"), "latin-1", False)


def declared_html_charset(head: bytes) -> str | None:
    match = _META_CHARSET.search(head[:4096])
    return match.group(1).decode("ascii", "replace") if match else None
