"""A pool of worker processes that survives its workers: hung or dead ones are replaced.

A plain ProcessPoolExecutor breaks for good when one worker dies, so the pool here keeps
one pipe per worker and knows which task each worker is on. A worker that overruns the
item time limit (plus grace) is killed; the task it was on is reported as failed with the
reason, the tasks queued behind it go to the next worker, and a new worker takes its place.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import resource
import signal
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path

from caselens.ingest.formats import INGESTORS, load_plugins
from caselens.ingest.tasks import ItemResult, Task
from caselens.ingest.worker import ItemProcessor
from caselens.store.blobs import BlobStore

READY = "ready"  # sent once by a worker when it can take work: its first clock starts then
PREFETCH = 32  # tasks queued per worker, so a worker never waits for the coordinator


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    blob_root: Path
    case_id: str
    max_text_chars: int
    item_timeout: float
    memory_limit_bytes: int
    kill_grace: float = 10.0
    plugins: tuple[str, ...] = ()


def _worker_main(config: WorkerConfig, connection: Connection) -> None:
    # The coordinator handles Ctrl-C; workers end when their pipe closes or they are told to.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(
            resource.RLIMIT_AS, (config.memory_limit_bytes, config.memory_limit_bytes)
        )
    processor = ItemProcessor(
        BlobStore(config.blob_root),
        config.case_id,
        config.max_text_chars,
        config.item_timeout,
        load_plugins(list(config.plugins)) + INGESTORS,
    )
    connection.send(READY)
    while True:
        try:
            task = connection.recv()
        except (EOFError, OSError):
            return
        if task is None:
            return
        connection.send(processor.process(task))


@dataclass(slots=True)
class _Worker:
    process: BaseProcess
    connection: Connection
    assigned: deque[Task] = field(default_factory=deque)
    current_since: float = field(default_factory=time.monotonic)
    ready: bool = False


class WorkerPool:
    def __init__(self, size: int, config: WorkerConfig) -> None:
        self.size = size
        self.config = config
        self._context = multiprocessing.get_context("spawn")
        self._queue: deque[Task] = deque()
        self._workers: list[_Worker] = []
        self.replaced = 0

    def __enter__(self) -> WorkerPool:
        self._workers = [self._start() for _ in range(self.size)]
        return self

    def __exit__(self, *exc: object) -> None:
        self.close(kill=exc[0] is not None)

    def _start(self) -> _Worker:
        parent_end, child_end = self._context.Pipe(duplex=True)
        process = self._context.Process(
            target=_worker_main, args=(self.config, child_end), daemon=True
        )
        process.start()
        child_end.close()
        return _Worker(process, parent_end)

    def submit(self, task: Task) -> None:
        self._queue.append(task)

    @property
    def busy(self) -> bool:
        return bool(self._queue) or any(worker.assigned for worker in self._workers)

    @property
    def outstanding(self) -> int:
        return len(self._queue) + sum(len(worker.assigned) for worker in self._workers)

    def results(self, timeout: float) -> Iterator[ItemResult]:
        """Dispatch queued tasks and yield the results that arrive within ``timeout``."""
        self._dispatch()
        by_connection = {id(worker.connection): worker for worker in self._workers}
        waiting = [w.connection for w in self._workers if w.assigned or not w.ready]
        ready = wait(waiting, timeout) if waiting else []
        for connection in ready:
            worker = by_connection[id(connection)]
            yield from self._drain(worker)
        yield from self._enforce_limits()

    def _dispatch(self) -> None:
        for worker in self._workers:
            while self._queue and len(worker.assigned) < PREFETCH:
                task = self._queue.popleft()
                if not worker.assigned:
                    worker.current_since = time.monotonic()
                worker.assigned.append(task)
                try:
                    worker.connection.send(task)
                except (BrokenPipeError, OSError):
                    break  # the worker died; _enforce_limits reports and replaces it

    def _drain(self, worker: _Worker) -> Iterator[ItemResult]:
        try:
            while (worker.assigned or not worker.ready) and worker.connection.poll():
                result: ItemResult | str = worker.connection.recv()
                worker.current_since = time.monotonic()
                if result == READY:
                    worker.ready = True
                    continue
                assert isinstance(result, ItemResult)
                worker.assigned.popleft()
                yield result
        except (EOFError, OSError):
            return  # died mid-way; handled by _enforce_limits

    def _enforce_limits(self) -> Iterator[ItemResult]:
        now = time.monotonic()
        limit = self.config.item_timeout + self.config.kill_grace
        for index, worker in enumerate(self._workers):
            if not worker.process.is_alive():
                yield from self._drain(worker)
                reason = _death_reason(worker.process)
            elif worker.ready and worker.assigned and now - worker.current_since > limit:
                reason = f"time limit of {self.config.item_timeout:g} s exceeded; parser killed"
                _kill(worker.process)
            else:
                continue
            if worker.assigned:
                task = worker.assigned.popleft()
                yield ItemResult(item_id=task.item_id, state="failed", error=reason)
                self._queue.extendleft(reversed(worker.assigned))
            worker.connection.close()
            self._workers[index] = self._start()
            self.replaced += 1

    def close(self, kill: bool = False) -> None:
        for worker in self._workers:
            if kill:
                _kill(worker.process)
                continue
            with contextlib.suppress(OSError, BrokenPipeError):
                worker.connection.send(None)
        for worker in self._workers:
            worker.process.join(timeout=5)
            if worker.process.is_alive():
                _kill(worker.process)
            worker.connection.close()
        self._workers = []


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
