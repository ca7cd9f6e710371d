"""Rich Text Format: text (one page: RTF keeps no layout), ``\\info`` metadata, embedded files.

Metadata: title → title, author → author, subject → description, keywords → keywords,
doccomm → summary, company → publisher, creatim → authoredAt, revtim → modifiedAt,
``\\*\\generator`` → generator; operator (last editor) and printim go to ``notes``.
Embedded objects (``\\object\\objdata``, an OLE1 ObjectHeader) become children: the native
data, or for the "Package" class the packaged file under its own name. Pictures
(``\\pict``) become children ``image-N.png`` / ``.jpg`` / ``.emf`` / ``.wmf`` ...
"""

from __future__ import annotations

import re
import struct
from typing import ClassVar

from caselens.ingest.errors import NotMyFormat
from caselens.ingest.formats.rtf_parser import Binary, RtfContent, RtfParser
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

MAGIC = b"{\\rtf"
# RTF is read whole (its embedded objects are hex text, half of it becomes children's bytes).
MAX_RTF_BYTES = 256 * 1024 * 1024
_METADATA = {
    "title": "title",
    "author": "author",
    "subject": "description",
    "keywords": "keywords",
    "doccomm": "summary",
    "company": "publisher",
    "generator": "generator",
}
_NOTES = {"operator": "Last modified by", "comment": "Comments", "manager": "Manager"}
_DATES = {"creatim": "authoredAt", "revtim": "modifiedAt"}
_UNSAFE_NAME = re.compile(rb"[\x00-\x1f]")


class RtfIngestor(Ingestor):
    name = "rtf"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset({"text/rtf", "application/rtf"})
    extensions: ClassVar[frozenset[str]] = frozenset({".rtf"})
    signatures: ClassVar[tuple[bytes, ...]] = (MAGIC,)
    base_score = 20  # above the text ingestor, which would read RTF as plain text

    def ingest(self, source: Source, sink: Sink) -> None:
        if not source.head.lstrip(b"\xef\xbb\xbf \r\n\t").startswith(MAGIC):
            raise NotMyFormat("does not start with {\\rtf")
        data = source.read_bytes(MAX_RTF_BYTES + 1)
        if len(data) > MAX_RTF_BYTES:
            data = data[:MAX_RTF_BYTES]
            sink.warn(f"only the first {MAX_RTF_BYTES} bytes of the RTF were read")
        content = RtfParser(sink.max_text_chars).parse(data)
        sink.set_document("Pages")
        _metadata(content, sink)
        sink.add_text(content.text.strip("\n"), page=1)
        objects = pictures = 0
        for binary in content.binaries:
            if binary.kind == "object":
                objects += 1
                _add_object(binary, objects, sink)
            else:
                pictures += 1
                data = binary.data()
                if data:
                    sink.add_child(f"image-{pictures}.{binary.format}".encode(), data)


def _metadata(content: RtfContent, sink: Sink) -> None:
    for key, values in content.metadata.items():
        if key in _METADATA:
            sink.add_property(_METADATA[key], values)
        elif key in _NOTES:
            sink.add_property("notes", [f"{_NOTES[key]}: {value}" for value in values])
    for key, parts in content.dates.items():
        date = _date(parts)
        if date is None:
            continue
        if key in _DATES:
            sink.add_property(_DATES[key], date)
        elif key == "printim":
            sink.add_property("notes", f"Last printed: {date}")


def _date(parts: dict[str, int]) -> str | None:
    year = parts.get("yr", 0)
    if not 1000 <= year <= 9999:
        return None
    month, day = parts.get("mo", 1), parts.get("dy", 1)
    if not (1 <= month <= 12 and 1 <= day <= 31):
        return f"{year:04d}"
    hour, minute, second = parts.get("hr", 0), parts.get("min", 0), parts.get("sec", 0)
    if 0 <= hour < 24 and 0 <= minute < 60 and 0 <= second < 60:
        return f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


def _add_object(binary: Binary, number: int, sink: Sink) -> None:
    data = binary.data()
    if not data:
        return
    name, payload = unwrap_ole1(data)
    if payload is None:
        sink.warn(f"embedded object {number} is a link, not a stored file")
        return
    class_name = _UNSAFE_NAME.sub(b"_", binary.class_name.encode("utf-8", "replace"))
    path = name or f"object-{number}".encode() + (b"." + class_name if class_name else b"")
    sink.add_child(path, payload, object_class=binary.class_name or None)


def unwrap_ole1(data: bytes) -> tuple[bytes | None, bytes | None]:
    """(file name, content) of an OLE1 ObjectHeader (MS-OLEDS 2.2.4) and its native data.

    Content None: a linked object (no data). Data that is no OLE1 object comes back whole.
    """
    try:
        _version, format_id = struct.unpack_from("<II", data, 0)
        offset = 8
        names = []
        for _ in range(3):  # class name, topic name, item name
            (length,) = struct.unpack_from("<I", data, offset)
            names.append(data[offset + 4 : offset + 4 + length].rstrip(b"\x00"))
            offset += 4 + length
        if format_id == 1:
            return None, None
        (size,) = struct.unpack_from("<I", data, offset)
        offset += 4
    except struct.error:
        return None, data
    if format_id != 2 or offset + size > len(data):
        return None, data
    native = data[offset : offset + size]
    if names[0] == b"Package":
        packaged = _unwrap_package(native)
        if packaged is not None:
            return packaged
    return None, native


def _unwrap_package(native: bytes) -> tuple[bytes, bytes] | None:
    """The file inside an OLE Packager native stream: (its name, its content)."""
    try:
        offset = 2  # stream signature
        label_end = native.index(b"\x00", offset)
        label = native[offset:label_end]
        path_end = native.index(b"\x00", label_end + 1)
        offset = path_end + 1 + 4  # two reserved bytes and the 2-byte "type" field
        (temp_length,) = struct.unpack_from("<I", native, offset)
        offset += 4 + temp_length
        (size,) = struct.unpack_from("<I", native, offset)
        offset += 4
    except (ValueError, struct.error):
        return None
    if offset + size > len(native):
        return None
    name = _UNSAFE_NAME.sub(b"_", label.replace(b"\\", b"/").rpartition(b"/")[2])
    return name or b"package", native[offset : offset + size]
