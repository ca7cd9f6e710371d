"""The work done for one item inside a worker process.

Store the bytes (hashing them on the way), detect the type, run the best ingestor and
return what it found. Nothing here touches the database.
"""

from __future__ import annotations

import errno
import os
import signal
import stat
import time
from pathlib import Path
from types import FrameType
from typing import Any

from followthemoney import model

from caselens.custody.chain import LogEntry
from caselens.errors import StorageError
from caselens.extract.analyze import Analyzer
from caselens.ingest.detect import detect_mime
from caselens.ingest.errors import (
    BrokenFile,
    EncryptedFile,
    LimitReached,
    NotMyFormat,
    UnsupportedVersion,
)
from caselens.ingest.formats import INGESTORS
from caselens.ingest.limits import Limits
from caselens.ingest.registry import Ingestor, candidates
from caselens.ingest.rows import acquired_details
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.ingest.tasks import ItemResult, Task
from caselens.search.document import build_document
from caselens.store.blobs import BlobStore, Readable, StoredBlob
from caselens.store.hashing import Digests

HEAD_SIZE = 65536


class ItemTimeout(Exception):
    """Raised inside the worker when an item exceeds its time limit."""


class ItemProcessor:
    """Per-process state: the blob store and the settings an item needs."""

    def __init__(
        self,
        blobs: BlobStore,
        case_id: str,
        limits: Limits,
        ingestors: list[type[Ingestor]] | None = None,
        passwords: tuple[str, ...] = (),
        work_root: Path | None = None,
        analyzer: Analyzer | None = None,
        index_text: bool = True,
        region: str | None = None,
        timezones: dict[str, str] | None = None,
        cdr_mappings: tuple[Path, ...] = (),
        ocr_languages: tuple[str, ...] = ("eng",),
        transcribe: bool = True,
    ) -> None:
        self.blobs = blobs
        self.case_id = case_id
        self.limits = limits
        self.item_timeout = limits.item_timeout
        self.ingestors = ingestors if ingestors is not None else list(INGESTORS)
        self.passwords = passwords
        self.work_root = work_root
        self.analyzer = analyzer  # None: no identifiers, names or language
        self.index_text = index_text
        self.region = region
        self.timezones = timezones or {}  # exhibit id -> IANA zone of its clock
        self.cdr_mappings = cdr_mappings
        self.ocr_languages = ocr_languages
        self.transcribe = transcribe

    def process(self, task: Task) -> ItemResult:
        started = time.perf_counter()
        result = ItemResult(item_id=task.item_id, state="failed")
        _arm_alarm(self.item_timeout)
        try:
            self._process(task, result)
        except ItemTimeout:
            result.state = "failed"
            result.error = f"time limit of {self.item_timeout:g} s exceeded"
        except MemoryError:
            result.state = "failed"
            result.error = "memory limit exceeded while parsing"
        except StorageError as err:
            result.fatal = err.message
        finally:
            _disarm_alarm()
        if result.fatal is None:
            result.custody = custody_entries(self.case_id, task, result)
        result.seconds = time.perf_counter() - started
        return result

    def _process(self, task: Task, result: ItemResult) -> None:
        if task.source_path is not None:
            try:
                stored = self._store_file(task.source_path)
            except OSError as err:
                result.error = f"cannot read the file: {err.strerror or err}"
                return
            except UnreadableFile as err:
                result.error = str(err)
                return
        else:
            assert task.digests is not None
            stored = self._stored_blob(task)
        result.digests = stored.digests
        source = Source(
            item_id=task.item_id,
            name=task.name,
            path=self.blobs.path_for(stored.digests.sha256),
            digests=stored.digests,
            mime_type=detect_mime(stored.head, os.path.splitext(task.name)[1].lower()),
            head=stored.head,
            content=stored.content,
            limits=self.limits,
            passwords=self.passwords,
            depth=task.depth,
            work_root=self.work_root,
            region=self.region,
            timezone=self.timezones.get(task.base.get("exhibit_id") or ""),
            siblings=_siblings(task.source_path, stored.head),
            cdr_mappings=self.cdr_mappings,
            ocr_languages=self.ocr_languages,
            transcribe=self.transcribe,
        )
        result.mime_type = source.mime_type
        self._run_ingestors(task, source, result)

    def _store_file(self, path: bytes) -> StoredBlob:
        fd = _open_evidence(path)
        with os.fdopen(fd, "rb", buffering=0) as handle:
            info = os.fstat(handle.fileno())
            if not stat.S_ISREG(info.st_mode):  # swapped for a special file after the walk
                raise UnreadableFile("not a regular file when opened; skipped")
            return self.blobs.put_stream(handle, head_size=HEAD_SIZE)

    def _stored_blob(self, task: Task) -> StoredBlob:
        assert task.digests is not None
        path = self.blobs.path_for(task.digests.sha256)
        with path.open("rb") as handle:
            head = handle.read(HEAD_SIZE)
        content = head if task.digests.size <= HEAD_SIZE else None
        return StoredBlob(task.digests, head, content, created=False)

    def _store_child(self, stream: Readable) -> Digests:
        return self.blobs.put_stream(stream, head_size=0, keep_limit=0).digests

    def _run_ingestors(self, task: Task, source: Source, result: ItemResult) -> None:
        for ingestor_class in candidates(self.ingestors, source):
            sink = Sink(self.case_id, task.item_id, self.limits, self._store_child, source.size)
            result.format = ingestor_class.name
            result.format_version = ingestor_class.version
            try:
                ingestor_class().ingest(source, sink)
            except NotMyFormat:
                continue
            except EncryptedFile as err:
                result.state = "encrypted"
                result.error = str(err) or "encrypted"
                self._collect(sink, source, task, result)
                return
            except UnsupportedVersion as err:
                result.state = "unsupported"
                result.error = str(err)
                self._collect(sink, source, task, result)
                return
            except (BrokenFile, LimitReached) as err:
                result.state = "failed"
                result.error = str(err) or type(err).__name__
                self._collect(sink, source, task, result)
                return
            except (ItemTimeout, MemoryError, StorageError):
                raise
            except Exception as err:  # a parser bug must not end the run
                result.state = "failed"
                result.error = f"{ingestor_class.name} parser error: {type(err).__name__}: {err}"
                return
            result.state = "unsupported" if ingestor_class.records_only else "ingested"
            if self.analyzer is not None:
                _analyze(sink, result, self.analyzer)
            self._collect(sink, source, task, result)
            return
        result.state = "unsupported"
        result.error = f"no ingestor for {source.mime_type}"

    def _collect(self, sink: Sink, source: Source, task: Task, result: ItemResult) -> None:
        result.warnings.extend(sink.warnings)
        result.decrypted = sink.decrypted
        result.page_count = sink.page_count
        result.pages = sink.pages
        result.entities = [_document_entity(sink, source, task)]
        if sink.document_context:
            result.entities[0]["context"] = sink.document_context
        for index, entity in enumerate(sink.entities):
            data = entity.to_dict()
            if index in sink.contexts:
                data["context"] = sink.contexts[index]
            result.entities.append(data)
        result.children.extend(sink.children)
        if self.index_text:
            # Tokenized here, in parallel; the case and generation are set when the row is.
            found = {(mention[1], mention[2]) for mention in result.mentions}
            result.search = build_document(
                self.case_id, task.item_id, -1, result.entities[0], result.pages, found
            )


class UnreadableFile(Exception):
    pass


def custody_entries(case_id: str, task: Task, result: ItemResult) -> list[LogEntry]:
    """The item's custody records, serialised here so the chain writer only links them."""
    entries = []
    digests = result.digests
    if task.acquired:
        details = acquired_details(task.base)
        if digests is not None:
            details.update(
                sha256=digests.sha256, sha1=digests.sha1, md5=digests.md5, size=digests.size
            )
        entries.append(_entry("acquired", case_id, task, details))
    ingested: dict[str, Any] = {
        "state": result.state,
        "format": result.format,
        "format_version": result.format_version,
        "mime_type": result.mime_type,
        "reason": result.error,
        "pages": result.page_count,
        "pages_with_text": len(result.pages),
        "entities": len(result.entities),
        "children": len(result.children),
        "decrypted": result.decrypted or None,
    }
    if task.reprocess_of is not None:
        # The earlier output stays in the store, marked superseded by this generation.
        ingested.update(generation=task.reprocess_of + 1, supersedes=task.reprocess_of)
        entries.append(_entry("reprocessed", case_id, task, ingested))
    else:
        entries.append(_entry("ingested", case_id, task, ingested))
    return entries


def _entry(action: str, case_id: str, task: Task, details: dict[str, Any]) -> LogEntry:
    kept = {key: value for key, value in details.items() if value is not None}
    return LogEntry(action, case_id, task.item_id, task.actor, kept).prepare()


def _analyze(sink: Sink, result: ItemResult, analyzer: Analyzer) -> None:
    try:
        analysis = analyzer.analyze(sink.pages)
    except (ItemTimeout, MemoryError):
        raise
    except Exception as err:  # an extractor's bug: the item stays read, without analysis
        sink.warn(f"analysis failed: {type(err).__name__}: {err}")
        return
    for page, found in analysis.mentions:
        result.mentions.append(
            (
                page,
                found.kind,
                found.value,
                found.raw,
                found.start,
                found.end,
                found.extractor,
                found.version,
            )
        )
    for name, values in analysis.properties.items():
        sink.add_property(name, values)
    for warning in analysis.warnings:
        sink.warn(warning)


def _document_entity(sink: Sink, source: Source, task: Task) -> dict[str, Any]:
    """The item's own FollowTheMoney entity (a Document or one of its descendants)."""
    entity = model.make_entity(sink.document_schema)
    entity.id = sink.document_id
    # What ingestors found is checked and cleaned by FollowTheMoney ...
    for name, values in sink.document_properties.items():
        entity.add(name, values, quiet=True, cleaned=False)
    data: dict[str, Any] = entity.to_dict()
    # ... what caselens measured itself is clean already, and cleaning it costs more
    # than hashing a small file (every Document schema has these properties).
    data["properties"].update(
        fileName=[task.name],
        fileSize=[str(source.size)],
        mimeType=[source.mime_type],
        contentHash=[source.digests.sha1],  # FtM's convention: SHA-1
    )
    return data


SQLITE_HEADER = b"SQLite format 3\x00"
SQLITE_SIBLINGS = ("-wal", "-journal")


def _siblings(path: bytes | None, head: bytes) -> tuple[tuple[str, bytes], ...]:
    """A SQLite database's write-ahead log or rollback journal seized next to it.

    Their uncommitted pages are part of what the device held; a reader copies them
    beside its copy of the database. Only files on the source medium have siblings.
    """
    if path is None or not head.startswith(SQLITE_HEADER):
        return ()
    found = []
    for suffix in SQLITE_SIBLINGS:
        candidate = path + suffix.encode()
        if os.path.isfile(candidate) and not os.path.islink(candidate):
            found.append((suffix, candidate))
    return tuple(found)


def _open_evidence(path: bytes) -> int:
    # O_NOFOLLOW: never follow a link swapped in after the walk; O_NONBLOCK: a fifo cannot
    # hang us; O_NOATIME: reading evidence should not change its access time.
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    noatime = getattr(os, "O_NOATIME", 0)
    try:
        fd = os.open(path, flags | noatime)
    except OSError as err:
        if err.errno != errno.EPERM or not noatime:
            raise
        fd = os.open(path, flags)  # O_NOATIME needs ownership (or root)
    os.set_blocking(fd, True)
    return fd


def _on_alarm(_signum: int, _frame: FrameType | None) -> None:
    raise ItemTimeout


def _arm_alarm(seconds: float) -> None:
    if signal.getsignal(signal.SIGALRM) is not _on_alarm:
        signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)


def _disarm_alarm() -> None:
    signal.setitimer(signal.ITIMER_REAL, 0)
