"""The ingestor registry: each format declares what it handles; the best score wins."""

from __future__ import annotations

from abc import ABC, abstractmethod
from typing import ClassVar

from caselens.ingest.sink import Sink
from caselens.ingest.source import Source


class Ingestor(ABC):
    """One format. Subclasses declare MIME types, extensions, signatures and a base score."""

    name: ClassVar[str]
    version: ClassVar[str] = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset()
    extensions: ClassVar[frozenset[str]] = frozenset()
    signatures: ClassVar[tuple[bytes, ...]] = ()
    base_score: ClassVar[int] = 10
    # Items this ingestor handles but only records (hash and metadata): state "unsupported".
    records_only: ClassVar[bool] = False

    @classmethod
    def score(cls, source: Source) -> int:
        """How well this ingestor fits the item; 0 means "not mine"."""
        if source.mime_type in cls.mime_types:
            return cls.base_score + 2
        if any(source.head.startswith(signature) for signature in cls.signatures):
            return cls.base_score + 1
        if source.extension in cls.extensions:
            return cls.base_score
        return 0

    @abstractmethod
    def ingest(self, source: Source, sink: Sink) -> None:
        """Read the item and put what it holds into the sink.

        Raise NotMyFormat to pass the item on, BrokenFile or EncryptedFile to record why
        it could not be read.
        """


def candidates(ingestors: list[type[Ingestor]], source: Source) -> list[type[Ingestor]]:
    """Ingestors that accept the item, best first (ties keep registration order)."""
    scored = [(cls.score(source), index, cls) for index, cls in enumerate(ingestors)]
    return [cls for score, _, cls in sorted(scored, key=lambda t: (-t[0], t[1])) if score > 0]
