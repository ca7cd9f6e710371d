"""SQLite databases from phones and apps, recognised by their structure.

One ingestor takes every SQLite file, opens a private copy (with the "-wal" or
"-journal" seized next to it, so uncommitted pages are read as the device would), and
asks each registered reader whether the tables and columns are its app's. The reader
that recognises them writes messages, calls and contacts; a reader that recognises the
app but not this version of its schema says so, and the item is recorded as
"unsupported version" rather than read wrongly. The evidence itself is never opened:
SQLite writes to a database it opens (a WAL checkpoint, a journal roll-back).
"""

from __future__ import annotations

import contextlib
import shutil
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Iterator
from typing import ClassVar

from caselens.ingest.errors import BrokenFile, NotMyFormat, UnsupportedVersion
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

SQLITE_HEADER = b"SQLite format 3\x00"

Schema = dict[str, frozenset[str]]  # table -> columns, names in lower case


class PhoneReader(ABC):
    """One app's database (one module each, listed in READERS)."""

    name: ClassVar[str]  # "android-sms"
    version: ClassVar[str] = "1"
    service: ClassVar[str]  # what the app's accounts are called: "sms", "whatsapp"

    @classmethod
    @abstractmethod
    def recognises(cls, schema: Schema) -> bool:
        """True when the tables look like this app's, whatever the version."""

    @abstractmethod
    def read(self, db: sqlite3.Connection, schema: Schema, source: Source, sink: Sink) -> None:
        """Write what the database holds into the sink; raise UnsupportedVersion when the
        app's tables are there but lack the columns this reader needs."""


def has_columns(schema: Schema, table: str, *columns: str) -> bool:
    present = schema.get(table.lower())
    return present is not None and all(column.lower() in present for column in columns)


def read_schema(db: sqlite3.Connection) -> Schema:
    tables = [
        row[0]
        for row in db.execute("SELECT name FROM sqlite_master WHERE type IN ('table', 'view')")
    ]
    schema: Schema = {}
    for table in tables:
        quoted = '"' + table.replace('"', '""') + '"'
        try:
            columns = db.execute(f"PRAGMA table_info({quoted})").fetchall()
        except sqlite3.DatabaseError:
            continue  # a virtual table whose module this SQLite lacks (fts3 tokenizers...)
        schema[table.lower()] = frozenset(str(column[1]).lower() for column in columns)
    return schema


@contextlib.contextmanager
def open_copy(source: Source) -> Iterator[sqlite3.Connection]:
    """The database opened from a private copy, with its seized siblings beside it."""
    with source.scratch() as folder:
        copy = folder / "evidence.db"
        shutil.copyfile(source.path, copy)
        for suffix, path in source.siblings:
            shutil.copyfile(path, folder / f"evidence.db{suffix}")
        try:
            db = sqlite3.connect(copy, isolation_level=None)
        except sqlite3.Error as err:
            raise BrokenFile(f"SQLite database cannot be opened: {err}") from err
        try:
            db.row_factory = sqlite3.Row
            db.text_factory = _lenient_text
            yield db
        finally:
            db.close()


def _lenient_text(data: bytes) -> str:
    # Apps store whatever the user typed; a broken UTF-8 sequence must not lose the row.
    return data.decode("utf-8", errors="replace")


class PhoneDatabaseIngestor(Ingestor):
    """SQLite files: handed to the app reader that recognises their tables."""

    name = "phone-db"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset(
        {"application/vnd.sqlite3", "application/x-sqlite3"}
    )
    signatures: ClassVar[tuple[bytes, ...]] = (SQLITE_HEADER,)
    base_score = 20

    def ingest(self, source: Source, sink: Sink) -> None:
        from caselens.ingest.formats.phone.readers import READERS

        if not source.head.startswith(SQLITE_HEADER):
            raise NotMyFormat
        with open_copy(source) as db:
            try:
                schema = read_schema(db)
            except sqlite3.DatabaseError as err:
                raise BrokenFile(f"SQLite database is damaged: {err}") from err
            reader_class = next((r for r in READERS if r.recognises(schema)), None)
            if reader_class is None:
                raise NotMyFormat  # a database of an app caselens does not read
            sink.set_document("Document", title=f"{reader_class.name} database")
            sink.add_property("generator", reader_class.name)
            try:
                reader_class().read(db, schema, source, sink)
            except UnsupportedVersion as err:
                raise UnsupportedVersion(
                    f"unsupported version of the {reader_class.name} database: {err}"
                ) from err
            except sqlite3.DatabaseError as err:
                raise BrokenFile(f"{reader_class.name}: database is damaged: {err}") from err
        if source.siblings:
            names = ", ".join(suffix for suffix, _ in source.siblings)
            sink.warn(f"read together with the {names} file seized next to it")
