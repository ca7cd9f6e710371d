"""Bulk inserts straight through the driver, for ingest's hot path.

SQLAlchemy's per-row parameter processing costs more than SQLite's insert itself at
thousands of rows a second, so the ingest writer and the chain appender build one
statement per table and hand the driver plain tuples. Values are converted here the
way SQLAlchemy would store them, so rows read back through SQLAlchemy unchanged.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Connection, Table

from caselens.db.types import UTCDateTime

Converter = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class PreparedInsert:
    """An insert statement with its rows already converted for one database dialect."""

    sql: str
    parameters: list[tuple[Any, ...]]

    def execute(self, connection: Connection) -> None:
        if self.parameters:
            connection.exec_driver_sql(self.sql, self.parameters)


def prepare_insert(
    dialect: str,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
) -> PreparedInsert:
    """Build the statement and convert the rows (all with the same keys) ahead of time.

    Preparing outside the transaction keeps the time a writer holds the database's write
    lock down to the driver's own work.
    """
    if not rows:
        return PreparedInsert("", [])
    columns = [column.name for column in table.columns if column.name in rows[0]]
    placeholder = "?" if dialect == "sqlite" else "%s"
    # Names come from the schema, never from input; values go as parameters. Names are
    # quoted, so a column may be called what SQL reserves ("end", "order").
    sql = (
        f"INSERT INTO {_quoted(table.name)} ({', '.join(map(_quoted, columns))}) "  # noqa: S608
        f"VALUES ({', '.join([placeholder] * len(columns))})"
    )
    if conflict:
        sql += f" ON CONFLICT ({', '.join(map(_quoted, conflict))}) "
        if update:
            sql += "DO UPDATE SET " + ", ".join(
                f"{_quoted(name)} = excluded.{_quoted(name)}" for name in update
            )
        else:
            sql += "DO NOTHING"
    converters = [_converter(table.c[name].type, dialect) for name in columns]
    # Only the columns that need converting are touched row by row.
    converted = [(i, c) for i, c in enumerate(converters) if c is not _same]
    getter = operator.itemgetter(*columns)
    parameters = []
    for row in rows:
        values = getter(row)
        if len(columns) == 1:
            values = (values,)
        if converted:
            values = list(values)
            for index, convert in converted:
                values[index] = convert(values[index])
        parameters.append(tuple(values))
    return PreparedInsert(sql, parameters)


def bulk_insert(
    connection: Connection,
    table: Table,
    rows: Sequence[dict[str, Any]],
    *,
    conflict: Sequence[str] = (),
    update: Sequence[str] = (),
) -> None:
    """Insert rows (all with the same keys); on a ``conflict`` key update or skip."""
    prepared = prepare_insert(
        connection.dialect.name, table, rows, conflict=conflict, update=update
    )
    prepared.execute(connection)


def _converter(column_type: Any, dialect: str) -> Converter:
    if isinstance(column_type, UTCDateTime):
        return _sqlite_time if dialect == "sqlite" else _aware_time
    if isinstance(column_type, JSON):
        return _json
    if isinstance(column_type, Boolean) and dialect == "sqlite":
        return _sqlite_bool
    return _same


def _sqlite_time(value: datetime | None) -> str | None:
    if value is None:
        return None
    # The text form SQLAlchemy's SQLite DATETIME type writes and parses.
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def _aware_time(value: datetime | None) -> datetime | None:
    return None if value is None else value.astimezone(UTC)


def _json(value: Any) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


def _sqlite_bool(value: bool | None) -> int | None:
    return None if value is None else int(value)


def _same(value: Any) -> Any:
    return value


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
