"""Recovering the members of a zip whose central directory is lost (a truncated download).

The local headers are walked from the start of the file; stored members with a known
size and deflated members (whose end the deflate stream itself marks) can be read this
way. The walk stops at the first member it cannot delimit.
"""

from __future__ import annotations

import contextlib
import struct
import zlib
from typing import BinaryIO

from caselens.ingest.formats.archives_base import GuardedStream, MemberLog

LOCAL_HEADER = struct.Struct("<4sHHHHHIIIHH")
LOCAL_SIGNATURE = b"PK\x03\x04"
DESCRIPTOR_SIGNATURE = b"PK\x07\x08"
CHUNK = 64 * 1024
ZIP64_EXTRA = 0x0001
SALVAGE_ERRORS: tuple[type[BaseException], ...] = (zlib.error, EOFError, OSError)


class _Window:
    """``length`` bytes of the archive from ``start``; EOFError when the file ends early."""

    def __init__(self, handle: BinaryIO, start: int, length: int) -> None:
        self._handle = handle
        self._pos = start
        self._left = length
        self.end_offset = start + length

    def read(self, size: int = -1, /) -> bytes:
        if self._left == 0:
            return b""
        want = self._left if size < 0 else min(size, self._left)
        self._handle.seek(self._pos)
        data = self._handle.read(min(want, CHUNK))
        if not data:
            raise EOFError("the archive ends inside this member")
        self._pos += len(data)
        self._left -= len(data)
        return data


class _Inflate:
    """A raw deflate stream starting at ``start``; its end is known once it is read."""

    def __init__(self, handle: BinaryIO, start: int) -> None:
        self._handle = handle
        self._pos = start
        self._inflater = zlib.decompressobj(-zlib.MAX_WBITS)
        self._pending = b""
        self.end_offset = start

    def read(self, size: int = -1, /) -> bytes:
        want = size if size > 0 else CHUNK
        while not self._inflater.eof:
            if not self._pending:
                self._handle.seek(self._pos)
                chunk = self._handle.read(CHUNK)
                if not chunk:
                    raise EOFError("the archive ends inside this member")
                self._pos += len(chunk)
                self._pending = chunk
            data = self._inflater.decompress(self._pending, want)
            self._pending = self._inflater.unconsumed_tail
            if self._inflater.eof:
                self.end_offset = self._pos - len(self._inflater.unused_data)
            if data:
                return data
        return b""


def salvage(handle: BinaryIO, log: MemberLog, wanted: set[bytes] | None = None) -> int:
    """Add the members found by walking the local headers; the number added.

    With ``wanted``, only members of those names are added (the others are passed over)
    and a member read here is struck off the log's unreadable list.
    """
    offset = 0
    added = 0
    while True:
        handle.seek(offset)
        header = handle.read(LOCAL_HEADER.size)
        if len(header) < LOCAL_HEADER.size or not header.startswith(LOCAL_SIGNATURE):
            return added
        _, _, flags, method, _, _, crc, compressed, size, name_length, extra_length = (
            LOCAL_HEADER.unpack(header)
        )
        name = handle.read(name_length)
        extra = handle.read(extra_length)
        if len(name) < name_length or len(extra) < extra_length:
            if wanted is None:
                log.note_broken(name, "the archive ends inside this member's header")
            return added
        compressed, size = _zip64_sizes(extra, compressed, size)
        start = offset + LOCAL_HEADER.size + name_length + extra_length
        has_descriptor = bool(flags & 0x08)
        stream: _Window | _Inflate
        if method == 0 and (compressed or not has_descriptor):
            # Some writers fill in the sizes even when they add a data descriptor.
            stream = _Window(handle, start, compressed)
        elif method == 8 and not flags & 0x01:
            stream = _Inflate(handle, start)
        else:
            if wanted is None:
                log.note_broken(name, "cannot be delimited without the central directory")
            return added
        is_folder = name.endswith(b"/") and method == 0 and compressed == 0
        if flags & 0x01:
            if wanted is None:
                log.note_locked(name)
            _drain(stream)
        elif is_folder or (wanted is not None and name not in wanted):
            _drain(stream)
        else:
            guarded = GuardedStream(stream, SALVAGE_ERRORS, None if has_descriptor else crc)
            metadata = {"size": size, "compressed_size": compressed, "recovered": True}
            if wanted is None:
                if not log.add(name, guarded, **metadata):
                    return added
            else:
                if log.try_add(name, guarded, **metadata) is not None:
                    return added
                log.forget_broken(name)
                wanted.discard(name)
            added += 1
        offset = stream.end_offset
        if has_descriptor:
            handle.seek(offset)
            offset += 16 if handle.read(4) == DESCRIPTOR_SIGNATURE else 12


def _drain(stream: _Window | _Inflate) -> None:
    """Read past a member that is not kept, to find where the next one starts."""
    if isinstance(stream, _Inflate):
        with contextlib.suppress(*SALVAGE_ERRORS):
            while stream.read(CHUNK):
                pass


def _zip64_sizes(extra: bytes, compressed: int, size: int) -> tuple[int, int]:
    """Sizes from the zip64 extra field where the header holds 0xFFFFFFFF."""
    position = 0
    while position + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, position)
        body = extra[position + 4 : position + 4 + length]
        if kind == ZIP64_EXTRA:
            values = [int.from_bytes(body[i : i + 8], "little") for i in range(0, len(body) - 7, 8)]
            if size == 0xFFFFFFFF and values:
                size = values.pop(0)
            if compressed == 0xFFFFFFFF and values:
                compressed = values.pop(0)
        position += 4 + length
    return compressed, size
