"""Run one ingestor on one file outside the pipeline: for tests and for debugging a parser.

The child files go to a real blob store (in a folder the caller chooses), so what a test
sees is what the pipeline would store.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from caselens.ingest.detect import detect_mime
from caselens.ingest.limits import Limits
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.store.blobs import BlobStore, Readable
from caselens.store.hashing import Digests

CASE_ID = "0" * 32


@dataclass
class Extraction:
    """What one ingestor made of one file."""

    sink: Sink
    source: Source
    store: BlobStore
    properties: dict[str, list[str]] = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(self.sink.pages[page] for page in sorted(self.sink.pages))

    def child_bytes(self, path: bytes) -> bytes:
        """The stored content of the child added under ``path``."""
        for child in self.sink.children:
            if child.path == path:
                return self.store.path_for(child.digests.sha256).read_bytes()
        raise KeyError(path)

    @property
    def child_paths(self) -> list[bytes]:
        return [child.path for child in self.sink.children]

    def entities(self, schema: str) -> list[dict[str, list[str]]]:
        """Properties of the emitted entities of one schema, in emission order."""
        return [
            {name: list(values) for name, values in entity.properties.items()}
            for entity in self.sink.entities
            if entity.schema.name == schema
        ]


def source_for(
    path: Path,
    work: Path,
    *,
    name: str | None = None,
    limits: Limits | None = None,
    passwords: tuple[str, ...] = (),
    depth: int = 0,
) -> tuple[Source, BlobStore]:
    """Store ``path`` in a blob store under ``work`` and describe it as the pipeline would."""
    store = BlobStore(work / "blobs")
    with path.open("rb") as handle:
        stored = store.put_stream(handle)
    name = name or path.name
    source = Source(
        item_id="1" * 32,
        name=name,
        path=store.path_for(stored.digests.sha256),
        digests=stored.digests,
        mime_type=detect_mime(stored.head, os.path.splitext(name)[1].lower()),
        head=stored.head,
        content=stored.content,
        limits=limits or Limits(),
        passwords=passwords,
        depth=depth,
        work_root=work / "scratch",
    )
    return source, store


def extract(
    ingestor: type[Ingestor],
    path: Path,
    work: Path,
    *,
    name: str | None = None,
    limits: Limits | None = None,
    passwords: tuple[str, ...] = (),
) -> Extraction:
    """Run ``ingestor`` on the file at ``path``; its exceptions (BrokenFile...) propagate."""
    source, store = source_for(path, work, name=name, limits=limits, passwords=passwords)

    def store_child(stream: Readable) -> Digests:
        return store.put_stream(stream, head_size=0, keep_limit=0).digests

    sink = Sink(CASE_ID, source.item_id, source.limits, store_child, source.size)
    ingestor().ingest(source, sink)
    return Extraction(sink, source, store, dict(sink.document_properties))
