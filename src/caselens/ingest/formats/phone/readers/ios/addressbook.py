"""iOS address book: ``AddressBook.sqlitedb`` (iOS 3 to iOS 17).

People are rows of ``ABPerson``; their numbers, addresses and other many-valued fields
are rows of ``ABMultiValue`` whose ``property`` says which field (3 phone, 4 e-mail)
and whose ``label`` points into ``ABMultiValueLabel`` ("_$!<Mobile>!$_").
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from caselens.ingest.errors import UnsupportedVersion
from caselens.ingest.formats.phone.comms import Comms
from caselens.ingest.formats.phone.database import PhoneReader, Schema, has_columns
from caselens.ingest.formats.phone.readers.ios.sqlrows import (
    ROW_ERRORS,
    Skipped,
    apple_time,
    column,
    rows,
    text,
)
from caselens.ingest.formats.phone.readers.values import integer
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

PHONE_PROPERTY = 3
EMAIL_PROPERTY = 4
NAME_PARTS = ("Prefix", "First", "Middle", "Last", "Suffix")


@dataclass
class _Entries:
    phones: list[str] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    labels: dict[str, str] = field(default_factory=dict)


class AddressBookReader(PhoneReader):
    name = "ios-addressbook"
    version = "1"
    service = "phone"

    @classmethod
    def recognises(cls, schema: Schema) -> bool:
        return "abperson" in schema and "abmultivalue" in schema

    def read(self, db: sqlite3.Connection, schema: Schema, source: Source, sink: Sink) -> None:
        if not has_columns(schema, "ABPerson", "First", "Last") or not has_columns(
            schema, "ABMultiValue", "record_id", "property", "value"
        ):
            raise UnsupportedVersion("ABPerson or ABMultiValue lacks the name or value columns")
        comms = Comms(sink, source, self.service)
        entries = _multivalues(db, schema, sink)
        skipped = Skipped()
        empty = 0
        query = "SELECT ROWID AS person_rowid, * FROM ABPerson ORDER BY ROWID"
        for row in rows(db, query, sink, "ABPerson"):
            try:
                empty += not _person(comms, row, entries)
            except ROW_ERRORS as err:
                skipped.add("ABPerson", err)
        skipped.report(sink)
        if empty:
            sink.warn(f"ABPerson: {empty} entries without a name, number or address, left out")


def _person(comms: Comms, row: sqlite3.Row, entries: dict[int, _Entries]) -> bool:
    """Write one person; False when the entry holds nothing to write."""
    rowid = integer(row["person_rowid"])
    if rowid is None:
        raise ValueError("ABPerson row without a ROWID")
    found = entries.get(rowid, _Entries())
    parts = [text(column(row, part)) for part in NAME_PARTS]
    name = " ".join(part for part in parts if part)
    organization = text(column(row, "Organization"))
    if not (name or organization or found.phones or found.emails):
        return False
    flags: dict[str, Any] = {
        "organization": organization,
        "nickname": text(column(row, "Nickname")),
        "job_title": text(column(row, "JobTitle")),
        "note": text(column(row, "Note")),
        "labels": found.labels or None,
    }
    for key, column_name in (("created_at", "CreationDate"), ("modified_at", "ModificationDate")):
        moment = apple_time(column(row, column_name))
        flags[key] = moment.iso if moment else None
    comms.contact(
        f"ABPerson/{rowid}",
        name=name or organization,
        phones=found.phones,
        emails=found.emails,
        record=f"ABPerson/ROWID={rowid}",
        **flags,
    )
    return True


def _multivalues(db: sqlite3.Connection, schema: Schema, sink: Sink) -> dict[int, _Entries]:
    labels: dict[int, str] = {}
    if has_columns(schema, "ABMultiValueLabel", "value"):
        query = "SELECT ROWID AS label_rowid, value FROM ABMultiValueLabel"
        for row in rows(db, query, sink, "ABMultiValueLabel", required=False):
            label_id, label = integer(row["label_rowid"]), text(row["value"])
            if label_id is not None and label:
                labels[label_id] = _plain_label(label)
    found: dict[int, _Entries] = defaultdict(_Entries)
    query = "SELECT * FROM ABMultiValue ORDER BY record_id, ROWID"
    for row in rows(db, query, sink, "ABMultiValue", required=False):
        person, kind, value = integer(row["record_id"]), integer(row["property"]), row["value"]
        shown = text(value)
        if person is None or shown is None or kind not in (PHONE_PROPERTY, EMAIL_PROPERTY):
            continue
        entry = found[person]
        (entry.phones if kind == PHONE_PROPERTY else entry.emails).append(shown)
        label = labels.get(integer(column(row, "label")) or -1)
        if label:
            entry.labels[shown] = label
    return found


def _plain_label(label: str) -> str:
    """ "_$!<Mobile>!$_" (a label the system names) becomes "mobile"; users' own stay."""
    if label.startswith("_$!<") and label.endswith(">!$_"):
        return label[4:-4].lower()
    return label
