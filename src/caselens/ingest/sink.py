"""Where an ingestor puts what it finds; the pipeline, not the ingestor, stores it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from followthemoney import model
from followthemoney.proxy import EntityProxy

from caselens.identity import entity_id


@dataclass(slots=True)
class ChildFile:
    """A file found inside an item (archive member, attachment), to go through the pipeline."""

    path: bytes  # path inside the parent, byte-faithful
    data: bytes
    metadata: dict[str, Any] = field(default_factory=dict)


class Sink:
    """Collects entities, text per page, child files and warnings for one item."""

    def __init__(self, case_id: str, item_id: str, max_text_chars: int) -> None:
        self.case_id = case_id
        self.item_id = item_id
        self.max_text_chars = max_text_chars
        self.document_schema = "Document"
        self.document_properties: dict[str, list[str]] = {}
        self.entities: list[EntityProxy] = []
        self.pages: dict[int, str] = {}
        self.children: list[ChildFile] = []
        self.warnings: list[str] = []
        self._text_chars = 0
        self._truncated = False

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
        kept = [v for v in values if v]
        if kept:
            self.document_properties.setdefault(name, []).extend(kept)

    def make_entity(self, schema: str, *natural_key: str) -> EntityProxy:
        """A FollowTheMoney entity whose id comes from the case and a natural key."""
        entity = model.make_entity(schema)
        entity.id = entity_id(self.case_id, schema, *natural_key)
        return entity

    def emit(self, entity: EntityProxy) -> None:
        self.entities.append(entity)

    def add_text(self, text: str, page: int = 1) -> None:
        """Add text of a page; text beyond the configured maximum is cut and a warning kept."""
        if self._truncated or not text:
            return
        room = self.max_text_chars - self._text_chars
        if len(text) > room:
            text = text[:room]
            self._truncated = True
            self.warn(f"text cut at {self.max_text_chars} characters (limit max_text_chars)")
        self._text_chars += len(text)
        self.pages[page] = self.pages.get(page, "") + text

    def add_child(self, path: bytes, data: bytes, **metadata: Any) -> None:
        self.children.append(ChildFile(path, data, metadata))

    def warn(self, message: str) -> None:
        self.warnings.append(message)
