"""Legacy Office: Word 97–2003 / 6 / 95, Excel 2–2003 and PowerPoint 97–2003 files.

One ingestor per program; each claims the OLE2 compound files whose streams are its own
(see ole_common), so a file named ``.doc`` that is really a workbook still goes to Excel.
Metadata comes from the summary information streams, text from the parsers in ole_doc,
ole_xls and ole_ppt, embedded objects become child items. Encrypted files are opened
with the supplied passwords (office_crypto) and the decrypted file becomes a child item.
When a built-in parser fails and LibreOffice is installed, it converts the file instead.
"""

from __future__ import annotations

from typing import ClassVar

import olefile  # type: ignore[import-untyped]

from caselens.ingest.convert import (
    ConversionError,
    convert_with_libreoffice,
    find_program,
)
from caselens.ingest.errors import BrokenFile, EncryptedFile, NotMyFormat
from caselens.ingest.formats import ole_doc, ole_ppt, ole_xls
from caselens.ingest.formats.office_crypto import Opened, decrypt, note_opened
from caselens.ingest.formats.ole_common import (
    OleKind,
    add_embedded,
    add_summary_metadata,
    embedded_objects,
    has_drm,
    kind_of,
    ole_kind,
    open_ole,
    read_stream,
    stream_names,
)
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

MIB = 1024 * 1024
CONVERSION_MEMORY_MB = 2048
# A stream cannot hold more than its file; the slack covers olefile's sector rounding.
STREAM_SLACK = MIB
# Beginning-of-file records of BIFF2, BIFF3, BIFF4 and BIFF5/8 workbook streams.
BIFF_BOF_RECORDS = (b"\x09\x00", b"\x09\x02", b"\x09\x04", b"\x09\x08")
EMBEDDED_EXTENSIONS = {
    OleKind.WORD: ".doc",
    OleKind.EXCEL: ".xls",
    OleKind.POWERPOINT: ".ppt",
    OleKind.ENCRYPTED_OOXML: ".ole",
}


class LegacyOfficeIngestor(Ingestor):
    """What the three programs share: claiming, metadata, DRM, encryption, fallback."""

    kind: ClassVar[OleKind]
    schema: ClassVar[str] = "Pages"
    program: ClassVar[str]
    base_score = 20

    @classmethod
    def score(cls, source: Source) -> int:
        kind = ole_kind(source)
        if kind is cls.kind:
            return cls.base_score + 5
        if kind is None or kind is OleKind.BROKEN:
            return super().score(source)  # by MIME type or extension only
        return 0  # another program's compound file

    def ingest(self, source: Source, sink: Sink) -> None:
        kind = ole_kind(source)
        if kind is None:
            self.read_bare(source, sink)
            return
        if kind is not self.kind and kind is not OleKind.BROKEN:
            raise NotMyFormat(f"a compound file of another kind ({kind.value})")
        try:
            ole = open_ole(source.path)
        except BrokenFile as err:
            self.fall_back(source, sink, err)
            return
        try:
            names = stream_names(ole)
            if kind_of(names) is not self.kind:
                raise NotMyFormat("a compound file of another kind")
            sink.set_document(self.schema)
            add_summary_metadata(ole, sink)
            if has_drm(names):
                raise EncryptedFile(
                    f"{source.name} is protected with DRM (Information Rights Management): "
                    "its content is encrypted for licensed users only"
                )
            try:
                self.read_content(source, ole, names, sink)
            except BrokenFile as err:
                self.fall_back(source, sink, err)
            self.add_embedded_objects(source, ole, sink)
        finally:
            ole.close()

    def read_bare(self, source: Source, sink: Sink) -> None:
        """Content that is not a compound file (named or typed like this format)."""
        raise NotMyFormat(f"not an OLE2 compound file, so not a {self.program} file")

    def read_content(
        self, source: Source, ole: olefile.OleFileIO, names: set[str], sink: Sink
    ) -> None:
        raise NotImplementedError

    def add_embedded_objects(self, source: Source, ole: olefile.OleFileIO, sink: Sink) -> None:
        for storage in embedded_objects(ole, self.kind):
            add_embedded(ole, storage, sink, stream_limit(source))

    def open_encrypted(self, source: Source, sink: Sink, description: str) -> Opened:
        """Decrypt into a child item named "decrypted<ext>"; the item stays a Document."""
        sink.set_document("Document")
        extension = (
            source.extension if source.extension in self.extensions else self.default_extension
        )
        with source.scratch() as folder:
            decrypted = folder / "decrypted"
            with decrypted.open("w+b") as target:
                opened = decrypt(source.path, source.passwords, target, description)
            note_opened(opened, sink)
            with decrypted.open("rb") as stream:
                sink.add_child(f"decrypted{extension}".encode(), stream)
        return opened

    default_extension: ClassVar[str]
    conversion_format: ClassVar[str] = "pdf"

    def fall_back(self, source: Source, sink: Sink, failure: BrokenFile) -> None:
        """Convert with LibreOffice when the built-in parser failed; else re-raise."""
        if find_program() is None:
            raise BrokenFile(
                f"{failure} (LibreOffice might convert it but is not installed: "
                "apt-get install libreoffice-core-nogui)"
            ) from failure
        with source.scratch() as folder:
            original = folder / f"original{self.default_extension}"
            original.symlink_to(source.path)
            try:
                converted = convert_with_libreoffice(
                    original,
                    self.conversion_format,
                    folder,
                    timeout=source.limits.item_timeout / 2,
                    memory_mb=CONVERSION_MEMORY_MB,
                )
            except ConversionError as err:
                raise BrokenFile(f"{failure}; LibreOffice could not convert it: {err}") from err
            sink.warn(f"built-in parser failed ({failure}); converted with LibreOffice")
            if self.conversion_format.startswith("txt"):
                text = converted.read_bytes()[: sink.max_text_chars * 4]
                sink.add_text(text.decode("utf-8", errors="replace"))
            else:
                with converted.open("rb") as stream:
                    sink.add_child(f"converted.{self.conversion_format}".encode(), stream)


def stream_limit(source: Source) -> int:
    return source.size + STREAM_SLACK


class WordIngestor(LegacyOfficeIngestor):
    name = "doc"
    version = "1"
    kind = OleKind.WORD
    program = "Word"
    default_extension = ".doc"
    conversion_format = "txt:Text (encoded):UTF8"
    mime_types: ClassVar[frozenset[str]] = frozenset({"application/msword"})
    extensions: ClassVar[frozenset[str]] = frozenset({".doc", ".dot"})

    def read_content(
        self, source: Source, ole: olefile.OleFileIO, names: set[str], sink: Sink
    ) -> None:
        word = read_stream(ole, "WordDocument", stream_limit(source))
        header = ole_doc.read_header(word)
        if header.encrypted:
            method = "XOR obfuscation" if header.obfuscated else "RC4 encryption"
            if not header.is_word97:
                raise EncryptedFile(f"{source.name} is password-protected (Word 6/95 {method})")
            self.open_encrypted(source, sink, f"{source.name} is password-protected ({method})")
            return
        table = None
        if header.is_word97:
            if header.table_stream not in names:
                raise BrokenFile(f"the {header.table_stream} stream is missing")
            table = read_stream(ole, header.table_stream, stream_limit(source))
        for number, page in enumerate(ole_doc.document_pages(header, word, table), start=1):
            if sink.text_full:
                break
            sink.add_text(page, page=number)


class ExcelIngestor(LegacyOfficeIngestor):
    name = "xls"
    version = "1"
    kind = OleKind.EXCEL
    schema = "Workbook"
    program = "Excel"
    default_extension = ".xls"
    mime_types: ClassVar[frozenset[str]] = frozenset({"application/vnd.ms-excel"})
    extensions: ClassVar[frozenset[str]] = frozenset({".xls", ".xlt", ".xla"})

    def read_bare(self, source: Source, sink: Sink) -> None:
        # Excel 2–4 wrote bare BIFF streams; xlrd reads them without an OLE wrapper.
        if not source.head.startswith(BIFF_BOF_RECORDS):
            raise NotMyFormat("neither an OLE2 compound file nor a BIFF stream")
        sink.set_document(self.schema)
        try:
            self.add_sheets(source.read_bytes(), sink)
        except ole_xls.WorkbookEncrypted as err:
            raise EncryptedFile(f"{source.name} is password-protected (BIFF stream)") from err

    def read_content(
        self, source: Source, ole: olefile.OleFileIO, names: set[str], sink: Sink
    ) -> None:
        data = source.read_bytes()
        try:
            self.add_sheets(data, sink)
        except ole_xls.WorkbookEncrypted:
            if "Workbook" not in names:
                raise EncryptedFile(
                    f"{source.name} is password-protected (Excel 5/95 encryption, not supported)"
                ) from None
            self.open_encrypted_workbook(source, sink)

    def open_encrypted_workbook(self, source: Source, sink: Sink) -> None:
        description = f"{source.name} is password-protected (RC4 encryption)"
        extension = source.extension if source.extension in self.extensions else ".xls"
        with source.scratch() as folder:
            decrypted = folder / "decrypted"
            with decrypted.open("w+b") as target:
                opened = decrypt(source.path, source.passwords, target, description)
            note_opened(opened, sink)
            if opened is Opened.DEFAULT_PASSWORD:
                # Write-protected only: the workbook is read in place, as if not encrypted.
                self.add_sheets(decrypted.read_bytes(), sink)
                return
            sink.set_document("Document")
            with decrypted.open("rb") as stream:
                sink.add_child(f"decrypted{extension}".encode(), stream)

    @staticmethod
    def add_sheets(data: bytes, sink: Sink) -> None:
        book = ole_xls.open_workbook(data)
        try:
            for number, (_, text) in enumerate(ole_xls.sheet_pages(book), start=1):
                sink.add_text(text, page=number)
                if sink.text_full:
                    break
        finally:
            book.release_resources()


class PowerPointIngestor(LegacyOfficeIngestor):
    name = "ppt"
    version = "1"
    kind = OleKind.POWERPOINT
    program = "PowerPoint"
    default_extension = ".ppt"
    mime_types: ClassVar[frozenset[str]] = frozenset({"application/vnd.ms-powerpoint"})
    extensions: ClassVar[frozenset[str]] = frozenset({".ppt", ".pps", ".pot"})

    def read_content(
        self, source: Source, ole: olefile.OleFileIO, names: set[str], sink: Sink
    ) -> None:
        stream = read_stream(ole, "PowerPoint Document", stream_limit(source))
        current_user = (
            read_stream(ole, "Current User", stream_limit(source))
            if "Current User" in names
            else b""
        )
        if self.edit_encrypted(stream, current_user, names):
            self.open_encrypted(
                source, sink, f"{source.name} is password-protected (RC4 CryptoAPI encryption)"
            )
            return
        try:
            pages = ole_ppt.slide_pages(ole_ppt.load(stream, current_user))
        except BrokenFile as err:
            sink.warn(f"slide structure cannot be followed ({err}): text read in stream order")
            pages = [ole_ppt.all_texts(stream)]
        for number, page in enumerate(pages, start=1):
            if sink.text_full:
                break
            sink.add_text(page, page=number)

    @staticmethod
    def edit_encrypted(stream: bytes, current_user: bytes, names: set[str]) -> bool:
        # msoffcrypto keeps the EncryptedSummary stream in what it decrypts: the current
        # edit's reference to an encryption session is what tells.
        try:
            return ole_ppt.is_encrypted(stream, current_user)
        except BrokenFile:
            return "EncryptedSummary" in names

    def add_embedded_objects(self, source: Source, ole: olefile.OleFileIO, sink: Sink) -> None:
        try:
            stream = read_stream(ole, "PowerPoint Document", stream_limit(source))
        except BrokenFile:
            return
        for offset, payload in ole_ppt.embedded_storages(stream, sink.limits.max_expanded_bytes):
            if isinstance(payload, str):
                sink.warn(f"embedded object at offset {offset} not extracted: {payload}")
                continue
            name = f"embedded-{offset}{embedded_extension(payload)}"
            sink.add_child(name.encode(), payload, embedded="ExOleObjStg")


def embedded_extension(payload: bytes) -> str:
    """An extension for an embedded object from the streams of its compound file."""
    try:
        ole = open_ole(payload)
    except BrokenFile:
        return ".bin"
    try:
        return EMBEDDED_EXTENSIONS.get(kind_of(stream_names(ole)), ".ole")
    finally:
        ole.close()
