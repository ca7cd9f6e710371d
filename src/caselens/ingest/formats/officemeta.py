"""Shared by the office formats: zip members read within limits, safe XML, metadata.

Property mapping (FollowTheMoney names of the Document family), for OOXML ``core.xml`` /
``app.xml`` and ODF ``meta.xml`` alike:

- title → ``title``; creator / initial-creator → ``author``; description → ``summary``;
  subject → ``description``; keywords → ``keywords``; language → ``language``;
- created → ``authoredAt`` (when the document says it was first written; FtM's ``createdAt``
  is about the entity, not a "first saved" field); modified → ``modifiedAt``;
- Application (+ AppVersion) / meta:generator → ``generator``; Company → ``publisher``;
- lastModifiedBy and lastPrinted have no FtM property: they are kept, labelled, in ``notes``
  ("Last modified by: …", "Last printed: …") rather than stretched into ``author``.
"""

from __future__ import annotations

import zipfile
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import IO, Any, TypeAlias

from lxml import etree  # type: ignore[import-untyped]

from caselens.ingest.errors import BrokenFile, EncryptedFile, LimitReached
from caselens.ingest.sink import Sink
from caselens.store.blobs import Readable

MIB = 1024 * 1024
# One XML part parsed as a tree: bigger parts are refused (a real document part is far
# smaller; a bomb expands to gigabytes). Streamed parts (worksheets) are not capped here.
MAX_TREE_PART_BYTES = 128 * MIB
CHUNK = 1024 * 1024

# Hostile files: no entity expansion, no network, no external DTD, libxml2's own size caps.
_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, huge_tree=False, load_dtd=False, remove_pis=True
)
_RECOVERING_PARSER = etree.XMLParser(
    resolve_entities=False,
    no_network=True,
    huge_tree=False,
    load_dtd=False,
    remove_pis=True,
    recover=True,
)
ZIP_ERRORS = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError)

# lxml ships no type hints: an element is typed as Any (an lxml.etree._Element).
ElementType: TypeAlias = Any


def local(tag: object) -> str:
    """The local name of an element's tag ("" for comments), whatever its namespace.

    Matching on local names reads Transitional and Strict OOXML (different namespaces) alike.
    """
    if not isinstance(tag, str):
        return ""
    return tag.rpartition("}")[2]


def attribute(element: ElementType, name: str) -> str | None:
    """An attribute by local name, in any namespace (``r:id``, ``table:name`` ...)."""
    for key, value in element.attrib.items():
        if local(key) == name:
            return str(value)
    return None


def open_zip(handle: IO[bytes], kind: str) -> zipfile.ZipFile:
    """The zip container of an office document; BrokenFile when it is not a readable zip."""
    try:
        return zipfile.ZipFile(handle)
    except zipfile.BadZipFile as err:
        raise BrokenFile(f"{kind} is not a readable zip container: {err}") from err
    except (OSError, ValueError, EOFError, NotImplementedError) as err:
        raise BrokenFile(f"{kind} zip container is damaged: {err}") from err


def member_names(archive: zipfile.ZipFile) -> dict[str, zipfile.ZipInfo]:
    """Members by name; a name stored twice keeps its first entry."""
    names: dict[str, zipfile.ZipInfo] = {}
    for info in archive.infolist():
        names.setdefault(info.filename, info)
    return names


def raw_name(info: zipfile.ZipInfo) -> bytes:
    """The member's name as stored, byte-faithful (UTF-8 flag or the zip default cp437)."""
    encoding = "utf-8" if info.flag_bits & 0x800 else "cp437"
    try:
        return info.orig_filename.encode(encoding)
    except UnicodeEncodeError:
        return info.orig_filename.encode("utf-8", "surrogateescape")


def read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """A member's bytes, refusing more than ``cap`` bytes (LimitReached), BrokenFile if damaged."""
    if info.file_size > cap:
        raise LimitReached(
            f"part {info.filename} expands to {info.file_size} bytes "
            f"(more than the {cap} bytes allowed for one XML part)"
        )
    try:
        with archive.open(info) as stream:
            data = stream.read(cap + 1)
    except RuntimeError as err:  # zipfile's "File is encrypted, password required"
        raise EncryptedFile(f"part {info.filename} is zip-encrypted") from err
    except ZIP_ERRORS as err:
        raise BrokenFile(f"part {info.filename} cannot be read: {err}") from err
    if len(data) > cap:
        raise LimitReached(f"part {info.filename} expands to more than {cap} bytes")
    return data


def parse_xml(data: bytes, name: str, sink: Sink) -> ElementType:
    """Parse an XML part; damaged XML is read as far as possible with a warning."""
    try:
        return etree.fromstring(data, _PARSER)
    except etree.XMLSyntaxError as err:
        try:
            root = etree.fromstring(data, _RECOVERING_PARSER)
        except etree.XMLSyntaxError:
            root = None
        if root is None:
            raise BrokenFile(f"part {name} is not well-formed XML: {err}") from err
        sink.warn(f"part {name} is damaged XML, read as far as possible: {err}")
        return root


def iterparse(stream: Readable) -> Iterator[tuple[str, ElementType]]:
    """Stream an XML part element by element ("end" events), with the safe settings."""
    events = etree.iterparse(
        stream,
        events=("end",),
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        load_dtd=False,
        remove_pis=True,
        remove_comments=True,
    )
    for _, element in events:
        yield local(element.tag), element


class MemberError(Exception):
    """A zip member's bytes could not be read while streaming it into a child."""


class MemberStream:
    """A zip member read as a stream, turning zip/zlib failures into MemberError."""

    def __init__(self, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
        try:
            self._inner: IO[bytes] = archive.open(info)
        except RuntimeError as err:
            raise MemberError("zip-encrypted") from err
        except ZIP_ERRORS as err:
            raise MemberError(str(err)) from err

    def read(self, size: int = -1, /) -> bytes:
        try:
            return self._inner.read(CHUNK if size < 0 else size)
        except ZIP_ERRORS as err:
            raise MemberError(str(err)) from err

    def close(self) -> None:
        self._inner.close()


def add_member_child(sink: Sink, archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Store one zip member as a child item; a damaged member is a warning, not a failure."""
    try:
        stream = MemberStream(archive, info)
        try:
            sink.add_child(raw_name(info), stream, compressed_size=info.compress_size)
        finally:
            stream.close()
    except MemberError as err:
        sink.warn(f"embedded file {info.filename} could not be read: {err}")


def iso_date(value: str | None) -> str | None:
    """An ISO 8601 date as FtM keeps it; times with an offset are turned into UTC."""
    if not value:
        return None
    text = value.strip()
    if not text:
        return None
    if len(text) <= 10:
        return text  # a date without time: keep its precision
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text  # FtM's own cleaning decides (it keeps partial dates like "2010")
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
        return parsed.isoformat(timespec="seconds") + "Z"
    return parsed.isoformat(timespec="seconds")


def node_text(element: ElementType) -> str:
    """Direct text of a text-only element (``w:t``, ``a:t``, ``v``).

    Unresolved entity references (a hostile DOCTYPE) are child nodes: their text is dropped,
    the text after them kept.
    """
    parts = [element.text or ""]
    parts.extend(child.tail or "" for child in element)
    return "".join(parts)


def element_text(element: ElementType) -> str:
    return "".join(element.itertext()).strip()


# Local names in core.xml / meta.xml → FtM property.
_CORE_PROPERTIES = {
    "title": "title",
    "creator": "author",
    "initial-creator": "author",
    "description": "summary",
    "subject": "description",
    "keywords": "keywords",
    "keyword": "keywords",
    "language": "language",
    "created": "authoredAt",
    "creation-date": "authoredAt",
    "modified": "modifiedAt",
    "date": "modifiedAt",  # dc:date in ODF meta.xml is the last modification
    "generator": "generator",
}
_NOTES = {
    "lastModifiedBy": "Last modified by",
    "lastPrinted": "Last printed",
    "print-date": "Last printed",
    "printed-by": "Last printed by",
}
_DATES = frozenset({"authoredAt", "modifiedAt"})


def document_metadata(root: ElementType, *, odf: bool = False) -> dict[str, list[str]]:
    """FtM properties from OOXML ``core.xml`` or the ``office:meta`` element of ODF.

    In ODF, ``dc:creator`` is the last person to edit (the author is ``meta:initial-creator``).
    """
    found: dict[str, list[str]] = {}
    for element in root.iter():
        name = local(element.tag)
        if odf and name == "creator":
            value = element_text(element)
            if value:
                _add(found, "notes", [f"Last modified by: {value}"])
        elif name in _CORE_PROPERTIES:
            value = element_text(element)
            prop = _CORE_PROPERTIES[name]
            if prop in _DATES:
                value = iso_date(value) or ""
            if prop == "keywords" and name == "keywords" and "," in value:
                values = [part.strip() for part in value.split(",")]
            else:
                values = [value]
            _add(found, prop, values)
        elif name in _NOTES:
            value = element_text(element)
            if name in ("lastPrinted", "print-date"):
                value = iso_date(value) or ""
            if value:
                _add(found, "notes", [f"{_NOTES[name]}: {value}"])
    return found


def app_metadata(root: ElementType) -> dict[str, list[str]]:
    """FtM properties from OOXML ``docProps/app.xml`` (application, company)."""
    values = {local(child.tag): element_text(child) for child in root}
    found: dict[str, list[str]] = {}
    application = values.get("Application", "")
    if application:
        version = values.get("AppVersion", "")
        _add(found, "generator", [f"{application} {version}".strip()])
    _add(found, "publisher", [values.get("Company", "")])
    return found


def _add(found: dict[str, list[str]], prop: str, values: list[str]) -> None:
    for value in values:
        if value and value not in found.get(prop, []):
            found.setdefault(prop, []).append(value)


def apply_metadata(sink: Sink, properties: dict[str, list[str]]) -> None:
    for prop, values in properties.items():
        sink.add_property(prop, values)
