"""Mark an item's current results as superseded before new ones are written."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Connection, update

from caselens.db.schema import entities, item_texts


def supersede(connection: Connection, item_ids: Iterable[str]) -> None:
    ids = list(item_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        connection.execute(
            update(item_texts)
            .where(item_texts.c.item_id.in_(chunk), item_texts.c.superseded.is_(False))
            .values(superseded=True)
        )
        connection.execute(
            update(entities)
            .where(entities.c.item_id.in_(chunk), entities.c.superseded.is_(False))
            .values(superseded=True)
        )
