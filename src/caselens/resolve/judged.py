"""The judgements a case holds, read from the store: the standing one of each pair and
the merges the pairs judged the same make (used by the resolution service and by the
graph, which shows each canonical entity as one node)."""

from __future__ import annotations

from sqlalchemy import Connection, select

from caselens.db.schema import judgements
from caselens.resolve.groups import canonical_groups, latest, merges


def standing_judgements(connection: Connection, case_id: str) -> dict[tuple[str, str], str]:
    """(left id, right id) → the pair's latest judgement."""
    rows = connection.execute(
        select(judgements.c.left_id, judgements.c.right_id, judgements.c.judgement)
        .where(judgements.c.case_id == case_id)
        .order_by(judgements.c.id)
    )
    return latest((row.left_id, row.right_id, row.judgement) for row in rows)


def case_merges(connection: Connection, case_id: str) -> dict[str, str]:
    """Entity id → canonical entity id, from the pairs standing judged the same."""
    return merges(canonical_groups(standing_judgements(connection, case_id)))
