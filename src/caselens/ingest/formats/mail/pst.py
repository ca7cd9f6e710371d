"""Outlook PST/OST stores, via libpff (pypff): every item a child .eml, attachments beside it.

Each message is rebuilt as RFC 822 from its transport headers and bodies (marked
``reconstructed=True``) at ``Folder/Sub/message-00001.eml``; its attachments are streamed
out of the store as ``Folder/Sub/message-00001/<name>``, so a large attachment never has
to be held in memory.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pypff  # type: ignore[import-not-found]

from caselens.ingest.errors import BrokenFile
from caselens.ingest.formats.mail.headers import Warn
from caselens.ingest.formats.mail.mapi import (
    ATTACH_DATA,
    ATTACH_METHOD,
    ATTACH_MIME_TYPE,
    MapiAttachment,
    MapiMessage,
    PropertySet,
    set_codepage,
)
from caselens.ingest.formats.mail.reconstruct import rebuild_rfc822
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

PST_MAGIC = b"!BDN"
MAX_FOLDER_DEPTH = 64
METHOD_EMBEDDED = 5


class _AttachmentStream:
    """An attachment's content read from the store in pieces."""

    def __init__(self, attachment: Any, warn: Warn) -> None:
        self._attachment = attachment
        self._left = int(attachment.size or 0)
        self._warn = warn

    def read(self, size: int = -1, /) -> bytes:
        if self._left <= 0:
            return b""
        wanted = self._left if size < 0 else min(size, self._left)
        try:
            data = bytes(self._attachment.read_buffer(wanted) or b"")
        except (OSError, ValueError) as err:
            self._warn(f"attachment content cut short: {err}")
            data = b""
        self._left = self._left - len(data) if data else 0
        return data


class PstIngestor(Ingestor):
    name = "pst"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset(
        {"application/vnd.ms-outlook", "application/vnd.ms-outlook-pst"}
    )
    extensions: ClassVar[frozenset[str]] = frozenset({".pst", ".ost"})
    signatures: ClassVar[tuple[bytes, ...]] = (PST_MAGIC,)
    base_score = 20

    @classmethod
    def score(cls, source: Source) -> int:
        # libmagic calls .msg files vnd.ms-outlook too: the signature decides.
        return super().score(source) if source.head.startswith(PST_MAGIC) else 0

    def ingest(self, source: Source, sink: Sink) -> None:
        store = pypff.file()
        try:
            store.open(str(source.path))
            root = store.get_root_folder()
        except (OSError, ValueError) as err:
            raise BrokenFile(f"PST/OST store unreadable: {err}") from err
        try:
            sink.set_document("Package")
            _Walk(sink).folder(root, [], 0)
        finally:
            store.close()


class _Walk:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.seen: set[int] = set()

    def folder(self, folder: Any, names: list[str], depth: int) -> None:
        identifier = _safe(lambda: folder.identifier, None)
        if depth > MAX_FOLDER_DEPTH or identifier in self.seen:
            self.sink.warn("folder tree too deep or looping: the rest was not read")
            return
        if identifier is not None:
            self.seen.add(identifier)
        count = _safe(lambda: folder.number_of_sub_messages, 0)
        for index in range(count):
            try:
                item = folder.get_sub_message(index)
            except (OSError, ValueError) as err:
                self.sink.warn(
                    f"item {index + 1} of folder {'/'.join(names) or '/'} unreadable: {err}"
                )
                continue
            self.message(item, "/".join([*names, f"message-{index + 1:05d}"]))
        for index in range(_safe(lambda: folder.number_of_sub_folders, 0)):
            try:
                sub = folder.get_sub_folder(index)
            except (OSError, ValueError) as err:
                self.sink.warn(f"folder {index + 1} of {'/'.join(names) or '/'} unreadable: {err}")
                continue
            name = _safe(lambda sub=sub: sub.name, None) or f"folder-{index + 1}"
            self.folder(sub, [*names, name.replace("/", "_")], depth + 1)

    def message(self, item: Any, path: str) -> None:
        warn = self.sink.warn
        message = MapiMessage(_properties(item, warn))
        set_codepage(message.properties)
        recipients = _safe(lambda: item.recipients, None)
        if recipients is not None:
            for record_set in _safe(lambda: list(recipients.record_sets), []):
                message.recipients.append(_record_properties(record_set, warn, ()))
        for recipient in message.recipients:
            recipient.codepage = message.properties.codepage
        data = rebuild_rfc822(message, warn, with_attachments=False)
        self.sink.add_child(
            f"{path}.eml".encode("utf-8", "surrogatepass"),
            data,
            content_type="message/rfc822",
            reconstructed=True,
        )
        for index in range(_safe(lambda: item.number_of_attachments, 0)):
            self.attachment(item, index, path)

    def attachment(self, item: Any, index: int, path: str) -> None:
        warn = self.sink.warn
        try:
            attachment = item.get_attachment(index)
        except (OSError, ValueError) as err:
            warn(f"attachment {index + 1} of {path} unreadable: {err}")
            return
        properties = _properties(attachment, warn, skip=(ATTACH_DATA,))
        mapi = MapiAttachment(properties)
        name = mapi.filename(warn) or f"attachment-{index + 1}.bin"
        if properties.integer(ATTACH_METHOD) == METHOD_EMBEDDED:
            warn(f"message embedded in {path} ({name}) not extracted: libpff does not expose it")
            return
        metadata: dict[str, object] = {}
        content_type = properties.string(ATTACH_MIME_TYPE, warn)
        if content_type:
            metadata["content_type"] = content_type
        self.sink.add_child(
            f"{path}/{name}".encode("utf-8", "surrogatepass"),
            _AttachmentStream(attachment, warn),
            **metadata,
        )


def _properties(item: Any, warn: Warn, skip: tuple[int, ...] = ()) -> PropertySet:
    properties = PropertySet()
    for record_set in _safe(lambda: list(item.record_sets), []):
        properties.values.update(_record_properties(record_set, warn, skip).values)
    return properties


def _record_properties(record_set: Any, warn: Warn, skip: tuple[int, ...]) -> PropertySet:
    properties = PropertySet()
    for entry in _safe(lambda: list(record_set.entries), []):
        try:
            pid, kind = int(entry.entry_type), int(entry.value_type)
            if pid in skip or kind & 0x1000:  # content read as a stream; multi-valued lists
                continue
            properties.values[pid] = (kind, bytes(entry.data or b""))
        except (OSError, ValueError, TypeError) as err:
            warn(f"a property could not be read: {err}")
    return properties


def _safe(read: Any, default: Any) -> Any:
    """A libpff attribute, or ``default`` when the store is damaged there."""
    try:
        value = read()
    except (OSError, ValueError, TypeError):
        return default
    return default if value is None else value
