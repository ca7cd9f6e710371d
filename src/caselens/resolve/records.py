"""The entities of a case as resolution sees them: names, identifiers, sources."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from caselens.db.schema import entities
from caselens.extract.base import IDENTIFIER_PROPERTIES, identifier_value
from caselens.graph.fragments import NODE_SCHEMATA

# Which entities may be one: a person is never a company, an account may be either.
FAMILIES = {
    "Person": frozenset({"person"}),
    "Organization": frozenset({"org"}),
    "Company": frozenset({"org"}),
    "PublicBody": frozenset({"org"}),
    "LegalEntity": frozenset({"person", "org"}),
    "UserAccount": frozenset({"person", "org"}),
    "BankAccount": frozenset({"bank"}),
    "CryptoWallet": frozenset({"wallet"}),
}
NAME_PROPERTIES = ("name", "alias", "previousName", "weakAlias")
MAX_NAMES = 20  # a sanctions-list entity can carry hundreds of spellings


@dataclass(slots=True)
class Record:
    entity_id: str
    schema: str
    names: list[str] = field(default_factory=list)
    identifiers: set[tuple[str, str]] = field(default_factory=set)
    items: set[str] = field(default_factory=set)

    @property
    def label(self) -> str:
        if self.names:
            return self.names[0]
        return next((value for _, value in sorted(self.identifiers)), self.entity_id[:12])


def compatible(left: Record, right: Record) -> bool:
    return bool(FAMILIES[left.schema] & FAMILIES[right.schema])


def read_records(connection: Connection, case_id: str) -> dict[str, Record]:
    """Every current entity of the case that can be a graph node, fragments merged."""
    query = select(
        entities.c.entity_id, entities.c.schema, entities.c.item_id, entities.c.properties
    ).where(
        entities.c.case_id == case_id,
        entities.c.superseded.is_(False),
        entities.c.schema.in_(list(NODE_SCHEMATA)),
    )
    found: dict[str, Record] = {}
    for row in connection.execute(query.execution_options(yield_per=5000)):
        record = found.setdefault(row.entity_id, Record(row.entity_id, row.schema))
        record.items.add(row.item_id)
        properties = row.properties if isinstance(row.properties, dict) else {}
        for prop in NAME_PROPERTIES:
            for value in _strings(properties.get(prop)):
                if value not in record.names and len(record.names) < MAX_NAMES:
                    record.names.append(value)
        first, last = _strings(properties.get("firstName")), _strings(properties.get("lastName"))
        if first and last and len(record.names) < MAX_NAMES:
            joined = f"{first[0]} {last[0]}"
            if joined not in record.names:
                record.names.append(joined)
        for prop, kind in IDENTIFIER_PROPERTIES.items():
            for value in _strings(properties.get(prop)):
                record.identifiers.add((kind, identifier_value(kind, value)))
    return found


def _strings(values: object) -> list[str]:
    if isinstance(values, str):
        return [values] if values.strip() else []
    if isinstance(values, list):
        return [v for v in values if isinstance(v, str) and v.strip()]
    return []
