"""Any type no other ingestor reads: recorded with its hash and metadata, listed as unsupported."""

from __future__ import annotations

from typing import ClassVar

from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source


class FallbackIngestor(Ingestor):
    name = "fallback"
    version = "1"
    base_score = 1
    records_only: ClassVar[bool] = True

    @classmethod
    def score(cls, source: Source) -> int:
        return cls.base_score

    def ingest(self, source: Source, sink: Sink) -> None:
        sink.set_document("Document")
