"""Zip archives: zip64, data descriptors, ZipCrypto and WinZip AES, legacy methods via unar.

Members are streamed one by one into the sink under their raw name bytes. Encrypted
members are opened with pyzipper, trying the supplied passwords in order; members in
methods Python cannot read (implode, shrink, ...) are streamed out of ``unar``.
"""

from __future__ import annotations

import contextlib
import lzma
import os
import stat
import struct
import zipfile
import zlib
from datetime import UTC, datetime
from typing import Any, BinaryIO, ClassVar

import pyzipper  # type: ignore[import-untyped]

from caselens.ingest.errors import BrokenFile, LimitReached
from caselens.ingest.formats import archives_tool
from caselens.ingest.formats.archives_base import GuardedStream, MemberLog, display, iso_utc
from caselens.ingest.formats.archives_zip_salvage import salvage
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

END_SIGNATURE = b"PK\x05\x06"
ZIP64_LOCATOR = b"PK\x06\x07"
ZIP64_END = b"PK\x06\x06"
UTF8_NAME_FLAG = 0x800
ENCRYPTED_FLAG = 0x1
AES_METHOD = 99
MAX_LINK_TARGET = 4096
METHOD_NAMES = {
    0: "stored",
    1: "shrink",
    6: "implode",
    8: "deflate",
    9: "deflate64",
    12: "bzip2",
    14: "lzma",
    93: "zstd",
    95: "xz",
    98: "ppmd",
    99: "aes",
}
ZIP_ERRORS: tuple[type[BaseException], ...] = (
    zipfile.BadZipFile,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    OSError,
    ValueError,
    struct.error,
)
ZIP_OPEN_ERRORS: tuple[type[BaseException], ...] = (*ZIP_ERRORS, NotImplementedError)
ZIP_READ_ERRORS: tuple[type[BaseException], ...] = (*ZIP_ERRORS, RuntimeError)
# Entries listed beyond this many times the member limit are refused before zipfile
# builds its in-memory list of them (the limit itself is enforced by the sink).
LISTING_FACTOR = 2


class ZipIngestor(Ingestor):
    name = "zip"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset(
        {"application/zip", "application/x-zip-compressed", "application/java-archive"}
    )
    extensions: ClassVar[frozenset[str]] = frozenset({".zip", ".jar"})
    signatures: ClassVar[tuple[bytes, ...]] = (b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")
    base_score = 10

    def ingest(self, source: Source, sink: Sink) -> None:
        sink.set_document("Package")
        log = MemberLog(sink, "zip")
        with source.open() as handle:
            end = _end_record(handle, source.size)
            if end is None:
                if not source.head.startswith(b"PK\x03\x04"):
                    raise BrokenFile("not a readable zip archive: no end-of-archive record")
                salvage(handle, log)
                log.finish("the central directory is missing (truncated?)")
                return
            disk, directory_disk, entries = end
            if disk or directory_disk:
                raise BrokenFile(
                    f"this is volume {max(disk, directory_disk) + 1} of a split (spanned) zip "
                    "archive: the other volumes (.z01, .z02, ...) are needed to read it"
                )
            if entries > LISTING_FACTOR * source.limits.max_members:
                raise LimitReached(
                    f"the zip lists {entries} members, more than "
                    f"{source.limits.max_members} (limit max_archive_members)"
                )
            try:
                archive = zipfile.ZipFile(handle)
            except ZIP_OPEN_ERRORS as err:
                if source.head.startswith(b"PK\x03\x04"):
                    salvage(handle, log)
                log.finish(f"the central directory is unreadable ({err})")
                return
            with archive, _ZipReader(source, sink, archive, log) as reader:
                if archive.comment:
                    sink.add_property("summary", _decode_comment(archive.comment))
                reader.read_all()
            if log.broken and source.head.startswith(b"PK\x03\x04"):
                # Wrong offsets in the central directory: the local headers may still lead
                # to the members.
                recovered = salvage(handle, log, {name for name, _ in log.broken})
                if recovered:
                    sink.warn(
                        f"{recovered} members were read from their local headers: "
                        "the central directory gives wrong offsets"
                    )
        log.finish()


class _ZipReader:
    def __init__(
        self, source: Source, sink: Sink, archive: zipfile.ZipFile, log: MemberLog
    ) -> None:
        self.source = source
        self.sink = sink
        self.archive = archive
        self.log = log
        self._stack = contextlib.ExitStack()
        self._encrypted: Any = None  # pyzipper's view of the same archive, opened when needed
        self._good_password: str | None = None
        self._tool_index: dict[tuple[int, int, int], list[int]] | None = None
        self._good_tool: str | None = None

    def __enter__(self) -> _ZipReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self._stack.close()

    def read_all(self) -> None:
        for index, info in enumerate(self.archive.infolist()):
            if info.is_dir():
                continue
            path = raw_name(info)
            metadata = member_metadata(info)
            mode = info.external_attr >> 16
            if info.create_system == 3 and stat.S_ISLNK(mode):
                self._link(info, path)
            elif info.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG):
                self.log.warn(
                    "special file", f"special file {display(path)} (mode {mode:o}) skipped"
                )
            elif info.flag_bits & ENCRYPTED_FLAG:
                self._encrypted_member(index, path, metadata)
            else:
                self._plain_member(info, path, metadata)

    def _plain_member(self, info: zipfile.ZipInfo, path: bytes, metadata: dict[str, Any]) -> None:
        try:
            stream = self.archive.open(info)
        except NotImplementedError:
            self._tool_member(info, path, metadata)
            return
        except ZIP_READ_ERRORS as err:
            self.log.note_broken(path, str(err))
            return
        with stream:
            self.log.add(path, GuardedStream(stream, ZIP_ERRORS, None), **metadata)

    def _link(self, info: zipfile.ZipInfo, path: bytes) -> None:
        target = b"?"
        if not info.flag_bits & ENCRYPTED_FLAG:
            with (
                contextlib.suppress(*ZIP_ERRORS, NotImplementedError, RuntimeError),
                self.archive.open(info) as stream,
            ):
                target = stream.read(MAX_LINK_TARGET)
        self.log.warn("link", f"symbolic link {display(path)} -> {display(target)} not followed")

    def _encrypted_member(self, index: int, path: bytes, metadata: dict[str, Any]) -> None:
        if not self.source.passwords:
            self.log.note_locked(path)
            return
        info = self._pyzipper().infolist()[index]
        metadata["compression"] = METHOD_NAMES.get(info.compress_type, str(info.compress_type))
        defect = None
        for password in self._password_order():
            for secret in _password_bytes(password):
                try:
                    stream = self._pyzipper().open(info, pwd=secret)
                except RuntimeError:  # pyzipper's "Bad password for file"
                    continue
                except ZIP_OPEN_ERRORS as err:
                    self.log.note_broken(path, str(err))
                    return
                with stream:
                    # A wrong password passes the header check now and then: the CRC or
                    # the AES authentication code at the end tells, and the next one is tried.
                    defect = self.log.try_add(
                        path, GuardedStream(stream, ZIP_ERRORS, None), **metadata
                    )
                if defect is None:
                    self._good_password = password
                    self.sink.decrypted = True
                    return
        if defect is None:
            self.log.note_locked(path)
        else:
            self.log.note_broken(path, defect)

    def _password_order(self) -> list[str]:
        passwords = list(self.source.passwords)
        if self._good_password in passwords:
            passwords.remove(self._good_password)
            passwords.insert(0, self._good_password)
        return passwords

    def _pyzipper(self) -> Any:
        if self._encrypted is None:
            handle = self._stack.enter_context(self.source.open())
            self._encrypted = self._stack.enter_context(pyzipper.AESZipFile(handle))
        return self._encrypted

    def _tool_member(self, info: zipfile.ZipInfo, path: bytes, metadata: dict[str, Any]) -> None:
        """A member in a method zipfile lacks: unar by index, else Info-ZIP unzip by name."""
        method = METHOD_NAMES.get(info.compress_type, str(info.compress_type))
        commands = []
        if archives_tool.has_unar():
            candidates = self._unar_index().get((info.CRC, info.compress_size, info.file_size))
            if candidates:
                index = str(candidates.pop(0))
                unar = archives_tool.tool("unar") or "unar"
                commands.append([unar, "-q", "-nr", "-o", "-", "-i", str(self.source.path), index])
        unzip = archives_tool.tool("unzip")
        if unzip:
            commands.append([unzip, "-qq", "-p", str(self.source.path), _unzip_pattern(path)])
        if not commands:
            reason = f"compression method {method} needs unar or unzip (apt-get install unar)"
            self.log.note_broken(path, reason)
            return
        # The tool that last worked goes first: unar fails on some implode variants.
        commands.sort(key=lambda command: command[0] != self._good_tool)
        defect = None
        for command in commands:
            stream = archives_tool.ToolMemberStream(command, self.source.limits.item_timeout)
            try:
                # The CRC check proves the tool gave this very member, whole.
                guarded = GuardedStream(stream, (OSError,), info.CRC)
                defect = self.log.try_add(path, guarded, **metadata)
            finally:
                stream.close()
            if defect is None:
                self._good_tool = command[0]
                return
        self.log.note_broken(path, f"{method}: {defect}")

    def _unar_index(self) -> dict[tuple[int, int, int], list[int]]:
        """unar's member numbers by (CRC, compressed size, size), read once per archive."""
        if self._tool_index is None:
            listing, _ = archives_tool.lsar_listing(
                self.source.path, None, self.source.limits.item_timeout
            )
            self._tool_index = {}
            for entry in listing.get("lsarContents", []):
                key = (
                    int(entry.get("ZipCRC32", -1)),
                    int(entry.get("XADCompressedSize", -1)),
                    int(entry.get("XADFileSize", -1)),
                )
                self._tool_index.setdefault(key, []).append(int(entry.get("XADIndex", -1)))
        return self._tool_index


def raw_name(info: zipfile.ZipInfo) -> bytes:
    """The member name as stored: zipfile decodes cp437 (a 1:1 map of bytes) unless UTF-8."""
    if info.flag_bits & UTF8_NAME_FLAG:
        return info.orig_filename.encode("utf-8", "surrogateescape")
    return info.orig_filename.encode("cp437")


def member_metadata(info: zipfile.ZipInfo) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "size": info.file_size,
        "compressed_size": info.compress_size,
        "crc32": f"{info.CRC:08x}",
        "compression": METHOD_NAMES.get(info.compress_type, str(info.compress_type)),
    }
    modified = _utc_modified(info.extra)
    if modified:
        metadata["modified"] = modified
    else:
        # DOS times carry no time zone: kept as written, not presented as UTC.
        with contextlib.suppress(ValueError):
            metadata["modified_local"] = datetime(*info.date_time).isoformat()
    if info.flag_bits & ENCRYPTED_FLAG:
        metadata["encrypted"] = "aes" if info.compress_type == AES_METHOD else "zipcrypto"
    if info.comment:
        metadata["comment"] = _decode_comment(info.comment)
    return metadata


def _utc_modified(extra: bytes) -> str | None:
    """The UTC time from the extended-timestamp (UT) or NTFS extra field, if any."""
    position = 0
    while position + 4 <= len(extra):
        kind, length = struct.unpack_from("<HH", extra, position)
        body = extra[position + 4 : position + 4 + length]
        position += 4 + length
        try:
            if kind == 0x5455 and len(body) >= 5 and body[0] & 1:
                return iso_utc(struct.unpack_from("<i", body, 1)[0])
            if kind == 0x000A and len(body) >= 32 and body[4:8] == b"\x01\x00\x18\x00":
                ticks = struct.unpack_from("<Q", body, 8)[0]
                return iso_utc(datetime(1601, 1, 1, tzinfo=UTC).timestamp() + ticks / 10**7)
        except (OverflowError, OSError, ValueError):
            return None
    return None


def _unzip_pattern(path: bytes) -> str:
    """The member name as an unzip pattern matching only itself (wildcards bracketed)."""
    escaped = b"".join(b"[" + bytes([c]) + b"]" if c in b"*?[" else bytes([c]) for c in path)
    return os.fsdecode(escaped)


def _decode_comment(comment: bytes) -> str:
    try:
        return comment.decode("utf-8")
    except UnicodeDecodeError:
        return comment.decode("cp437")


def _password_bytes(password: str) -> list[bytes]:
    """UTF-8 first; older tools used the DOS code page for ZipCrypto passwords."""
    encoded = [password.encode("utf-8")]
    with contextlib.suppress(UnicodeEncodeError):
        legacy = password.encode("cp437")
        if legacy not in encoded:
            encoded.append(legacy)
    return encoded


def _end_record(handle: BinaryIO, size: int) -> tuple[int, int, int] | None:
    """(this disk, central directory's disk, number of entries) from the end record."""
    tail_length = min(size, 22 + 65535 + 20)
    handle.seek(size - tail_length)
    tail = handle.read(tail_length)
    position = tail.rfind(END_SIGNATURE)
    while position >= 0 and position + 22 > len(tail):
        position = tail.rfind(END_SIGNATURE, 0, position)
    if position < 0:
        return None
    disk, directory_disk, _, entries = struct.unpack_from("<HHHH", tail, position + 4)
    locator = position - 20
    if locator >= 0 and tail[locator : locator + 4] == ZIP64_LOCATOR:
        end64_offset = struct.unpack_from("<Q", tail, locator + 8)[0]
        handle.seek(end64_offset)
        record = handle.read(56)
        if len(record) == 56 and record.startswith(ZIP64_END):
            disk, directory_disk, _, entries = struct.unpack_from("<IIQQ", record, 16)
    return disk, directory_disk, entries
