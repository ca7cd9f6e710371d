"""Android's call log: the ``calls`` table of ``calllog.db`` (Android 7 and later, where
the call log has a provider of its own) or of ``contacts2.db`` (earlier versions).

``type`` is 1 incoming, 2 outgoing, 3 missed, 4 voicemail, 5 rejected, 6 blocked,
7 answered on another device; ``date`` is milliseconds since 1970 and ``duration``
seconds. A withheld number is ``presentation`` 2-4 (restricted, unknown, payphone);
versions before it wrote "-1", "-2" or "-3" as the number. ``new`` marks a call not yet
seen in the call log; ``is_read`` one whose notification was read.
"""

from __future__ import annotations

import sqlite3
from typing import Any

from caselens.ingest.formats.phone.comms import Comms, Party, normalize_phone
from caselens.ingest.formats.phone.database import PhoneReader, Schema
from caselens.ingest.formats.phone.readers.android.rows import (
    ROW_ERRORS,
    Parties,
    Problems,
    require,
    rows,
    select,
    text,
)
from caselens.ingest.formats.phone.readers.values import flag, integer
from caselens.ingest.formats.phone.times import from_unix_ms
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

CALLS_NEEDED = ("_id", "number", "date", "type")
CALLS_OPTIONAL = (
    *("duration", "name", "countryiso", "normalized_number", "new", "is_read"),
    *("presentation", "features", "geocoded_location", "deleted"),
)
# Columns only Android's call log has (Viber's ``calls`` table has the others too).
ANDROID_MARKERS = frozenset({"new", "numbertype", "numberlabel", "voicemail_uri"})


def is_contacts_provider(schema: Schema) -> bool:
    """contacts2.db's own tables: a ``calls`` table beside them is contacts2.db's."""
    return "raw_contacts" in schema or {"mimetypes", "data"} <= schema.keys()


TYPES: dict[int, tuple[str, str | None]] = {
    1: ("incoming", None),
    2: ("outgoing", None),
    3: ("missed", None),
    4: ("incoming", "voicemail"),
    5: ("rejected", None),
    6: ("blocked", None),
    7: ("incoming", "answered on another device"),
}
PRESENTATION = {2: "restricted", 3: "unknown", 4: "payphone"}
LEGACY_WITHHELD = {"-1": "unknown", "-2": "restricted", "-3": "payphone"}
VIDEO_FEATURE = 1


class AndroidCallLogReader(PhoneReader):
    """``calllog.db``: Android's call log provider, a ``calls`` table and no contacts."""

    name = "android-calllog"
    service = "phone"

    @classmethod
    def recognises(cls, schema: Schema) -> bool:
        calls = schema.get("calls")
        return (
            calls is not None
            and not is_contacts_provider(schema)
            and bool(ANDROID_MARKERS & calls or "voicemail_status" in schema)
        )

    def read(self, db: sqlite3.Connection, schema: Schema, source: Source, sink: Sink) -> None:
        require(schema, "calls", *CALLS_NEEDED)
        comms = Comms(sink, source, self.service)
        problems = Problems()
        read_calls(db, schema, sink, comms, Parties(comms), problems)
        problems.report(sink)


def read_calls(
    db: sqlite3.Connection,
    schema: Schema,
    sink: Sink,
    comms: Comms,
    parties: Parties,
    problems: Problems,
) -> None:
    """Every row of ``calls`` as a Call (the table must have CALLS_NEEDED)."""
    sql = select(schema, "calls", CALLS_NEEDED, CALLS_OPTIONAL) + " ORDER BY _id"
    for row in rows(db, sql, sink, "calls"):
        record = f"calls/_id={row['_id']}"
        try:
            _call(row, record, comms, parties, problems)
        except ROW_ERRORS as err:
            problems.skip("calls", record, err)


def _call(
    row: sqlite3.Row, record: str, comms: Comms, parties: Parties, problems: Problems
) -> None:
    ident = integer(row["_id"])
    if ident is None:
        raise ValueError(f"_id {row['_id']!r} is not a number")
    kind = integer(row["type"])
    direction, note = TYPES.get(kind, ("unknown", None)) if kind is not None else ("unknown", None)
    number = (text(row["number"]) or "").strip()
    withheld = PRESENTATION.get(integer(row["presentation"]) or 1) or LEGACY_WITHHELD.get(number)
    party = None
    if number and number not in LEGACY_WITHHELD:
        # The row's own country (the network's, when the call was logged) before the case's.
        country = (text(row["countryiso"]) or "").strip().upper() or comms.source.region
        normalized = text(row["normalized_number"])
        e164 = normalize_phone(number, country) or (
            normalize_phone(normalized, None) if normalized else None
        )
        party = parties.phone(e164 or number, text(row["name"]))
    flags: dict[str, Any] = {}
    caller: Party | None
    receiver: Party | None
    if direction == "outgoing":
        caller, receiver = comms.owner(), party
    elif direction == "unknown":
        caller = receiver = None
        flags["counterpart"] = party.label if party else None
    else:
        caller, receiver = party, comms.owner()
    raw_time = row["date"]
    moment = from_unix_ms(raw_time)
    if moment is None and raw_time is not None:
        problems.bad_time("calls")
    features = integer(row["features"])
    comms.call(
        f"call/{ident}",
        caller=caller,
        receiver=receiver,
        moment=moment,
        duration=integer(row["duration"]),
        record=record,
        direction=direction,
        call_type=note if note else (None if kind in TYPES else kind),
        number_withheld=withheld,
        contact_name=text(row["name"]),
        number_location=text(row["geocoded_location"]),
        new=flag(row["new"]),
        read=flag(row["is_read"]),
        video=bool(features & VIDEO_FEATURE) if features is not None else None,
        deleted=flag(row["deleted"]),
        **flags,
    )
