"""Android's contacts provider: ``contacts2.db`` of com.android.providers.contacts.

Before Android 7 its ``calls`` table is the call log (read as calllog.db's is). Address
book entries are ``raw_contacts`` (one per account holding the person; ``deleted`` marks
one deleted on the phone and not yet synced away), their values ``data`` rows typed
through ``mimetypes``: a name in ``data1`` (as shown), a phone number in ``data1`` with
its E.164 form in ``data4``, an e-mail address in ``data1``, a WhatsApp JID in ``data1``.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from typing import Any

from caselens.ingest.formats.phone.comms import Comms, Party
from caselens.ingest.formats.phone.database import PhoneReader, Schema
from caselens.ingest.formats.phone.readers.android.calllog import (
    CALLS_NEEDED,
    is_contacts_provider,
    read_calls,
)
from caselens.ingest.formats.phone.readers.android.rows import (
    ROW_ERRORS,
    Parties,
    Problems,
    require,
    rows,
    select,
    text,
    usable,
)
from caselens.ingest.formats.phone.readers.android.whatsapp import jid_account
from caselens.ingest.formats.phone.readers.values import flag, integer
from caselens.ingest.formats.phone.times import from_unix_ms
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

NAME = "vnd.android.cursor.item/name"
PHONE = "vnd.android.cursor.item/phone_v2"
EMAIL = "vnd.android.cursor.item/email_v2"
ORGANIZATION = "vnd.android.cursor.item/organization"
NICKNAME = "vnd.android.cursor.item/nickname"
WHATSAPP = "vnd.android.cursor.item/vnd.com.whatsapp.profile"

DATA_NEEDED = ("raw_contact_id", "mimetype_id", "data1")
DATA_OPTIONAL = ("_id", "data4")
RAW_OPTIONAL = (
    *("contact_id", "deleted", "display_name", "account_name", "account_type"),
    *("account_id", "starred", "times_contacted", "last_time_contacted"),
)


class AndroidContactsReader(PhoneReader):
    """``contacts2.db``: the call log of older Androids and the address book."""

    name = "android-contacts"
    service = "phone"

    @classmethod
    def recognises(cls, schema: Schema) -> bool:
        return is_contacts_provider(schema)

    def read(self, db: sqlite3.Connection, schema: Schema, source: Source, sink: Sink) -> None:
        calls_ok = usable(schema, "calls", *CALLS_NEEDED)
        contacts_ok = usable(schema, "data", *DATA_NEEDED) and usable(
            schema, "mimetypes", "_id", "mimetype"
        )
        if not calls_ok and not contacts_ok:
            if "calls" in schema:
                require(schema, "calls", *CALLS_NEEDED)
            require(schema, "data", *DATA_NEEDED)
            require(schema, "mimetypes", "_id", "mimetype")
        comms = Comms(sink, source, self.service)
        parties = Parties(comms)
        problems = Problems()
        if calls_ok:
            read_calls(db, schema, sink, comms, parties, problems)
        elif "calls" in schema:
            sink.warn(f"table calls of an unknown version, not read (needs {CALLS_NEEDED})")
        if contacts_ok:
            _Contacts(db, schema, sink, comms, problems).read()
        else:
            sink.warn("contact tables of an unknown version, not read")
        problems.report(sink)


class _Contacts:
    def __init__(
        self,
        db: sqlite3.Connection,
        schema: Schema,
        sink: Sink,
        comms: Comms,
        problems: Problems,
    ) -> None:
        self.db = db
        self.schema = schema
        self.sink = sink
        self.comms = comms
        self.problems = problems

    def read(self) -> None:
        kinds: dict[int, str] = {}
        for row in rows(self.db, "SELECT _id, mimetype FROM mimetypes", self.sink, "mimetypes"):
            ident, kind = integer(row["_id"]), text(row["mimetype"])
            if ident is not None and kind is not None:
                kinds[ident] = kind
        values: dict[int, list[tuple[str, str, str | None]]] = defaultdict(list)
        sql = select(self.schema, "data", DATA_NEEDED, DATA_OPTIONAL)
        for row in rows(self.db, sql + " ORDER BY raw_contact_id, _id", self.sink, "data"):
            owner, kind_id = integer(row["raw_contact_id"]), integer(row["mimetype_id"])
            kind = kinds.get(kind_id) if kind_id is not None else None
            value = text(row["data1"])
            if owner is not None and kind is not None and value is not None:
                values[owner].append((kind, value.strip(), text(row["data4"])))
        if usable(self.schema, "raw_contacts", "_id"):
            accounts = self._accounts()
            sql = select(self.schema, "raw_contacts", ("_id",), RAW_OPTIONAL) + " ORDER BY _id"
            for row in rows(self.db, sql, self.sink, "raw_contacts"):
                record = f"raw_contacts/_id={row['_id']}"
                try:
                    ident = integer(row["_id"])
                    if ident is None:
                        raise ValueError(f"_id {row['_id']!r} is not a number")
                    self._contact(ident, record, values.pop(ident, []), row, accounts)
                except ROW_ERRORS as err:
                    self.problems.skip("raw_contacts", record, err)
        # Values of raw contacts that are not (or no longer) in raw_contacts.
        for ident, found in sorted(values.items()):
            record = f"data/raw_contact_id={ident}"
            try:
                self._contact(ident, record, found, None, {})
            except ROW_ERRORS as err:
                self.problems.skip("data", record, err)

    def _accounts(self) -> dict[int, str]:
        if not usable(self.schema, "accounts", "_id", "account_name", "account_type"):
            return {}
        found: dict[int, str] = {}
        sql = "SELECT _id, account_name, account_type FROM accounts"
        for row in rows(self.db, sql, self.sink, "accounts"):
            ident = integer(row["_id"])
            if ident is not None:
                found[ident] = _account_label(row["account_name"], row["account_type"]) or ""
        return found

    def _contact(
        self,
        ident: int,
        record: str,
        found: list[tuple[str, str, str | None]],
        row: sqlite3.Row | None,
        accounts: dict[int, str],
    ) -> None:
        names = [value for kind, value, _ in found if kind == NAME]
        phones = [
            e164 if e164 and e164.startswith("+") else value
            for kind, value, e164 in found
            if kind == PHONE
        ]
        emails = [value for kind, value, _ in found if kind == EMAIL]
        whatsapp = [jid_account(self.comms, value) for kind, value, _ in found if kind == WHATSAPP]
        flags: dict[str, Any] = {
            "organization": next((v for k, v, _ in found if k == ORGANIZATION), None),
            "nickname": next((v for k, v, _ in found if k == NICKNAME), None),
        }
        name = names[0] if names else None
        if row is not None:
            name = name or text(row["display_name"])
            last = from_unix_ms(row["last_time_contacted"])
            account_id = integer(row["account_id"])
            flags.update(
                deleted=flag(row["deleted"]),
                starred=flag(row["starred"]),
                account=accounts.get(account_id) if account_id is not None else None,
                times_contacted=integer(row["times_contacted"]) or None,
                last_contacted=last.iso if last else None,
                contact_id=integer(row["contact_id"]),
            )
            flags["account"] = flags["account"] or _account_label(
                row["account_name"], row["account_type"]
            )
        accounts_found: list[Party] = [party for party in whatsapp if party is not None]
        self.comms.contact(
            f"raw_contacts/{ident}",
            name=name,
            phones=phones,
            emails=emails,
            accounts=accounts_found,
            record=record,
            **flags,
        )


def _account_label(name: object, kind: object) -> str | None:
    shown, typed = text(name), text(kind)
    if shown and typed:
        return f"{shown} ({typed})"
    return shown or typed
