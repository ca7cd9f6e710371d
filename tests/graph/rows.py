"""Graph test cases made of entity and mention rows inserted straight into the store."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import insert, select

from caselens.db.schema import cases, entities, items, mentions
from caselens.services import Caselens


class CaseRows:
    """Items, entities and mentions of one case, written in one go by ``save``."""

    def __init__(self, app: Caselens, reference: str) -> None:
        self.app = app
        with app.runtime.transaction() as connection:
            self.case_id = connection.execute(
                select(cases.c.id).where(cases.c.reference == reference)
            ).scalar_one()
        self.items: list[dict[str, Any]] = []
        self.entities: list[dict[str, Any]] = []
        self.mentions: list[dict[str, Any]] = []

    def item(self, name: str) -> str:
        item_id = f"{len(self.items):032x}"
        self.items.append(
            {
                "id": item_id,
                "case_id": self.case_id,
                "depth": 0,
                "path": name,
                "path_bytes": name.encode(),
                "name": name,
                "kind": "file",
                "state": "ingested",
                "generation": 0,
                "acquired_at": datetime(2024, 1, 1, tzinfo=UTC),
            }
        )
        return item_id

    def entity(
        self,
        entity_id: str,
        schema: str,
        item_id: str,
        superseded: bool = False,
        context: dict[str, Any] | None = None,
        **properties: Any,
    ) -> None:
        self.entities.append(
            {
                "case_id": self.case_id,
                "entity_id": entity_id,
                "schema": schema,
                "item_id": item_id,
                "generation": 0,
                "properties": {k: v if isinstance(v, list) else [v] for k, v in properties.items()},
                "superseded": superseded,
                "context": context,
            }
        )

    def account(self, key: str, item_id: str, **properties: Any) -> str:
        properties.setdefault("name", key)
        self.entity(key, "UserAccount", item_id, username=key, **properties)
        return key

    def message(self, sender: str, recipient: str, when: str, item_id: str) -> None:
        number = len(self.entities)
        self.entity(
            f"msg-{number}",
            "Message",
            item_id,
            senderAccount=sender,
            recipientAccount=recipient,
            date=when,
        )

    def mention(self, item_id: str, kind: str, value: str) -> None:
        self.mentions.append(
            {
                "case_id": self.case_id,
                "item_id": item_id,
                "generation": 0,
                "page": 1,
                "start": 0,
                "end": len(value),
                "kind": kind,
                "value": value,
                "raw": value,
                "extractor": "test",
                "extractor_version": "1",
                "superseded": False,
            }
        )

    def save(self) -> None:
        with self.app.runtime.transaction() as connection:
            for table, rows in (
                (items, self.items),
                (entities, self.entities),
                (mentions, self.mentions),
            ):
                if rows:
                    connection.execute(insert(table), rows)
        self.items, self.entities, self.mentions = [], [], []
