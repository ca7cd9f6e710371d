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
import faulthandler
import gc
import multiprocessing
import os
import resource
import signal
import sys
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from typing import Any

from caselens.config import Settings
from caselens.ingest.formats import INGESTORS, load_plugins
from caselens.ingest.rows import Outcome, record_result
from caselens.ingest.tasks import ItemResult, Task
from caselens.ingest.worker import ItemProcessor
from caselens.ingest.writer import Batch, commit_batch
from caselens.runtime import Runtime

# Tasks sent to a worker and not yet taken up: enough that it never waits for the
# coordinator, few enough that the pipe never fills (a full pipe both ways would deadlock).
PREFETCH = 32
REFILL_EVERY = PREFETCH // 2
IDLE_COMMIT_SECONDS = 0.05
PRELOAD = ["caselens.ingest.pool", "caselens.ingest.worker", "caselens.ingest.formats"]


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    settings: Settings
    case_id: str


@dataclass(frozen=True, slots=True)
class Committed:
    """A worker's report after a commit: the items saved and the children to process."""

    outcomes: list[Outcome]
    children: list[Task]


@dataclass(frozen=True, slots=True)
class Fatal:
    """A worker could not save its work (disk full, database error): the run must stop."""

    message: str


@dataclass(frozen=True, slots=True)
class _Shared:
    """Values a worker shares with the coordinator, which reads them to enforce limits."""

    started: Any  # when the current item began (monotonic clock), 0.0 between items
    current: Any  # sequence number of the task being processed
    taken: Any  # how many tasks the worker has taken from its pipe
    stopping: Any  # set by the coordinator: finish the current item, commit, stop


def _worker_main(config: WorkerConfig, connection: Connection, shared: _Shared) -> None:
    # The coordinator handles Ctrl-C and tells workers to stop; a parser that crashes the
    # process is reported as the item's failure, not as a dump on the user's terminal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    faulthandler.disable()
    settings = config.settings
    limit = settings.item_memory_mb * 1024 * 1024
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    # Objects inherited or imported so far live as long as the process: keep the cyclic
    # garbage collector from walking them again and again.
    gc.freeze()
    runtime = Runtime(settings)
    # The commit thread releases the GIL around every row it writes; a short switch
    # interval keeps it from queueing behind the parser thread for 5 ms each time.
    sys.setswitchinterval(0.0002)
    processor = ItemProcessor(
        runtime.blobs,
        config.case_id,
        settings.max_text_chars,
        settings.item_timeout,
        load_plugins(settings.ingestor_plugins) + INGESTORS,
    )
    _WorkerLoop(runtime, processor, config.case_id, connection, shared).run()


class _WorkerLoop:
    """Process tasks; commit batches in a second thread so parsing never waits on a flush.

    At most one commit is in flight: the next batch is handed over only when the one
    before has committed and been reported, so reports reach the coordinator in order.
    """

    def __init__(
        self,
        runtime: Runtime,
        processor: ItemProcessor,
        case_id: str,
        connection: Connection,
        shared: _Shared,
    ) -> None:
        self.runtime = runtime
        self.processor = processor
        self.case_id = case_id
        self.connection = connection
        self.shared = shared
        self.batch = Batch()
        self.outcomes: list[Outcome] = []
        self.children: list[Task] = []
        self.batch_opened = 0.0
        self.committer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="commit")
        self.in_flight: tuple[Future[None], Committed] | None = None

    def run(self) -> None:
        settings = self.runtime.settings
        try:
            self.connection.send("ready")
            while True:
                self._reap()
                if self.outcomes and (
                    len(self.outcomes) >= settings.batch_size
                    or time.monotonic() - self.batch_opened >= settings.batch_seconds
                ):
                    self._commit()
                    continue
                pending = self.outcomes or self.in_flight
                if not self.connection.poll(IDLE_COMMIT_SECONDS if pending else None):
                    # Nothing more is coming for now: save what is done and report it.
                    self._commit()
                    self._finish_in_flight()
                    continue
                wire = self.connection.recv()
                if wire is None:
                    break
                task = Task.from_wire(wire)
                self.shared.taken.value += 1
                if self.shared.taken.value % REFILL_EVERY == 0:
                    self.connection.send("more")  # wakes the coordinator to refill the pipe
                self._process(task)
                if self.shared.stopping.is_set():
                    break
            self._commit()
            self._finish_in_flight()
        except (EOFError, BrokenPipeError):
            return
        except Exception as err:
            with contextlib.suppress(OSError):
                self.connection.send(Fatal(getattr(err, "message", None) or repr(err)))
        finally:
            self.committer.shutdown(wait=True)

    def _process(self, task: Task) -> None:
        self.shared.current.value = task.seq
        self.shared.started.value = time.monotonic()
        result = self.processor.process(task)
        self.shared.started.value = 0.0
        if result.fatal:
            self._commit()  # what was done before the failure is still good
            self._finish_in_flight()
            raise _WorkerFatal(result.fatal)
        if not self.outcomes:
            self.batch_opened = time.monotonic()
        outcome, children = record_result(self.batch, task, result, self.case_id)
        self.outcomes.append(outcome)
        self.children.extend(children)

    def _commit(self) -> None:
        """Hand the current batch to the commit thread (after the one before is done)."""
        if not self.outcomes:
            return
        self._finish_in_flight()
        report = Committed(self.outcomes, self.children)
        future = self.committer.submit(commit_batch, self.runtime, self.case_id, self.batch)
        self.in_flight = (future, report)
        self.batch = Batch()
        self.outcomes = []
        self.children = []

    def _reap(self) -> None:
        if self.in_flight is not None and self.in_flight[0].done():
            self._finish_in_flight()

    def _finish_in_flight(self) -> None:
        if self.in_flight is None:
            return
        future, report = self.in_flight
        self.in_flight = None
        future.result()  # a failed commit raises here and ends the worker
        self.connection.send(report)


class _WorkerFatal(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    connection: Connection
    shared: _Shared
    # (sequence number, task) sent to the worker and not yet committed by it
    assigned: deque[tuple[int, Task]] = field(default_factory=deque)
    sent: int = 0
    ready: bool = False


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
        self.replaced = 0

    def __enter__(self) -> WorkerPool:
        self._workers = [self._start() for _ in range(self.size)]
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(kill=exc[0] is not None)

    def _start(self) -> _Worker:
        parent_end, child_end = self._context.Pipe(duplex=True)
        shared = _Shared(
            started=self._context.Value("d", 0.0, lock=False),
            current=self._context.Value("q", 0, lock=False),
            taken=self._context.Value("q", 0, lock=False),
            stopping=self._stopping,
        )
        process = self._context.Process(
            target=_worker_main, args=(self.config, child_end, shared), daemon=True
        )
        process.start()
        child_end.close()
        return _Worker(process, parent_end, shared)

    def submit(self, task: Task) -> None:
        self._queue.append(task)

    @property
    def busy(self) -> bool:
        return bool(self._queue) or any(worker.assigned for worker in self._workers)

    def poll(self, timeout: float) -> PoolEvent:
        """Dispatch queued tasks and collect what the workers report within ``timeout``."""
        event = PoolEvent()
        self._dispatch()
        by_connection = {id(worker.connection): worker for worker in self._workers}
        waiting = [w.connection for w in self._workers if w.assigned or not w.ready]
        for connection in wait(waiting, timeout) if waiting else []:
            self._drain(by_connection[id(connection)], event)
        self._enforce_limits(event)
        return event

    def _dispatch(self) -> None:
        for worker in self._workers:
            while (
                worker.ready and self._queue and worker.sent - worker.shared.taken.value < PREFETCH
            ):
                task = self._queue.popleft()
                seq = self._next_seq
                self._next_seq += 1
                worker.assigned.append((seq, task))
                worker.sent += 1
                try:
                    worker.connection.send(task.to_wire(seq))
                except OSError:
                    break  # the worker died; _enforce_limits reports and replaces it

    def _drain(self, worker: _Worker, event: PoolEvent) -> None:
        try:
            while worker.connection.poll():
                message = worker.connection.recv()
                if message == "more":
                    continue
                if message == "ready":
                    worker.ready = True
                elif isinstance(message, Committed):
                    done = {outcome.item_id for outcome in message.outcomes}
                    worker.assigned = deque(
                        pair for pair in worker.assigned if pair[1].item_id not in done
                    )
                    event.committed.extend(message.outcomes)
                    event.children.extend(message.children)
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
