"""Office Open XML: Word (DOCX/DOCM/DOTX), Excel (XLSX/XLSM) and PowerPoint (PPTX/PPTM).

The zip and its XML parts are read directly (zipfile + lxml with entities and network off):
faster than python-docx/openpyxl and it reaches headers, notes, comments and text boxes.
Schemas: "Pages" for documents and decks, "Workbook" for spreadsheets. Metadata: see
``officemeta``. Embedded objects and media (``*/embeddings/*``, ``*/media/*``) and VBA
projects become child items. Password-protected OOXML is an OLE2 file, not a zip: it scores
0 here and the legacy-Office ingestor decrypts it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

from caselens.ingest.errors import BrokenFile, NotMyFormat
from caselens.ingest.formats.officemeta import (
    add_member_child,
    app_metadata,
    apply_metadata,
    document_metadata,
    local,
    open_zip,
)
from caselens.ingest.formats.ooxml_package import OoxmlPackage
from caselens.ingest.formats.ooxml_sheets import workbook_text
from caselens.ingest.formats.ooxml_slides import presentation_text
from caselens.ingest.formats.ooxml_word import word_text
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

_OPENXML = "application/vnd.openxmlformats-officedocument."
ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
# Types a mislabelled or damaged container is detected as: claimed by extension only then.
GENERIC_TYPES = frozenset({"application/zip", "application/octet-stream", "text/plain"})
_CHILD_MEMBER = re.compile(r"^[^/]+/(embeddings|media)/[^/]+")
_SCHEMAS = {"document": "Pages", "workbook": "Workbook", "presentation": "Pages"}


class OoxmlIngestor(Ingestor):
    name = "ooxml"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset(
        {
            f"{_OPENXML}wordprocessingml.document",
            f"{_OPENXML}wordprocessingml.template",
            "application/vnd.ms-word.document.macroenabled.12",
            "application/vnd.ms-word.template.macroenabled.12",
            f"{_OPENXML}spreadsheetml.sheet",
            f"{_OPENXML}spreadsheetml.template",
            "application/vnd.ms-excel.sheet.macroenabled.12",
            "application/vnd.ms-excel.template.macroenabled.12",
            f"{_OPENXML}presentationml.presentation",
            f"{_OPENXML}presentationml.slideshow",
            f"{_OPENXML}presentationml.template",
            "application/vnd.ms-powerpoint.presentation.macroenabled.12",
            "application/vnd.ms-powerpoint.slideshow.macroenabled.12",
        }
    )
    extensions: ClassVar[frozenset[str]] = frozenset(
        {
            ".docx",
            ".docm",
            ".dotx",
            ".dotm",
            ".xlsx",
            ".xlsm",
            ".xltx",
            ".xltm",
            ".pptx",
            ".pptm",
            ".ppsx",
            ".ppsm",
            ".potx",
            ".potm",
        }
    )
    base_score = 20  # above the zip ingestor: an OOXML file is a zip, read as a document

    @classmethod
    def score(cls, source: Source) -> int:
        return container_score(cls, source, _looks_like_ooxml)

    def ingest(self, source: Source, sink: Sink) -> None:
        if not source.head.startswith(ZIP_MAGIC):
            raise BrokenFile(f"not a zip container, as OOXML must be (starts {source.head[:8]!r})")
        with source.open() as handle, open_zip(handle, "OOXML file") as archive:
            package = OoxmlPackage(archive, sink)
            main_part = package.main_part()
            if main_part is None:
                raise NotMyFormat("zip without an OOXML main document part")
            if not main_part.endswith(".xml"):
                raise NotMyFormat(f"binary OOXML ({main_part}, e.g. XLSB) is not read here")
            root = package.xml(main_part, required=True)
            assert root is not None
            kind = local(root.tag)
            if kind not in _SCHEMAS:
                raise NotMyFormat(f"OOXML main part of unknown kind <{kind}>")
            sink.set_document(_SCHEMAS[kind])
            self._metadata(package, sink)
            if kind == "document":
                for block in word_text(package, main_part, root):
                    sink.add_text(block + "\n\n", page=1)
            elif kind == "workbook":
                workbook_text(package, main_part, root, sink)
            else:
                presentation_text(package, main_part, root, sink)
            self._children(package, sink)

    @staticmethod
    def _metadata(package: OoxmlPackage, sink: Sink) -> None:
        for kind, reader in (
            ("core-properties", document_metadata),
            ("extended-properties", app_metadata),
        ):
            for target in package.related("", kind):
                root = package.xml(target)
                if root is not None:
                    apply_metadata(sink, reader(root))

    @staticmethod
    def _children(package: OoxmlPackage, sink: Sink) -> None:
        for name, info in package.members.items():
            if info.is_dir():
                continue
            if name.rpartition("/")[2].lower() == "vbaproject.bin":
                sink.warn("contains macros (VBA project)")
                add_member_child(sink, package.archive, info)
            elif _CHILD_MEMBER.match(name):
                add_member_child(sink, package.archive, info)


def _looks_like_ooxml(head: bytes) -> bool:
    return b"[Content_Types].xml" in head and (
        b"word/" in head or b"xl/" in head or b"ppt/" in head
    )


def container_score(
    cls: type[Ingestor], source: Source, sniff: Callable[[bytes], bool] | None = None
) -> int:
    """Score for a zip-based office format.

    Its own MIME type or a sniffed marker wins over the zip ingestor; the extension alone
    claims a zip or an unidentified file (to report it broken rather than as text), never
    an OLE2 file (encrypted OOXML, for the legacy-Office ingestor) or another known type.
    """
    head = source.head
    if head.startswith(OLE_MAGIC):
        return 0
    if source.mime_type in cls.mime_types:
        return cls.base_score + 2
    if head.startswith(ZIP_MAGIC) and sniff is not None and sniff(head):
        return cls.base_score + 1
    if source.extension in cls.extensions and (
        head.startswith(ZIP_MAGIC) or source.mime_type in GENERIC_TYPES
    ):
        return cls.base_score
    return 0
