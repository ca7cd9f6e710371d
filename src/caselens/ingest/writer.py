"""Batches of rows and their commit: one batch, one transaction.

One batch is one transaction: blobs, items, text, entities and the custody records of
those items commit together or not at all, after the blobs they name are flushed to
disk. Batching is what makes small files cheap: one flush, one commit and one signed
chain head per batch rather than per file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from caselens.custody import chain
from caselens.db.bulk import prepare_insert
from caselens.db.schema import blobs, entities, item_texts, items
from caselens.runtime import Runtime

ITEM_UPDATE_COLUMNS = (
    "sha256",
    "sha1",
    "md5",
    "size",
    "mime_type",
    "format",
    "format_version",
    "state",
    "error",
    "warnings",
    "generation",
    "processed_at",
)


@dataclass(slots=True)
class Batch:
    blobs: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    texts: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    custody: list[chain.LogEntry] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.items)

    def put_item(self, row: dict[str, Any]) -> None:
        # A later row for the same item (pending, then final) replaces the earlier one,
        # so one statement never touches one row twice.
        existing = self.items.get(row["id"])
        self.items[row["id"]] = {**existing, **row} if existing else row


ITEM_COLUMNS = tuple(column.name for column in items.columns)


def _complete_item(row: dict[str, Any]) -> dict[str, Any]:
    """Every column present, so one statement fits every row of the batch."""
    if len(row) == len(ITEM_COLUMNS):
        return row
    return {name: row.get(name) for name in ITEM_COLUMNS}


def commit_batch(runtime: Runtime, case_id: str, batch: Batch) -> None:
    if not batch.items and not batch.custody:
        return
    dialect = runtime.engine.dialect.name
    # Rows go in key order: two workers inserting the same blobs (a file found in
    # several places) in different orders would deadlock on PostgreSQL.
    blob_rows = [batch.blobs[sha256] for sha256 in sorted(batch.blobs)]
    item_rows = [_complete_item(row) for row in batch.items.values()]
    # Parents before children (a child's foreign key needs its parent), then by id.
    item_rows.sort(key=lambda row: (row["depth"], row["id"]))
    # Everything is converted before the transaction, which then only writes.
    inserts = [
        prepare_insert(dialect, blobs, blob_rows, conflict=["sha256"]),
        prepare_insert(dialect, items, item_rows, conflict=["id"], update=ITEM_UPDATE_COLUMNS),
    ]
    rows_after = [
        prepare_insert(dialect, item_texts, batch.texts),
        prepare_insert(dialect, entities, batch.entities),
    ]
    runtime.blobs.sync()
    with runtime.transaction() as connection:
        for insert in inserts:
            insert.execute(connection)
        for insert in rows_after:
            insert.execute(connection)
        if batch.custody:
            chain.append(connection, runtime.signer, chain.custody_chain(case_id), batch.custody)
