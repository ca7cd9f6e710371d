"""NSRL RDSv3: a SQLite database whose FILE table holds sha256, sha1 and md5 per file.

Recognised by structure, not name: a table with the three hash columns (FILE first, as
NIST ships it; any other such table otherwise, as in subsets people cut from it).
The database is opened read-only and immutable, so reading never writes beside it.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

from caselens.hashsets.entries import (
    Algorithm,
    HashEntry,
    ParseReport,
    UnreadableList,
    clean_label,
    cryptographic,
)

SQLITE_HEADER = b"SQLite format 3\x00"
HASH_COLUMNS = ("sha256", "sha1", "md5")
LABEL_COLUMN = "file_name"
FETCH_ROWS = 10_000


def rds3_entries(path: Path, report: ParseReport) -> Iterator[HashEntry]:
    """Every hash of every row; a row's number counts from 1 in the table's order."""
    uri = f"file:{quote(str(path.resolve()))}?mode=ro&immutable=1"
    try:
        connection = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as err:
        raise UnreadableList(f"cannot open {path.name} as SQLite: {err}") from err
    try:
        table, columns, label = _hash_table(connection, path)
        # NULL stands in for a missing label column.
        selected = ", ".join([*map(_quoted, columns), _quoted(label) if label else "NULL"])
        cursor = connection.execute(f"SELECT {selected} FROM {_quoted(table)}")  # noqa: S608
        number = 0
        while True:
            try:
                rows = cursor.fetchmany(FETCH_ROWS)
            except sqlite3.Error as err:
                raise UnreadableList(
                    f"{path.name}: the database is damaged after row {number}: {err}"
                ) from err
            if not rows:
                return
            for row in rows:
                number += 1
                report.lines = number
                yield from _row_entries(number, row, report)
    except sqlite3.Error as err:
        raise UnreadableList(f"{path.name} is not a readable SQLite database: {err}") from err
    finally:
        connection.close()


def _row_entries(number: int, row: tuple[object, ...], report: ParseReport) -> Iterator[HashEntry]:
    label = clean_label(row[3]) if isinstance(row[3], str) else None
    problems = []
    hashes = zip((Algorithm.SHA256, Algorithm.SHA1, Algorithm.MD5), row[:3], strict=True)
    for algorithm, value in hashes:
        if value is None or value == "":
            continue
        entry = cryptographic(value, label) if isinstance(value, str) else None
        if entry is None or entry.algorithm != algorithm:
            problems.append(f"bad {algorithm.value} {str(value)[:80]!r}")
            continue
        yield report.counted(entry)
    if problems:
        report.bad(number, "; ".join(problems))


def _hash_table(connection: sqlite3.Connection, path: Path) -> tuple[str, list[str], str | None]:
    """The table with the hash columns, their spelling there, and the label column's."""
    names = [
        name
        for (name,) in connection.execute(
            "SELECT name FROM sqlite_master WHERE type IN ('table', 'view') ORDER BY name"
        )
    ]
    names.sort(key=lambda name: name.upper() != "FILE")
    for name in names:
        found = {
            str(info[1]).lower(): str(info[1])
            for info in connection.execute(f"PRAGMA table_info({_quoted(name)})")
        }
        if all(column in found for column in HASH_COLUMNS):
            return name, [found[column] for column in HASH_COLUMNS], found.get(LABEL_COLUMN)
    raise UnreadableList(
        f"{path.name} is a SQLite database without a table of sha256, sha1 and md5 "
        "columns: not an NSRL RDSv3 database"
    )


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
