"""Formats caselens recognises but cannot read yet: recorded, named, and listed as unsupported.

Several of them are zip or OLE containers underneath (iWork, XLSB, OneNote packages), which
the archive or Office ingestors would otherwise open and report as something they are not.
"""

from __future__ import annotations

from typing import ClassVar

from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

KNOWN: dict[str, str] = {
    ".pages": "Apple Pages document",
    ".numbers": "Apple Numbers spreadsheet",
    ".key": "Apple Keynote presentation",
    ".one": "Microsoft OneNote section",
    ".hwp": "Hangul word processor document",
    ".wpd": "WordPerfect document",
    ".xlsb": "Excel binary workbook",
    ".mdb": "Microsoft Access database",
    ".accdb": "Microsoft Access database",
}


IWORK = frozenset({".pages", ".numbers", ".key"})


class KnownUnsupportedIngestor(Ingestor):
    name = "unsupported"
    version = "1"
    extensions: ClassVar[frozenset[str]] = frozenset(KNOWN)
    mime_types: ClassVar[frozenset[str]] = frozenset(
        {
            "application/vnd.ms-excel.sheet.binary.macroenabled.12",
            "application/vnd.apple.pages",
            "application/vnd.apple.numbers",
            "application/vnd.apple.keynote",
            "application/onenote",
            "application/x-hwp",
            "application/vnd.wordperfect",
            "application/x-msaccess",
        }
    )
    signatures: ClassVar[tuple[bytes, ...]] = (
        b"\xffWPC",  # WordPerfect, whatever the file is called
        b"\xe4\x52\x5c\x7b\x8c\xd8\xa7\x4d\xae\xb1\x53\x78\xd0\x29\x96\xd3",  # OneNote
        b"\x00\x01\x00\x00Standard Jet DB",  # Access 97-2003
        b"\x00\x01\x00\x00Standard ACE DB",  # Access 2007 and later
    )
    base_score = 40  # above the container formats they are built on
    records_only: ClassVar[bool] = True

    @classmethod
    def score(cls, source: Source) -> int:
        # iWork names are common words (".key" is also a PEM private key): only zip
        # packages with those names are iWork documents.
        if source.extension in IWORK and not source.head.startswith(b"PK\x03\x04"):
            return 0
        return super().score(source)

    def ingest(self, source: Source, sink: Sink) -> None:
        kind = KNOWN.get(source.extension) or _by_signature(source.head) or source.mime_type
        sink.set_document("Document")
        sink.warn(f"{kind}: format not supported yet; recorded with its hashes and metadata")


def _by_signature(head: bytes) -> str | None:
    if head.startswith(b"\xffWPC"):
        return KNOWN[".wpd"]
    if head[4:19] in (b"Standard Jet DB", b"Standard ACE DB"):
        return KNOWN[".mdb"]
    if head.startswith(b"\xe4\x52\x5c\x7b"):
        return KNOWN[".one"]
    return None
