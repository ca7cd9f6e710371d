"""What a hash list yields: entries, and a report of the lines that could not be read."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from caselens.errors import InvalidInput


class Algorithm(StrEnum):
    MD5 = "md5"
    SHA1 = "sha1"
    SHA256 = "sha256"
    PDQ = "pdq"


# Cryptographic hashes told apart by their length in hex digits.
CRYPTOGRAPHIC_BY_LENGTH = {32: Algorithm.MD5, 40: Algorithm.SHA1, 64: Algorithm.SHA256}
PDQ_HEX_LENGTH = 64
HEX_DIGITS = frozenset("0123456789abcdef")
MAX_LABEL = 1024  # a label is a file name or a note: longer text is cut
KEPT_PROBLEMS = 100  # bad lines spelled out; the rest are only counted


class UnreadableList(InvalidInput):
    """The file is not a hash list of the format given or found, or cannot be read."""


class HashEntry(NamedTuple):
    """One hash of a list, lower-case hex, with the PDQ quality and a label when known.

    A named tuple: lists run to hundreds of millions of entries, and tuples are built
    several times faster than frozen dataclasses.
    """

    algorithm: Algorithm
    value: str
    quality: int | None = None
    label: str | None = None


@dataclass(slots=True)
class ParseReport:
    """Counts of one list's lines and entries, and where the bad lines are."""

    format: str
    lines: int = 0
    entries: int = 0
    by_algorithm: dict[str, int] = field(default_factory=dict)  # keyed by Algorithm
    bad_lines: int = 0
    problems: list[tuple[int, str]] = field(default_factory=list)  # (line, reason)

    def bad(self, line: int, reason: str) -> None:
        self.bad_lines += 1
        if len(self.problems) < KEPT_PROBLEMS:
            self.problems.append((line, reason))

    def counted(self, entry: HashEntry) -> HashEntry:
        self.entries += 1
        counts = self.by_algorithm
        counts[entry.algorithm] = counts.get(entry.algorithm, 0) + 1
        return entry

    def summary(self) -> str:
        """One line for people: what was read and where the first bad lines are."""
        counts = ", ".join(f"{n} {name}" for name, n in sorted(self.by_algorithm.items()))
        text = f"{self.entries} hashes ({counts or 'none'}) from {self.lines} lines"
        if self.bad_lines:
            shown = "; ".join(f"line {line}: {reason}" for line, reason in self.problems[:3])
            text += f"; {self.bad_lines} bad lines skipped ({shown})"
        return text


def clean_hex(text: str) -> str | None:
    """Lower-case hex digits, or None when ``text`` has anything else in it."""
    value = text.strip().lower()
    if value and HEX_DIGITS.issuperset(value):
        return value
    return None


def cryptographic(text: str, label: str | None = None) -> HashEntry | None:
    """An MD5, SHA-1 or SHA-256 entry from hex digits; None when it is none of them."""
    value = clean_hex(text)
    if value is None or len(value) not in CRYPTOGRAPHIC_BY_LENGTH:
        return None
    return HashEntry(CRYPTOGRAPHIC_BY_LENGTH[len(value)], value, None, label)


def clean_label(text: str | None) -> str | None:
    if text is None:
        return None
    # NUL cannot be stored in PostgreSQL text; other control characters are kept as seen.
    label = text.replace("\x00", "\\x00").strip()
    return label[:MAX_LABEL] or None
