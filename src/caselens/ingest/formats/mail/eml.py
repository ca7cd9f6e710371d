"""RFC 822 / EML messages, including maildir files (which have no extension)."""

from __future__ import annotations

import re
from typing import ClassVar

from caselens.ingest.formats.mail.message import MAX_MESSAGE_BYTES, ingest_rfc822
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

_KNOWN_HEADER = re.compile(
    rb"^(Return-Path|Received|Message-ID|From|To|Cc|Subject|Date|MIME-Version|Delivered-To|"
    rb"Reply-To|Content-Type|X-[A-Za-z0-9-]+):[ \t]",
    re.IGNORECASE | re.MULTILINE,
)
SNIFFED_TYPES = frozenset({"text/plain", "application/octet-stream"})


def looks_like_rfc822(head: bytes) -> bool:
    """A header block of at least three known mail headers, starting on the first line."""
    block = re.split(rb"\r?\n\r?\n|\r\r", head[:16384].lstrip(b"\r\n"), maxsplit=1)[0]
    return bool(_KNOWN_HEADER.match(block)) and len(_KNOWN_HEADER.findall(block)) >= 3


class EmlIngestor(Ingestor):
    name = "eml"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset({"message/rfc822", "message/global"})
    extensions: ClassVar[frozenset[str]] = frozenset({".eml", ".rfc822"})
    # Above the text ingestor (10), which also lists message/rfc822 as a text fallback.
    base_score = 20

    @classmethod
    def score(cls, source: Source) -> int:
        score = super().score(source)
        if score == 0 and source.mime_type in SNIFFED_TYPES and looks_like_rfc822(source.head):
            # Mail with a few stray control bytes is classed as binary or plain text.
            return cls.base_score
        return score

    def ingest(self, source: Source, sink: Sink) -> None:
        ingest_rfc822(source.read_bytes(MAX_MESSAGE_BYTES + 1), sink)
