"""Outlook .msg files: an OLE compound file of MAPI property streams (MS-OXMSG), via olefile.

Attachments become children as they are; a message embedded in the .msg (an attachment
stored as a sub-storage) becomes a child .eml rebuilt from its properties (olefile cannot
write OLE files, so the embedded .msg itself cannot be cut out), marked reconstructed.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import ClassVar

import olefile  # type: ignore[import-untyped]

from caselens.ingest.errors import BrokenFile, NotMyFormat
from caselens.ingest.formats.mail.headers import Warn
from caselens.ingest.formats.mail.mapi import (
    ATTACH_CONTENT_ID,
    ATTACH_DATA,
    ATTACH_LONG_PATHNAME,
    ATTACH_METHOD,
    ATTACH_MIME_TYPE,
    ATTACH_PATHNAME,
    FIXED_TYPES,
    MESSAGE_CLASS,
    PT_OBJECT,
    SUBJECT,
    MapiAttachment,
    MapiMessage,
    PropertySet,
    body_text,
    mail_fields,
    set_codepage,
)
from caselens.ingest.formats.mail.message import record_email
from caselens.ingest.formats.mail.parts import unix_newlines
from caselens.ingest.formats.mail.reconstruct import rebuild_rfc822
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
MSG_MARKER = "__substg1.0_".encode("utf-16-le")
PROPERTIES = "__properties_version1.0"
MAX_STREAM_BYTES = 256 * 1024 * 1024
MAX_DEPTH = 8
METHOD_EMBEDDED, METHOD_OLE = 5, 6
# The properties stream starts with a header: 32 bytes for the message itself,
# 24 for an embedded message, 8 for a recipient or an attachment (MS-OXMSG 2.4.1).
TOP_HEADER, EMBEDDED_HEADER, ROW_HEADER = 32, 24, 8
# olefile signals damage with many exception types.
OLE_ERRORS = (OSError, ValueError, EOFError, IndexError, KeyError, struct.error, TypeError)

Path = tuple[str, ...]


class _Reader:
    """Property sets out of an open OLE file, storage by storage."""

    def __init__(self, ole: olefile.OleFileIO, warn: Warn) -> None:
        self.ole = ole
        self.warn = warn
        self.children: dict[Path, list[Path]] = {}
        for entry in ole.listdir(streams=True, storages=True):
            path = tuple(entry)
            self.children.setdefault(path[:-1], []).append(path)

    def message(self, storage: Path, header: int, codepage: str | None, depth: int) -> MapiMessage:
        properties = self.properties(storage, header, codepage)
        set_codepage(properties)
        message = MapiMessage(properties)
        for path in sorted(self.children.get(storage, [])):
            name = path[-1]
            if name.startswith("__recip_version1.0_"):
                message.recipients.append(self.properties(path, ROW_HEADER, properties.codepage))
            elif name.startswith("__attach_version1.0_"):
                message.attachments.append(self.attachment(path, properties.codepage, depth))
        return message

    def attachment(self, storage: Path, codepage: str | None, depth: int) -> MapiAttachment:
        properties = self.properties(storage, ROW_HEADER, codepage, skip=(ATTACH_DATA,))
        attachment = MapiAttachment(properties)
        for path in self.children.get(storage, []):
            name = path[-1].upper()
            if not name.startswith("__SUBSTG1.0_3701"):
                continue
            if name.endswith("000D") and self.ole.get_type(list(path)) == olefile.STGTY_STORAGE:
                if properties.integer(ATTACH_METHOD) == METHOD_EMBEDDED and depth < MAX_DEPTH:
                    attachment.embedded = self.message(path, EMBEDDED_HEADER, codepage, depth + 1)
                elif depth >= MAX_DEPTH:
                    self.warn(f"messages embedded more than {MAX_DEPTH} deep were not read")
            elif self.ole.get_type(list(path)) == olefile.STGTY_STREAM:
                attachment.size = self.ole.get_size(list(path))
                attachment.open_data = self._opener(path)
        return attachment

    def _opener(self, path: Path) -> Callable[[], bytes]:
        def read() -> bytes:
            return self.read(path)

        return read

    def properties(
        self, storage: Path, header: int, codepage: str | None, skip: tuple[int, ...] = ()
    ) -> PropertySet:
        properties = PropertySet(codepage=codepage)
        stream = (*storage, PROPERTIES)
        fixed = self.read(stream) if stream in self.children.get(storage, []) else b""
        for offset in range(header, len(fixed) - 15, 16):
            tag, _flags = struct.unpack_from("<II", fixed, offset)
            kind, pid = tag & 0xFFFF, tag >> 16
            if kind in FIXED_TYPES:
                properties.values[pid] = (kind, fixed[offset + 8 : offset + 16])
        for path in self.children.get(storage, []):
            name = path[-1]
            if not name.startswith("__substg1.0_") or len(name) != 20:
                continue
            try:
                pid, kind = int(name[12:16], 16), int(name[16:20], 16)
            except ValueError:
                continue
            if pid in skip or kind == PT_OBJECT or kind & 0x1000:  # data, objects, lists
                continue
            if self.ole.get_type(list(path)) == olefile.STGTY_STREAM:
                properties.values[pid] = (kind, self.read(path))
        return properties

    def read(self, path: Path) -> bytes:
        try:
            size = self.ole.get_size(list(path))
            if size > MAX_STREAM_BYTES:
                self.warn(f"stream {'/'.join(path)} of {size} bytes was not read")
                return b""
            with self.ole.openstream(list(path)) as stream:
                return bytes(stream.read())
        except OLE_ERRORS as err:
            self.warn(f"stream {'/'.join(path)} unreadable: {err}")
            return b""


class MsgIngestor(Ingestor):
    name = "msg"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset({"application/vnd.ms-outlook"})
    extensions: ClassVar[frozenset[str]] = frozenset({".msg"})
    signatures: ClassVar[tuple[bytes, ...]] = ()
    base_score = 20

    @classmethod
    def score(cls, source: Source) -> int:
        if not source.head.startswith(OLE_MAGIC):
            return 0  # libmagic also calls PST files vnd.ms-outlook
        if source.mime_type in cls.mime_types:
            return cls.base_score + 2
        if source.extension in cls.extensions or MSG_MARKER in source.head:
            return cls.base_score + 1  # generic OLE storage holding MAPI property streams
        return 0

    def ingest(self, source: Source, sink: Sink) -> None:
        try:
            ole = olefile.OleFileIO(str(source.path))
        except OLE_ERRORS as err:
            raise BrokenFile(f"OLE compound file unreadable: {err}") from err
        with ole:
            try:
                reader = _Reader(ole, sink.warn)
            except OLE_ERRORS as err:
                raise BrokenFile(f"OLE directory unreadable: {err}") from err
            if not any(path[-1].startswith("__substg1.0_") for path in reader.children.get((), [])):
                raise NotMyFormat("OLE file without MAPI property streams: not an Outlook message")
            message = reader.message((), TOP_HEADER, None, 0)
            record_email(sink, mail_fields(message, sink.warn))
            text = body_text(message, sink.warn)
            if not text:
                kind = message.properties.string(MESSAGE_CLASS, sink.warn) or "IPM.Note"
                text = message.properties.string(SUBJECT, sink.warn) or ""
                if kind != "IPM.Note":
                    sink.warn(f"Outlook item of class {kind} has no body; its subject is the text")
            sink.add_text(unix_newlines(text))
            add_attachments(message, sink)


def add_attachments(message: MapiMessage, sink: Sink) -> None:
    """Every attachment as a child; embedded messages rebuilt as RFC 822."""
    for number, attachment in enumerate(message.attachments, start=1):
        props = attachment.properties
        name = attachment.filename(sink.warn)
        method = props.integer(ATTACH_METHOD)
        metadata: dict[str, object] = {}
        content_type = props.string(ATTACH_MIME_TYPE, sink.warn)
        if content_type:
            metadata["content_type"] = content_type
        content_id = props.string(ATTACH_CONTENT_ID, sink.warn)
        if content_id:
            metadata.update(content_id=content_id, disposition="inline")
        if attachment.embedded is not None:
            data = rebuild_rfc822(attachment.embedded, sink.warn, with_attachments=True)
            path = f"{name or f'attachment-{number}'}.eml"
            sink.add_child(
                path.encode("utf-8", "surrogatepass"),
                data,
                content_type="message/rfc822",
                reconstructed=True,
            )
        elif attachment.open_data is not None:
            path = name or f"attachment-{number}.bin"
            sink.add_child(
                path.encode("utf-8", "surrogatepass"), attachment.open_data(), **metadata
            )
        elif method == METHOD_OLE:
            sink.warn(f"attachment {name or number} is an OLE object: not extracted")
        else:
            where = props.string(ATTACH_LONG_PATHNAME, sink.warn) or props.string(
                ATTACH_PATHNAME, sink.warn
            )
            sink.warn(
                f"attachment {name or number} has no content"
                + (f" (links to {where})" if where else "")
            )
