"""OLE2 compound files (legacy Office): opening, telling the kinds apart, summary metadata.

Which program wrote a compound file is decided by its streams, not by its name or by
libmagic (which often says only "application/x-ole-storage"): ``WordDocument`` is Word,
``Workbook``/``Book`` Excel, ``PowerPoint Document`` PowerPoint, ``EncryptionInfo`` with
``EncryptedPackage`` an encrypted OOXML file. Outlook messages (``__substg1.0_*``) and
any other compound file (Thumbs.db, MSI, HWP...) belong to other ingestors.
"""

from __future__ import annotations

import datetime
import enum
import functools
import io
import struct
from pathlib import Path

import olefile  # type: ignore[import-untyped]

from caselens.ingest.errors import BrokenFile
from caselens.ingest.formats.ole_properties import CODEPAGE, PropertyValue, read_property_set
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
OLE_MIME_TYPES = frozenset({"application/x-ole-storage", "application/CDFV2", "application/cdfv2"})
# Streams of the DRM (Information Rights Management) wrapper around the real content.
DRM_STREAMS = ("\x06DataSpaces", "\tDRMContent", "\tDRMViewerContent")
# Property-set dates before this are "never" (FILETIME zero is 1601-01-01).
EARLIEST_DATE = datetime.datetime(1980, 1, 1)


class OleKind(enum.Enum):
    WORD = "word"
    EXCEL = "excel"
    POWERPOINT = "powerpoint"
    ENCRYPTED_OOXML = "encrypted-ooxml"
    OTHER = "other"  # a compound file of another program (MSG, Thumbs.db, MSI, HWP...)
    BROKEN = "broken"  # the OLE signature, but the container cannot be read


def is_ole(head: bytes) -> bool:
    return head.startswith(OLE_SIGNATURE)


def open_ole(data: Path | bytes) -> olefile.OleFileIO:
    """The compound file; BrokenFile when its header, FAT or directory is damaged."""
    try:
        return olefile.OleFileIO(io.BytesIO(data) if isinstance(data, bytes) else str(data))
    except (OSError, ValueError, IndexError, KeyError, RecursionError, MemoryError) as err:
        raise BrokenFile(f"damaged OLE2 compound file: {err}") from err
    except Exception as err:  # olefile raises bare struct/assert errors on hostile input
        raise BrokenFile(f"damaged OLE2 compound file: {type(err).__name__}: {err}") from err


def stream_names(ole: olefile.OleFileIO) -> set[str]:
    """Top-level entry names (streams and storages)."""
    return {entry[0] for entry in ole.listdir(streams=True, storages=True) if entry}


def kind_of(names: set[str]) -> OleKind:
    if any(name.startswith("__substg1.0_") for name in names):
        return OleKind.OTHER  # an Outlook message: the mail ingestors read it
    if "EncryptionInfo" in names and "EncryptedPackage" in names:
        return OleKind.ENCRYPTED_OOXML
    if "WordDocument" in names:
        return OleKind.WORD
    if "Workbook" in names or "Book" in names:
        return OleKind.EXCEL
    if "PowerPoint Document" in names:
        return OleKind.POWERPOINT
    return OleKind.OTHER


@functools.lru_cache(maxsize=64)
def _kind_of_blob(path: Path, size: int) -> OleKind:
    # Blobs are content-addressed and immutable, so the path (and size) identify the content.
    return _kind_of_file(path)


def _kind_of_file(data: Path | bytes) -> OleKind:
    try:
        ole = open_ole(data)
    except BrokenFile:
        return OleKind.BROKEN
    try:
        return kind_of(stream_names(ole))
    finally:
        ole.close()


def ole_kind(source: Source) -> OleKind | None:
    """The kind of compound file the item is, or None when it is not one."""
    if not is_ole(source.head):
        return None
    if source.content is not None:
        return _kind_of_file(source.content)
    return _kind_of_blob(source.path, source.size)


def read_stream(ole: olefile.OleFileIO, name: str | list[str], limit: int) -> bytes:
    """A stream's bytes, at most ``limit``; BrokenFile when its sectors are damaged."""
    try:
        size = ole.get_size(name)
        if size > limit:
            raise BrokenFile(f"stream {name!r} is {size} bytes, more than {limit} allowed")
        with ole.openstream(name) as stream:
            data: bytes = stream.read(limit)
    except BrokenFile:
        raise
    except Exception as err:  # olefile: OSError for truncated chains, others on hostile FATs
        raise BrokenFile(f"stream {name!r} cannot be read: {err}") from err
    return data


def python_codec(codepage: int | None) -> str:
    """The Python codec for a Windows code page number (property sets, Word 6 text)."""
    if codepage is None:
        return "cp1252"
    codepage &= 0xFFFF  # stored signed: -535 is 65001
    special = {65001: "utf-8", 1200: "utf-16-le", 10000: "mac_roman", 20127: "ascii"}
    name = special.get(codepage, f"cp{codepage}")
    try:
        "".encode(name)
    except LookupError:
        return "cp1252"
    return name


def _text(value: object, codec: str) -> str | None:
    if isinstance(value, bytes):
        value = value.decode(codec, errors="replace")
    if isinstance(value, str):
        return value.split("\x00", 1)[0].strip() or None
    return None


def _date(value: object) -> str | None:
    # Property-set dates are FILETIMEs, UTC by definition.
    if isinstance(value, datetime.datetime) and value >= EARLIEST_DATE:
        return value.replace(microsecond=0).isoformat() + "Z"
    return None


# Property ids of the SummaryInformation set.
TITLE, SUBJECT, AUTHOR, KEYWORDS, COMMENTS = 2, 3, 4, 5, 6
LAST_SAVED_BY, LAST_PRINTED, CREATED, LAST_SAVED, APPLICATION = 8, 11, 12, 13, 18
COMPANY = 15  # in the DocumentSummaryInformation set
PROPERTY_SET_LIMIT = 4 * 1024 * 1024


def _property_set(
    ole: olefile.OleFileIO, name: str, sink: Sink
) -> tuple[dict[int, PropertyValue], str]:
    if not ole.exists(name):
        return {}, "cp1252"
    try:
        values = read_property_set(read_stream(ole, name, PROPERTY_SET_LIMIT))
    except (BrokenFile, ValueError, struct.error) as err:
        sink.warn(f"{name.lstrip(chr(5))} cannot be read: {err}")
        return {}, "cp1252"
    codepage = values.get(CODEPAGE)
    return values, python_codec(codepage if isinstance(codepage, int) else None)


def add_summary_metadata(ole: olefile.OleFileIO, sink: Sink) -> None:
    """Summary information as Document properties.

    Mapping: title → title, subject → summary, comments → description, author → author,
    keywords → keywords, company → publisher, creating application → generator, created →
    createdAt, last saved → modifiedAt. FtM has no property for "last saved by" and "last
    printed", so they go to notes as "Last saved by: …" / "Last printed: …" lines.
    """
    summary, codec = _property_set(ole, "\x05SummaryInformation", sink)
    document, doc_codec = _property_set(ole, "\x05DocumentSummaryInformation", sink)
    sink.add_property("title", _text(summary.get(TITLE), codec))
    sink.add_property("summary", _text(summary.get(SUBJECT), codec))
    sink.add_property("description", _text(summary.get(COMMENTS), codec))
    sink.add_property("author", _text(summary.get(AUTHOR), codec))
    sink.add_property("keywords", _text(summary.get(KEYWORDS), codec))
    sink.add_property("publisher", _text(document.get(COMPANY), doc_codec))
    sink.add_property("generator", _text(summary.get(APPLICATION), codec))
    sink.add_property("createdAt", _date(summary.get(CREATED)))
    sink.add_property("modifiedAt", _date(summary.get(LAST_SAVED)))
    notes = []
    last_saved_by = _text(summary.get(LAST_SAVED_BY), codec)
    if last_saved_by:
        notes.append(f"Last saved by: {last_saved_by}")
    last_printed = _date(summary.get(LAST_PRINTED))
    if last_printed:
        notes.append(f"Last printed: {last_printed}")
    if notes:
        sink.add_property("notes", "\n".join(notes))


def has_drm(names: set[str]) -> bool:
    return any(name in names for name in DRM_STREAMS)


def storages(ole: olefile.OleFileIO, parent: list[str]) -> list[list[str]]:
    """Storages directly inside ``parent`` (the root when empty)."""
    found = []
    for entry in ole.listdir(streams=False, storages=True):
        if len(entry) == len(parent) + 1 and entry[: len(parent)] == parent:
            found.append(entry)
    return found


def embedded_objects(ole: olefile.OleFileIO, kind: OleKind) -> list[list[str]]:
    """Storages holding embedded objects: ObjectPool/* in Word, MBD* in Excel."""
    if kind is OleKind.WORD:
        return storages(ole, ["ObjectPool"])
    if kind is OleKind.EXCEL:
        return [entry for entry in storages(ole, []) if entry[0].startswith("MBD")]
    return []


def add_embedded(ole: olefile.OleFileIO, storage: list[str], sink: Sink, limit: int) -> None:
    """Add the file an embedded-object storage holds as a child, or warn why not."""
    label = "/".join(storage)
    names = {entry[len(storage)] for entry in ole.listdir() if entry[: len(storage)] == storage}
    try:
        if "\x01Ole10Native" in names:
            data = read_stream(ole, [*storage, "\x01Ole10Native"], limit)
            name, payload = parse_ole10_native(data)
            sink.add_child(f"{label}/{name}".encode(), payload, embedded="Ole10Native")
        elif "Package" in names:
            data = read_stream(ole, [*storage, "Package"], limit)
            sink.add_child(f"{label}/package{_package_extension(ole, storage)}".encode(), data)
        elif "CONTENTS" in names:
            data = read_stream(ole, [*storage, "CONTENTS"], limit)
            extension = ".pdf" if data.startswith(b"%PDF") else ".bin"
            sink.add_child(f"{label}/contents{extension}".encode(), data)
        elif "Workbook" in names or "Book" in names:
            # A bare BIFF stream: the Excel ingestor reads it without its OLE wrapper.
            stream = "Workbook" if "Workbook" in names else "Book"
            data = read_stream(ole, [*storage, stream], limit)
            sink.add_child(f"{label}/workbook.xls".encode(), data, embedded="Workbook")
        else:
            shown = ", ".join(sorted(repr(n) for n in names if not n.startswith("\x01")))
            sink.warn(f"embedded object {label!r} not extracted (streams: {shown or 'none'})")
    except BrokenFile as err:
        sink.warn(f"embedded object {label!r} cannot be read: {err}")


def _package_extension(ole: olefile.OleFileIO, storage: list[str]) -> str:
    # The CompObj stream names the program: Word.Document.12, Excel.Sheet.12...
    try:
        comp_obj = read_stream(ole, [*storage, "\x01CompObj"], 64 * 1024)
    except BrokenFile:
        return ".zip"
    for marker, extension in ((b"Word.", ".docx"), (b"Excel.", ".xlsx"), (b"PowerPoint.", ".pptx")):
        if marker in comp_obj:
            return extension
    return ".zip"


def parse_ole10_native(data: bytes) -> tuple[str, bytes]:
    """(original file name, content) of a packaged file (an ``\\x01Ole10Native`` stream)."""
    try:
        position = 4 + 2  # total size, then a type word
        label_end = data.index(b"\x00", position)
        path_end = data.index(b"\x00", label_end + 1)
        original_path = data[label_end + 1 : path_end]
        position = path_end + 1 + 4  # two reserved words
        temp_length = int.from_bytes(data[position : position + 4], "little")
        position += 4 + temp_length
        size = int.from_bytes(data[position : position + 4], "little")
        position += 4
    except ValueError as err:
        raise BrokenFile(f"packaged file header is damaged: {err}") from err
    if size > len(data) - position or position > len(data):
        raise BrokenFile("packaged file is shorter than its header says")
    label = data[6:label_end].decode("cp1252", errors="replace")
    path = original_path.decode("cp1252", errors="replace")
    name = path.replace("\\", "/").rsplit("/", 1)[-1] or label or "embedded.bin"
    return name, data[position : position + size]
