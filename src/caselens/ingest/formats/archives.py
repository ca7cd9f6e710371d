"""Archive and compressed-file ingestors, in the order they are to be registered.

Each format lives in its own module (``archives_zip``, ``archives_tar``, ...); this module
only gathers them. They go before the text ingestor in the registry.
"""

from __future__ import annotations

from caselens.ingest.formats.archives_7z import SevenZipIngestor
from caselens.ingest.formats.archives_compressed import CompressedIngestor
from caselens.ingest.formats.archives_rar import RarIngestor
from caselens.ingest.formats.archives_tar import TarIngestor
from caselens.ingest.formats.archives_zip import ZipIngestor
from caselens.ingest.registry import Ingestor

ARCHIVE_INGESTORS: list[type[Ingestor]] = [
    ZipIngestor,
    SevenZipIngestor,
    RarIngestor,
    TarIngestor,
    CompressedIngestor,
]

__all__ = [
    "ARCHIVE_INGESTORS",
    "CompressedIngestor",
    "RarIngestor",
    "SevenZipIngestor",
    "TarIngestor",
    "ZipIngestor",
]
