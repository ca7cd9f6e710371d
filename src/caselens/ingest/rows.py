"""Turning one item's result into rows of a batch: item, blob, text, entities, custody.

Used by the workers, which commit their own batches, and by the coordinator for the
items no worker could finish (killed parsers, special files).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from caselens.custody.chain import LogEntry
from caselens.db.types import utcnow
from caselens.identity import display_path, item_id
from caselens.ingest.tasks import ItemResult, Task
from caselens.ingest.writer import Batch
from caselens.store.hashing import Digests
from caselens.transcribe.rows import transcript_rows

DEFAULT_MAX_DEPTH = 16


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the coordinator needs to know of a committed item."""

    item_id: str
    state: str
    size: int
    error: str | None


def record_result(
    batch: Batch,
    task: Task,
    result: ItemResult,
    case_id: str,
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> tuple[Outcome, list[Task]]:
    """Add an item's rows to the batch; return its outcome and the tasks of its children."""
    row: dict[str, Any] = {
        **task.base,
        "state": result.state,
        "error": result.error,
        "warnings": result.warnings or None,
        "mime_type": result.mime_type,
        "format": result.format,
        "format_version": result.format_version,
        "processed_at": utcnow(),
        "generation": _generation(task, result),
    }
    digests = result.digests
    if digests is not None:
        row.update(sha256=digests.sha256, sha1=digests.sha1, md5=digests.md5, size=digests.size)
        batch.blobs[digests.sha256] = blob_row(digests)
    else:
        row.update(sha256=None, sha1=None, md5=None, size=None)
    batch.put_item(row)
    if task.reprocess_of is not None:
        batch.supersede[row["id"]] = row["generation"]
    if result.custody:
        batch.custody.extend(result.custody)
    else:  # the worker died on this item: whoever records the failure writes its records
        if row["parent_id"] is None:
            details = acquired_details(row)
            batch.custody.append(custody_entry(row, "acquired", details, actor=task.actor))
        failure = {"state": result.state, "reason": result.error}
        batch.custody.append(custody_entry(row, "ingested", failure, actor=task.actor))
    for page, text in sorted(result.pages.items()):
        batch.texts.append(
            {
                "item_id": row["id"],
                "generation": row["generation"],
                "page": page,
                "text": text,
                "superseded": False,
            }
        )
    if result.entities and result.entities[0].get("context"):
        found = transcript_rows(row["id"], row["generation"], result.entities[0]["context"])
        if found is not None:
            batch.transcripts.append(found[0])
            batch.transcript_segments.extend(found[1])
    for entity in result.entities:
        batch.entities.append(
            {
                "case_id": case_id,
                "entity_id": entity["id"],
                "schema": entity["schema"],
                "item_id": row["id"],
                "generation": row["generation"],
                "properties": entity.get("properties", {}),
                "superseded": False,
                "context": entity.get("context"),
            }
        )
    for page, kind, value, raw, start, end, extractor, version in result.mentions:
        batch.mentions.append(
            {
                "case_id": case_id,
                "item_id": row["id"],
                "generation": row["generation"],
                "page": page,
                "start": start,
                "end": end,
                "kind": kind,
                "value": value,
                "raw": raw,
                "extractor": extractor,
                "extractor_version": version,
                "superseded": False,
            }
        )
    if result.search is not None:
        result.search.generation = row["generation"]
        batch.search.append(result.search)
    children = _record_children(batch, task, row, result, max_depth)
    return Outcome(row["id"], result.state, int(row["size"] or 0), result.error), children


def _record_children(
    batch: Batch, task: Task, parent: dict[str, Any], result: ItemResult, max_depth: int
) -> list[Task]:
    tasks = []
    depth = parent["depth"] + 1
    seen: dict[bytes, int] = {}
    for child in result.children:
        identifier = _child_id(parent, child.path, seen)
        digests = child.digests
        name = display_path(os.path.basename(child.path.rstrip(b"/")) or child.path)
        row = {
            "id": identifier,
            "case_id": parent["case_id"],
            "exhibit_id": parent["exhibit_id"],
            "parent_id": parent["id"],
            "depth": depth,
            "path": display_path(child.path),
            "path_bytes": child.path,
            "name": name,
            "kind": "file",
            "source_metadata": child.metadata or None,
            "acquired_at": utcnow(),
            "generation": 0,
            "sha256": digests.sha256,
            "sha1": digests.sha1,
            "md5": digests.md5,
            "size": digests.size,
            "state": "pending",
            "warnings": None,
        }
        batch.blobs[digests.sha256] = blob_row(digests)
        details = acquired_details(row)
        details["parent_id"] = parent["id"]
        batch.custody.append(custody_entry(row, "derived", details, actor=task.actor))
        if depth > max_depth:
            # Stored and hashed, but not opened: containers nested this deep are a bomb
            # more often than evidence.
            row.update(
                state="skipped",
                error=f"not opened: nested deeper than {max_depth} levels (limit max_depth)",
            )
            batch.children[identifier] = row
            continue
        batch.children[identifier] = row
        base = {k: row[k] for k in BASE_COLUMNS}
        tasks.append(
            Task(identifier, name, digests=digests, depth=depth, actor=task.actor, base=base)
        )
    return tasks


def _generation(task: Task, result: ItemResult) -> int:
    if result.digests is None:
        return 0
    return 1 if task.reprocess_of is None else task.reprocess_of + 1


def _child_id(parent: dict[str, Any], path: bytes, seen: dict[bytes, int]) -> str:
    """The child's item id; a name repeated inside one container (zip allows it) gets
    the occurrence number in its key, so both members are kept."""
    occurrence = seen.get(path, 0) + 1
    seen[path] = occurrence
    key = path if occurrence == 1 else path + b"\x00#" + str(occurrence).encode()
    return item_id(parent["case_id"], parent["exhibit_id"], parent["id"], key)


BASE_COLUMNS = (
    "id",
    "case_id",
    "exhibit_id",
    "parent_id",
    "depth",
    "path",
    "path_bytes",
    "name",
    "kind",
    "source_metadata",
    "acquired_at",
)


def custody_entry(
    row: dict[str, Any], action: str, details: dict[str, Any], actor: str | None
) -> LogEntry:
    kept = {key: value for key, value in details.items() if value is not None}
    return LogEntry(action, row["case_id"], row["id"], actor, kept)


def blob_row(digests: Digests) -> dict[str, Any]:
    return {
        "sha256": digests.sha256,
        "sha1": digests.sha1,
        "md5": digests.md5,
        "size": digests.size,
        "created_at": utcnow(),
    }


def acquired_details(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": row["path"],
        "sha256": row.get("sha256"),
        "sha1": row.get("sha1"),
        "md5": row.get("md5"),
        "size": row.get("size"),
        "exhibit_id": row.get("exhibit_id"),
        "source": row.get("source_metadata"),
    }
