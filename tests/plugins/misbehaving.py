"""Parsers that hang, crash or eat memory, to show the pool survives them."""

from __future__ import annotations

import os
import signal
import time
from typing import ClassVar

from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source


class SleepingIngestor(Ingestor):
    """Hangs in an interruptible sleep: the soft time limit inside the worker ends it."""

    name = "test-sleep"
    extensions: ClassVar[frozenset[str]] = frozenset({".sleep"})
    base_score = 100

    def ingest(self, source: Source, sink: Sink) -> None:
        time.sleep(3600)


class StuckIngestor(Ingestor):
    """Hangs with the alarm signal blocked: only killing the process ends it."""

    name = "test-stuck"
    extensions: ClassVar[frozenset[str]] = frozenset({".stuck"})
    base_score = 100

    def ingest(self, source: Source, sink: Sink) -> None:
        signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGALRM})
        while True:
            time.sleep(1)


class CrashingIngestor(Ingestor):
    """Dies the way a broken C extension does."""

    name = "test-crash"
    extensions: ClassVar[frozenset[str]] = frozenset({".crash"})
    base_score = 100

    def ingest(self, source: Source, sink: Sink) -> None:
        os.kill(os.getpid(), signal.SIGSEGV)


class GreedyIngestor(Ingestor):
    """Asks for far more memory than the worker's limit allows."""

    name = "test-greedy"
    extensions: ClassVar[frozenset[str]] = frozenset({".greedy"})
    base_score = 100

    def ingest(self, source: Source, sink: Sink) -> None:
        hoard = bytearray(64 * 1024**3)
        sink.add_text(str(len(hoard)))


class RaisingIngestor(Ingestor):
    """A parser bug: an exception nobody expected."""

    name = "test-raise"
    extensions: ClassVar[frozenset[str]] = frozenset({".raise"})
    base_score = 100

    def ingest(self, source: Source, sink: Sink) -> None:
        raise KeyError("parser bug")


PLUGINS = [
    f"tests.plugins.misbehaving:{cls.__name__}"
    for cls in (SleepingIngestor, StuckIngestor, CrashingIngestor, GreedyIngestor, RaisingIngestor)
]


class BundleIngestor(Ingestor):
    """A toy container format: each line ``name: content`` is a file inside it."""

    name = "test-bundle"
    extensions: ClassVar[frozenset[str]] = frozenset({".bundle"})
    base_score = 100

    def ingest(self, source: Source, sink: Sink) -> None:
        sink.set_document("Package")
        for line in source.read_bytes().splitlines():
            name, _, content = line.partition(b": ")
            sink.add_child(b"inside/" + name, content + b"\n")


BUNDLE_PLUGIN = f"tests.plugins.misbehaving:{BundleIngestor.__name__}"
