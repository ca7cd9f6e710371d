"""Messages between the ingest coordinator and its worker processes (pickled)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from caselens.custody.chain import LogEntry
from caselens.search.document import SearchDocument
from caselens.store.hashing import Digests


@dataclass(frozen=True, slots=True)
class Task:
    """One item to process: a source file on disk, or a blob already in the store."""

    item_id: str
    name: str
    source_path: bytes | None = None  # read from here (top-level files) ...
    digests: Digests | None = None  # ... or from the store (children, resumed items)
    depth: int = 0
    seq: int = 0  # set by the pool when dispatched
    actor: str | None = None
    # The item's row as known before processing: ids, path, parent, acquisition facts.
    base: dict[str, Any] = field(default_factory=dict)
    # True for items acquired from a source, which get an "acquired" custody record
    # (items derived from another item got their "derived" record with the parent's).
    acquired: bool = False
    # Set when an item already in the store is processed again: its generation until now.
    reprocess_of: int | None = None

    def to_wire(self, seq: int) -> tuple[Any, ...]:
        """A plain tuple (fast to pickle) of this task, numbered ``seq``."""
        return (
            self.item_id,
            self.name,
            self.source_path,
            _digests_tuple(self.digests),
            self.depth,
            seq,
            self.actor,
            self.base,
            self.acquired,
            self.reprocess_of,
        )

    @classmethod
    def from_wire(cls, wire: tuple[Any, ...]) -> Task:
        values = list(wire)
        if values[3] is not None:
            values[3] = Digests(*values[3])
        return cls(*values)


@dataclass(slots=True)
class ChildRecord:
    path: bytes
    digests: Digests
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class ItemResult:
    item_id: str
    state: str  # ingested | unsupported | encrypted | failed
    digests: Digests | None = None
    mime_type: str | None = None
    format: str | None = None
    format_version: str | None = None
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    pages: dict[int, str] = field(default_factory=dict)
    entities: list[dict[str, Any]] = field(default_factory=list)
    children: list[ChildRecord] = field(default_factory=list)
    decrypted: bool = False  # opened with a supplied password
    page_count: int | None = None
    # Identifiers found in the text: (page, kind, value, raw, start, end, extractor, version).
    mentions: list[tuple[int, str, str, str, int, int, str, str]] = field(default_factory=list)
    search: SearchDocument | None = None  # what the search index holds of the item
    custody: list[LogEntry] = field(default_factory=list)  # serialised in the worker
    # A storage failure (disk full) ends the run instead of being recorded on the item.
    fatal: str | None = None
    seconds: float = 0.0


def _digests_tuple(digests: Digests | None) -> tuple[str, str, str, int] | None:
    if digests is None:
        return None
    return (digests.sha256, digests.sha1, digests.md5, digests.size)
