"""Header values made readable: raw 8-bit bytes, RFC 2047 encoded words, addresses, dates.

The ``email`` package's modern policy does all of this too, but slowly and with
exceptions on hostile input; these functions are small, fast and never raise. Every
problem is reported through a ``warn`` callback so it is recorded on the item.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import getaddresses, parsedate_to_datetime

from caselens.text.decode import Decoded, decode_text

Warn = Callable[[str], None]
MIN_GUESS_BYTES = 32

_ENCODED_WORD = re.compile(r"=\?([^?\s]+)\?([QqBb])\?([^?\s]*)\?=")
# Whitespace between two adjacent encoded words is not part of the text (RFC 2047, 6.2).
_BETWEEN_WORDS = re.compile(r"(?<=\?=)[ \t\r\n]+(?==\?[^?\s]+\?[QqBb]\?)")
_FOLD = re.compile(r"\r?\n(?=[ \t])|\r(?=[ \t])")
_MESSAGE_ID = re.compile(r"<([^<>\s]+)>")
_AT_TIME = re.compile(r"\s+at\s+(?=\d)", re.IGNORECASE)
_ZONE_OFFSET = re.compile(r"(?:GMT|UTC)\s*([+-])(\d{1,2})(?::?(\d{2}))?\b", re.IGNORECASE)
_BARE_ADDRESS = re.compile(r"[^\s<>\"',;:@()\[\]]+@[^\s<>\"',;:@()\[\]]+")


@dataclass(frozen=True, slots=True)
class Party:
    """One mailbox of an address header: a display name and/or a normalised address."""

    name: str
    address: str  # lower-case, without angle brackets; "" when none was given

    @property
    def display(self) -> str:
        if self.name and self.address and self.name.lower() != self.address:
            return f"{self.name} <{self.address}>"
        return self.name or self.address


def header_text(raw: str) -> str:
    """A header value as text: raw 8-bit bytes (kept by the parser as surrogates) decoded."""
    if raw.isascii():
        return raw
    try:
        data = raw.encode("ascii", "surrogateescape")
    except UnicodeEncodeError:
        return raw  # already text (from a MAPI property, say)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return guess_text(data).text


def guess_text(data: bytes) -> Decoded:
    """Undeclared 8-bit text; too short for statistics, it is taken as Windows-1252."""
    try:
        return Decoded(data.decode("utf-8"), "utf-8", True)
    except UnicodeDecodeError:
        pass
    decoded = decode_text(data) if len(data) >= MIN_GUESS_BYTES else None
    # Text with no NUL bytes is never UTF-16/32, whatever the statistics say.
    if decoded is None or decoded.encoding.replace("_", "-").startswith(("utf-16", "utf-32")):
        return Decoded(data.decode("cp1252", "replace"), "cp1252", False)
    return decoded


def unfold(value: str) -> str:
    return _FOLD.sub("", value).strip()


def decode_words(value: str, warn: Warn) -> str:
    """Decode RFC 2047 encoded words; a word that cannot be decoded is kept as written."""
    if "=?" not in value:
        return value
    joined = _BETWEEN_WORDS.sub("", value)
    return _ENCODED_WORD.sub(lambda match: _decode_word(match, warn), joined)


def _decode_word(match: re.Match[str], warn: Warn) -> str:
    charset, encoding, text = match.group(1), match.group(2).upper(), match.group(3)
    charset = charset.split("*", 1)[0]  # RFC 2231 language suffix
    try:
        if encoding == "B":
            data = base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
        else:
            data = binascii.a2b_qp(text.encode("ascii", "replace"), header=True)
    except (binascii.Error, ValueError):
        warn(f"undecodable encoded word kept as written: {match.group(0)[:80]}")
        return match.group(0)
    return decode_charset(data, charset, warn)


def decode_charset(data: bytes, charset: str | None, warn: Warn) -> str:
    """Bytes in a declared charset; a broken or unknown one falls back to detection."""
    if charset:
        try:
            return data.decode(_codec(charset))
        except (LookupError, UnicodeDecodeError):
            pass
    decoded = guess_text(data)
    if charset and not (decoded.certain and decoded.encoding in ("utf-8", "ascii")):
        warn(f"charset {charset[:40]!r} could not decode the text; read as {decoded.encoding}")
    return decoded.text


def _codec(charset: str) -> str:
    name = charset.strip().strip('"').lower()
    # Mail clients say "unknown-8bit", "x-unknown" or "us-ascii" over 8-bit text.
    if name in ("unknown-8bit", "x-unknown", "unknown", "default", "8bit"):
        raise LookupError(name)
    return codecs.lookup(name).name


def parse_parties(raw: str, warn: Warn) -> list[Party]:
    """Mailboxes of an address header (From, To, Cc...), names decoded, addresses normalised."""
    parties, problems = _parse_parties(unfold(header_text(raw)))
    for problem in problems:
        warn(problem)
    return list(parties)


# The same recipient lists recur across a mailbox: parsing each once saves much time.
@functools.lru_cache(maxsize=8192)
def _parse_parties(value: str) -> tuple[tuple[Party, ...], tuple[str, ...]]:
    problems: list[str] = []
    parties: list[Party] = []
    for name, written in getaddresses([value]):
        address = normalise_address(written)
        # What is not an address ("<Saved by Internet Explorer>") is kept as a name.
        name = decode_words(name or ("" if address else written), problems.append)
        name = name.strip().strip('"').strip()
        if address or name:
            parties.append(Party(name, address))
    if not any(party.address for party in parties):
        # Malformed lists that the parser gave up on: keep what looks like an address.
        found = [Party("", normalise_address(found)) for found in _BARE_ADDRESS.findall(value)]
        if found:
            parties = found
    return tuple(parties), tuple(problems)


def normalise_address(address: str) -> str:
    """Lower-case address without brackets or "mailto:"; "" when it is not an address."""
    address = address.strip().strip("<>").strip()
    if address.lower().startswith("mailto:"):
        address = address[7:]
    local, at, domain = address.rpartition("@")
    if not at or not local or not domain or any(c.isspace() for c in address):
        return ""
    return address.lower()


def parse_date(raw: str, warn: Warn) -> str | None:
    """An RFC 5322 date as naive UTC ISO 8601 (FollowTheMoney's form); None if unreadable."""
    value = unfold(header_text(raw))
    for candidate in (value, _loose_date(value)):
        try:
            return iso_utc(parsedate_to_datetime(candidate))
        except (TypeError, ValueError, IndexError, OverflowError):
            continue
    warn(f"unreadable date kept only as written: {value[:80]!r}")
    return None


def _loose_date(value: str) -> str:
    """Common non-RFC forms: "16 May 2016 at 09:30:32 GMT+1", "... UTC+01:00"."""
    value = _AT_TIME.sub(" ", value)

    def offset(match: re.Match[str]) -> str:
        hours, minutes = int(match.group(2)), int(match.group(3) or 0)
        return f"{match.group(1)}{hours:02d}{minutes:02d}"

    return _ZONE_OFFSET.sub(offset, value)


def iso_utc(moment: datetime) -> str:
    if moment.tzinfo is not None:  # "-0000" (zone unknown) parses as naive: taken as UTC
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(microsecond=0).isoformat()


def message_ids(raw: str) -> list[str]:
    """Message ids of a Message-ID, In-Reply-To or References value, without brackets."""
    value = unfold(header_text(raw))
    found = _MESSAGE_ID.findall(value)
    if found:
        return list(dict.fromkeys(found))
    # Some mailers omit the brackets: a lone token is still the id.
    bare = value.strip()
    return [bare] if bare and not any(c.isspace() for c in bare) else []
