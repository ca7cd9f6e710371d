"""iOS call history: ``CallHistory.storedata`` (iOS 8 and later, and macOS).

A Core Data store: one ``ZCALLRECORD`` row per call, dated in seconds from 2001.
``ZORIGINATED`` says the device placed the call, ``ZANSWERED`` that it was answered;
``ZSERVICE_PROVIDER`` names what carried it (the phone network, FaceTime, or an app
through CallKit) and ``ZCALLTYPE`` how (1 a phone call, 8 FaceTime video, 16 FaceTime
audio). ``ZADDRESS`` is the other party, stored as text or as UTF-8 bytes.
"""

from __future__ import annotations

import sqlite3
from typing import Any, ClassVar

from caselens.ingest.errors import UnsupportedVersion
from caselens.ingest.formats.phone.comms import Comms, Party, normalize_phone
from caselens.ingest.formats.phone.database import PhoneReader, Schema, has_columns
from caselens.ingest.formats.phone.readers.ios.sqlrows import (
    ROW_ERRORS,
    Skipped,
    apple_time,
    column,
    rows,
    text,
)
from caselens.ingest.formats.phone.readers.values import flag, integer
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

REQUIRED = ("ZADDRESS", "ZDATE", "ZDURATION", "ZORIGINATED", "ZANSWERED")
CALL_TYPES = {1: "phone", 8: "facetime video", 16: "facetime audio"}


class CallHistoryReader(PhoneReader):
    name = "ios-callhistory"
    version = "1"
    service = "phone"

    # Service providers by bundle identifier; other apps keep their identifier.
    PROVIDERS: ClassVar[dict[str, str]] = {
        "com.apple.telephony": "phone",
        "com.apple.facetime": "facetime",
    }

    @classmethod
    def recognises(cls, schema: Schema) -> bool:
        return "zcallrecord" in schema

    def read(self, db: sqlite3.Connection, schema: Schema, source: Source, sink: Sink) -> None:
        missing = [name for name in REQUIRED if not has_columns(schema, "ZCALLRECORD", name)]
        if missing:
            raise UnsupportedVersion(f"ZCALLRECORD lacks {', '.join(missing)}")
        self._comms: dict[str, Comms] = {}
        self._source, self._sink = source, sink
        skipped = Skipped()
        bad_dates = 0
        query = "SELECT Z_PK AS call_pk, * FROM ZCALLRECORD ORDER BY Z_PK"
        for row in rows(db, query, sink, "ZCALLRECORD"):
            try:
                bad_dates += not self._call(row)
            except ROW_ERRORS as err:
                skipped.add("ZCALLRECORD", err)
        skipped.report(sink)
        if bad_dates:
            sink.warn(f"ZCALLRECORD: {bad_dates} dates out of range, left empty")

    def _comms_for(self, provider: str | None) -> Comms:
        service = self.PROVIDERS.get((provider or "").lower(), provider or self.service)
        if service not in self._comms:
            self._comms[service] = Comms(self._sink, self._source, service)
        return self._comms[service]

    def _call(self, row: sqlite3.Row) -> bool:
        """Write one call; False when its date could not be read."""
        pk = integer(row["call_pk"])
        if pk is None:
            raise ValueError("call without a Z_PK")
        provider = text(column(row, "ZSERVICE_PROVIDER"))
        comms = self._comms_for(provider)
        party = self._party(comms, row)
        outgoing = flag(row["ZORIGINATED"]) is True
        answered = flag(row["ZANSWERED"])
        direction = "outgoing" if outgoing else ("incoming" if answered else "missed")
        moment = apple_time(row["ZDATE"])
        duration = _seconds(row["ZDURATION"])
        call_type = integer(column(row, "ZCALLTYPE"))
        flags: dict[str, Any] = {
            "answered": answered,
            "service_provider": provider,
            "call_type": CALL_TYPES.get(call_type, str(call_type)) if call_type else None,
            "read": flag(column(row, "ZREAD")) if direction == "missed" else None,
            "country": text(column(row, "ZISO_COUNTRY_CODE")),
            "location": text(column(row, "ZLOCATION")),
            "unique_id": text(column(row, "ZUNIQUE_ID")),
        }
        good_date = moment is not None or not integer(row["ZDATE"])
        if not good_date:
            flags["raw_date"] = str(row["ZDATE"])
        owner = comms.owner()
        comms.call(
            f"ZCALLRECORD/{pk}",
            caller=owner if outgoing else party,
            receiver=party if outgoing else owner,
            moment=moment,
            duration=duration,
            record=f"ZCALLRECORD/Z_PK={pk}",
            direction=direction,
            **flags,
        )
        return good_date

    def _party(self, comms: Comms, row: sqlite3.Row) -> Party | None:
        address = text(row["ZADDRESS"])
        if address is None:
            return None  # a withheld number
        name = text(column(row, "ZNAME"))
        if "@" in address:
            return comms.account(address, name=name, email=address)
        country = text(column(row, "ZISO_COUNTRY_CODE"))
        region = country.upper() if country else self._source.region
        return comms.phone(normalize_phone(address, region) or address, name)


def _seconds(value: object) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        seconds = float(str(value)) if not isinstance(value, int | float) else float(value)
    except ValueError:
        return None
    return seconds if 0 <= seconds < 10**7 else None  # over 115 days is not a call
