"""Reading rows of an app's tables without letting one bad row, or a damaged page, lose
the rest: what every iOS reader shares."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field

from caselens.ingest.formats.phone.times import Moment, from_apple
from caselens.ingest.sink import Sink

# What hostile values in a row raise when a reader converts them; anything else is a bug.
ROW_ERRORS = (ValueError, TypeError, ArithmeticError, LookupError, UnicodeError)


def rows(
    db: sqlite3.Connection, sql: str, sink: Sink, table: str, *, required: bool = True
) -> Iterator[sqlite3.Row]:
    """The rows of a query; a damaged page past the first row ends the table with a warning.

    A required table that cannot be read at all raises, so that the item is recorded as
    broken rather than as holding nothing; an optional one (attachments, joins) is
    reported and read as empty.
    """
    count = 0
    try:
        cursor = db.execute(sql)
    except sqlite3.DatabaseError as err:
        if required:
            raise
        sink.warn(f"{table}: cannot be read ({err})")
        return
    while True:
        try:
            row = cursor.fetchone()
        except sqlite3.DatabaseError as err:
            if count == 0 and required:
                raise
            sink.warn(f"{table}: stopped after {count} rows, the rest is damaged ({err})")
            return
        if row is None:
            return
        count += 1
        yield row


def column(row: sqlite3.Row, name: str) -> object:
    """A column's value, or None when this version of the table has no such column."""
    try:
        return row[name]
    except (IndexError, KeyError):
        return None


def text(value: object) -> str | None:
    """A value as text: bytes (apps store some text as BLOBs) decoded leniently as UTF-8."""
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    shown = str(value).strip()
    return shown or None


def apple_time(value: object) -> Moment | None:
    """A Core Data / Messages date (from 2001, seconds or nanoseconds); None for others."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    return from_apple(value)


@dataclass
class Skipped:
    """Rows a reader could not use, counted per table and reported once as a warning."""

    counts: dict[str, int] = field(default_factory=dict)
    first_error: dict[str, str] = field(default_factory=dict)

    def add(self, table: str, error: Exception) -> None:
        self.counts[table] = self.counts.get(table, 0) + 1
        self.first_error.setdefault(table, f"{type(error).__name__}: {error}")

    def report(self, sink: Sink) -> None:
        for table, count in sorted(self.counts.items()):
            sink.warn(f"{table}: {count} rows skipped (first: {self.first_error[table]})")
