"""Format ingestors, one module each, registered here in one place."""

from __future__ import annotations

from caselens.ingest.formats.fallback import FallbackIngestor
from caselens.ingest.formats.text import TextIngestor
from caselens.ingest.registry import Ingestor

INGESTORS: list[type[Ingestor]] = [TextIngestor, FallbackIngestor]


def by_name(name: str) -> type[Ingestor] | None:
    return next((cls for cls in INGESTORS if cls.name == name), None)
