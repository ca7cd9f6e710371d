"""Matching a case's items against every list: exact hashes in SQL, PDQ in numpy."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, and_, literal, null, select
from sqlalchemy.dialects import postgresql, sqlite

from caselens.db.bulk import prepare_insert
from caselens.db.schema import hash_matches, hash_set_entries, items
from caselens.db.types import UTCDateTime
from caselens.hashsets.entries import Algorithm
from caselens.hashsets.queries import (
    CaseImage,
    delete_pdq_matches,
    existing_pdq_matches,
    pdq_lists,
)

EXACT = (
    (Algorithm.MD5, items.c.md5),
    (Algorithm.SHA1, items.c.sha1),
    (Algorithm.SHA256, items.c.sha256),
)
MATCH_KEY = ("case_id", "item_id", "set_id", "algorithm")


def match_exact(connection: Connection, case_id: str, now: datetime) -> int:
    """Flag the case's items whose MD5, SHA-1 or SHA-256 is on a list; new flags counted.

    One INSERT … SELECT per algorithm: the database walks the case's items and looks
    each hash up in the entries' (algorithm, value) key, so lists of millions of hashes
    are never read into memory. Flags already there keep their first time.
    """
    columns = ["case_id", "item_id", "set_id", "algorithm", "value", "item_value"]
    columns += ["distance", "matched_at"]
    added = 0
    for algorithm, item_hash in EXACT:
        found = (
            select(
                items.c.case_id,
                items.c.id,
                hash_set_entries.c.set_id,
                literal(algorithm.value),
                hash_set_entries.c.value,
                item_hash,
                null(),
                literal(now, UTCDateTime()),
            )
            .join(
                hash_set_entries,
                and_(
                    hash_set_entries.c.algorithm == algorithm.value,
                    hash_set_entries.c.value == item_hash,
                ),
            )
            .where(items.c.case_id == case_id)
        )
        dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
        statement = (
            dialect.insert(hash_matches)
            .from_select(columns, found)
            .on_conflict_do_nothing(index_elements=list(MATCH_KEY))
            .execution_options(preserve_rowcount=True)  # rows inserted: the new flags
        )
        added += max(connection.execute(statement).rowcount, 0)
    return added


def match_pdq(
    connection: Connection, case_id: str, images: list[CaseImage], now: datetime
) -> tuple[int, int]:
    """Flag images within each PDQ list's threshold (the closest entry kept); a flag that
    no longer holds is removed. Returns (added, removed)."""
    # numpy only here: every process that imports caselens (ingest workers are forked
    # from it) would otherwise carry its address space.
    from caselens.hashsets import pdq

    found: dict[tuple[str, int], tuple[str, str, int]] = {}
    hashes = [image.pdq for image in images]
    for pdq_list in pdq_lists(connection):
        for block in pdq.close_pairs(hashes, pdq_list.values, pdq_list.threshold):
            for left, right, bits in zip(
                block.left.tolist(), block.right.tolist(), block.distance.tolist(), strict=True
            ):
                key = (images[left].item_id, pdq_list.set_id)
                candidate = (pdq_list.values[right], images[left].pdq, int(bits))
                best = found.get(key)
                if best is None or (candidate[2], candidate[0]) < (best[2], best[0]):
                    found[key] = candidate
    existing = existing_pdq_matches(connection, case_id)
    stale = [key for key, value in existing.items() if found.get(key) != value]
    delete_pdq_matches(connection, case_id, stale)
    new = [key for key in found if existing.get(key) != found[key]]
    rows = [
        {
            "case_id": case_id,
            "item_id": item_id,
            "set_id": set_id,
            "algorithm": Algorithm.PDQ.value,
            "value": found[(item_id, set_id)][0],
            "item_value": found[(item_id, set_id)][1],
            "distance": found[(item_id, set_id)][2],
            "matched_at": now,
        }
        for item_id, set_id in new
    ]
    prepare_insert(connection.dialect.name, hash_matches, rows).execute(connection)
    removed = len([key for key in stale if key not in found])
    return len(new), removed
