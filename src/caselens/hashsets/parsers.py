"""Parsers of hash-list formats, one function each, registered in FORMATS.

Every parser streams: it yields entries as it reads and counts lines, entries and bad
lines (with their numbers) in a ParseReport, so a list of any size is read in constant
memory and one bad line never loses the others.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from caselens.hashsets.entries import (
    PDQ_HEX_LENGTH,
    Algorithm,
    HashEntry,
    ParseReport,
    UnreadableList,
    clean_hex,
    clean_label,
    cryptographic,
)
from caselens.hashsets.lines import UTF16_BOMS, text_lines
from caselens.hashsets.nsrl_sqlite import SQLITE_HEADER, rds3_entries

Parser = Callable[[Path, ParseReport], Iterator[HashEntry]]
OVERLONG = "line longer than 64 KiB"


def plain_entries(path: Path, report: ParseReport) -> Iterator[HashEntry]:
    """One MD5, SHA-1 or SHA-256 a line, alone or as md5sum/sha256sum (GNU or BSD) write it."""
    for number, line in _lines(path, report):
        entry, reason = _plain_line(line)
        if entry is None:
            report.bad(number, reason)
        else:
            yield report.counted(entry)


# GNU: "<hex>  <name>" or "<hex> *<name>" (binary mode); a leading backslash means the
# name has \\ and \n escaped. BSD: "SHA256 (<name>) = <hex>".
_GNU_LINE = re.compile(r"^(\\?)([0-9A-Fa-f]+)(?:([ \t])(.*))?$")
_BSD_LINE = re.compile(r"^(MD5|SHA-?1|SHA-?256|SHA2-256) ?\((.*)\) ?= ?([0-9A-Fa-f]+)$")
_BSD_ALGORITHMS = {"MD5": "md5", "SHA1": "sha1", "SHA-1": "sha1"} | dict.fromkeys(
    ("SHA256", "SHA-256", "SHA2-256"), "sha256"
)


def _plain_line(line: str) -> tuple[HashEntry | None, str]:
    label: str | None
    if bsd := _BSD_LINE.match(line):
        named, label, digits = bsd.groups()
        wanted = _BSD_ALGORITHMS[named]
    elif gnu := _GNU_LINE.match(line):
        escaped, digits, separator, rest = gnu.groups()
        wanted = None
        # "<hex>  <name>" (text) or "<hex> *<name>" (binary), as the tools write them;
        # a list written by hand may put any blank between.
        label = rest[1:] if separator == " " and rest[:1] in (" ", "*") else rest
        if escaped and label:
            label = label.replace("\\n", "\n").replace("\\\\", "\\")
    else:
        return None, "not a hash"
    entry = cryptographic(digits, clean_label(label) if label else None)
    if entry is None:
        return None, f"{len(digits)} hex digits: neither MD5 (32), SHA-1 (40) nor SHA-256 (64)"
    if wanted is not None and entry.algorithm != wanted:
        return None, f"{len(digits)} hex digits cannot be {wanted}"
    return entry, ""


def pdq_entries(path: Path, report: ParseReport) -> Iterator[HashEntry]:
    """PDQ hashes: "hash,quality[,label]" or one 64-hex hash a line; a header may lead."""
    first = True
    for number, line in _lines(path, report):
        fields = line.split(",", 2)
        if first and clean_hex(fields[0]) is None and fields[0].strip().isidentifier():
            first = False
            continue  # a header such as "hash,quality,label"
        first = False
        digits = clean_hex(fields[0])
        if digits is None or len(digits) != PDQ_HEX_LENGTH:
            report.bad(number, f"not a PDQ hash (64 hex digits): {fields[0][:80]!r}")
            continue
        quality: int | None = None
        if len(fields) > 1 and fields[1].strip():
            try:
                quality = int(fields[1])
            except ValueError:
                quality = -1
            if not 0 <= quality <= 100:
                report.bad(number, f"quality {fields[1].strip()[:20]!r} is not 0-100")
                continue
        label = clean_label(fields[2]) if len(fields) > 2 else None
        yield report.counted(HashEntry(Algorithm.PDQ, digits, quality, label))


def nsrl_rds2_entries(path: Path, report: ParseReport) -> Iterator[HashEntry]:
    """NSRL RDS 2.x NSRLFile.txt: quoted CSV whose header names the columns."""
    layout: _Rds2Layout | None = None
    for number, line in _lines(path, report):
        fields = _csv_fields(line, layout.width if layout else 0)
        if fields is None:
            report.bad(number, "not CSV (unbalanced quotes)")
            continue
        if layout is None:
            layout = _rds2_layout(fields)
            if layout is None:
                raise UnreadableList(
                    f"{path.name}: line {number} is not an NSRL header "
                    '("SHA-1","MD5","CRC32","FileName",...)'
                )
            continue
        if len(fields) != layout.width:
            report.bad(number, f"{len(fields)} fields where the header has {layout.width}")
            continue
        label = clean_label(fields[layout.label]) if layout.label is not None else None
        problems = []
        for algorithm, index in layout.hashes:
            raw = fields[index]
            entry = cryptographic(raw, label)
            if entry is None or entry.algorithm is not algorithm:
                problems.append(f"bad {algorithm} {raw[:80]!r}")
                continue
            yield report.counted(entry)
        if problems:
            report.bad(number, "; ".join(problems))


def _csv_fields(line: str, width: int) -> list[str] | None:
    """The fields of one CSV line; None when its quotes do not balance."""
    # Most NSRL lines have no comma or quote inside a field: splitting them is ten
    # times faster than the csv module, which reads the rest.
    fields = line.split(",")
    if len(fields) == width and '""' not in line:
        unquoted = [f[1:-1] if f[:1] == '"' and f[-1:] == '"' and len(f) > 1 else f for f in fields]
        if not any('"' in field for field in unquoted):
            return unquoted
    try:
        return next(csv.reader([line], strict=True))
    except (csv.Error, StopIteration):
        return None


@dataclass(frozen=True, slots=True)
class _Rds2Layout:
    width: int
    hashes: list[tuple[Algorithm, int]]
    label: int | None


_RDS2_NAMES = {
    "sha-1": Algorithm.SHA1,
    "sha1": Algorithm.SHA1,
    "md5": Algorithm.MD5,
    "sha-256": Algorithm.SHA256,
    "sha256": Algorithm.SHA256,
}


def _rds2_layout(header: list[str]) -> _Rds2Layout | None:
    hashes: dict[Algorithm, int] = {}
    label = None
    for index, name in enumerate(header):
        key = name.strip().lower()
        if key in _RDS2_NAMES:
            hashes.setdefault(_RDS2_NAMES[key], index)
        elif key == "filename" and label is None:
            label = index
    if not {Algorithm.SHA1, Algorithm.MD5} & hashes.keys():
        return None
    order: tuple[Algorithm, ...] = (Algorithm.SHA256, Algorithm.SHA1, Algorithm.MD5)
    ordered = [(algorithm, hashes[algorithm]) for algorithm in order if algorithm in hashes]
    return _Rds2Layout(len(header), ordered, label)


def _lines(path: Path, report: ParseReport) -> Iterator[tuple[int, str]]:
    """Lines with content: blank lines and # comments skipped, overlong ones reported."""
    try:
        for number, line in text_lines(path):
            report.lines = number
            if line is None:
                report.bad(number, OVERLONG)
                continue
            if "\x00" in line:
                report.bad(number, "binary data (NUL bytes)")
                continue
            text = line.strip()
            if text and not text.startswith("#"):
                yield number, text
    except OSError as err:
        raise UnreadableList(f"cannot read {path}: {err.strerror or err}") from err


FORMATS: dict[str, Parser] = {
    "nsrl-rds2": nsrl_rds2_entries,
    "nsrl-rds3": rds3_entries,
    "plain": plain_entries,
    "pdq": pdq_entries,
}

_PDQ_LINE = re.compile(r"^[0-9A-Fa-f]{64}\s*,\s*\d+\s*(,|$)")
HEAD_BYTES = 64 * 1024


def detect_format(path: Path) -> str:
    """The format of a list from its content: SQLite structure, NSRL header, PDQ lines.

    A bare 64-hex line is SHA-256 or PDQ alike; such lists read as SHA-256 unless the
    format "pdq" is given.
    """
    try:
        with path.open("rb") as stream:
            head = stream.read(HEAD_BYTES)
    except OSError as err:
        raise UnreadableList(f"cannot read {path}: {err.strerror or err}") from err
    if head.startswith(SQLITE_HEADER):
        return "nsrl-rds3"
    if head[:2] in UTF16_BOMS:
        text = head.decode("utf-16", errors="replace")
    elif b"\x00" in head:
        raise UnreadableList(f"{path.name} is a binary file of no known hash-list format")
    else:
        text = head.decode("utf-8", errors="replace").removeprefix("\ufeff")
    lines = [line.strip() for line in text.splitlines()]
    first = next((line for line in lines if line and not line.startswith("#")), "")
    header = first.lower().replace('"', "")
    if header.startswith(("sha-1,", "sha1,")) or ("sha-1" in header and ",md5," in header):
        return "nsrl-rds2"
    if _PDQ_LINE.match(first) or header.replace(" ", "").startswith(("hash,quality", "pdq,")):
        return "pdq"
    return "plain"


@dataclass(slots=True)
class HashList:
    """A list file opened in one format; iterate ``entries()`` once, then read ``report``."""

    path: Path
    format: str
    report: ParseReport

    def entries(self) -> Iterator[HashEntry]:
        return FORMATS[self.format](self.path, self.report)


def open_list(path: Path, fmt: str = "auto") -> HashList:
    """A hash list in the given format, or the one its content shows with ``auto``."""
    if not path.is_file():
        raise UnreadableList(f"no such file: {path}")
    if fmt == "auto":
        fmt = detect_format(path)
    if fmt not in FORMATS:
        choices = ", ".join(["auto", *FORMATS])
        raise UnreadableList(f"unknown hash-list format {fmt!r}; choose one of {choices}")
    return HashList(path, fmt, ParseReport(fmt))
