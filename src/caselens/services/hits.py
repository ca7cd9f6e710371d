"""Cross-case hits under need-to-know.

A member of case A who lists A's hits sees, for each selector another case B holds too:
everything about B's side when they are a member of B as well, and otherwise only a
notice naming B's reference and lead, whom they may contact through the proper channel.
B's content (title, items, counts) never crosses to someone who is not a member of B.
Each listing is recorded in A's audit log, and in B's: as a view of B's side, or as the
notice given about B.
"""

from __future__ import annotations

import builtins
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, tuple_

from caselens.actor import Actor
from caselens.db.schema import cases, cross_hits, memberships, mentions, users
from caselens.db.types import utcnow
from caselens.hits.found import announce, find_hits, mark_hits
from caselens.services.access import membership_role, purpose_for, require_member, user_row
from caselens.services.base import Service

NOTICE = "known in another case"


@dataclass(slots=True)
class OtherSide:
    """What a member of both cases sees of the other case's side of a hit."""

    title: str
    status: str
    items: int  # items of the other case in which the selector appears in text


@dataclass(slots=True)
class CrossHit:
    kind: str
    value: str
    other_case: str  # reference
    contact: list[str]  # the other case's lead(s)
    found_at: datetime
    new: bool  # not listed by a member of this case before
    items: int  # items of this case in which the selector appears in text
    other: OtherSide | None  # None: the actor is not a member of the other case

    @property
    def notice(self) -> str:
        contact = ", ".join(self.contact) or "its lead"
        return f"{NOTICE} — contact: {contact}, case {self.other_case}"

    def as_dict(self) -> dict[str, Any]:
        shown: dict[str, Any] = {
            "kind": self.kind,
            "value": self.value,
            "other_case": self.other_case,
            "contact": self.contact,
            "found_at": self.found_at.isoformat(),
            "new": self.new,
            "items": self.items,
        }
        if self.other is None:
            shown["notice"] = self.notice
        else:
            shown["other"] = {
                "title": self.other.title,
                "status": self.other.status,
                "items": self.other.items,
            }
        return shown


class HitService(Service):
    def _refresh(self, connection: Connection, actor: Actor, case_id: str) -> int:
        """Find the case's new hits and record them in both cases' logs."""
        new = find_hits(connection, case_id)
        announce(connection, self.runtime.signer, actor)
        return new

    def list(
        self, actor: Actor, reference: str, *, new_only: bool = False, limit: int = 1000
    ) -> list[CrossHit]:
        def body(connection: Connection, case: Row[Any]) -> list[CrossHit]:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            self._refresh(connection, actor, case.id)
            query = (
                select(cross_hits, cases.c.reference, cases.c.title, cases.c.status)
                .join(cases, cases.c.id == cross_hits.c.other_case_id)
                .where(cross_hits.c.case_id == case.id)
                .order_by(cases.c.reference, cross_hits.c.kind, cross_hits.c.value)
                .limit(limit)
            )
            if new_only:
                query = query.where(cross_hits.c.listed_at.is_(None))
            rows = list(connection.execute(query))
            user = user_row(connection, actor.user)
            member_of = {
                other: membership_role(connection, other, user.id) is not None
                for other in {row.other_case_id for row in rows}
            }
            leads = _leads(connection, list(member_of))
            here = _item_counts(connection, case.id, rows)
            there = {
                other: _item_counts(
                    connection, other, [r for r in rows if r.other_case_id == other]
                )
                for other, member in member_of.items()
                if member
            }
            hits = [
                CrossHit(
                    kind=row.kind,
                    value=row.value,
                    other_case=row.reference,
                    contact=leads.get(row.other_case_id, []),
                    found_at=row.found_at,
                    new=row.listed_at is None,
                    items=here.get((row.kind, row.value), 0),
                    other=OtherSide(
                        title=row.title,
                        status=row.status,
                        items=there[row.other_case_id].get((row.kind, row.value), 0),
                    )
                    if member_of[row.other_case_id]
                    else None,
                )
                for row in rows
            ]
            unlisted = [
                (case.id, r.other_case_id, r.kind, r.value) for r in rows if r.listed_at is None
            ]
            mark_hits(connection, unlisted, listed_at=utcnow())
            self._record_listing(connection, actor, case, purpose, hits, member_of, rows)
            return hits

        return self._in_case(actor, "hits.list", reference, body)

    def _record_listing(
        self,
        connection: Connection,
        actor: Actor,
        case: Row[Any],
        purpose: str,
        hits: builtins.list[CrossHit],
        member_of: dict[str, bool],
        rows: builtins.list[Row[Any]],
    ) -> None:
        self._audit(
            connection,
            actor,
            "hits.list",
            case=case,
            purpose=purpose,
            details={"count": len(hits), "new": sum(hit.new for hit in hits)},
        )
        by_other: dict[str, builtins.list[dict[str, str]]] = defaultdict(list)
        for row in rows:
            by_other[row.other_case_id].append({"kind": row.kind, "value": row.value})
        others = {
            row.id: row
            for row in connection.execute(select(cases).where(cases.c.id.in_(list(by_other))))
        }
        # In the other case's log: who learnt what of it, and on whose behalf.
        for other_id in sorted(by_other):
            action = "hits.viewed" if member_of[other_id] else "hits.notice"
            self._audit(
                connection,
                actor,
                action,
                case=others[other_id],
                purpose=purpose,
                details={"from_case": case.reference, "selectors": by_other[other_id][:1000]},
            )


def _leads(connection: Connection, case_ids: list[str]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    rows = connection.execute(
        select(memberships.c.case_id, users.c.name)
        .join(users, users.c.id == memberships.c.user_id)
        .where(memberships.c.case_id.in_(case_ids), memberships.c.role == "lead")
        .order_by(users.c.name)
    )
    for case_id, name in rows:
        found[case_id].append(name)
    return found


def _item_counts(
    connection: Connection, case_id: str, rows: list[Row[Any]]
) -> dict[tuple[str, str], int]:
    """Items of ``case_id`` whose current text mentions each (kind, value) of ``rows``."""
    wanted = sorted({(r.kind, r.value) for r in rows})
    key = tuple_(mentions.c.kind, mentions.c.value)
    counts: dict[tuple[str, str], int] = {}
    for start in range(0, len(wanted), 500):
        query = (
            select(mentions.c.kind, mentions.c.value, func.count(mentions.c.item_id.distinct()))
            .where(
                mentions.c.case_id == case_id,
                mentions.c.superseded.is_(False),
                key.in_(wanted[start : start + 500]),
            )
            .group_by(mentions.c.kind, mentions.c.value)
        )
        for kind, value, count in connection.execute(query):
            counts[(kind, value)] = int(count)
    return counts
