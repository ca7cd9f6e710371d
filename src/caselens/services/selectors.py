"""Selectors of a case: identifiers ranked by the items they appear in, and drill-down."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, Row, func, select

from caselens.actor import Actor
from caselens.db.schema import items, mentions
from caselens.extract.base import NAME_KINDS
from caselens.services.access import purpose_for, require_member
from caselens.services.base import Service


class SelectorService(Service):
    def ranked(
        self, actor: Actor, reference: str, *, kind: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Identifiers by the number of items they appear in, most first."""

        def body(connection: Connection, case: Row[Any]) -> list[dict[str, Any]]:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            item_count = func.count(mentions.c.item_id.distinct()).label("items")
            query = (
                select(mentions.c.kind, mentions.c.value, item_count, func.count().label("n"))
                .where(
                    mentions.c.case_id == case.id,
                    mentions.c.superseded.is_(False),
                    mentions.c.kind.not_in(NAME_KINDS),  # names have their own ranking
                )
                .group_by(mentions.c.kind, mentions.c.value)
                .order_by(item_count.desc(), mentions.c.kind, mentions.c.value)
                .limit(limit)
            )
            if kind:
                query = query.where(mentions.c.kind == kind)
            rows = [
                {"kind": r.kind, "value": r.value, "items": r.items, "mentions": r.n}
                for r in connection.execute(query)
            ]
            self._audit(
                connection,
                actor,
                "selectors.ranked",
                case=case,
                purpose=purpose,
                details={"kind": kind, "count": len(rows)},
            )
            return rows

        return self._in_case(actor, "selectors.ranked", reference, body)

    def items(
        self, actor: Actor, reference: str, kind: str, value: str, *, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Where one identifier appears: item, page, offsets and the text as written."""

        def body(connection: Connection, case: Row[Any]) -> list[dict[str, Any]]:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            rows = mention_places(connection, case.id, kind, [value], limit)
            self._audit(
                connection,
                actor,
                "selectors.items",
                case=case,
                purpose=purpose,
                details={"kind": kind, "value": value, "count": len(rows)},
            )
            return rows

        return self._in_case(actor, "selectors.items", reference, body)


def mention_places(
    connection: Connection, case_id: str, kind: str, values: Sequence[str], limit: int
) -> list[dict[str, Any]]:
    """Where mentions of ``kind`` with one of ``values`` are: item, page, offsets, raw text."""
    query = (
        select(
            mentions.c.item_id,
            items.c.path,
            mentions.c.page,
            mentions.c.start,
            mentions.c.end,
            mentions.c.raw,
        )
        .join(items, items.c.id == mentions.c.item_id)
        .where(
            mentions.c.case_id == case_id,
            mentions.c.kind == kind,
            mentions.c.value.in_(sorted(values)),
            mentions.c.superseded.is_(False),
        )
        .order_by(items.c.path, mentions.c.page, mentions.c.start)
        .limit(limit)
    )
    return [dict(r._mapping) for r in connection.execute(query)]
