"""Batches of rows and their commit: one batch, one transaction.

One batch is one transaction: blobs, items, text, entities and the custody records of
those items commit together or not at all, after the blobs they name are flushed to
disk. Batching is what makes small files cheap: one flush, one commit and one signed
chain head per batch rather than per file.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, update

from caselens.custody import chain
from caselens.db.bulk import prepare_insert
from caselens.db.schema import (
    blobs,
    entities,
    item_texts,
    items,
    mentions,
    transcript_segments,
    transcripts,
)
from caselens.db.types import utcnow
from caselens.hits.index import batch_selectors, prepare_index_insert
from caselens.runtime import Runtime
from caselens.search.document import SearchDocument
from caselens.search.engines import index_for

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
    # Items found inside others: inserted only when new, so re-processing a container
    # neither resets nor duplicates the children it had already yielded.
    children: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Re-processed items (id -> new generation): their older text and entities are
    # marked superseded, never deleted.
    supersede: dict[str, int] = field(default_factory=dict)
    texts: list[dict[str, Any]] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)
    mentions: list[dict[str, Any]] = field(default_factory=list)
    transcripts: list[dict[str, Any]] = field(default_factory=list)
    transcript_segments: list[dict[str, Any]] = field(default_factory=list)
    search: list[SearchDocument] = field(default_factory=list)
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


def commit_batch(runtime: Runtime, case_id: str, batch: Batch) -> set[str]:
    """Write the batch in one transaction; return the ids of children that already existed."""
    if not batch.items and not batch.custody:
        return set()
    dialect = runtime.engine.dialect.name
    # Rows go in key order: two workers inserting the same blobs (a file found in
    # several places) in different orders would deadlock on PostgreSQL.
    blob_rows = [batch.blobs[sha256] for sha256 in sorted(batch.blobs)]
    item_rows = [_complete_item(row) for row in batch.items.values()]
    child_rows = [_complete_item(row) for row in batch.children.values()]
    # Parents before children (a child's foreign key needs its parent), then by id.
    item_rows.sort(key=lambda row: (row["depth"], row["id"]))
    child_rows.sort(key=lambda row: (row["depth"], row["id"]))
    # Everything is converted before the transaction, which then only writes.
    inserts = [
        prepare_insert(dialect, blobs, blob_rows, conflict=["sha256"]),
        prepare_insert(dialect, items, item_rows, conflict=["id"], update=ITEM_UPDATE_COLUMNS),
        prepare_insert(dialect, items, child_rows, conflict=["id"]),
    ]
    rows_after = [
        prepare_insert(dialect, item_texts, batch.texts),
        prepare_insert(dialect, entities, batch.entities),
        prepare_insert(dialect, mentions, batch.mentions),
        # Keyed by item and generation: a recording processed again gets new rows, and
        # a batch re-run after a crash finds its own rows there already.
        prepare_insert(dialect, transcripts, batch.transcripts, conflict=["item_id", "generation"]),
        prepare_insert(
            dialect,
            transcript_segments,
            batch.transcript_segments,
            conflict=["item_id", "generation", "number"],
        ),
        # The installation-wide selector index, which cross-case hits are found from.
        prepare_index_insert(
            dialect, case_id, batch_selectors(batch.mentions, batch.entities), utcnow()
        ),
    ]
    runtime.blobs.sync()
    with runtime.transaction() as connection:
        existing = _existing_children(connection, list(batch.children)) if batch.children else set()
        custody = batch.custody
        if existing:
            custody = [e for e in custody if not (e.action == "derived" and e.item_id in existing)]
        for insert in inserts:
            insert.execute(connection)
        _supersede(connection, batch.supersede)
        for insert in rows_after:
            insert.execute(connection)
        if batch.search or batch.supersede:
            index = index_for(dialect)
            # add() replaces the documents of items it indexes again; a re-processed item
            # without a new document (its parser failed this time) leaves the index.
            indexed = {document.item_id for document in batch.search}
            index.remove_items(connection, [i for i in batch.supersede if i not in indexed])
            index.add(connection, batch.search)
        if custody:
            chain.append(connection, runtime.signer, chain.custody_chain(case_id), custody)
    return existing


def _existing_children(connection: Connection, identifiers: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(identifiers), 500):
        chunk = identifiers[start : start + 500]
        found.update(connection.execute(select(items.c.id).where(items.c.id.in_(chunk))).scalars())
    return found


def _supersede(connection: Connection, generations: dict[str, int]) -> None:
    for item_id, generation in generations.items():
        for table in (item_texts, entities, mentions):
            connection.execute(
                update(table)
                .where(
                    table.c.item_id == item_id,
                    table.c.generation < generation,
                    table.c.superseded.is_(False),
                )
                .values(superseded=True)
            )
