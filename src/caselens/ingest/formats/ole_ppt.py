"""Text of PowerPoint 97–2003 presentations, read from the "PowerPoint Document" stream.

The stream is a sequence of records (8-byte header: version/instance, type, length);
containers nest records. The current edit (from the "Current User" stream) leads to the
persist directory, which locates the document and each slide; slides are read in the
order of the document's slide list, so each slide is one page (its own text, the text
kept for it in the slide list, its comments and its notes). When that chain is damaged,
every text record in the stream is read in stream order as one page.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from dataclasses import dataclass

from caselens.ingest.errors import BrokenFile

HEADER_SIZE = 8
CONTAINER_VERSION = 0xF
MAX_DEPTH = 32

RT_DOCUMENT = 0x03E8
RT_SLIDE = 0x03EE
RT_SLIDE_ATOM = 0x03EF
RT_NOTES = 0x03F0
RT_SLIDE_PERSIST_ATOM = 0x03F3
RT_SLIDE_LIST_WITH_TEXT = 0x0FF0
RT_USER_EDIT_ATOM = 0x0FF5
RT_CURRENT_USER_ATOM = 0x0FF6
RT_TEXT_CHARS_ATOM = 0x0FA0
RT_TEXT_BYTES_ATOM = 0x0FA8
RT_CSTRING = 0x0FBA
RT_COMMENT10 = 0x2EE0
RT_EXTERNAL_OLE_STORAGE = 0x1011
RT_PERSIST_DIRECTORY_ATOM = 0x1772
RT_CRYPT_SESSION = 0x2F14
RT_BINARY_TAG_DATA = (
    0x138B  # holds records (comments of PowerPoint 2002+) without being a container
)
TEXT_TYPES = (RT_TEXT_CHARS_ATOM, RT_TEXT_BYTES_ATOM)
# The user edit atom carries an encryption session reference when it is this long.
USER_EDIT_WITH_CRYPT_SESSION = 32


@dataclass(frozen=True)
class Record:
    type: int
    instance: int
    version: int
    start: int  # offset of the record's data in the stream
    length: int

    @property
    def is_container(self) -> bool:
        return self.version == CONTAINER_VERSION


def records(stream: bytes, start: int, end: int) -> Iterator[Record]:
    """The records between ``start`` and ``end``; stops at the first one cut short."""
    position = start
    end = min(end, len(stream))
    while position + HEADER_SIZE <= end:
        ver_instance, record_type, length = struct.unpack_from("<HHI", stream, position)
        data_start = position + HEADER_SIZE
        if data_start + length > end:
            return
        yield Record(record_type, ver_instance >> 4, ver_instance & 0xF, data_start, length)
        position = data_start + length


def record_at(stream: bytes, offset: int) -> Record | None:
    return next(records(stream, offset, len(stream)), None)


def walk(stream: bytes, container: Record, depth: int = 0) -> Iterator[Record]:
    """Every record inside ``container``, depth first, in stream order."""
    if depth > MAX_DEPTH:
        return
    for record in records(stream, container.start, container.start + container.length):
        yield record
        if record.is_container or record.type == RT_BINARY_TAG_DATA:
            yield from walk(stream, record, depth + 1)


def record_text(stream: bytes, record: Record) -> str:
    data = stream[record.start : record.start + record.length]
    if record.type == RT_TEXT_BYTES_ATOM:
        text = data.decode("latin-1")
    else:
        text = data.decode("utf-16-le", errors="replace")
    # PowerPoint ends paragraphs with CR and lines with VT.
    return text.replace("\r", "\n").replace("\x0b", "\n").strip()


def texts_in(stream: bytes, container: Record) -> list[str]:
    """Text of the text atoms and of comments (CString instance 1) inside a container."""
    found: list[str] = []
    for record in walk(stream, container):
        if record.type in TEXT_TYPES:
            found.append(record_text(stream, record))
        elif record.type == RT_COMMENT10:
            found.extend(
                record_text(stream, inner)
                for inner in records(stream, record.start, record.start + record.length)
                if inner.type == RT_CSTRING and inner.instance == 1
            )
    return [text for text in found if text]


@dataclass
class Presentation:
    stream: bytes
    persist: dict[int, int]  # persist id -> offset of the object in the stream
    document: Record


def current_edit_offset(current_user: bytes) -> int:
    record = record_at(current_user, 0)
    if record is None or record.type != RT_CURRENT_USER_ATOM or record.length < 12:
        raise BrokenFile("the Current User stream has no current user record")
    (offset,) = struct.unpack_from("<I", current_user, record.start + 8)
    return int(offset)


def is_encrypted(stream: bytes, current_user: bytes) -> bool:
    """True when the current edit refers to an encryption session (CryptSession10)."""
    edit = record_at(stream, current_edit_offset(current_user))
    return (
        edit is not None
        and edit.type == RT_USER_EDIT_ATOM
        and (edit.length >= USER_EDIT_WITH_CRYPT_SESSION)
    )


def load(stream: bytes, current_user: bytes) -> Presentation:
    """Follow the chain of edits to the persist directory and the document container."""
    offset = current_edit_offset(current_user)
    persist: dict[int, int] = {}
    seen: set[int] = set()
    document_ref: int | None = None
    while offset and offset not in seen:
        seen.add(offset)
        edit = record_at(stream, offset)
        if edit is None or edit.type != RT_USER_EDIT_ATOM or edit.length < 28:
            raise BrokenFile(f"no user edit record at offset {offset}")
        last_edit, directory_offset, doc_ref = struct.unpack_from("<III", stream, edit.start + 8)
        if document_ref is None:
            document_ref = doc_ref
        _read_directory(stream, directory_offset, persist)
        offset = last_edit
    if document_ref is None or document_ref not in persist:
        raise BrokenFile("the persist directory does not locate the document")
    document = record_at(stream, persist[document_ref])
    if document is None or document.type != RT_DOCUMENT:
        raise BrokenFile("the document record is missing")
    return Presentation(stream, persist, document)


def _read_directory(stream: bytes, offset: int, persist: dict[int, int]) -> None:
    directory = record_at(stream, offset)
    if directory is None or directory.type != RT_PERSIST_DIRECTORY_ATOM:
        raise BrokenFile(f"no persist directory at offset {offset}")
    position = directory.start
    end = directory.start + directory.length
    while position + 4 <= end:
        (entry,) = struct.unpack_from("<I", stream, position)
        first_id, count = entry & 0xFFFFF, entry >> 20
        position += 4
        for index in range(count):
            if position + 4 > end:
                break
            # Newer edits come first in the chain: the first offset seen for an id wins.
            persist.setdefault(first_id + index, struct.unpack_from("<I", stream, position)[0])
            position += 4


def slide_pages(presentation: Presentation) -> list[str]:
    """One text per slide, in presentation order."""
    stream = presentation.stream
    slide_lists = [
        record
        for record in records(
            stream,
            presentation.document.start,
            presentation.document.start + presentation.document.length,
        )
        if record.type == RT_SLIDE_LIST_WITH_TEXT
    ]
    slides = [r for r in slide_lists if r.instance == 0]
    notes_texts = _list_texts(stream, [r for r in slide_lists if r.instance == 2])
    pages = []
    for persist_ref, listed_texts in _list_texts(stream, slides).items():
        texts = list(listed_texts)
        slide = _object(presentation, persist_ref, RT_SLIDE)
        notes_ref = None
        if slide is not None:
            texts.extend(texts_in(stream, slide))
            notes_ref = _notes_ref(stream, slide)
        if notes_ref is not None:
            texts.extend(notes_texts.get(notes_ref, []))
            notes = _object(presentation, notes_ref, RT_NOTES)
            if notes is not None:
                texts.extend(texts_in(stream, notes))
        pages.append("\n".join(_unique(texts)))
    return pages


def _list_texts(stream: bytes, lists: list[Record]) -> dict[int, list[str]]:
    """Texts kept in slide lists, by the persist id of the slide (or notes) they belong to."""
    by_slide: dict[int, list[str]] = {}
    current: list[str] | None = None
    for slide_list in lists:
        for record in records(stream, slide_list.start, slide_list.start + slide_list.length):
            if record.type == RT_SLIDE_PERSIST_ATOM and record.length >= 4:
                (persist_ref,) = struct.unpack_from("<I", stream, record.start)
                current = by_slide.setdefault(persist_ref, [])
            elif record.type in TEXT_TYPES and current is not None:
                text = record_text(stream, record)
                if text:
                    current.append(text)
    return by_slide


def _object(presentation: Presentation, persist_ref: int, record_type: int) -> Record | None:
    offset = presentation.persist.get(persist_ref)
    if offset is None:
        return None
    record = record_at(presentation.stream, offset)
    return record if record is not None and record.type == record_type else None


def _notes_ref(stream: bytes, slide: Record) -> int | None:
    for record in records(stream, slide.start, slide.start + slide.length):
        if record.type == RT_SLIDE_ATOM and record.length >= 20:
            (notes_ref,) = struct.unpack_from("<I", stream, record.start + 16)
            return int(notes_ref) or None
    return None


def _unique(texts: list[str]) -> list[str]:
    # Newer PowerPoint versions keep placeholder text both in the slide list and the slide.
    return list(dict.fromkeys(texts))


def all_texts(stream: bytes) -> str:
    """Every text record in stream order: the fallback when the edit chain is damaged."""
    whole = Record(0, 0, CONTAINER_VERSION, 0, len(stream))
    return "\n".join(_unique(texts_in(stream, whole)))


def has_crypt_session(stream: bytes) -> bool:
    return any(record.type == RT_CRYPT_SESSION for record in records(stream, 0, len(stream)))


def embedded_storages(stream: bytes, max_bytes: int) -> Iterator[tuple[int, bytes | str]]:
    """Embedded OLE objects: (offset, bytes) or (offset, reason it could not be read)."""
    for record in records(stream, 0, len(stream)):
        if record.type != RT_EXTERNAL_OLE_STORAGE:
            continue
        data = stream[record.start : record.start + record.length]
        if record.instance == 0:
            yield record.start, data
            continue
        if len(data) < 4:
            yield record.start, "compressed object is truncated"
            continue
        (size,) = struct.unpack_from("<I", data, 0)
        if size > max_bytes:
            yield record.start, f"object would expand to {size} bytes, over the limit"
            continue
        try:
            inflater = zlib.decompressobj()
            payload = inflater.decompress(data[4:], size)
        except zlib.error as err:
            yield record.start, f"compressed object is damaged: {err}"
            continue
        yield record.start, payload
