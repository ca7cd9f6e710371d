"""Messages between the ingest coordinator and its worker processes (pickled)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from caselens.custody.chain import LogEntry
from caselens.store.hashing import Digests


@dataclass(frozen=True, slots=True)
class Task:
    """One item to process: a source file on disk, or a blob already in the store."""

    item_id: str
    name: str
    source_path: bytes | None = None  # read from here (top-level files) ...
    digests: Digests | None = None  # ... or from the store (children, resumed items)
    depth: int = 0
    # When set, only these ingestors may run (reprocess --format).
    only_formats: tuple[str, ...] | None = None
    passwords: tuple[str, ...] = ()
    actor: str | None = None
    # For items acquired from a source (not derived from another item): what the
    # "acquired" custody record says besides the hashes.
    acquisition: dict[str, Any] | None = None


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
    custody: list[LogEntry] = field(default_factory=list)  # serialised in the worker
    # A storage failure (disk full) ends the run instead of being recorded on the item.
    fatal: str | None = None
    seconds: float = 0.0
