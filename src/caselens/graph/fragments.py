"""Reading a case's entity fragments for the graph: only current rows, only the
schemata the graph uses, and of each row only what a node or an edge needs.

Properties are read as JSON text and parsed here rather than by the column type: the
row objects stay plain tuples, which at ten million messages is most of the reading
time. Message bodies are parsed but not kept.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Text, cast, select

from caselens.db.schema import entities, search_docs

NODE_SCHEMATA = {
    "Person": "person",
    "Organization": "organisation",
    "Company": "organisation",
    "PublicBody": "organisation",
    "LegalEntity": "account",
    "UserAccount": "account",
    "BankAccount": "account",
    "CryptoWallet": "account",
}
EVENT_SCHEMATA = ("Email", "Message", "Call", "Payment")
# What a node needs of its fragments: a label, its selectors, its owner.
NODE_PROPERTIES = ("name", "username", "email", "phone", "iban", "owner")
EVENT_PROPERTIES = (
    "date",
    "startDate",
    "emitters",
    "recipients",
    "to",
    "cc",
    "bcc",
    "senderAccount",
    "recipientAccount",
    "callerNumber",
    "receiverNumber",
    "payer",
    "payerAccount",
    "beneficiary",
    "beneficiaryAccount",
)
TIME = re.compile(r"^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2})?)?")
_READ_BATCH = 10_000


@dataclass(slots=True)
class Fragments:
    """The merged fragments of one node entity: the first schema seen, and the values
    of NODE_PROPERTIES in order of first appearance."""

    schema: str
    properties: dict[str, list[str]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventRow:
    entity_id: str
    schema: str
    item_id: str
    properties: dict[str, Any]
    context: dict[str, Any]


def _parse(text: Any) -> dict[str, Any] | None:
    if isinstance(text, dict):
        return text
    try:
        value = json.loads(text) if isinstance(text, str | bytes) else None
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _current(case_id: str, schemata: list[str]) -> Any:
    return (
        entities.c.case_id == case_id,
        entities.c.superseded.is_(False),
        entities.c.schema.in_(schemata),
    )


def read_fragments(
    connection: Connection, case_id: str
) -> tuple[dict[str, Fragments], list[tuple[str, str, str]], int]:
    """Node fragments merged per entity id; owner links (account, item, owner) that
    fragments of accounts carry; and how many rows could not be read."""
    query = select(
        entities.c.entity_id,
        entities.c.schema,
        entities.c.item_id,
        cast(entities.c.properties, Text),
    ).where(*_current(case_id, list(NODE_SCHEMATA)))
    fragments: dict[str, Fragments] = {}
    owners: list[tuple[str, str, str]] = []
    unreadable = 0
    for entity_id, schema, item_id, text in connection.execute(
        query.execution_options(yield_per=_READ_BATCH)
    ):
        properties = _parse(text)
        if properties is None:
            unreadable += 1
            properties = {}
        merged = fragments.get(entity_id)
        if merged is None:
            merged = fragments[entity_id] = Fragments(schema)
        for name in NODE_PROPERTIES:
            values = strings(properties.get(name))
            if values:
                kept = merged.properties.setdefault(name, [])
                kept.extend(value for value in values if value not in kept)
        if schema == "Person" or merged.schema == "Person":
            continue
        # The owner link of an account comes as a fragment of its own.
        owners.extend((entity_id, item_id, owner) for owner in strings(properties.get("owner")))
    return fragments, owners, unreadable


def read_events(connection: Connection, case_id: str, unreadable: list[int]) -> Iterator[EventRow]:
    """Current e-mails, messages, calls and payments, one at a time; ``unreadable``
    counts rows whose properties are not a JSON object."""
    query = select(
        entities.c.entity_id,
        entities.c.schema,
        entities.c.item_id,
        cast(entities.c.properties, Text),
        cast(entities.c.context, Text),
    ).where(*_current(case_id, list(EVENT_SCHEMATA)))
    for entity_id, schema, item_id, text, context in connection.execute(
        query.execution_options(yield_per=_READ_BATCH)
    ):
        properties = _parse(text)
        if properties is None:
            unreadable[0] += 1
            properties = {}
        slim = {name: properties[name] for name in EVENT_PROPERTIES if name in properties}
        # Only a call's parties live in its context; other contexts are not parsed.
        found = (_parse(context) or {}) if schema == "Call" and context is not None else {}
        yield EventRow(entity_id, schema, item_id, slim, found)


def item_dates(connection: Connection, case_id: str) -> dict[str, str]:
    query = select(search_docs.c.item_id, search_docs.c.date).where(
        search_docs.c.case_id == case_id, search_docs.c.date.is_not(None)
    )
    return {row.item_id: row.date for row in connection.execute(query) if TIME.match(row.date)}


def strings(values: Any) -> list[str]:
    if isinstance(values, str):
        return [values] if values else []
    if isinstance(values, list):
        return [value for value in values if isinstance(value, str) and value]
    return []


def time_of(values: Any) -> str | None:
    """The first value that starts with an ISO 8601 date, to the second at most."""
    for value in strings(values):
        found = TIME.match(value)
        if found:
            return found.group(0)
    return None
