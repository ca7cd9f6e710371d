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
# Statistical detection is as sure from 128 KiB as from more, and its time grows with size.
DETECTION_SAMPLE = 1 << 17
WESTERN_PREFERENCE = ("cp1252", "latin_1", "iso8859_15")
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
    encoding = _guess_encoding(data[:DETECTION_SAMPLE])
    return Decoded(data.decode(encoding, errors="replace"), encoding, False)


def _guess_encoding(sample: bytes) -> str:
    matches = list(from_bytes(sample))
    if not matches:
        return "cp1252"
    best = min(matches, key=lambda m: (m.chaos, -m.coherence))
    # Single-byte code pages often fit equally well; then the commonest one is the
    # likeliest (Windows-1252 rather than, say, Windows-1250 for Western text).
    tied = {m.encoding for m in matches if (m.chaos, m.coherence) == (best.chaos, best.coherence)}
    for preferred in WESTERN_PREFERENCE:
        if preferred in tied:
            return preferred
    return str(best.encoding)


def declared_html_charset(head: bytes) -> str | None:
    match = _META_CHARSET.search(head[:4096])
    return match.group(1).decode("ascii", "replace") if match else None
