"""The installation-wide selector index, written with each ingest batch.

Only selectors that point at someone go in: phone numbers, e-mail addresses, IBANs, card
numbers, IMEIs, wallets, and name fingerprints of two words or more (a lone "john" or
"acme" would tie every case to every other). URLs, domains, IP addresses and places are
left out: they are shared by unrelated people far too often to be a lead by themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from caselens.db.bulk import PreparedInsert, prepare_insert
from caselens.db.schema import selector_index
from caselens.extract.base import IDENTIFIER_PROPERTIES, identifier_value

IDENTIFIER_KINDS = frozenset(
    {"phone", "email", "iban", "card", "imei", "btc", "ltc", "eth", "trx", "xmr"}
)
NAME_KINDS = frozenset({"person", "organization"})
INDEXED_KINDS = IDENTIFIER_KINDS | NAME_KINDS


def indexable(kind: str, value: str) -> bool:
    if kind in IDENTIFIER_KINDS:
        return bool(value)
    return kind in NAME_KINDS and len(value.split()) >= 2


def batch_selectors(
    mention_rows: Iterable[dict[str, Any]], entity_rows: Iterable[dict[str, Any]]
) -> set[tuple[str, str]]:
    """The (kind, normalized value) pairs that a batch's mentions and entities hold."""
    found = {
        (row["kind"], row["value"]) for row in mention_rows if indexable(row["kind"], row["value"])
    }
    for row in entity_rows:
        properties = row.get("properties")
        if not isinstance(properties, dict):
            continue
        for prop, kind in IDENTIFIER_PROPERTIES.items():
            values = properties.get(prop)
            for value in values if isinstance(values, list) else ():
                if isinstance(value, str) and value:
                    found.add((kind, identifier_value(kind, value)))
    return found


def prepare_index_insert(
    dialect: str, case_id: str, selectors: Iterable[tuple[str, str]], now: datetime
) -> PreparedInsert:
    """Rows for the index, in key order (two writers then lock keys in the same order)."""
    rows = [
        {"kind": kind, "value": value, "case_id": case_id, "first_seen": now}
        for kind, value in sorted(selectors)
    ]
    return prepare_insert(dialect, selector_index, rows, conflict=["kind", "value", "case_id"])
