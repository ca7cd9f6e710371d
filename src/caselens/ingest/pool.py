"""Worker processes that parse items and commit their own batches, and survive their parsers.

Each worker reads tasks from its pipe, processes them, and commits the results in
batches (items, blobs, text, entities and custody records in one transaction), then
tells the coordinator which items are committed and which children they produced.
The coordinator watches the item each worker is on through shared memory: a worker
that overruns the time limit (plus grace) is killed, the item it was on is reported
as failed, and its tasks not yet committed go to the next worker. A plain
ProcessPoolExecutor breaks for good when one worker dies; this pool replaces it.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import signal
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from caselens.ingest.rows import Outcome
from caselens.ingest.tasks import ItemResult, Task
from caselens.ingest.worker_loop import (
    FLUSH,
    REFILL_EVERY,
    Committed,
    Fatal,
    Shared,
    WorkerConfig,
    worker_main,
)

# Tasks sent to a worker and not yet taken up: enough that it never waits for the
# coordinator, few enough that the pipe never fills (a full pipe both ways would deadlock).
PREFETCH = 32
CHUNK = 8  # tasks per message: one pickle and one write for several small files
PRELOAD = ["caselens.ingest.worker_loop"]
assert REFILL_EVERY <= PREFETCH // 2, "a worker must ask for more before its pipe runs dry"


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    connection: Connection
    shared: Shared
    # (sequence number, task) sent to the worker and not yet committed by it
    assigned: deque[tuple[int, Task]] = field(default_factory=deque)
    sent: int = 0
    ready: bool = False
    flushed_at: int = 0  # ``sent`` when the worker was last told to commit at once


@dataclass(slots=True)
class PoolEvent:
    """What the coordinator hears from the pool."""

    committed: list[Outcome] = field(default_factory=list)
    children: list[Task] = field(default_factory=list)
    failed: list[tuple[Task, ItemResult]] = field(default_factory=list)  # no worker saved
    fatal: str | None = None


class WorkerPool:
    def __init__(self, size: int, config: WorkerConfig) -> None:
        self.size = size
        self.config = config
        self._context = _worker_context()
        self._queue: deque[Task] = deque()
        self._workers: list[_Worker] = []
        self._stopping = self._context.Event()
        self._next_seq = 1
        self._walk_done = False
        self.replaced = 0

    def __enter__(self) -> WorkerPool:
        self._workers = [self._start() for _ in range(self.size)]
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(kill=exc[0] is not None)

    def _start(self) -> _Worker:
        parent_end, child_end = self._context.Pipe(duplex=True)
        shared = Shared(
            started=self._context.Value("d", 0.0, lock=False),
            current=self._context.Value("q", 0, lock=False),
            taken=self._context.Value("q", 0, lock=False),
            stopping=self._stopping,
        )
        process = self._context.Process(
            target=worker_main, args=(self.config, child_end, shared), daemon=True
        )
        process.start()
        child_end.close()
        return _Worker(process, parent_end, shared)

    def submit(self, task: Task) -> None:
        self._queue.append(task)

    def walk_done(self) -> None:
        """Every task of the walk is submitted; only children of containers may follow."""
        self._walk_done = True

    @property
    def busy(self) -> bool:
        return bool(self._queue) or any(worker.assigned for worker in self._workers)

    def poll(self, timeout: float) -> PoolEvent:
        """Dispatch queued tasks and collect what the workers report within ``timeout``."""
        event = PoolEvent()
        self._dispatch()
        if self._walk_done and not self._queue:
            self._flush_idle()
        by_connection = {id(worker.connection): worker for worker in self._workers}
        waiting = [w.connection for w in self._workers if w.assigned or not w.ready]
        for connection in wait(waiting, timeout) if waiting else []:
            self._drain(by_connection[id(connection)], event)
        self._enforce_limits(event)
        return event

    def _dispatch(self) -> None:
        for worker in self._workers:
            while worker.ready and self._queue:
                room = PREFETCH - (worker.sent - worker.shared.taken.value)
                if room < CHUNK and room < len(self._queue):
                    break
                chunk = []
                for _ in range(min(CHUNK, len(self._queue))):
                    seq = self._next_seq
                    self._next_seq += 1
                    task = self._queue.popleft()
                    worker.assigned.append((seq, task))
                    chunk.append(task.to_wire(seq))
                worker.sent += len(chunk)
                try:
                    worker.connection.send(chunk)
                except OSError:
                    break  # the worker died; _enforce_limits reports and replaces it

    def _flush_idle(self) -> None:
        """Nothing more is queued: workers commit what they hold as soon as they finish it.
        (Only once the walk is done: a walk slower than the workers would otherwise empty
        the queue often and cut every batch short.)"""
        for worker in self._workers:
            if worker.ready and worker.assigned and worker.flushed_at != worker.sent:
                worker.flushed_at = worker.sent
                with contextlib.suppress(OSError):  # a dead worker is _enforce_limits' job
                    worker.connection.send(FLUSH)

    def _drain(self, worker: _Worker, event: PoolEvent) -> None:
        try:
            while worker.connection.poll():
                message = worker.connection.recv()
                if message == "more":
                    continue
                if message == "ready":
                    worker.ready = True
                elif isinstance(message, Committed):
                    outcomes, children = message.items()
                    done = {outcome.item_id for outcome in outcomes}
                    worker.assigned = deque(
                        pair for pair in worker.assigned if pair[1].item_id not in done
                    )
                    event.committed.extend(outcomes)
                    event.children.extend(children)
                elif isinstance(message, Fatal):
                    event.fatal = message.message
        except (EOFError, OSError):
            return  # died mid-way; handled by _enforce_limits

    def _enforce_limits(self, event: PoolEvent) -> None:
        settings = self.config.settings
        limit = settings.item_timeout + settings.kill_grace
        now = time.monotonic()
        for index, worker in enumerate(self._workers):
            started = worker.shared.started.value
            if not worker.process.is_alive():
                self._drain(worker, event)
                reason = _death_reason(worker.process)
            elif started and now - started > limit:
                reason = f"time limit of {settings.item_timeout:g} s exceeded; parser killed"
                _kill(worker.process)
                self._drain(worker, event)
            else:
                continue
            self._recover(worker, reason, event)
            worker.connection.close()
            self._workers[index] = self._start()
            self.replaced += 1

    def _recover(self, worker: _Worker, reason: str, event: PoolEvent) -> None:
        """The task a dead worker was on failed; its other uncommitted tasks run again."""
        if event.fatal or not worker.assigned:
            return
        # The shared sequence number names the task the worker was on, unless it was
        # between items (then nothing is blamed and everything runs again).
        if worker.shared.started.value:
            on = worker.shared.current.value
            culprit = next((pair for pair in worker.assigned if pair[0] == on), None)
            if culprit is not None:
                worker.assigned.remove(culprit)
                task = culprit[1]
                event.failed.append((task, ItemResult(task.item_id, "failed", error=reason)))
        self._queue.extendleft(reversed([task for _, task in worker.assigned]))
        worker.assigned.clear()

    def close(self, kill: bool = False) -> None:
        for worker in self._workers:
            if kill:
                _kill(worker.process)
                continue
            with contextlib.suppress(OSError):
                worker.connection.send(None)
        for worker in self._workers:
            worker.process.join(timeout=30)
            if worker.process.is_alive():
                _kill(worker.process)
            worker.connection.close()
        self._workers = []

    def stop(self) -> PoolEvent:
        """Ask every worker to commit what it has and stop; collect their last reports."""
        event = PoolEvent()
        self._queue.clear()
        self._stopping.set()
        for worker in self._workers:
            with contextlib.suppress(OSError):
                worker.connection.send(None)
        for worker in self._workers:
            worker.process.join(timeout=60)
            self._drain(worker, event)
        return event


def _worker_context() -> Any:
    """How worker processes start.

    On Linux they are forked from the coordinator, which has already imported the parsers
    and holds no threads and no open database connection at that point (SQLite connections
    are not pooled; PostgreSQL's pooled ones are never touched by a worker, which opens its
    own and leaves with ``os._exit``). Elsewhere a fork server imports the parsers once.
    """
    if sys.platform.startswith("linux"):
        return multiprocessing.get_context("fork")
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def _kill(process: BaseProcess) -> None:
    if process.pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(process.pid, signal.SIGKILL)
    process.join(timeout=5)


def _death_reason(process: BaseProcess) -> str:
    process.join(timeout=1)
    code = process.exitcode
    if code is not None and code < 0:
        name = signal.Signals(-code).name
        return f"parser process died ({name}); the item could not be read"
    return f"parser process exited with code {code}; the item could not be read"
