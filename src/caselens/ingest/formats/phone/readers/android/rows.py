"""What every Android reader shares: reading rows so that one bad row, or a damaged page,
never loses the rest, lenient conversion of values, and the parties a table names."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from caselens.ingest.errors import UnsupportedVersion
from caselens.ingest.formats.phone.comms import Comms, Party
from caselens.ingest.formats.phone.database import Schema, has_columns
from caselens.ingest.sink import Sink

# What hostile values in a row raise when a reader converts them; anything else is a bug.
ROW_ERRORS = (ValueError, TypeError, ArithmeticError, LookupError, UnicodeError)
BATCH = 1000


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def select(schema: Schema, table: str, needed: Iterable[str], optional: Iterable[str]) -> str:
    """``SELECT`` of a table's needed columns and of its optional ones, those this version
    lacks as NULL, so every row has every name whatever the app version."""
    present = schema.get(table.lower(), frozenset())
    columns = [quoted(name) for name in needed]
    columns += [quoted(n) if n in present else f"NULL AS {quoted(n)}" for n in optional]
    # Names are the reader's own constants, quoted: nothing from the evidence.
    return f"SELECT {', '.join(columns)} FROM {quoted(table)}"  # noqa: S608


def require(schema: Schema, table: str, *columns: str) -> None:
    """UnsupportedVersion naming what is missing, when ``table`` lacks ``columns``."""
    present = schema.get(table.lower())
    if present is None:
        raise UnsupportedVersion(f"table {table} is missing")
    missing = [column for column in columns if column.lower() not in present]
    if missing:
        raise UnsupportedVersion(f"table {table} lacks column(s) {', '.join(missing)}")


def usable(schema: Schema, table: str, *columns: str) -> bool:
    return has_columns(schema, table, *columns)


def rows(db: sqlite3.Connection, sql: str, sink: Sink, table: str) -> Iterator[sqlite3.Row]:
    """The rows of a query; a damaged page ends the table with a warning, not the item."""
    count = 0
    try:
        cursor = db.execute(sql)
        while batch := cursor.fetchmany(BATCH):
            for row in batch:
                count += 1
                yield row
    except sqlite3.DatabaseError as err:
        sink.warn(f"{table}: reading stopped after {count} rows, the rest is damaged ({err})")


def text(value: object) -> str | None:
    """A value as text, exactly as stored; bytes (some apps store text as BLOBs) decoded
    leniently as UTF-8; NUL characters, which no text store keeps, shown as U+FFFD."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    shown = str(value)
    if "\x00" in shown:
        shown = shown.replace("\x00", "\ufffd")
    return shown if shown.strip() else None


@dataclass
class Problems:
    """Rows a reader skipped or read only in part, counted per table and reported once."""

    skipped: dict[str, int] = field(default_factory=dict)
    first_error: dict[str, str] = field(default_factory=dict)
    without_time: dict[str, int] = field(default_factory=dict)

    def skip(self, table: str, record: str, error: Exception) -> None:
        self.skipped[table] = self.skipped.get(table, 0) + 1
        self.first_error.setdefault(table, f"{record}: {type(error).__name__}: {error}")

    def bad_time(self, table: str) -> None:
        self.without_time[table] = self.without_time.get(table, 0) + 1

    def report(self, sink: Sink) -> None:
        for table, count in sorted(self.skipped.items()):
            sink.warn(f"{table}: {count} row(s) skipped (first: {self.first_error[table]})")
        for table, count in sorted(self.without_time.items()):
            sink.warn(f"{table}: {count} row(s) with a time that is not a plausible date")


class Parties:
    """The parties a database names, remembered: the same number is written many times."""

    def __init__(self, comms: Comms) -> None:
        self.comms = comms
        self._phones: dict[tuple[str, str | None], Party | None] = {}

    def phone(self, raw: str | None, name: str | None = None) -> Party | None:
        if raw is None:
            return None
        key = (raw, name)
        if key not in self._phones:
            self._phones[key] = self.comms.phone(raw, name)
        return self._phones[key]
