"""Bringing payments of a transaction dataset into its case as FollowTheMoney entities.

Shared by alerts and traces: the payments are read from the dataset's hash-checked
Parquet file, become ``BankAccount`` and ``Payment`` entities of the dataset's item, and
only those the case does not hold yet are inserted, so bringing twice adds nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from caselens.db.schema import entities, items
from caselens.finance.case_entities import case_entities, payment_rows
from caselens.finance.datasets import open_dataset
from caselens.runtime import Runtime


def bring_payments(
    runtime: Runtime, connection: Connection, case_id: str, dataset: Row[Any], rows: Iterable[int]
) -> dict[str, int]:
    """Bring the dataset's payments with these ``row`` numbers into the case; counts of
    the accounts and payments concerned and of the entities that were new."""
    payments = payment_rows(open_dataset(runtime, dataset), rows)
    found = case_entities(case_id, str(dataset.id), payments)
    added = _insert_new(connection, case_id, str(dataset.item_id), found)
    return {
        "accounts": sum(1 for entity, _ in found if entity["schema"] == "BankAccount"),
        "payments": sum(1 for entity, _ in found if entity["schema"] == "Payment"),
        "new_entities": added,
    }


def _insert_new(
    connection: Connection,
    case_id: str,
    item_id: str,
    found: list[tuple[dict[str, Any], dict[str, Any]]],
) -> int:
    """Insert the entities the case does not hold yet from this item; how many were new."""
    generation = connection.execute(
        select(items.c.generation).where(items.c.id == item_id)
    ).scalar_one()
    held = set(
        connection.execute(
            select(entities.c.entity_id).where(
                entities.c.case_id == case_id,
                entities.c.item_id == item_id,
                entities.c.superseded.is_(False),
                entities.c.entity_id.in_([entity["id"] for entity, _ in found]),
            )
        ).scalars()
    )
    rows = [
        {
            "case_id": case_id,
            "entity_id": entity["id"],
            "schema": entity["schema"],
            "item_id": item_id,
            "generation": generation,
            "properties": entity["properties"],
            "superseded": False,
            "context": context,
        }
        for entity, context in found
        if entity["id"] not in held
    ]
    if rows:
        connection.execute(insert(entities), rows)
    return len(rows)
