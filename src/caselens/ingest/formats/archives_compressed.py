"""Single compressed files (gzip, bzip2, xz/lzma): one child, or a tar when they hold one.

Concatenated streams (multi-member gzip) read as one; data after the last stream is
ignored with a warning; a truncated or corrupt stream keeps what was decompressed.
"""

from __future__ import annotations

import bz2
import lzma
import zlib
from collections.abc import Callable
from typing import Any, BinaryIO, ClassVar

from caselens.ingest.errors import BrokenFile
from caselens.ingest.formats.archives_base import MemberLog, iso_utc
from caselens.ingest.formats.archives_tar import TAR_BLOCK, looks_like_tar, read_tar
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

CHUNK = 64 * 1024
GZIP_MAGIC = b"\x1f\x8b"
BZIP2_MAGIC = b"BZh"
XZ_MAGIC = b"\xfd7zXZ\x00"
LZMA_ALONE_MAGIC = b"\x5d\x00\x00"
SUFFIXES = {
    ".gz": "",
    ".gzip": "",
    ".z": "",
    ".bz2": "",
    ".bz": "",
    ".xz": "",
    ".lzma": "",
    ".tgz": ".tar",
    ".taz": ".tar",
    ".tbz": ".tar",
    ".tbz2": ".tar",
    ".txz": ".tar",
    ".svgz": ".svg",
}
DECOMPRESS_ERRORS: tuple[type[BaseException], ...] = (zlib.error, OSError, lzma.LZMAError, EOFError)

Decompressor = Any  # zlib, bz2 and lzma decompressor objects share the methods used here


class CompressedIngestor(Ingestor):
    name = "compressed"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset(
        {
            "application/gzip",
            "application/x-gzip",
            "application/x-bzip2",
            "application/x-xz",
            "application/x-lzma",
        }
    )
    extensions: ClassVar[frozenset[str]] = frozenset(SUFFIXES) - {".z", ".svgz", ".taz"}
    signatures: ClassVar[tuple[bytes, ...]] = (
        GZIP_MAGIC,
        XZ_MAGIC,
        *(BZIP2_MAGIC + str(level).encode() for level in range(1, 10)),
    )
    base_score = 10

    def ingest(self, source: Source, sink: Sink) -> None:
        kind = _kind(source.head)
        if kind is None:
            raise BrokenFile("not gzip, bzip2 or xz data: the signature is missing")
        sink.set_document("Package")
        with source.open() as handle:
            stream = Decompressed(handle, kind, source.size)
            first = stream.read_up_to(TAR_BLOCK)
            replay = _Prefixed(first, stream)
            if looks_like_tar(first):
                log = MemberLog(sink, f"{kind}-compressed tar")
                damage = read_tar(replay, log)
                _finish_stream(stream, sink)
                log.finish(damage or stream.defect)
                return
            metadata: dict[str, Any] = {"compressed_size": source.size, "compression": kind}
            name = gzip_header_name(source.head) if kind == "gzip" else None
            mtime = gzip_header_mtime(source.head) if kind == "gzip" else 0
            if mtime:
                metadata["modified"] = iso_utc(mtime)
            sink.add_child(name or _stripped_name(source.name), replay, **metadata)
            _finish_stream(stream, sink)
            if stream.defect:
                raise BrokenFile(
                    f"{kind} data is damaged: {stream.defect}; "
                    f"the {stream.produced} bytes decompressed before it were kept"
                )


def _finish_stream(stream: Decompressed, sink: Sink) -> None:
    if stream.trailing:
        sink.warn(f"{stream.trailing} bytes of data after the compressed stream were ignored")


class Decompressed:
    """Concatenated gzip, bzip2 or xz streams read as one.

    Never raises on bad data: a defect ends the stream early and is kept in ``defect``;
    bytes after the last stream that start no new one are counted in ``trailing``.
    """

    def __init__(self, raw: BinaryIO, kind: str, raw_size: int) -> None:
        self._raw = raw
        self._kind = kind
        self._raw_size = raw_size
        self._raw_read = 0
        self._decompressor = _new_decompressor(kind)
        self._pending = b""
        self._done = False
        self.defect: str | None = None
        self.trailing = 0
        self.produced = 0

    def read(self, size: int = -1, /) -> bytes:
        want = size if size > 0 else CHUNK
        while not self._done:
            try:
                data = self._step(want)
            except DECOMPRESS_ERRORS as err:
                self._stop(f"the compressed data is corrupt ({err})")
                return b""
            if data:
                self.produced += len(data)
                return data
        return b""

    def read_up_to(self, size: int) -> bytes:
        """Up to ``size`` bytes (fewer only at the end of the data)."""
        parts = []
        left = size
        while left > 0 and (data := self.read(left)):
            parts.append(data)
            left -= len(data)
        return b"".join(parts)

    def _step(self, want: int) -> bytes:
        decompressor = self._decompressor
        if self._kind == "gzip":
            data: bytes = decompressor.decompress(self._pending, want)
            self._pending = decompressor.unconsumed_tail
            hungry = not self._pending and not data
        else:
            feed = self._pending if decompressor.needs_input else b""
            if decompressor.needs_input:
                self._pending = b""
            data = decompressor.decompress(feed, want)
            hungry = decompressor.needs_input and not data
        if decompressor.eof:
            self._next_stream(decompressor.unused_data + self._pending)
        elif hungry:
            chunk = self._raw_chunk()
            if not chunk:
                self._stop("the compressed data ends early (truncated)")
            self._pending += chunk
        return data

    def _raw_chunk(self) -> bytes:
        chunk = self._raw.read(CHUNK)
        self._raw_read += len(chunk)
        return chunk

    def _next_stream(self, rest: bytes) -> None:
        magic = _MAGIC[self._kind]
        while len(rest) < len(magic) and (chunk := self._raw_chunk()):
            rest += chunk
        if rest.startswith(magic):
            self._decompressor = _new_decompressor(self._kind)
            self._pending = rest
            return
        self._done = True
        self._pending = b""
        after = len(rest) + self._raw_size - self._raw_read
        # Zero padding (tape blocks) is normal; anything else is worth a note.
        if after and not self._only_zeros(rest):
            self.trailing = after

    def _only_zeros(self, rest: bytes) -> bool:
        if rest.strip(b"\0"):
            return False
        while chunk := self._raw_chunk():
            if chunk.strip(b"\0"):
                return False
        return True

    def _stop(self, defect: str) -> None:
        self._done = True
        self.defect = defect


class _Prefixed:
    """Bytes already read, then the rest of the stream."""

    def __init__(self, prefix: bytes, rest: Decompressed) -> None:
        self._prefix = prefix
        self._rest = rest

    def read(self, size: int = -1, /) -> bytes:
        if self._prefix:
            if size < 0 or size >= len(self._prefix):
                data, self._prefix = self._prefix, b""
            else:
                data, self._prefix = self._prefix[:size], self._prefix[size:]
            return data
        return self._rest.read(size)


_FACTORIES: dict[str, Callable[[], Decompressor]] = {
    "gzip": lambda: zlib.decompressobj(16 + zlib.MAX_WBITS),
    "bzip2": bz2.BZ2Decompressor,
    "xz": lzma.LZMADecompressor,
    "lzma": lzma.LZMADecompressor,
}
_MAGIC = {"gzip": GZIP_MAGIC, "bzip2": BZIP2_MAGIC, "xz": XZ_MAGIC, "lzma": LZMA_ALONE_MAGIC}


def _new_decompressor(kind: str) -> Decompressor:
    return _FACTORIES[kind]()


def _kind(head: bytes) -> str | None:
    if head.startswith(GZIP_MAGIC):
        return "gzip"
    if head.startswith(BZIP2_MAGIC):
        return "bzip2"
    if head.startswith(XZ_MAGIC):
        return "xz"
    if head.startswith(LZMA_ALONE_MAGIC):
        return "lzma"
    return None


def gzip_header_name(head: bytes) -> bytes | None:
    """The original file name (FNAME) in a gzip header, as stored."""
    if len(head) < 10 or not head[3] & 0x08:
        return None
    position = 10
    if head[3] & 0x04:  # FEXTRA comes first
        if len(head) < 12:
            return None
        position += 2 + int.from_bytes(head[10:12], "little")
    end = head.find(b"\0", position)
    if end <= position:
        return None
    return head[position:end]


def gzip_header_mtime(head: bytes) -> int:
    return int.from_bytes(head[4:8], "little") if len(head) >= 8 else 0


def _stripped_name(name: str) -> bytes:
    """The compressed file's name without its compression suffix."""
    lowered = name.lower()
    for suffix, replacement in SUFFIXES.items():
        if lowered.endswith(suffix) and len(name) > len(suffix):
            name = name[: -len(suffix)] + replacement
            break
    return name.encode("utf-8", "surrogateescape")
