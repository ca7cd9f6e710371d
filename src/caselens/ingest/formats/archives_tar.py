"""Tar archives, read in tarfile's streaming mode: regular members become children.

Links, devices and FIFOs are never followed or created; they are noted as warnings.
Compressed tars (.tar.gz, .tgz, .tar.bz2, .tar.xz) reach this code through the
compressed-file ingestor, which hands over the decompressed stream.
"""

from __future__ import annotations

import contextlib
import lzma
import tarfile
import zlib
from typing import Any, ClassVar

from caselens.ingest.errors import BrokenFile
from caselens.ingest.formats.archives_base import GuardedStream, MemberLog, display, iso_utc
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.store.blobs import Readable

TAR_BLOCK = 512
TAR_ERRORS: tuple[type[BaseException], ...] = (
    tarfile.TarError,
    EOFError,
    OSError,
    zlib.error,
    lzma.LZMAError,
    ValueError,
)


class TarIngestor(Ingestor):
    name = "tar"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset(
        {"application/x-tar", "application/x-gtar", "application/x-ustar"}
    )
    extensions: ClassVar[frozenset[str]] = frozenset({".tar"})
    base_score = 10

    @classmethod
    def score(cls, source: Source) -> int:
        score = super().score(source)
        if score == 0 and looks_like_tar(source.head[:TAR_BLOCK]):
            return cls.base_score + 1  # "ustar" sits at offset 257, not at the start
        return score

    def ingest(self, source: Source, sink: Sink) -> None:
        sink.set_document("Package")
        log = MemberLog(sink, "tar")
        with source.open() as handle:
            damage = read_tar(handle, log)
        log.finish(damage)


def looks_like_tar(block: bytes) -> bool:
    """True when ``block`` is a tar header: the ustar magic, or a valid header checksum."""
    if len(block) < TAR_BLOCK or block[0] == 0:
        return False
    if block[257:262] == b"ustar":
        return True
    try:
        stored = int(block[148:156].strip(b" \0") or b"x", 8)
    except ValueError:
        return False
    unsigned = sum(block[:148]) + 8 * 32 + sum(block[156:TAR_BLOCK])
    signed = sum(b - 256 if b > 127 else b for b in block[:148] + block[156:TAR_BLOCK]) + 256
    return stored in (unsigned, signed)


def read_tar(stream: Readable, log: MemberLog) -> str | None:
    """Add the regular members of the tar in ``stream``; the damage found, if any."""
    try:
        archive = tarfile.open(  # noqa: SIM115  # closed by the with below
            fileobj=stream,  # type: ignore[call-overload]  # streaming mode only calls read()
            mode="r|",
            encoding="utf-8",
            errors="surrogateescape",
        )
    except tarfile.ReadError as err:
        if str(err) == "empty file":
            return None  # an archive of no members (only the end-of-archive blocks)
        raise BrokenFile(f"not a readable tar archive: {err}") from err
    except TAR_ERRORS as err:
        raise BrokenFile(f"not a readable tar archive: {err}") from err
    with archive:
        while True:
            try:
                member = archive.next()
            except TAR_ERRORS as err:
                return f"reading the next header failed ({err})"
            if member is None:
                return None
            # Streaming needs no list of past members: keep memory flat for huge tars.
            archive.members.clear()
            _add_member(archive, member, log)


def _add_member(archive: tarfile.TarFile, member: tarfile.TarInfo, log: MemberLog) -> None:
    path = member.name.encode("utf-8", "surrogateescape")
    if member.isreg():
        try:
            content = archive.extractfile(member)
        except TAR_ERRORS as err:
            log.note_broken(path, str(err))
            return
        if content is None:
            return
        log.add(path, GuardedStream(content, TAR_ERRORS, None), **_metadata(member))
    elif member.issym() or member.islnk():
        kind = "symbolic link" if member.issym() else "hard link"
        target = member.linkname.encode("utf-8", "surrogateescape")
        log.warn("link", f"{kind} {display(path)} -> {display(target)} not followed")
    elif not member.isdir():
        log.warn("special file", f"special file {display(path)} ({_kind(member)}) skipped")


def _metadata(member: tarfile.TarInfo) -> dict[str, Any]:
    metadata: dict[str, Any] = {"size": member.size, "mode": f"{member.mode:o}"}
    # A time outside what the platform represents is left out.
    with contextlib.suppress(OverflowError, OSError, ValueError):
        metadata["modified"] = iso_utc(member.mtime)
    owner = member.uname or str(member.uid)
    group = member.gname or str(member.gid)
    metadata["owner"] = owner
    metadata["group"] = group
    return metadata


def _kind(member: tarfile.TarInfo) -> str:
    if member.ischr():
        return "character device"
    if member.isblk():
        return "block device"
    if member.isfifo():
        return "FIFO"
    return f"type {member.type!r}"
