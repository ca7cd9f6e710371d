"""Parties of events: how an entity is shown, and which entities a filter value means.

A filter is an entity id, or a selector as an investigator types it: a phone number (in
any national or international form), an e-mail address, an account name. It selects the
accounts, people and organisations of the case that carry it, the accounts those people
own, and (for calls with no account) the number itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, select

from caselens.db.schema import entities
from caselens.ingest.formats.phone.comms import normalize_phone
from caselens.timeline.reading import mentions_any, pushable

_ENTITY_ID = re.compile(r"^[0-9a-f]{40}$")
PARTY_SCHEMATA = ("UserAccount", "LegalEntity", "Person", "Organization", "Company")
_IDENTIFYING = ("phone", "email", "username", "name")
_BATCH = 500


def load_labels(
    connection: Connection, case_id: str, wanted: Iterable[str], labels: dict[str, str]
) -> None:
    """Add the labels of the wanted entity ids that ``labels`` lacks (one query a batch)."""
    missing = sorted({i for i in wanted if i and i not in labels})
    for first in range(0, len(missing), _BATCH):
        chunk = missing[first : first + _BATCH]
        merged: dict[str, tuple[str, dict[str, list[str]]]] = {}
        for row in connection.execute(
            select(entities.c.entity_id, entities.c.schema, entities.c.properties).where(
                entities.c.case_id == case_id,
                entities.c.superseded.is_(False),
                entities.c.entity_id.in_(chunk),
            )
        ):
            schema, properties = merged.setdefault(row.entity_id, (row.schema, {}))
            for name, values in (row.properties or {}).items():
                if isinstance(values, list):
                    properties.setdefault(name, []).extend(str(v) for v in values)
        for identifier in chunk:
            schema, properties = merged.get(identifier, ("", {}))
            labels[identifier] = label_of(schema, properties) or identifier[:12]


def label_of(schema: str, properties: dict[str, list[str]]) -> str | None:
    """How a party is shown: its number, address or account, else its name."""

    def first(name: str) -> str | None:
        values = properties.get(name) or []
        return values[0] if values else None

    if schema == "UserAccount":
        service, username, phone = first("service"), first("username"), first("phone")
        if service == "phone" or (phone and not username):
            return phone or username
        if username:
            return f"{service}:{username}" if service else username
    return first("email") or first("phone") or first("name")


def resolve_filter(
    connection: Connection, case_id: str, value: str, region: str | None
) -> tuple[frozenset[str], frozenset[str]]:
    """The entity ids and the party labels an entity filter selects."""
    text = value.strip()
    if _ENTITY_ID.match(text.lower()):
        ids = {text.lower()}
        return frozenset(ids | _owned_accounts(connection, case_id, ids)), frozenset()
    wanted = {text.casefold()}
    phone = normalize_phone(text, region)
    if phone:
        wanted.add(phone.casefold())
    query = select(entities.c.entity_id, entities.c.properties).where(
        entities.c.case_id == case_id,
        entities.c.superseded.is_(False),
        entities.c.schema.in_(PARTY_SCHEMATA),
    )
    needles = [phone] if phone else [text]
    if pushable(needles):
        query = query.where(mentions_any([entities.c.properties], needles, ignore_case=True))
    ids = {row.entity_id for row in connection.execute(query) if _carries(row.properties, wanted)}
    ids |= _owned_accounts(connection, case_id, ids)
    return frozenset(ids), frozenset({phone} if phone else {text})


def _carries(properties: Any, wanted: set[str]) -> bool:
    if not isinstance(properties, dict):
        return False
    for name in _IDENTIFYING:
        values = properties.get(name)
        if isinstance(values, list) and any(str(v).casefold() in wanted for v in values):
            return True
    return False


def _owned_accounts(connection: Connection, case_id: str, owners: set[str]) -> set[str]:
    """Accounts whose owner is one of the given people (one level: a person's phones)."""
    if not owners or not pushable(owners):
        return set()
    query = select(entities.c.entity_id, entities.c.properties).where(
        entities.c.case_id == case_id,
        entities.c.superseded.is_(False),
        entities.c.schema == "UserAccount",
        mentions_any([entities.c.properties], sorted(owners)),
    )
    return {
        row.entity_id
        for row in connection.execute(query)
        if set((row.properties or {}).get("owner") or []) & owners
    }
