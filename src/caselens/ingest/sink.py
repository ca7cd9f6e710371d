"""Where an ingestor puts what it finds; the pipeline, not the ingestor, stores it."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from typing import Any

from followthemoney import model
from followthemoney.proxy import EntityProxy

from caselens.identity import entity_id
from caselens.ingest.errors import LimitReached
from caselens.ingest.limits import Limits
from caselens.ingest.tasks import ChildRecord
from caselens.store.blobs import Readable
from caselens.store.hashing import Digests

# Stores a child's bytes (read from the stream until it ends) and returns their digests.
ChildStore = Callable[[Readable], Digests]


class Sink:
    """Collects entities, text per page, child files and warnings for one item.

    Child files are stored as they are added, through the pipeline's blob store, so an
    archive member never has to fit in memory; the limits on members and expanded size
    are enforced here, while the bytes are read, so a decompression bomb stops early.
    """

    def __init__(
        self,
        case_id: str,
        item_id: str,
        limits: Limits,
        store_child: ChildStore,
        source_size: int = 0,
    ) -> None:
        self.case_id = case_id
        self.item_id = item_id
        self.limits = limits
        self.source_size = source_size
        self.document_schema = "Document"
        self.document_properties: dict[str, list[str]] = {}
        # Context of the item's own entity (an image's perceptual hash, a recording's
        # stream details): what FollowTheMoney has no property for.
        self.document_context: dict[str, Any] = {}
        self.entities: list[EntityProxy] = []
        self.contexts: dict[int, dict[str, Any]] = {}  # position in entities -> context
        # Text per page in pieces: joined when read, since appending to one growing
        # string copies it every time (quadratic for a chat of 100,000 lines).
        self._page_parts: dict[int, list[str]] = {}
        self._pages: dict[int, str] | None = None
        self.children: list[ChildRecord] = []
        self.warnings: list[str] = []
        self.decrypted = False  # opened with a password from the supplied list
        self.page_count: int | None = None  # pages the format says it has, when it has pages
        self.expanded_bytes = 0
        self._store_child = store_child
        self._text_chars = 0
        self._truncated = False

    @property
    def max_text_chars(self) -> int:
        return self.limits.max_text_chars

    @property
    def document_id(self) -> str:
        return entity_id(self.case_id, "item", self.item_id)

    def set_document(self, schema: str, **properties: str | list[str] | None) -> None:
        """Choose the item's own entity schema (PlainText, HyperText, Table...) and properties."""
        self.document_schema = schema
        for name, value in properties.items():
            self.add_property(name, value)

    def add_property(self, name: str, value: str | list[str] | None) -> None:
        values = value if isinstance(value, list) else [value]
        kept = [_utc_naive(v) for v in values if v]
        if kept:
            self.document_properties.setdefault(name, []).extend(kept)

    def make_entity(self, schema: str, *natural_key: str) -> EntityProxy:
        """A FollowTheMoney entity whose id comes from the case and a natural key."""
        entity = model.make_entity(schema)
        entity.id = entity_id(self.case_id, schema, *natural_key)
        return entity

    def emit(self, entity: EntityProxy, context: dict[str, Any] | None = None) -> None:
        """Keep an entity; ``context`` holds what FollowTheMoney has no property for
        (the record's place in the source, its time zone, direction, flags)."""
        if context:
            self.contexts[len(self.entities)] = context
        self.entities.append(entity)

    @property
    def text_full(self) -> bool:
        """True once the text limit is reached: parsers may stop extracting text."""
        return self._truncated

    def add_text(self, text: str, page: int = 1) -> None:
        """Add text of a page; text beyond the configured maximum is cut and a warning kept."""
        if self._truncated or not text:
            return
        if "\x00" in text:  # PostgreSQL text cannot hold NUL; it carries no meaning in text
            text = text.replace("\x00", "\ufffd")
        room = self.max_text_chars - self._text_chars
        if len(text) > room:
            text = text[:room]
            self._truncated = True
            self.warn(f"text cut at {self.max_text_chars} characters (limit max_text_chars)")
        self._text_chars += len(text)
        self._page_parts.setdefault(page, []).append(text)
        self._pages = None

    @property
    def pages(self) -> dict[int, str]:
        """Text per page (page 1 for unpaged text)."""
        if self._pages is None:
            self._pages = {page: "".join(parts) for page, parts in self._page_parts.items()}
        return self._pages

    def add_child(self, path: bytes, data: bytes | Readable, **metadata: Any) -> Digests:
        """Store a file found inside the item; it goes through the pipeline as a child item.

        ``path`` is the member's name inside the item, byte-faithful (never used as a path
        on this machine). ``data`` is the content, or a stream read to its end. Raises
        LimitReached when the item yields too many children or too many bytes.
        """
        if len(self.children) >= self.limits.max_members:
            raise LimitReached(
                f"more than {self.limits.max_members} members (limit max_archive_members)"
            )
        stream: Readable = io.BytesIO(data) if isinstance(data, bytes) else data
        digests = self._store_child(_Metered(stream, self))
        self.children.append(ChildRecord(path, digests, metadata))
        return digests

    def count_expanded(self, size: int) -> None:
        """Account for bytes expanded from the item; LimitReached past the limits."""
        self.expanded_bytes += size
        problem = self.limits.expansion_problem(self.expanded_bytes, self.source_size)
        if problem:
            raise LimitReached(problem)

    def warn(self, message: str) -> None:
        if message not in self.warnings:
            self.warnings.append(message)


_UTC_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$")


def _utc_naive(value: str) -> str:
    """``…Z`` times without the Z: FollowTheMoney keeps seconds only on times without a
    zone designator (it cuts ``…:07Z`` to the minute), and its times are UTC anyway."""
    return value[:-1] if _UTC_TIME.match(value) else value


class _Metered:
    """A read-only stream that counts what passes through against the sink's limits."""

    def __init__(self, inner: Readable, sink: Sink) -> None:
        self._inner = inner
        self._sink = sink

    def read(self, size: int = -1, /) -> bytes:
        data = self._inner.read(size)
        if data:
            self._sink.count_expanded(len(data))
        return data
