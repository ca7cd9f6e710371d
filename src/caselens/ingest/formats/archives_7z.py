"""7z archives through py7zr: members handed to the sink one by one, passwords tried in order.

py7zr pushes each member's bytes into a writer; ours spools them (in memory, or in the
item's scratch folder past a few MiB, under a neutral name: the member's own name never
touches the file system) and gives the member to the sink once py7zr has checked its
CRC. py7zr's own extraction to paths is not used, so a hostile name cannot escape and
one bad name does not stop the others.
"""

from __future__ import annotations

import contextlib
import lzma
import struct
import tempfile
import zlib
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

import py7zr
from py7zr.exceptions import ArchiveError, PasswordRequired
from py7zr.io import MemIO, Py7zIO, WriterFactory

from caselens.ingest.errors import BrokenFile, EncryptedFile, LimitReached
from caselens.ingest.formats.archives_base import MemberLog, display, iso_utc
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

SPOOL_IN_MEMORY = 4 * 1024 * 1024
MAX_LINK_TARGET = 4096
# py7zr meets hostile headers with a range of plain Python errors besides its own.
SEVENZIP_ERRORS: tuple[type[BaseException], ...] = (
    ArchiveError,
    PasswordRequired,
    lzma.LZMAError,
    zlib.error,
    EOFError,
    OSError,
    ValueError,
    KeyError,
    IndexError,
    TypeError,
    AttributeError,
    struct.error,
)


class SevenZipIngestor(Ingestor):
    name = "7z"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset({"application/x-7z-compressed"})
    extensions: ClassVar[frozenset[str]] = frozenset({".7z"})
    signatures: ClassVar[tuple[bytes, ...]] = (b"7z\xbc\xaf\x27\x1c",)
    base_score = 10

    def ingest(self, source: Source, sink: Sink) -> None:
        sink.set_document("Package")
        log = MemberLog(sink, "7z")
        with source.open() as handle, source.scratch() as scratch:
            archive, password = _open(handle, source)
            candidates: list[str | None] = [password]
            if archive.password_protected and password is None:
                candidates = list(source.passwords)
                if not candidates:
                    _lock_all(archive, log)
                    archive.close()
                    log.finish()
            last_error: BaseException | None = None
            added: set[int] = set()  # members already given to the sink, across attempts
            for candidate in candidates:
                if candidate != password:
                    archive.close()
                    handle.seek(0)
                    archive = _opened(handle, candidate)
                extraction = _Extraction(archive, source, sink, log, scratch, added)
                try:
                    extraction.run()
                except SEVENZIP_ERRORS as err:
                    last_error = err
                    if extraction.decoded:  # the password fitted; the data is damaged
                        archive.close()
                        log.finish(f"decompression failed ({_reason(err)})")
                    continue
                if candidate is not None:
                    sink.decrypted = True
                archive.close()
                log.finish()
                return
            if archive.password_protected:
                _lock_all(archive, log)
                archive.close()
                log.finish()
            archive.close()
            raise BrokenFile(f"7z archive is damaged: {_reason(last_error)}")


def _open(handle: BinaryIO, source: Source) -> tuple[Any, str | None]:
    """Open the archive, trying the passwords when its headers are encrypted."""
    try:
        return _opened(handle, None), None
    except PasswordRequired:
        pass
    for password in source.passwords:
        handle.seek(0)
        try:
            archive = _opened(handle, password)
        except SEVENZIP_ERRORS:
            continue
        return archive, password
    raise EncryptedFile("7z archive with encrypted headers: no supplied password opens it")


def _opened(handle: BinaryIO, password: str | None) -> Any:
    try:
        return py7zr.SevenZipFile(handle, mode="r", password=password)
    except PasswordRequired:
        raise
    except SEVENZIP_ERRORS as err:
        if password is not None:
            raise  # a wrong password garbles encrypted headers: the caller tries the next
        raise BrokenFile(f"not a readable 7z archive: {_reason(err)}") from err


def _lock_all(archive: Any, log: MemberLog) -> None:
    for member in archive.files:
        if not (member.is_directory or member.is_symlink or member.is_socket):
            log.note_locked(_name(member))


def _reason(err: BaseException | None) -> str:
    if err is None:
        return "no member could be read"
    return str(err) or type(err).__name__


def _name(member: Any) -> bytes:
    # 7z stores names in UTF-16; unpaired surrogates are kept rather than lost.
    return str(member.filename).encode("utf-8", "surrogatepass")


class _Extraction(WriterFactory):
    """Runs py7zr's decompression with a writer per member that feeds the sink."""

    def __init__(
        self,
        archive: Any,
        source: Source,
        sink: Sink,
        log: MemberLog,
        scratch: Path,
        added: set[int],
    ) -> None:
        self.archive = archive
        self.added = added
        self.decoded = 0  # members with content that passed py7zr's CRC check
        self.source = source
        self.sink = sink
        self.log = log
        self.scratch = scratch
        self.members: dict[str, Any] = {}

    def run(self) -> None:
        worker = self.archive.worker
        for member in self.archive.files:
            if member.is_directory or member.is_socket or member.id in self.added:
                worker.register_filelike(member.id, None)
                continue
            key = str(member.id)
            self.members[key] = member
            # MemIO is py7zr's in-memory target: it never becomes a path on disk.
            worker.register_filelike(member.id, MemIO(key, self))
        worker.max_extract_size = None
        worker.extract(self.archive.fp, None, parallel=False)

    def create(self, filename: str) -> Py7zIO:
        return _MemberWriter(self, self.members[filename])

    def finished(self, member: Any, content: Any) -> None:
        path = _name(member)
        self.added.add(member.id)
        if not member.emptystream:
            self.decoded += 1
        if member.is_symlink:
            target = content.read(MAX_LINK_TARGET)
            self.log.warn(
                "link", f"symbolic link {display(path)} -> {display(target)} not followed"
            )
            return
        metadata: dict[str, Any] = {"size": member.uncompressed}
        if member.compressed is not None:
            metadata["compressed_size"] = member.compressed
        if member.crc32 is not None:
            metadata["crc32"] = f"{member.crc32:08x}"
        if member.lastwritetime is not None:
            # A time outside what the platform represents is left out.
            with contextlib.suppress(OverflowError, OSError, ValueError):
                metadata["modified"] = iso_utc(member.lastwritetime.totimestamp())
        if self.archive.password_protected:
            metadata["encrypted"] = True
        self.log.add(path, content, **metadata)

    def check_budget(self, written: int) -> None:
        """Stop before a bomb fills the scratch disk: the sink only counts what it reads."""
        problem = self.source.limits.expansion_problem(
            self.sink.expanded_bytes + written, self.sink.source_size
        )
        if problem:
            raise LimitReached(problem)


class _MemberWriter(Py7zIO):
    def __init__(self, extraction: _Extraction, member: Any) -> None:
        self._extraction = extraction
        self._member = member
        # Closed in close(): py7zr drives this writer's lifetime, not a with block.
        self._spool: tempfile.SpooledTemporaryFile[bytes] = tempfile.SpooledTemporaryFile(  # noqa: SIM115
            max_size=SPOOL_IN_MEMORY, mode="w+b", dir=str(extraction.scratch)
        )
        self._written = 0

    def write(self, s: bytes | bytearray) -> int:
        self._written += len(s)
        self._extraction.check_budget(self._written)
        return self._spool.write(s)

    def read(self, size: int | None = None) -> bytes:
        return self._spool.read(-1 if size is None else size)

    def seek(self, offset: int, whence: int = 0) -> int:
        return self._spool.seek(offset, whence)

    def flush(self) -> None:
        self._spool.flush()

    def size(self) -> int:
        return self._written

    def close(self) -> None:
        # py7zr calls close only after the member's CRC matched.
        try:
            self._spool.seek(0)
            self._extraction.finished(self._member, self._spool)
        finally:
            self._spool.close()
