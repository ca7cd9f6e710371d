"""The ingest coordinator: walk, dispatch to workers, collect results, commit in batches.

Resumable by construction: item ids come from the case and the source path, an item's
rows and custody records commit in one transaction, and children found in an item are
committed as "pending" together with their parent. A run that is killed is finished by
running it again: committed items are skipped, pending ones are picked up.
"""

from __future__ import annotations

import os
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import Row, select

from caselens.custody.chain import LogEntry
from caselens.db.schema import items
from caselens.db.types import utcnow
from caselens.errors import StorageError
from caselens.identity import display_path, item_id
from caselens.ingest.formats import load_plugins
from caselens.ingest.lock import case_ingest_lock
from caselens.ingest.pool import WorkerConfig, WorkerPool
from caselens.ingest.tasks import ItemResult, Task
from caselens.ingest.walk import WalkEntry, walk
from caselens.ingest.writer import Batch, BatchWriter
from caselens.runtime import Runtime
from caselens.store.hashing import Digests

FINAL_STATES = frozenset({"ingested", "unsupported", "encrypted", "failed", "skipped"})
MAX_DEPTH = 32


class ProgressListener(Protocol):
    def started(self, files: int, total_bytes: int) -> None: ...
    def advanced(self, files: int, total_bytes: int, errors: int) -> None: ...
    def grew(self, files: int, total_bytes: int) -> None: ...


@dataclass(slots=True)
class IngestSummary:
    files_seen: int = 0
    already_present: int = 0
    states: Counter[str] = field(default_factory=Counter)
    bytes_read: int = 0
    seconds: float = 0.0
    failures: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    workers_replaced: int = 0
    interrupted: bool = False

    @property
    def processed(self) -> int:
        return sum(self.states.values())

    def as_dict(self) -> dict[str, Any]:
        return {
            "files_seen": self.files_seen,
            "already_present": self.already_present,
            "processed": self.processed,
            "states": dict(self.states),
            "bytes_read": self.bytes_read,
            "seconds": round(self.seconds, 3),
            "failures": [{"path": p, "reason": r} for p, r in self.failures],
            "workers_replaced": self.workers_replaced,
            "interrupted": self.interrupted,
        }


@dataclass(frozen=True, slots=True)
class IngestJob:
    case_id: str
    case_reference: str
    actor: str
    exhibit_id: str | None
    exhibit_reference: str | None
    workers: int


class IngestCoordinator:
    def __init__(
        self, runtime: Runtime, job: IngestJob, progress: ProgressListener | None = None
    ) -> None:
        self.runtime = runtime
        self.job = job
        self.progress = progress
        self.summary = IngestSummary()
        self._context: dict[str, dict[str, Any]] = {}  # base item row of tasks in flight
        self._batch = Batch()
        self._batch_started = time.monotonic()

    def run(self, paths: Iterable[bytes]) -> IngestSummary:
        started = time.perf_counter()
        settings = self.runtime.settings
        with case_ingest_lock(
            settings.locks_dir, self.runtime.engine, self.job.case_id, self.job.case_reference
        ):
            load_plugins(settings.ingestor_plugins)  # fail here, not in every worker
            self.runtime.blobs.remove_stale_temp_files()
            known = self._known_items()
            tasks = self._plan(paths, known)
            config = WorkerConfig(
                blob_root=settings.blob_root,
                case_id=self.job.case_id,
                max_text_chars=settings.max_text_chars,
                item_timeout=settings.item_timeout,
                memory_limit_bytes=settings.item_memory_mb * 1024 * 1024,
                kill_grace=settings.kill_grace,
                plugins=tuple(settings.ingestor_plugins),
            )
            writer = BatchWriter(self.runtime, self.job.case_id)
            try:
                if tasks:
                    with WorkerPool(min(self.job.workers, len(tasks)), config) as pool:
                        for task in tasks:
                            pool.submit(task)
                        self._drive(pool, writer)
                        self.summary.workers_replaced = pool.replaced
                self._flush(writer)
            except KeyboardInterrupt:
                self.summary.interrupted = True
                self._flush(writer)
            finally:
                writer.close()
            if writer.error is not None:
                raise _as_storage_error(writer.error)
        self.summary.seconds = time.perf_counter() - started
        return self.summary

    def _known_items(self) -> dict[str, Row[Any]]:
        with self.runtime.transaction() as connection:
            rows = connection.execute(
                select(
                    items.c.id,
                    items.c.state,
                    items.c.parent_id,
                    items.c.exhibit_id,
                    items.c.depth,
                    items.c.path,
                    items.c.path_bytes,
                    items.c.name,
                    items.c.kind,
                    items.c.sha256,
                    items.c.sha1,
                    items.c.md5,
                    items.c.size,
                    items.c.source_metadata,
                    items.c.acquired_at,
                ).where(items.c.case_id == self.job.case_id)
            ).all()
        return {row.id: row for row in rows}

    def _plan(self, paths: Iterable[bytes], known: dict[str, Row[Any]]) -> list[Task]:
        tasks: list[Task] = []
        total_bytes = 0
        # Items left pending by an interrupted run: their bytes are already in the store.
        for row in known.values():
            if row.state == "pending" and row.sha256:
                digests = Digests(row.sha256, row.sha1, row.md5, row.size)
                self._context[row.id] = {**_row_context(row), "case_id": self.job.case_id}
                tasks.append(
                    Task(row.id, row.name, digests=digests, depth=row.depth, actor=self.job.actor)
                )
                total_bytes += row.size
        for entry in walk(list(paths)):
            self.summary.files_seen += 1
            identifier = item_id(self.job.case_id, self.job.exhibit_id, None, entry.path)
            if identifier in known and known[identifier].state in FINAL_STATES:
                self.summary.already_present += 1
                continue
            if identifier in self._context:
                continue  # the same path given twice
            base = self._top_level_row(identifier, entry)
            if entry.readable:
                self._context[identifier] = base
                name = base["name"]
                acquisition = _acquired_details(base)
                tasks.append(
                    Task(
                        identifier,
                        name,
                        source_path=entry.path,
                        actor=self.job.actor,
                        acquisition={k: v for k, v in acquisition.items() if v is not None},
                    )
                )
                total_bytes += int(entry.metadata.get("size", 0))
            else:
                self._record_unread(base, entry)
        if self.progress:
            self.progress.started(len(tasks), total_bytes)
        return tasks

    def _top_level_row(self, identifier: str, entry: WalkEntry) -> dict[str, Any]:
        return {
            "id": identifier,
            "case_id": self.job.case_id,
            "exhibit_id": self.job.exhibit_id,
            "parent_id": None,
            "depth": 0,
            "path": display_path(entry.path),
            "path_bytes": entry.path,
            "name": display_path(os.path.basename(entry.path)),
            "kind": entry.kind,
            "source_metadata": entry.metadata,
            "acquired_at": utcnow(),
            "generation": 0,
            "warnings": None,
        }

    def _record_unread(self, base: dict[str, Any], entry: WalkEntry) -> None:
        state = "failed" if entry.kind in {"missing", "directory"} else "skipped"
        row = {**base, "state": state, "error": entry.problem, "processed_at": utcnow()}
        row.update(dict.fromkeys(("sha256", "sha1", "md5", "size", "mime_type", "format")))
        row.update(format_version=None)
        self._batch.put_item(row)
        self._custody(row, "acquired", {"path": row["path"], "content": False})
        self._custody(row, "ingested", {"state": state, "reason": entry.problem})
        self._count(row, state, entry.problem)

    def _drive(self, pool: WorkerPool, writer: BatchWriter) -> None:
        while pool.busy:
            for result in pool.results(timeout=0.2):
                if result.fatal:
                    raise StorageError(result.fatal)
                self._accept(result, pool)
            if writer.error is not None:
                return
            self._maybe_flush(writer)

    def _accept(self, result: ItemResult, pool: WorkerPool) -> None:
        base = self._context.pop(result.item_id)
        digests = result.digests
        row = {
            **base,
            "state": result.state,
            "error": result.error,
            "warnings": result.warnings or None,
            "mime_type": result.mime_type,
            "format": result.format,
            "format_version": result.format_version,
            "processed_at": utcnow(),
            "generation": 1 if digests else 0,
        }
        if digests is not None:
            row.update(sha256=digests.sha256, sha1=digests.sha1, md5=digests.md5, size=digests.size)
            self._batch.blobs[digests.sha256] = _blob_row(digests)
            self.summary.bytes_read += digests.size
        else:
            row.update(sha256=None, sha1=None, md5=None, size=None)
        self._batch.put_item(row)
        if result.custody:
            self._batch.custody.extend(result.custody)
        else:  # the worker died on this item: the coordinator writes its records
            if row["parent_id"] is None:
                self._custody(row, "acquired", _acquired_details(row))
            self._custody(row, "ingested", {"state": result.state, "reason": result.error})
        for page, text in sorted(result.pages.items()):
            self._batch.texts.append(
                {"item_id": row["id"], "generation": row["generation"], "page": page,
                 "text": text, "superseded": False}
            )
        for entity in result.entities:
            self._batch.entities.append(
                {
                    "case_id": self.job.case_id,
                    "entity_id": entity["id"],
                    "schema": entity["schema"],
                    "item_id": row["id"],
                    "generation": row["generation"],
                    "properties": entity.get("properties", {}),
                    "superseded": False,
                }
            )
        self._add_children(row, result, pool)
        self._count(row, result.state, result.error)

    def _add_children(self, parent: dict[str, Any], result: ItemResult, pool: WorkerPool) -> None:
        depth = parent["depth"] + 1
        for child in result.children:
            identifier = item_id(self.job.case_id, self.job.exhibit_id, parent["id"], child.path)
            digests = child.digests
            name = display_path(os.path.basename(child.path.rstrip(b"/")) or child.path)
            row = {
                "id": identifier,
                "case_id": self.job.case_id,
                "exhibit_id": self.job.exhibit_id,
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
            self._batch.blobs[digests.sha256] = _blob_row(digests)
            self._batch.put_item(row)
            details = _acquired_details(row)
            details["parent_id"] = parent["id"]
            self._custody(row, "derived", details)
            if depth > MAX_DEPTH:
                self._batch.put_item(
                    {**row, "state": "failed", "error": f"nesting deeper than {MAX_DEPTH} levels"}
                )
                continue
            self._context[identifier] = row
            pool.submit(Task(identifier, name, digests=digests, depth=depth, actor=self.job.actor))
            if self.progress:
                self.progress.grew(1, digests.size)

    def _custody(self, row: dict[str, Any], action: str, details: dict[str, Any]) -> None:
        self._batch.custody.append(
            LogEntry(
                action=action,
                case_id=self.job.case_id,
                item_id=row["id"],
                actor=self.job.actor,
                details={k: v for k, v in details.items() if v is not None},
            )
        )

    def _count(self, row: dict[str, Any], state: str, reason: str | None) -> None:
        self.summary.states[state] += 1
        if state == "failed" and reason and len(self.summary.failures) < 1000:
            self.summary.failures.append((row["path"], reason))
        if self.progress:
            errors = self.summary.states["failed"]
            self.progress.advanced(1, int(row.get("size") or 0), errors)

    def _maybe_flush(self, writer: BatchWriter) -> None:
        settings = self.runtime.settings
        due = time.monotonic() - self._batch_started >= settings.batch_seconds
        if len(self._batch) >= settings.batch_size or (due and len(self._batch)):
            self._flush(writer)

    def _flush(self, writer: BatchWriter) -> None:
        if len(self._batch) or self._batch.custody:
            writer.submit(self._batch)
        self._batch = Batch()
        self._batch_started = time.monotonic()


def _row_context(row: Row[Any]) -> dict[str, Any]:
    return {
        "id": row.id,
        "exhibit_id": row.exhibit_id,
        "parent_id": row.parent_id,
        "depth": row.depth,
        "path": row.path,
        "path_bytes": row.path_bytes,
        "name": row.name,
        "kind": row.kind,
        "source_metadata": row.source_metadata,
        "acquired_at": row.acquired_at,
    }


def _blob_row(digests: Digests) -> dict[str, Any]:
    return {
        "sha256": digests.sha256,
        "sha1": digests.sha1,
        "md5": digests.md5,
        "size": digests.size,
        "created_at": utcnow(),
    }


def _acquired_details(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "path": row["path"],
        "sha256": row.get("sha256"),
        "sha1": row.get("sha1"),
        "md5": row.get("md5"),
        "size": row.get("size"),
        "exhibit_id": row.get("exhibit_id"),
        "source": row.get("source_metadata"),
    }


def _as_storage_error(error: BaseException) -> StorageError:
    if isinstance(error, StorageError):
        return error
    return StorageError(f"saving results failed and was rolled back: {error}")
