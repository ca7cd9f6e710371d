"""Names of a case: people, organisations and places ranked by the items they appear in,
and drill-down. A name is its fingerprint, so its spellings and scripts count together."""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Connection, Row, func, select

from caselens.actor import Actor
from caselens.db.schema import mentions
from caselens.errors import InvalidInput
from caselens.extract.base import NAME_KINDS
from caselens.extract.fingerprint import display_name, name_fingerprint
from caselens.services.access import purpose_for, require_member
from caselens.services.base import Service
from caselens.services.selectors import mention_places

_BATCH = 500


class NameService(Service):
    def ranked(
        self, actor: Actor, reference: str, *, kind: str | None = None, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Names by the number of items they appear in, most first, each shown in its most
        frequent spelling, with the number of distinct spellings found."""
        kinds = _kinds(kind)

        def body(connection: Connection, case: Row[Any]) -> list[dict[str, Any]]:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            current = (
                mentions.c.case_id == case.id,
                mentions.c.superseded.is_(False),
                mentions.c.kind.in_(kinds),
            )
            item_count = func.count(mentions.c.item_id.distinct()).label("items")
            query = (
                select(
                    mentions.c.kind,
                    mentions.c.value,
                    item_count,
                    func.count().label("n"),
                    func.count(mentions.c.raw.distinct()).label("spellings"),
                )
                .where(*current)
                .group_by(mentions.c.kind, mentions.c.value)
                .order_by(item_count.desc(), mentions.c.kind, mentions.c.value)
                .limit(limit)
            )
            groups = connection.execute(query).all()
            spellings = _spelling_counts(connection, current, [g.value for g in groups])
            rows = [
                {
                    "kind": g.kind,
                    "value": g.value,
                    "name": _most_frequent(spellings[(g.kind, g.value)]),
                    "spellings": g.spellings,
                    "items": g.items,
                    "mentions": g.n,
                }
                for g in groups
            ]
            self._audit(
                connection,
                actor,
                "names.ranked",
                case=case,
                purpose=purpose,
                details={"kind": kind, "count": len(rows)},
            )
            return rows

        return self._in_case(actor, "names.ranked", reference, body)

    def items(
        self, actor: Actor, reference: str, kind: str, value: str, *, limit: int = 100
    ) -> list[dict[str, Any]]:
        """Where one name appears: item, page, offsets and the text as written. ``value`` is
        a fingerprint, or a name as written, which is fingerprinted ("Vladimir Putin")."""
        _kinds(kind)
        values = {value, name_fingerprint(value)} - {""}

        def body(connection: Connection, case: Row[Any]) -> list[dict[str, Any]]:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            rows = mention_places(connection, case.id, kind, sorted(values), limit)
            self._audit(
                connection,
                actor,
                "names.items",
                case=case,
                purpose=purpose,
                details={"kind": kind, "value": value, "count": len(rows)},
            )
            return rows

        return self._in_case(actor, "names.items", reference, body)


def _kinds(kind: str | None) -> tuple[str, ...]:
    if kind is None:
        return NAME_KINDS
    if kind not in NAME_KINDS:
        raise InvalidInput(
            f"unknown kind of name {kind!r}: use one of {', '.join(NAME_KINDS)}", kind=kind
        )
    return (kind,)


def _spelling_counts(
    connection: Connection, current: tuple[Any, ...], values: list[str]
) -> dict[tuple[str, str], Counter[str]]:
    """How often each spelling of the given names was found, per (kind, value)."""
    counts: dict[tuple[str, str], Counter[str]] = {}
    unique = sorted(set(values))
    # In batches: a long ranking must not exceed the database's bound-parameter limit.
    for first in range(0, len(unique), _BATCH):
        query = (
            select(mentions.c.kind, mentions.c.value, mentions.c.raw, func.count().label("n"))
            .where(*current, mentions.c.value.in_(unique[first : first + _BATCH]))
            .group_by(mentions.c.kind, mentions.c.value, mentions.c.raw)
        )
        for row in connection.execute(query):
            counts.setdefault((row.kind, row.value), Counter())[row.raw] = row.n
    return counts


def _most_frequent(spellings: Counter[str]) -> str:
    # Ties go to the first in code-point order, so the same case always shows the same name.
    raw = min(spellings, key=lambda spelling: (-spellings[spelling], spelling))
    return display_name(raw)
