"""A rich progress bar for ingest: files/s, MB/s, ETA and errors so far."""

from __future__ import annotations

import time
from types import TracebackType

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TaskProgressColumn,
    TextColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class _RateColumn(ProgressColumn):
    def render(self, task: Task) -> Text:
        elapsed = task.elapsed or 0.0
        if elapsed <= 0:
            return Text("")
        files = task.completed / elapsed
        megabytes = task.fields.get("bytes_done", 0) / elapsed / 1e6
        return Text(f"{files:,.0f} files/s {megabytes:,.1f} MB/s", style="cyan")


class IngestProgress:
    """Implements the pipeline's ProgressListener with a rich progress bar on stderr."""

    def __init__(self, enabled: bool = True) -> None:
        console = Console(stderr=True)
        self._progress = Progress(
            TextColumn("[bold]ingest"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            _RateColumn(),
            TimeRemainingColumn(),
            TextColumn("{task.fields[errors]} errors", style="red"),
            console=console,
            disable=not (enabled and console.is_terminal),
            transient=False,
            # No refresh thread: ingest workers are forked from this process, and a fork
            # must not copy a thread that may hold the console's lock.
            auto_refresh=False,
        )
        self._task = self._progress.add_task("ingest", total=None, errors=0, bytes_done=0)
        self._bytes = 0
        self._last = 0.0

    def __enter__(self) -> IngestProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()

    def started(self, files: int, total_bytes: int) -> None:
        self._progress.update(self._task, total=files)

    def grew(self, files: int, total_bytes: int) -> None:
        total = self._progress.tasks[0].total or 0
        self._progress.update(self._task, total=total + files)

    def advanced(self, files: int, total_bytes: int, errors: int) -> None:
        self._bytes += total_bytes
        self._progress.advance(self._task, files)
        now = time.monotonic()
        if now - self._last > 0.1:
            self._last = now
            self._progress.update(self._task, errors=errors, bytes_done=self._bytes)
            self._progress.refresh()
