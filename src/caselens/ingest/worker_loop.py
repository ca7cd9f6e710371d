"""The life of one ingest worker process: take tasks, parse, commit batches, report.

A worker stores and parses each item it is given and commits the results in batches
(items, blobs, text, entities and custody records in one transaction, after the blobs
are flushed to disk), then tells the coordinator which items are saved and which
children they produced. Through shared memory it shows which item it is on and since
when, so the coordinator can enforce the time limit from outside.
"""

from __future__ import annotations

import contextlib
import faulthandler
import gc
import signal
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from caselens.config import Settings
from caselens.extract.analyze import Analyzer
from caselens.extract.base import ExtractionContext
from caselens.extract.names import names_available
from caselens.ingest.formats import active_ingestors
from caselens.ingest.limits import Limits, bound_address_space
from caselens.ingest.rows import Outcome, record_result
from caselens.ingest.tasks import Task
from caselens.ingest.worker import ItemProcessor
from caselens.ingest.writer import Batch, commit_batch
from caselens.runtime import Runtime

# The worker asks for more work each time it has taken this many tasks from its pipe.
REFILL_EVERY = 16
IDLE_COMMIT_SECONDS = 0.05
# Sent by the coordinator when it has nothing left to hand out: commit now rather than
# wait IDLE_COMMIT_SECONDS for tasks that will not come.
FLUSH = "flush"


@dataclass(frozen=True, slots=True)
class WorkerConfig:
    settings: Settings
    case_id: str
    passwords: tuple[str, ...] = ()  # never stored: they reach workers only through here
    default_region: str | None = None  # for phone numbers written nationally
    timezones: dict[str, str] | None = None  # exhibit id -> IANA zone of its clock


@dataclass(frozen=True, slots=True)
class Committed:
    """A worker's report after a commit: the items saved and the children to process.

    Both as plain tuples, which pickle several times faster than dataclasses.
    """

    outcomes: list[tuple[str, str, int, str | None]]
    children: list[tuple[Any, ...]]

    @classmethod
    def of(cls, outcomes: list[Outcome], children: list[Task]) -> Committed:
        return cls(
            [(o.item_id, o.state, o.size, o.error) for o in outcomes],
            [child.to_wire(0) for child in children],
        )

    def items(self) -> tuple[list[Outcome], list[Task]]:
        return [Outcome(*o) for o in self.outcomes], [Task.from_wire(c) for c in self.children]


@dataclass(frozen=True, slots=True)
class Fatal:
    """A worker could not save its work (disk full, database error): the run must stop."""

    message: str


@dataclass(frozen=True, slots=True)
class Shared:
    """Values a worker shares with the coordinator, which reads them to enforce limits."""

    started: Any  # when the current item began (monotonic clock), 0.0 between items
    current: Any  # sequence number of the task being processed
    taken: Any  # how many tasks the worker has taken from its pipe
    stopping: Any  # set by the coordinator: finish the current item, commit, stop


def worker_main(config: WorkerConfig, connection: Connection, shared: Shared) -> None:
    # The coordinator handles Ctrl-C and tells workers to stop; a parser that crashes the
    # process is reported as the item's failure, not as a dump on the user's terminal.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)  # so does a termination request
    faulthandler.disable()
    settings = config.settings
    with contextlib.suppress(ValueError, OSError):
        bound_address_space(settings.item_memory_mb)
    # Objects inherited or imported so far live as long as the process: keep the cyclic
    # garbage collector from walking them again and again.
    gc.freeze()
    runtime = Runtime(settings, check_schema=False, keep_connection=True)
    processor = ItemProcessor(
        runtime.blobs,
        config.case_id,
        Limits.from_settings(settings),
        active_ingestors(settings.ingestor_plugins, settings.ingestors),
        passwords=config.passwords,
        work_root=settings.work_dir,
        analyzer=_analyzer(settings, config.default_region),
        index_text=settings.index_text,
        region=config.default_region,
        timezones=config.timezones,
        cdr_mappings=tuple(settings.cdr_mappings),
        ocr_languages=tuple(settings.ocr_languages) if settings.ocr else (),  # () = off
        transcribe=settings.transcribe,
    )
    _WorkerLoop(runtime, processor, config.case_id, connection, shared).run()


def _analyzer(settings: Settings, region: str | None) -> Analyzer | None:
    if not settings.analyze:
        return None
    return Analyzer(ExtractionContext(region), names=settings.names and names_available())


class _WorkerLoop:
    """Process tasks and commit them in batches; report each commit to the coordinator.

    Commits run in this thread: the machine's cores are all busy parsing, so a commit
    thread would only add switching, and while one worker waits for the database lock
    the others have the processor.
    """

    def __init__(
        self,
        runtime: Runtime,
        processor: ItemProcessor,
        case_id: str,
        connection: Connection,
        shared: Shared,
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

    def run(self) -> None:
        settings = self.runtime.settings
        try:
            self.connection.send("ready")
            while True:
                if self.outcomes and (
                    len(self.outcomes) >= settings.batch_size
                    or time.monotonic() - self.batch_opened >= settings.batch_seconds
                ):
                    self._commit()
                    continue
                if not self.connection.poll(IDLE_COMMIT_SECONDS if self.outcomes else None):
                    self._commit()  # nothing more is coming for now: save and report
                    continue
                chunk = self.connection.recv()
                if chunk == FLUSH:
                    self._commit()
                    continue
                if chunk is None or not self._process_chunk(chunk):
                    break
            self._commit()
        except (EOFError, BrokenPipeError):
            return
        except Exception as err:  # reported to the coordinator, then this worker ends
            with contextlib.suppress(OSError):
                self.connection.send(Fatal(getattr(err, "message", None) or repr(err)))

    def _process_chunk(self, chunk: list[tuple[Any, ...]]) -> bool:
        """Process a message's tasks; False when the coordinator asked to stop."""
        for wire in chunk:
            if self.shared.stopping.is_set():
                return False
            self.shared.taken.value += 1
            if self.shared.taken.value % REFILL_EVERY == 0:
                self.connection.send("more")  # wakes the coordinator to refill the pipe
            self._process(Task.from_wire(wire))
        return not self.shared.stopping.is_set()

    def _process(self, task: Task) -> None:
        self.shared.current.value = task.seq
        self.shared.started.value = time.monotonic()
        result = self.processor.process(task)
        self.shared.started.value = 0.0
        if result.fatal:
            self._commit()  # what was done before the failure is still good
            raise _WorkerFatal(result.fatal)
        if not self.outcomes:
            self.batch_opened = time.monotonic()
        outcome, children = record_result(
            self.batch, task, result, self.case_id, self.runtime.settings.max_depth
        )
        self.outcomes.append(outcome)
        self.children.extend(children)

    def _commit(self) -> None:
        if not self.outcomes:
            return
        existing = commit_batch(self.runtime, self.case_id, self.batch)
        # Children already in the case (found again when a container is re-processed)
        # keep their results and are not processed again.
        children = [c for c in self.children if c.item_id not in existing]
        self.connection.send(Committed.of(self.outcomes, children))
        self.batch = Batch()
        self.outcomes = []
        self.children = []


class _WorkerFatal(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
