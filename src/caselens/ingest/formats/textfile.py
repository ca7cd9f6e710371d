"""What the text-based formats share: reading within the text limit, and claiming by name."""

from __future__ import annotations

from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

# What detection says of text it could not place (or of UTF-16 text, which looks binary).
GENERIC_TYPES = frozenset({"text/plain", "application/octet-stream"})


def read_text_bytes(source: Source, sink: Sink) -> tuple[bytes, bool]:
    """The item's bytes, as many as ``max_text_chars`` characters can take (at most four
    bytes a character); False and a warning on the item when it was cut."""
    limit = sink.max_text_chars * 4
    data = source.read_bytes(limit + 1)
    if len(data) <= limit:
        return data, True
    sink.warn(f"only the first {limit} bytes were read (limit max_text_chars)")
    return data[:limit], False


class TextFormatIngestor(Ingestor):
    """A text format known by its extension even where detection only says "text"."""

    @classmethod
    def score(cls, source: Source) -> int:
        score = super().score(source)
        if score == cls.base_score and source.mime_type in GENERIC_TYPES:
            return cls.base_score + 2  # ahead of the plain-text ingestor's tie
        return score
