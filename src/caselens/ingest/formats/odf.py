"""OpenDocument: ODT/ODS/ODP/ODG (zip packages) and flat XML FODT/FODS/FODP/FODG.

Text documents are page 1 (ODF stores no page layout); spreadsheets a page per sheet with
the sheet name first; presentations and drawings a page per slide, notes after the slide.
Schemas: "Pages" for text and slides, "Workbook" for spreadsheets. Metadata from
``meta.xml`` (see ``officemeta``). Pictures, embedded binary objects and macro libraries
(``Basic/``, ``Scripts/``: a warning "contains macros") become children. Password-protected
packages are decrypted with the supplied passwords (see ``odf_crypto``), else EncryptedFile.
"""

from __future__ import annotations

import re
import zipfile
from typing import ClassVar

from caselens.ingest.errors import BrokenFile, EncryptedFile, NotMyFormat
from caselens.ingest.formats.odf_crypto import (
    EncryptionData,
    WrongPassword,
    inflate,
    manifest_encryption,
)
from caselens.ingest.formats.odf_text import body_pages, header_footer_text
from caselens.ingest.formats.officemeta import (
    MAX_TREE_PART_BYTES,
    ElementType,
    add_member_child,
    apply_metadata,
    document_metadata,
    local,
    member_names,
    open_zip,
    parse_xml,
    raw_name,
    read_member,
)
from caselens.ingest.formats.ooxml import container_score
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

_ODF = "application/vnd.oasis.opendocument."
_KINDS = (
    "text",
    "spreadsheet",
    "presentation",
    "graphics",
    "text-template",
    "spreadsheet-template",
    "presentation-template",
    "graphics-template",
    "text-master",
)
_FLAT = frozenset({".fodt", ".fods", ".fodp", ".fodg"})
_CHILD_MEMBER = re.compile(r"^(Pictures|media|Media)/[^/]+$|^Object [0-9]+$")
_MACROS = re.compile(r"^(Basic|Scripts)/.+[^/]$")


class OdfIngestor(Ingestor):
    name = "odf"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset(f"{_ODF}{kind}" for kind in _KINDS)
    extensions: ClassVar[frozenset[str]] = frozenset(
        {".odt", ".ods", ".odp", ".odg", ".ott", ".ots", ".otp", ".otg", ".odm", *_FLAT}
    )
    base_score = 20

    @classmethod
    def score(cls, source: Source) -> int:
        if source.extension in _FLAT:
            head = source.head.lstrip()
            return cls.base_score + 1 if head.startswith(b"<") and b"office:" in head else 0
        return container_score(
            cls,
            source,
            lambda head: head[30:50] == b"mimetypeapplication/" and b"opendocument" in head[:120],
        )

    def ingest(self, source: Source, sink: Sink) -> None:
        if source.extension in _FLAT and not source.head.startswith(b"PK"):
            self._flat(source, sink)
            return
        if not source.head.startswith(b"PK\x03\x04"):
            raise BrokenFile(f"not a zip container, as ODF must be (starts {source.head[:8]!r})")
        with source.open() as handle, open_zip(handle, "ODF file") as archive:
            package = _OdfPackage(archive, sink)
            package.unlock(source.passwords)
            content = package.xml("content.xml")
            if content is None:
                raise NotMyFormat("zip without ODF content.xml")
            body = _child(content, "body")
            kind = local(next(iter(body), content).tag) if body is not None else ""
            sink.set_document("Workbook" if kind == "spreadsheet" else "Pages")
            meta = package.xml("meta.xml", optional=True)
            if meta is not None:
                apply_metadata(sink, document_metadata(meta, odf=True))
            if body is not None:
                headers = header_footer_text(package.xml("styles.xml", optional=True))
                body_pages(body, sink, headers)
            package.add_children()

    @staticmethod
    def _flat(source: Source, sink: Sink) -> None:
        if source.size > MAX_TREE_PART_BYTES:
            raise BrokenFile(f"flat ODF file larger than {MAX_TREE_PART_BYTES} bytes")
        root = parse_xml(source.read_bytes(), source.name, sink)
        if local(root.tag) != "document":
            raise NotMyFormat("XML that is not a flat ODF document")
        body = _child(root, "body")
        kind = local(next(iter(body), root).tag) if body is not None else ""
        sink.set_document("Workbook" if kind == "spreadsheet" else "Pages")
        meta = _child(root, "meta")
        if meta is not None:
            apply_metadata(sink, document_metadata(meta, odf=True))
        if body is not None:
            body_pages(body, sink, header_footer_text(_child(root, "master-styles")))


class _OdfPackage:
    """Members of an ODF zip, decrypted on the way when the package is password-protected."""

    def __init__(self, archive: zipfile.ZipFile, sink: Sink) -> None:
        self.archive = archive
        self.sink = sink
        self.members = member_names(archive)
        manifest = self._plain_xml("META-INF/manifest.xml")
        self.encrypted = manifest_encryption(manifest) if manifest is not None else {}
        self.start_key: bytes | None = None

    def unlock(self, passwords: tuple[str, ...]) -> None:
        """Find the password that opens the package; EncryptedFile if none does."""
        if not self.encrypted:
            return
        probe = "content.xml" if "content.xml" in self.encrypted else next(iter(self.encrypted))
        for password in passwords:
            start_key = self.encrypted[probe].start_key(password)
            try:
                self._decrypt(probe, start_key)
            except WrongPassword:
                continue
            self.start_key = start_key
            self.sink.decrypted = True
            return
        tried = f" ({len(passwords)} supplied passwords tried)" if passwords else ""
        raise EncryptedFile(f"ODF document is password-protected{tried}")

    def xml(self, name: str, *, optional: bool = False) -> ElementType | None:
        if name not in self.encrypted:
            return self._plain_xml(name, optional=optional)
        data = self.read(name)
        try:
            return parse_xml(data, name, self.sink) if data is not None else None
        except BrokenFile as err:
            if not optional:
                raise
            self.sink.warn(str(err))
            return None

    def read(self, name: str) -> bytes | None:
        info = self.members.get(name)
        if info is None:
            return None
        if name not in self.encrypted:
            return read_member(self.archive, info, MAX_TREE_PART_BYTES)
        assert self.start_key is not None
        try:
            return self._decrypt(name, self.start_key)
        except WrongPassword as err:
            raise BrokenFile(f"member {name} does not decrypt with the package password") from err

    def _decrypt(self, name: str, start_key: bytes) -> bytes:
        encryption: EncryptionData = self.encrypted[name]
        raw = read_member(self.archive, self.members[name], MAX_TREE_PART_BYTES)
        return inflate(encryption.decrypt(raw, start_key), MAX_TREE_PART_BYTES)

    def _plain_xml(self, name: str, *, optional: bool = False) -> ElementType | None:
        info = self.members.get(name)
        if info is None:
            return None
        try:
            return parse_xml(read_member(self.archive, info, MAX_TREE_PART_BYTES), name, self.sink)
        except BrokenFile as err:
            if not optional:
                raise
            self.sink.warn(str(err))
            return None

    def add_children(self) -> None:
        macros = False
        for name, info in self.members.items():
            if info.is_dir():
                continue
            is_macro = bool(_MACROS.match(name))
            if not (is_macro or _CHILD_MEMBER.match(name)):
                continue
            macros = macros or is_macro
            if name in self.encrypted:
                data = self.read(name)
                if data is not None:
                    self.sink.add_child(raw_name(info), data)
            else:
                add_member_child(self.sink, self.archive, info)
        if macros:
            self.sink.warn("contains macros (Basic/Scripts libraries)")


def _child(element: ElementType, name: str) -> ElementType | None:
    return next((child for child in element if local(child.tag) == name), None)
