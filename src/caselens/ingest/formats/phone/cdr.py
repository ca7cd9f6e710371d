"""Operators' call detail records: CSV or TSV read through a YAML column mapping.

Operators write their own columns. A mapping (``cdr_mappings/example.yaml`` documents
every key) names the columns of the calling and called numbers, the start time with its
format and zone, the duration, cell id, IMEI, IMSI, and the column whose values say what
each row is (an outgoing call, an incoming SMS...). A table is a CDR when its header has
a mapping's required columns: the built-in mappings shipped in ``cdr_mappings/`` and the
user's own (setting ``cdr_mappings``), the user's tried first. A row that cannot be read
(no party, an impossible date) is skipped and counted with its line number.
"""

from __future__ import annotations

import csv
import functools
import io
import json
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from caselens.ingest.errors import NotMyFormat
from caselens.ingest.formats.phone.comms import Comms
from caselens.ingest.formats.phone.times import (
    Moment,
    from_aware,
    from_local,
    from_unix,
    from_unix_ms,
)
from caselens.ingest.formats.textfile import GENERIC_TYPES, read_text_bytes
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.text.decode import decode_text

DELIMITERS = (",", ";", "\t", "|")
TABLE_TYPES = frozenset({"text/csv", "text/tab-separated-values", *GENERIC_TYPES})
EXAMPLE = "example.yaml"  # documentation, not a mapping to try on evidence
SHOWN_ROWS = 10
Direction = Literal["incoming", "outgoing", "missed", "rejected", "blocked", "unknown"]


class RowType(BaseModel):
    """What one value of the type column means."""

    model_config = ConfigDict(extra="forbid")
    event: Literal["call", "sms"] = "call"
    direction: Direction = "unknown"


class Columns(BaseModel):
    """Header names in the operator's file (matched without regard to case)."""

    model_config = ConfigDict(extra="forbid")
    caller: str
    callee: str
    start: str | list[str]  # several columns (a date and a time) are joined with a space
    duration: str | None = None
    cell_id: str | None = None
    imei: str | None = None
    imsi: str | None = None
    type: str | None = None

    def starts(self) -> list[str]:
        return [self.start] if isinstance(self.start, str) else list(self.start)

    def required(self) -> list[str]:
        return [self.caller, self.callee, *self.starts()]

    def mapped(self) -> list[str]:
        optional = (self.duration, self.cell_id, self.imei, self.imsi, self.type)
        return self.required() + [name for name in optional if name]


class CdrMapping(BaseModel):
    """One operator's layout, as written in a mapping file."""

    model_config = ConfigDict(extra="forbid")
    name: str
    description: str = ""
    delimiter: str | None = None  # found from the header when not given
    columns: Columns
    start_format: str  # a strptime format, or "iso", "unix", "unix_ms"
    time_zone: str = "local"  # an IANA zone, or "local": the exhibit's --timezone (assumed)
    duration_unit: Literal["seconds", "minutes"] = "seconds"  # "h:mm:ss" is always understood
    types: dict[str, RowType] = Field(default_factory=dict)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value != "local":
            try:
                ZoneInfo(value)
            except (ZoneInfoNotFoundError, ValueError) as err:
                raise ValueError(f"unknown time zone {value!r}") from err
        return value

    @field_validator("delimiter")
    @classmethod
    def _one_character(cls, value: str | None) -> str | None:
        if value is not None and len(value) != 1:
            raise ValueError("the delimiter is one character")
        return value

    def type_of(self, value: str) -> RowType | None:
        wanted = value.strip().casefold()
        return next((t for key, t in self.types.items() if key.casefold() == wanted), None)


@dataclass(frozen=True, slots=True)
class Layout:
    """A header matched by a mapping: where each mapped column is."""

    mapping: CdrMapping
    delimiter: str
    header: list[str]
    header_line: int

    def index(self, column: str | None) -> int | None:
        if column is None:
            return None
        folded = [name.strip().casefold() for name in self.header]
        wanted = column.strip().casefold()
        return folded.index(wanted) if wanted in folded else None


def load_mapping(path: Path) -> CdrMapping:
    """A mapping file; ValueError saying what is wrong with it."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return CdrMapping.model_validate(data)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValidationError) as err:
        raise ValueError(f"CDR mapping {path}: {err}") from err


def builtin_mapping_files() -> list[Path]:
    folder = resources.files("caselens.ingest.formats.phone") / "cdr_mappings"
    return sorted(
        Path(str(entry))
        for entry in folder.iterdir()
        if entry.name.endswith(".yaml") and entry.name != EXAMPLE
    )


@functools.lru_cache(maxsize=64)
def _cached(path: Path, stamp: tuple[int, int]) -> CdrMapping | str:
    try:
        return load_mapping(path)
    except ValueError as err:
        return str(err)


def mappings(user_files: tuple[Path, ...]) -> tuple[list[CdrMapping], list[str]]:
    """The user's mappings then the built-in ones; and the problems of those unreadable."""
    found: list[CdrMapping] = []
    problems: list[str] = []
    for path in (*user_files, *builtin_mapping_files()):
        try:
            status = path.stat()
        except OSError as err:
            problems.append(f"CDR mapping {path}: {err.strerror}")
            continue
        loaded = _cached(path, (status.st_mtime_ns, status.st_size))
        if isinstance(loaded, str):
            problems.append(loaded)
        else:
            found.append(loaded)
    return found, problems


def find_layout(text: str, candidates: list[CdrMapping]) -> Layout | None:
    """The mapping whose required columns the first non-empty line has (most columns wins)."""
    lines = io.StringIO(text, newline="")  # lines as csv reads them
    number, first = 0, ""
    while not first.strip():
        first = lines.readline()
        number += 1
        if not first:
            return None
    first = first.lstrip("\ufeff").rstrip("\r\n")
    best: tuple[int, Layout] | None = None
    for mapping in candidates:
        for delimiter in [mapping.delimiter] if mapping.delimiter else DELIMITERS:
            header = next(csv.reader([first], delimiter=delimiter))
            layout = Layout(mapping, delimiter, header, number)
            if any(layout.index(name) is None for name in mapping.columns.required()):
                continue
            present = sum(1 for name in mapping.columns.mapped() if layout.index(name) is not None)
            if best is None or present > best[0]:
                best = (present, layout)
    return best[1] if best else None


class CdrIngestor(Ingestor):
    """A CSV/TSV whose header one of the CDR mappings describes."""

    name = "cdr"
    version = "1"
    extensions: ClassVar[frozenset[str]] = frozenset({".csv", ".tsv", ".txt"})
    base_score = 15  # above plain CSV (12), only when a mapping fits the header

    @classmethod
    def score(cls, source: Source) -> int:
        if source.mime_type not in TABLE_TYPES:
            return 0
        found, _ = mappings(source.cdr_mappings)
        return cls.base_score if find_layout(_head_text(source.head), found) else 0

    def ingest(self, source: Source, sink: Sink) -> None:
        found, problems = mappings(source.cdr_mappings)
        data, _ = read_text_bytes(source, sink)
        decoded = decode_text(data)
        layout = find_layout(decoded.text, found)
        if layout is None:
            raise NotMyFormat
        for problem in problems:
            sink.warn(problem)
        if not decoded.certain:
            sink.warn(f"character set guessed as {decoded.encoding}")
        sink.set_document(
            "Table",
            title=f"call detail records ({layout.mapping.name})",
            encoding=decoded.encoding,
            columns=json.dumps(layout.header, ensure_ascii=False),
        )
        sink.document_context["cdr_mapping"] = layout.mapping.name
        rows = _Rows(source, sink, layout)
        rows.read(decoded.text)
        sink.add_property("rowCount", str(rows.count))


def _head_text(head: bytes) -> str:
    """The start of the file, enough for its header, decoded without detection's cost."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return head[:8192].decode("utf-16", errors="replace")
    return head[:8192].decode("utf-8", errors="replace")


class _Rows:
    def __init__(self, source: Source, sink: Sink, layout: Layout) -> None:
        self.source = source
        self.sink = sink
        self.layout = layout
        self.mapping = layout.mapping
        self.calls = Comms(sink, source, "phone")
        self.texts = Comms(sink, source, "sms")
        self.count = 0
        self.skipped: list[str] = []
        self.unknown_types: Counter[str] = Counter()
        self.bad_durations = 0
        columns = self.mapping.columns
        self.at = {
            key: layout.index(getattr(columns, key))
            for key in ("caller", "callee", "duration", "cell_id", "imei", "imsi", "type")
        }
        self.start_at = [layout.index(name) for name in columns.starts()]

    def read(self, text: str) -> None:
        lines = io.StringIO(text, newline="")
        for _ in range(self.layout.header_line):
            lines.readline()
        reader = csv.reader(lines, delimiter=self.layout.delimiter)
        try:
            for row in reader:
                if any(cell.strip() for cell in row):
                    self.count += 1
                    self._row(row, self.layout.header_line + reader.line_num)
        except csv.Error as err:
            line = self.layout.header_line + reader.line_num
            self.sink.warn(f"the table is malformed at line {line} ({err}): rows after it not read")
        self._report()

    def _cell(self, row: list[str], key: str) -> str:
        index = self.at.get(key)
        return row[index].strip() if index is not None and index < len(row) else ""

    def _row(self, row: list[str], line: int) -> None:
        caller, callee = self._cell(row, "caller"), self._cell(row, "callee")
        starts = [row[i].strip() if i is not None and i < len(row) else "" for i in self.start_at]
        written = " ".join(part for part in starts if part)
        if not caller and not callee:
            self.skipped.append(f"line {line} (no caller nor callee)")
            return
        moment = self._moment(written)
        if moment is None:
            self.skipped.append(f"line {line} (impossible or unreadable start {written!r})")
            return
        raw_type = self._cell(row, "type")
        kind = self.mapping.type_of(raw_type) if raw_type else None
        if raw_type and kind is None:
            self.unknown_types[raw_type] += 1
        kind = kind or RowType()
        record = f"line {line}"
        flags: dict[str, Any] = {
            "cell_id": self._cell(row, "cell_id") or None,
            "imei": self._cell(row, "imei") or None,
            "imsi": self._cell(row, "imsi") or None,
            "record_type": raw_type or None,
        }
        if kind.event == "sms":
            self.texts.message(
                record,
                sender=self.texts.phone(caller),
                recipients=[self.texts.phone(callee)],
                moment=moment,
                body=None,
                record=record,
                direction=kind.direction,
                **flags,
            )
            return
        self.calls.call(
            record,
            caller=self.calls.phone(caller),
            receiver=self.calls.phone(callee),
            moment=moment,
            duration=self._duration(self._cell(row, "duration")),
            record=record,
            direction=kind.direction,
            **flags,
        )

    def _moment(self, written: str) -> Moment | None:
        style = self.mapping.start_format
        if not written:
            return None
        if style in ("unix", "unix_ms"):
            return (from_unix if style == "unix" else from_unix_ms)(written)
        try:
            parsed = (
                datetime.fromisoformat(written)
                if style == "iso"
                else datetime.strptime(written, style)  # the zone is applied below
            )
        except ValueError:
            return None
        if parsed.tzinfo is not None:
            return from_aware(parsed)
        if self.mapping.time_zone == "local":
            return from_local(parsed, self.source.timezone)
        return from_aware(parsed.replace(tzinfo=ZoneInfo(self.mapping.time_zone)))

    def _duration(self, written: str) -> float | None:
        if not written:
            return None
        try:
            if ":" in written:
                seconds = 0.0
                for part in written.split(":"):
                    seconds = seconds * 60 + float(part)
                return seconds
            value = float(written.replace(",", "."))
        except ValueError:
            self.bad_durations += 1
            return None
        return value * 60 if self.mapping.duration_unit == "minutes" else value

    def _report(self) -> None:
        if self.skipped:
            shown = ", ".join(self.skipped[:SHOWN_ROWS])
            more = ", ..." if len(self.skipped) > SHOWN_ROWS else ""
            self.sink.warn(f"{len(self.skipped)} rows skipped: {shown}{more}")
        if self.unknown_types:
            shown = ", ".join(f"{value!r} ({n})" for value, n in self.unknown_types.most_common(10))
            self.sink.warn(f"record types not in mapping {self.mapping.name}: {shown}")
        if self.bad_durations:
            self.sink.warn(f"{self.bad_durations} durations could not be read (kept without)")
        if self.mapping.time_zone == "local" and not self.source.timezone:
            self.sink.warn("no time zone given for the exhibit: local times read as UTC (assumed)")
