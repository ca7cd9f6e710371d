"""The ingest coordinator: walk the sources, feed the workers, follow their commits.

Resumable by construction: item ids come from the case and the source path, an item's
rows and custody records commit in one transaction, and children found in an item are
committed as "pending" together with their parent. A run that is killed is finished by
running it again: committed items are skipped, pending ones are picked up.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field, replace
from types import FrameType
from typing import Any, Protocol

from sqlalchemy import Row, select

from caselens.db.schema import items
from caselens.db.types import utcnow
from caselens.errors import StorageError
from caselens.identity import display_path, item_id
from caselens.ingest import detect
from caselens.ingest.formats import active_ingestors
from caselens.ingest.lock import case_ingest_lock
from caselens.ingest.pool import PoolEvent, WorkerPool
from caselens.ingest.rows import (
    BASE_COLUMNS,
    Outcome,
    custody_entry,
    record_result,
)
from caselens.ingest.source import remove_stale_scratch
from caselens.ingest.tasks import ItemResult, Task
from caselens.ingest.walk import WalkEntry, walk
from caselens.ingest.worker_loop import WorkerConfig
from caselens.ingest.writer import Batch, commit_batch
from caselens.runtime import Runtime
from caselens.store.hashing import Digests

FINAL_STATES = frozenset({"ingested", "unsupported", "encrypted", "failed", "skipped"})


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
    passwords: tuple[str, ...] = ()
    default_region: str | None = None  # the case's, from its jurisdiction
    timezones: tuple[tuple[str, str], ...] = ()  # (exhibit id, IANA zone) of the case


class IngestCoordinator:
    """Plans the work, feeds the workers, and records what no worker could."""

    def __init__(
        self, runtime: Runtime, job: IngestJob, progress: ProgressListener | None = None
    ) -> None:
        self.runtime = runtime
        self.job = job
        self.progress = progress
        self.summary = IngestSummary()
        self._paths: dict[str, str] = {}  # display path of every task in flight
        self._batch = Batch()  # items the coordinator records itself

    def run(self, paths: Iterable[bytes]) -> IngestSummary:
        with self._session():
            planned = self._plan(paths, self._known_items())
            first = next(planned, None)
            if first is not None:
                with _terminate_as_interrupt():
                    self._run_workers(itertools.chain([first], planned))
        return self.summary

    def reprocess(self, selected: Iterable[Row[Any]]) -> IngestSummary:
        """Run the ingestors again on items already in the store (no re-acquisition)."""
        with self._session():
            tasks = []
            total_bytes = 0
            for row in selected:
                self.summary.files_seen += 1
                digests = Digests(row.sha256, row.sha1, row.md5, row.size)
                base = {name: getattr(row, name) for name in BASE_COLUMNS}
                task = self._task(row.id, row.name, base, digests=digests, depth=row.depth)
                tasks.append(replace(task, reprocess_of=row.generation))
                total_bytes += row.size
            if self.progress:
                self.progress.started(len(tasks), total_bytes)
            if tasks:
                with _terminate_as_interrupt():
                    self._run_workers(iter(tasks))
        return self.summary

    @contextlib.contextmanager
    def _session(self) -> Iterator[None]:
        """The case locked, the ingestors checked; afterwards, what killed workers left."""
        started = time.perf_counter()
        settings = self.runtime.settings
        with case_ingest_lock(
            settings.locks_dir, self.runtime.engine, self.job.case_id, self.job.case_reference
        ):
            # Fail here, not in every worker.
            active_ingestors(settings.ingestor_plugins, settings.ingestors)
            detect.warm_up()
            self.runtime.blobs.remove_stale_temp_files()
            yield
            self._commit_own()
            self.runtime.blobs.remove_stale_temp_files()  # left by workers that were killed
            remove_stale_scratch(settings.work_dir)
        self.summary.seconds = time.perf_counter() - started

    def _run_workers(self, tasks: Iterator[Task]) -> None:
        config = WorkerConfig(
            settings=self.runtime.settings,
            case_id=self.job.case_id,
            passwords=self.job.passwords,
            default_region=self.job.default_region,
            timezones=dict(self.job.timezones),
        )
        with WorkerPool(self.job.workers, config) as pool:
            try:
                # Workers start on the first files while the walk goes on.
                for count, task in enumerate(tasks):
                    pool.submit(task)
                    if count % 256 == 255:
                        self._absorb(pool.poll(timeout=0), pool)
                pool.walk_done()
                self._drive(pool)
            except KeyboardInterrupt:
                self.summary.interrupted = True
                self._absorb(pool.stop(), pool)
            self.summary.workers_replaced = pool.replaced

    def _known_items(self) -> dict[str, Row[Any]]:
        with self.runtime.transaction() as connection:
            rows = connection.execute(
                select(
                    *(
                        items.c[name]
                        for name in (*BASE_COLUMNS, "state", "sha256", "sha1", "md5", "size")
                    )
                ).where(items.c.case_id == self.job.case_id)
            ).all()
        return {row.id: row for row in rows}

    def _plan(self, paths: Iterable[bytes], known: dict[str, Row[Any]]) -> Iterator[Task]:
        """Tasks for pending items and for every new readable file; the rest recorded here."""
        tasks = 0
        total_bytes = 0
        # Items left pending by an interrupted run: their bytes are already in the store.
        for row in known.values():
            if row.state == "pending" and row.sha256:
                digests = Digests(row.sha256, row.sha1, row.md5, row.size)
                base = {name: getattr(row, name) for name in BASE_COLUMNS}
                yield self._task(row.id, row.name, base, digests=digests)
                tasks += 1
                total_bytes += row.size
        for entry in walk(list(paths)):
            self.summary.files_seen += 1
            identifier = item_id(self.job.case_id, self.job.exhibit_id, None, entry.path)
            if identifier in known and known[identifier].state in FINAL_STATES:
                self.summary.already_present += 1
                continue
            if identifier in self._paths:
                continue  # the same path given twice
            base = self._top_level_row(identifier, entry)
            if entry.readable:
                yield self._task(
                    identifier, base["name"], base, source_path=entry.path, acquired=True
                )
                tasks += 1
                total_bytes += int(entry.metadata.get("size", 0))
            else:
                self._record_unread(base, entry)
        self._commit_own()
        if self.progress:
            self.progress.started(tasks, total_bytes)

    def _task(self, identifier: str, name: str, base: dict[str, Any], **more: Any) -> Task:
        self._paths[identifier] = base["path"]
        return Task(identifier, name, actor=self.job.actor, base=base, **more)

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
        }

    def _record_unread(self, base: dict[str, Any], entry: WalkEntry) -> None:
        state = "failed" if entry.kind in {"missing", "directory"} else "skipped"
        task = Task(base["id"], base["name"], actor=self.job.actor, base=base)
        result = ItemResult(base["id"], state, error=entry.problem)
        result.custody = [
            custody_entry(
                base, "acquired", {"path": base["path"], "content": False}, actor=self.job.actor
            ),
            custody_entry(
                base, "ingested", {"state": state, "reason": entry.problem}, actor=self.job.actor
            ),
        ]
        outcome, _ = record_result(
            self._batch, task, result, self.job.case_id, self.runtime.settings.max_depth
        )
        self._count(outcome, base["path"])

    def _drive(self, pool: WorkerPool) -> None:
        while pool.busy:
            self._absorb(pool.poll(timeout=0.2), pool)

    def _absorb(self, event: PoolEvent, pool: WorkerPool) -> None:
        if event.fatal:
            raise StorageError(event.fatal)
        for outcome in event.committed:
            self._count(outcome, self._paths.pop(outcome.item_id, outcome.item_id))
        for child in event.children:
            self._paths[child.item_id] = child.base["path"]
            pool.submit(child)
            if self.progress:
                self.progress.grew(1, child.digests.size if child.digests else 0)
        for task, result in event.failed:
            outcome, _ = record_result(
                self._batch, task, result, self.job.case_id, self.runtime.settings.max_depth
            )
            self._count(outcome, self._paths.pop(task.item_id, task.item_id))
        if event.failed:
            self._commit_own()

    def _commit_own(self) -> None:
        if len(self._batch) or self._batch.custody:
            commit_batch(self.runtime, self.job.case_id, self._batch)
        self._batch = Batch()

    def _count(self, outcome: Outcome, path: str) -> None:
        self.summary.states[outcome.state] += 1
        self.summary.bytes_read += outcome.size
        if outcome.state == "failed" and outcome.error and len(self.summary.failures) < 1000:
            self.summary.failures.append((path, outcome.error))
        if self.progress:
            self.progress.advanced(1, outcome.size, self.summary.states["failed"])


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM stops an ingest as Ctrl-C does: workers commit what they have, then end."""
    if threading.current_thread() is not threading.main_thread():
        yield  # signal handlers belong to the main thread
        return
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _interrupt(_signum: int, _frame: FrameType | None) -> None:
    raise KeyboardInterrupt
