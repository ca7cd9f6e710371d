"""An OOXML package (OPC): a zip of XML parts joined by relationships (``_rels/*.rels``)."""

from __future__ import annotations

import posixpath
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

from caselens.ingest.errors import BrokenFile, EncryptedFile, LimitReached
from caselens.ingest.formats.officemeta import (
    MAX_TREE_PART_BYTES,
    MIB,
    ZIP_ERRORS,
    ElementType,
    iterparse,
    local,
    member_names,
    parse_xml,
    read_member,
)
from caselens.ingest.sink import Sink

# A streamed part (a worksheet) may be big, but not a bomb's gigabytes of nothing.
MAX_STREAMED_PART_BYTES = 512 * MIB


@dataclass(frozen=True, slots=True)
class Relationship:
    id: str
    kind: str  # the last segment of the relationship type URI: "header", "slide" ...
    target: str  # the part name inside the package (external targets are left out)


class OoxmlPackage:
    """Parts of one OOXML zip, read within limits; damaged optional parts become warnings."""

    def __init__(self, archive: zipfile.ZipFile, sink: Sink) -> None:
        self.archive = archive
        self.sink = sink
        self.members = member_names(archive)

    def has(self, name: str) -> bool:
        return name in self.members

    def xml(self, name: str, *, required: bool = False) -> ElementType | None:
        """A part parsed as a tree; None when it is absent, or damaged and not required."""
        info = self.members.get(name)
        if info is None:
            if required:
                raise BrokenFile(f"the package has no part {name}")
            return None
        try:
            return parse_xml(read_member(self.archive, info, MAX_TREE_PART_BYTES), name, self.sink)
        except BrokenFile as err:
            if required:
                raise
            self.sink.warn(str(err))
            return None

    def stream(self, name: str) -> Iterator[tuple[str, ElementType]]:
        """A part's elements as they end (streamed; for big parts such as worksheets)."""
        info = self.members.get(name)
        if info is None:
            return
        try:
            with self.archive.open(info) as raw:
                yield from iterparse(_Capped(raw, name))
        except RuntimeError as err:
            raise EncryptedFile(f"part {name} is zip-encrypted") from err
        except ZIP_ERRORS as err:
            raise BrokenFile(f"part {name} cannot be read: {err}") from err
        except SyntaxError as err:  # lxml's XMLSyntaxError derives from it
            self.sink.warn(f"part {name} is damaged XML, read up to the damage: {err}")

    def relationships(self, part: str) -> list[Relationship]:
        """The relationships of ``part`` ("" for the package itself), in stored order."""
        folder, base = posixpath.split(part)
        root = self.xml(posixpath.join(folder, "_rels", f"{base}.rels"))
        if root is None:
            return []
        found: list[Relationship] = []
        for element in root:
            if local(element.tag) != "Relationship" or element.get("TargetMode") == "External":
                continue
            target = element.get("Target") or ""
            if not target:
                continue
            if target.startswith("/"):
                resolved = target.lstrip("/")
            else:
                resolved = posixpath.normpath(posixpath.join(folder, target))
            kind = (element.get("Type") or "").rstrip("/").rpartition("/")[2]
            found.append(Relationship(element.get("Id") or "", kind, resolved))
        return found

    def related(self, part: str, kind: str) -> list[str]:
        return [rel.target for rel in self.relationships(part) if rel.kind == kind]

    def main_part(self) -> str | None:
        """The main document part named by the package relationships (word/document.xml ...)."""
        for target in self.related("", "officeDocument"):
            if self.has(target):
                return target
        for candidate in ("word/document.xml", "xl/workbook.xml", "ppt/presentation.xml"):
            if self.has(candidate):
                return candidate
        return None


def relationship_id(element: ElementType) -> str | None:
    """The ``r:id`` of an element (Transitional and Strict namespaces alike)."""
    for key, value in element.attrib.items():
        if str(key).startswith("{") and local(key) == "id":
            return str(value)
    return None


class _Capped:
    """A part stream that stops a decompression bomb at MAX_STREAMED_PART_BYTES."""

    def __init__(self, inner: IO[bytes], name: str) -> None:
        self._inner = inner
        self._name = name
        self._read = 0

    def read(self, size: int = -1, /) -> bytes:
        data = self._inner.read(size)
        self._read += len(data)
        if self._read > MAX_STREAMED_PART_BYTES:
            raise LimitReached(
                f"part {self._name} expands to more than {MAX_STREAMED_PART_BYTES // MIB} MiB"
            )
        return data
