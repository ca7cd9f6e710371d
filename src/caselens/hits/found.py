"""Finding the hits of a case in the selector index, and announcing them in both cases'
audit logs.

Hits are found by a sweep of the index rather than inside each ingest batch: two cases
ingesting the same new number at the same moment would each miss the other's
uncommitted row, while a sweep after the run (and before every listing) sees both. A
hit row is written for each side; ``announced`` turns true in the same transaction that
writes the hit into both audit logs, so a crash in between only delays the record.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import Connection, and_, false, func, literal, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.expression import Insert

from caselens.actor import Actor
from caselens.custody import chain
from caselens.custody.signing import HeadSigner
from caselens.db.schema import cases, cross_hits, selector_index
from caselens.db.types import utcnow

# Selectors listed in one audit record; a case sharing 100,000 numbers gets 100 records.
VALUES_PER_RECORD = 1000
# Keys in one ``IN`` list: well inside SQLite's and PostgreSQL's limits on parameters.
KEYS_PER_STATEMENT = 500


def find_hits(connection: Connection, case_id: str) -> int:
    """Record every selector of ``case_id`` that another case holds too; return how many
    pairs (case, other case, selector) are new."""
    now = utcnow()
    ours = selector_index.alias("ours")
    theirs = selector_index.alias("theirs")
    joined = ours.join(
        theirs,
        and_(
            theirs.c.kind == ours.c.kind,
            theirs.c.value == ours.c.value,
            theirs.c.case_id != ours.c.case_id,
        ),
    )
    columns = ["case_id", "other_case_id", "kind", "value", "found_at", "announced"]
    before = _count(connection, case_id)
    for this_side, other_side in ((ours, theirs), (theirs, ours)):
        chosen = (
            select(
                this_side.c.case_id,
                other_side.c.case_id,
                ours.c.kind,
                ours.c.value,
                literal(now, cross_hits.c.found_at.type),
                false(),
            )
            .select_from(joined)
            .where(ours.c.case_id == case_id)
        )
        connection.execute(_insert_ignoring(connection).from_select(columns, chosen))
    return _count(connection, case_id) - before


def hit_counts(connection: Connection, case_id: str) -> dict[str, int]:
    """Hits shown to a case in all, and those no member has listed yet."""
    total, new = connection.execute(
        select(func.count(), func.count().filter(cross_hits.c.listed_at.is_(None))).where(
            cross_hits.c.case_id == case_id
        )
    ).one()
    return {"total": int(total), "new": int(new)}


def _count(connection: Connection, case_id: str) -> int:
    return int(
        connection.execute(
            select(func.count()).select_from(cross_hits).where(cross_hits.c.case_id == case_id)
        ).scalar_one()
    )


def _insert_ignoring(connection: Connection) -> Insert:
    if connection.dialect.name == "postgresql":
        return postgresql.insert(cross_hits).on_conflict_do_nothing()
    return sqlite.insert(cross_hits).on_conflict_do_nothing()


def announce(connection: Connection, signer: HeadSigner, actor: Actor) -> int:
    """Write every hit not yet announced into the audit log of the case it is shown to;
    return the number of hit rows announced."""
    pending = connection.execute(
        select(cross_hits.c.case_id, cross_hits.c.other_case_id, cross_hits.c.kind)
        .add_columns(cross_hits.c.value)
        .where(cross_hits.c.announced.is_(False))
        .order_by(cross_hits.c.case_id, cross_hits.c.other_case_id, cross_hits.c.kind)
    ).all()
    if not pending:
        return 0
    references = {
        row.id: row.reference for row in connection.execute(select(cases.c.id, cases.c.reference))
    }
    grouped: dict[str, dict[str, list[dict[str, str]]]] = defaultdict(lambda: defaultdict(list))
    for row in pending:
        grouped[row.case_id][row.other_case_id].append({"kind": row.kind, "value": row.value})
    # Chains are locked in name order, so two announcers never wait on each other.
    for case_id in sorted(grouped, key=chain.audit_chain):
        entries = []
        for other_id, selectors in sorted(grouped[case_id].items()):
            for start in range(0, len(selectors), VALUES_PER_RECORD):
                details: dict[str, Any] = {
                    "os_user": actor.os_user,
                    "purpose": actor.purpose or "",
                    "other_case": references.get(other_id, other_id),
                    "selectors": selectors[start : start + VALUES_PER_RECORD],
                }
                entries.append(
                    chain.LogEntry(
                        action="hit.found", case_id=case_id, actor=actor.user, details=details
                    )
                )
        chain.append(connection, signer, chain.audit_chain(case_id), entries)
    # Only the rows announced here: a hit another writer recorded meanwhile waits its turn.
    mark_hits(connection, [tuple(row) for row in pending], announced=True)
    return len(pending)


def mark_hits(connection: Connection, keys: list[tuple[Any, ...]], **values: Any) -> None:
    """Set ``values`` on the hit rows named by (case, other case, kind, value) keys."""
    key = tuple_(
        cross_hits.c.case_id, cross_hits.c.other_case_id, cross_hits.c.kind, cross_hits.c.value
    )
    for start in range(0, len(keys), KEYS_PER_STATEMENT):
        chunk = keys[start : start + KEYS_PER_STATEMENT]
        connection.execute(update(cross_hits).where(key.in_(chunk)).values(**values))
