"""What every source of events shares: the query's context, paging in time order, and
the SQL forms of "a text inside a JSON column" on SQLite and PostgreSQL alike."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, Select, Text, cast, false, or_
from sqlalchemy.sql.elements import ColumnElement

from caselens.timeline.model import Selection

# Rows read per query: the first batch fits the page asked for, later ones grow, so a
# source that is mostly filtered out costs few round trips and a short page few rows.
FIRST_BATCH_MAX = 1000
LATER_BATCH_MAX = 5000
# Above this many entity ids the filter is checked in Python only (a long OR of LIKEs
# costs more than it saves).
MAX_PUSHED_PARTIES = 64


@dataclass(slots=True)
class Reader:
    """One timeline query: its connection, case, selection and page size."""

    connection: Connection
    case_id: str
    selection: Selection
    need: int  # events the page needs (offset + limit + 1)
    labels: dict[str, str] = field(default_factory=dict)  # entity id -> label, read once

    @property
    def postgres(self) -> bool:
        return self.connection.dialect.name == "postgresql"

    def ordered(self, expression: ColumnElement[Any]) -> ColumnElement[Any]:
        """A text expression compared byte by byte: PostgreSQL would otherwise use the
        database's collation, which may ignore the punctuation of ISO 8601."""
        return expression.collate("C") if self.postgres else expression

    def batches(self, query: Select[Any]) -> Iterator[Sequence[Row[Any]]]:
        """The rows of an ordered query, a batch at a time (the order must be total)."""
        size = min(max(self.need, 16), FIRST_BATCH_MAX)
        offset = 0
        while True:
            rows = self.connection.execute(query.limit(size).offset(offset)).all()
            if rows:
                yield rows
            if len(rows) < size:
                return
            offset += len(rows)
            size = min(size * 2, LATER_BATCH_MAX)


def json_text(column: Any, *path: str | int) -> ColumnElement[str]:
    """The text at a path of a JSON column (SQL NULL when absent)."""
    if len(path) == 1:
        return column[path[0]].as_string()  # type: ignore[no-any-return]
    return column[path].as_string()  # type: ignore[no-any-return]


def mentions_any(
    columns: Iterable[Any], needles: Iterable[str], *, ignore_case: bool = False
) -> ColumnElement[bool]:
    """True when one of the JSON columns' text holds one of the needles: a cheap superset
    of "has this party", checked exactly afterwards. Needles must be ASCII (JSON escapes
    the rest)."""
    held = list(columns)
    tests = [
        cast(column, Text).icontains(needle, autoescape=True)
        if ignore_case
        else cast(column, Text).contains(needle, autoescape=True)
        for column in held
        for needle in needles
    ]
    return or_(*tests) if tests else false()


def pushable(needles: Iterable[str]) -> bool:
    found = list(needles)
    return 0 < len(found) <= MAX_PUSHED_PARTIES and all(
        n.isascii() and '"' not in n and "\\" not in n for n in found
    )


def key_datetime(key: str) -> datetime:
    """A key (or a date alone) as an aware UTC datetime."""
    return datetime.fromisoformat(key).replace(tzinfo=UTC)
