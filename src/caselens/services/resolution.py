"""Identity resolution of a case: candidates best first, analysts' judgements, and the
canonical entities those judgements make.

Judgements are appended, never changed: judging a pair again supersedes the earlier
judgement, which stays in the table and in the audit log, so a merge is undone by
judging the pair "different" and history shows who decided what, when and why.
"""

from __future__ import annotations

import builtins
from typing import Any

from sqlalchemy import Connection, Row, insert

from caselens.actor import Actor
from caselens.db.schema import judgements
from caselens.db.types import utcnow
from caselens.errors import InvalidInput, NotFound
from caselens.resolve.candidates import Candidate, candidates, ordered
from caselens.resolve.groups import canonical_groups
from caselens.resolve.judged import standing_judgements
from caselens.resolve.records import Record, compatible, read_records
from caselens.resolve.score import THRESHOLD, score_pair
from caselens.services.access import purpose_for, require_member, require_open
from caselens.services.base import Service

JUDGEMENTS = ("same", "different", "unsure")


class ResolutionService(Service):
    def candidates(
        self,
        actor: Actor,
        reference: str,
        *,
        limit: int = 50,
        include_judged: bool = False,
        min_score: float = 0.5,
    ) -> builtins.list[dict[str, Any]]:
        """Pairs of entities that may be one, best first; judged pairs only on request."""

        def body(connection: Connection, case: Row[Any]) -> builtins.list[dict[str, Any]]:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            standing = standing_judgements(connection, case.id)
            found = [
                _candidate_dict(c, standing.get(c.pair))
                for c in candidates(read_records(connection, case.id), min_score)
                if include_judged or c.pair not in standing
            ][:limit]
            self._audit(
                connection,
                actor,
                "resolve.candidates",
                case=case,
                purpose=purpose,
                details={"count": len(found), "include_judged": include_judged},
            )
            return found

        return self._in_case(actor, "resolve.candidates", reference, body)

    def judge(
        self,
        actor: Actor,
        reference: str,
        left: str,
        right: str,
        judgement: str,
        note: str | None = None,
    ) -> dict[str, Any]:
        """Record that two entities are the same, different, or that it is unclear."""
        if judgement not in JUDGEMENTS:
            raise InvalidInput(
                f"unknown judgement {judgement!r}; choose one of {', '.join(JUDGEMENTS)}"
            )

        def body(connection: Connection, case: Row[Any]) -> dict[str, Any]:
            require_member(connection, actor, case)  # every role may judge, reviewers too
            require_open(case)
            purpose = purpose_for(actor, case)
            records = read_records(connection, case.id)
            first, second = _find(records, left), _find(records, right)
            if first.entity_id == second.entity_id:
                raise InvalidInput(f"{left} and {right} are the same entity already")
            if judgement == "same" and not compatible(first, second):
                raise InvalidInput(
                    f"a {first.schema} and a {second.schema} cannot be one entity; "
                    "judge them 'different' or 'unsure'"
                )
            pair = ordered(first.entity_id, second.entity_id)
            previous = standing_judgements(connection, case.id).get(pair)
            result = score_pair(first, second)
            now = utcnow()
            connection.execute(
                insert(judgements).values(
                    case_id=case.id,
                    left_id=pair[0],
                    right_id=pair[1],
                    judgement=judgement,
                    score=result.score,
                    judged_by=actor.user,
                    judged_at=now,
                    note=note,
                )
            )
            details = {
                "left": pair[0],
                "right": pair[1],
                "judgement": judgement,
                "previous": previous,
                "score": result.score,
                "note": note,
            }
            self._audit(
                connection,
                actor,
                "resolve.judge",
                case=case,
                purpose=purpose,
                target=f"{pair[0]}:{pair[1]}",
                details=details,
            )
            return {**details, "judged_by": actor.user, "judged_at": now.isoformat()}

        return self._in_case(actor, "resolve.judge", reference, body)

    def groups(self, actor: Actor, reference: str) -> builtins.list[dict[str, Any]]:
        """The canonical entities: each group of entities judged one, with its sources."""

        def body(connection: Connection, case: Row[Any]) -> builtins.list[dict[str, Any]]:
            require_member(connection, actor, case)
            purpose = purpose_for(actor, case)
            records = read_records(connection, case.id)
            found = []
            for root, members in sorted(
                canonical_groups(standing_judgements(connection, case.id)).items()
            ):
                present = [records[m] for m in members if m in records]
                found.append(
                    {
                        "canonical": root,
                        "label": records[root].label if root in records else root,
                        "members": [_record_dict(r) for r in present],
                        "names": sorted({n for r in present for n in r.names}),
                        "identifiers": sorted(
                            {f"{k}:{v}" for r in present for k, v in r.identifiers}
                        ),
                        "items": len({i for r in present for i in r.items}),
                    }
                )
            self._audit(
                connection,
                actor,
                "resolve.groups",
                case=case,
                purpose=purpose,
                details={"count": len(found)},
            )
            return found

        return self._in_case(actor, "resolve.groups", reference, body)


def _find(records: dict[str, Record], reference: str) -> Record:
    """An entity by its id, an unambiguous prefix of at least 6 characters, or an e-mail
    address, phone number or IBAN that exactly one entity holds."""
    text = reference.strip().lower()
    if text in records:
        return records[text]
    matches = [key for key in records if len(text) >= 6 and key.startswith(text)]
    if len(matches) == 1:
        return records[matches[0]]
    if matches:
        raise InvalidInput(f"{reference!r} starts {len(matches)} entity ids; give more of it")
    holders = [r for r in records.values() if any(v.lower() == text for _, v in r.identifiers)]
    if len(holders) == 1:
        return holders[0]
    if holders:
        raise InvalidInput(f"{len(holders)} entities hold {reference!r}; give an entity id")
    raise NotFound(f"no person, organisation or account {reference!r} in this case")


def _record_dict(record: Record) -> dict[str, Any]:
    return {
        "id": record.entity_id,
        "schema": record.schema,
        "label": record.label,
        "names": record.names,
        "identifiers": sorted(f"{k}:{v}" for k, v in record.identifiers),
        "items": len(record.items),
    }


def _candidate_dict(candidate: Candidate, standing: str | None) -> dict[str, Any]:
    return {
        "left": _record_dict(candidate.left),
        "right": _record_dict(candidate.right),
        "score": candidate.result.score,
        "probable": candidate.result.score >= THRESHOLD,
        "explanation": candidate.result.explain(),
        "evidence": [
            {"kind": e.kind, "strength": e.strength, "detail": e.detail}
            for e in candidate.result.evidence
        ],
        "judgement": standing,
    }
