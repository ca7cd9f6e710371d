"""RAR archives through Debian's unar/lsar (or bsdtar): extracted into scratch, read back.

lsar lists the members first; only regular files are passed to unar (by index), so no
link is ever created on disk and nothing can be written through one. The extracted
files are checked against the listing (size, CRC) and streamed into the sink.
"""

from __future__ import annotations

import contextlib
import os
import re
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

from caselens.ingest.errors import BrokenFile, EncryptedFile
from caselens.ingest.formats import archives_rar_headers as rar_headers
from caselens.ingest.formats import archives_tool
from caselens.ingest.formats.archives_base import GuardedStream, MemberLog, display, iso_utc
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

NOT_REGULAR = ("XADIsDirectory", "XADIsLink", "XADIsHardLink", "XADIsResourceFork")
SPECIAL = ("XADIsCharacterDevice", "XADIsBlockDevice", "XADIsFIFO")
_DRIVE = re.compile(r"^[A-Za-z]:$")


class RarIngestor(Ingestor):
    name = "rar"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset(
        {"application/x-rar", "application/vnd.rar", "application/x-rar-compressed"}
    )
    extensions: ClassVar[frozenset[str]] = frozenset({".rar"})
    signatures: ClassVar[tuple[bytes, ...]] = (b"Rar!\x1a\x07",)
    base_score = 10

    def ingest(self, source: Source, sink: Sink) -> None:
        sink.set_document("Package")
        log = MemberLog(sink, "RAR")
        if archives_tool.has_unar():
            with contextlib.ExitStack() as cleanup:
                damage = _UnarReader(source, sink, log, cleanup).read()
        elif archives_tool.tool("bsdtar"):
            damage = _read_with_bsdtar(source, sink, log)
        else:
            raise BrokenFile("RAR needs unar or bsdtar (apt-get install unar)")
        log.finish(damage)


class _UnarReader:
    def __init__(
        self, source: Source, sink: Sink, log: MemberLog, cleanup: contextlib.ExitStack
    ) -> None:
        self.source = source
        self.sink = sink
        self.log = log
        self.timeout = source.limits.item_timeout
        self.cleanup = cleanup
        # What unar reads: the evidence, or a copy with decrypted headers in scratch.
        self.archive: Path = source.path

    def read(self) -> str | None:
        entries, password = self._listing()
        regular = []
        for entry in entries:
            path = _entry_name(entry)
            if entry.get("XADIsLink"):
                target = str(entry.get("XADLinkDestination", "?")).encode("utf-8", "surrogatepass")
                self.log.warn(
                    "link", f"symbolic link {display(path)} -> {display(target)} not followed"
                )
            elif any(entry.get(flag) for flag in SPECIAL):
                self.log.warn("special file", f"special file {display(path)} skipped")
            elif not any(entry.get(flag) for flag in NOT_REGULAR):
                regular.append(entry)
        if password is None and any(entry.get("XADIsEncrypted") for entry in regular):
            password = self._content_password()
            if password is None:
                for entry in regular:
                    if entry.get("XADIsEncrypted"):
                        self.log.note_locked(_entry_name(entry))
                regular = [entry for entry in regular if not entry.get("XADIsEncrypted")]
        # The sink stops past max_members; unpacking more than that would only fill the disk.
        regular = regular[: self.source.limits.max_members + 1]
        if not regular:
            return None
        return self._extract(regular, password)

    def _listing(self) -> tuple[list[dict[str, Any]], str | None]:
        listing, errors = archives_tool.lsar_listing(self.source.path, None, self.timeout)
        encrypted_headers = rar_headers.has_encrypted_headers(self.source.path)
        if encrypted_headers or ("password" in errors.lower() and not listing.get("lsarContents")):
            for password in self.source.passwords:
                listing, _ = archives_tool.lsar_listing(self.source.path, password, self.timeout)
                if listing.get("lsarContents") and "lsarError" not in listing:
                    self.sink.decrypted = True
                    return list(listing["lsarContents"]), password
                if encrypted_headers and self._clear_headers(password):
                    listing, _ = archives_tool.lsar_listing(self.archive, None, self.timeout)
                    if listing.get("lsarContents"):
                        self.sink.decrypted = True
                        return list(listing["lsarContents"]), None
            raise EncryptedFile("RAR archive with encrypted headers: no supplied password opens it")
        contents = listing.get("lsarContents")
        if not contents and "lsarError" in listing:
            reason = errors.strip().splitlines()[-1] if errors.strip() else "unar cannot parse it"
            raise BrokenFile(f"not a readable RAR archive: {reason}")
        if "lsarError" in listing:
            self.log.warn("listing", f"the archive listing is incomplete: {errors.strip()}")
        return list(contents or []), None

    def _clear_headers(self, password: str) -> bool:
        """Decrypt the archive into a scratch copy unar can read; False for a wrong password."""
        scratch = self.cleanup.enter_context(self.source.scratch())
        try:
            rar_headers.write_clear_headers(self.source.path, password, scratch / "clear.rar")
        except rar_headers.WrongPassword:
            return False
        except ValueError as err:
            raise BrokenFile(f"RAR archive with encrypted headers: {err}") from err
        self.archive = scratch / "clear.rar"
        return True

    def _content_password(self) -> str | None:
        """The first password with which lsar's integrity test passes."""
        lsar = archives_tool.tool("lsar") or "lsar"
        for password in self.source.passwords:
            args = [lsar, "-t", "-nr", "-p", password, str(self.archive)]
            if archives_tool.run(args, self.timeout).returncode == 0:
                self.sink.decrypted = True
                return password
        return None

    def _extract(self, entries: list[dict[str, Any]], password: str | None) -> str | None:
        unar = archives_tool.tool("unar") or "unar"
        args = [unar, "-nr", "-D", "-f", "-k", "skip"]
        if password is not None:
            args += ["-p", password]
        indexes = [str(entry.get("XADIndex")) for entry in entries]
        budget = self.source.limits.max_expanded_bytes - self.sink.expanded_bytes
        with self.source.scratch() as scratch:
            out = scratch / "out"
            out.mkdir()
            args += ["-o", str(out), "-i", str(self.archive), *indexes]
            done = archives_tool.run_extraction(
                args, out, scratch / "unar.log", self.timeout, budget
            )
            on_disk = {
                relative: (path, info) for relative, path, info in archives_tool.walk_files(out)
            }
            for entry in entries:
                self._add(
                    entry, on_disk.pop(_unar_disk_name(str(entry.get("XADFileName", ""))), None)
                )
            for relative, (path, info) in sorted(on_disk.items()):
                # Not matched to the listing (a name unar changed): kept under its disk name.
                self.log.warn("unmatched", f"member {relative} kept under the name unar gave it")
                _add_file(self.log, relative.encode("utf-8", "surrogateescape"), path, info, {})
        if done.returncode != 0 and not self.log.broken:
            lines = done.stderr.strip().splitlines()
            return f"unar reported an error ({lines[-1] if lines else done.returncode})"
        return None

    def _add(self, entry: dict[str, Any], found: tuple[Path, os.stat_result] | None) -> None:
        name = _entry_name(entry)
        if found is None:
            self.log.note_broken(name, "unar could not extract it")
            return
        path, info = found
        declared = entry.get("XADFileSize")
        if isinstance(declared, int) and info.st_size != declared:
            self.log.note_broken(name, f"unar extracted {info.st_size} of {declared} bytes")
            return
        _add_file(self.log, name, path, info, _metadata(entry), _crc(entry))


def _add_file(
    log: MemberLog,
    name: bytes,
    path: Path,
    info: os.stat_result,
    metadata: dict[str, Any],
    crc: int | None = None,
) -> None:
    if not archives_tool.is_regular(info):
        log.warn("link", f"{display(name)} is not a regular file on disk: skipped")
        return
    with archives_tool.open_no_follow(path) as handle:
        log.add(name, GuardedStream(handle, (OSError,), crc), **metadata)


def _read_with_bsdtar(source: Source, sink: Sink, log: MemberLog) -> str | None:
    """Without unar: bsdtar extracts everything (it refuses ../, absolute paths and links)."""
    bsdtar = archives_tool.tool("bsdtar") or "bsdtar"
    budget = source.limits.max_expanded_bytes - sink.expanded_bytes
    for password in [None, *source.passwords]:
        with source.scratch() as scratch:
            out = scratch / "out"
            out.mkdir()
            args = [bsdtar, "-x", "-f", str(source.path), "-C", str(out), "--no-same-owner"]
            if password is not None:
                args += ["--passphrase", password]
            done = archives_tool.run_extraction(
                args, out, scratch / "bsdtar.log", source.limits.item_timeout, budget
            )
            if done.returncode != 0 and "passphrase" in done.stderr.lower():
                continue
            for relative, path, info in sorted(archives_tool.walk_files(out)):
                metadata = {"size": info.st_size, "modified": iso_utc(info.st_mtime)}
                _add_file(log, relative.encode("utf-8", "surrogateescape"), path, info, metadata)
            if password is not None:
                sink.decrypted = True
            if done.returncode != 0:
                lines = done.stderr.strip().splitlines()
                return f"bsdtar reported an error ({lines[-1] if lines else done.returncode})"
            return None
    raise EncryptedFile("RAR archive is encrypted and no supplied password opens it")


def _entry_name(entry: dict[str, Any]) -> bytes:
    return str(entry.get("XADFileName", "")).encode("utf-8", "surrogatepass")


def _unar_disk_name(name: str) -> str:
    """Where unar writes a member: no drive, no root, '..' renamed, both slashes split."""
    parts = [part for part in re.split(r"[/\\]", name) if part not in ("", ".")]
    if parts and _DRIVE.match(parts[0]):
        parts = parts[1:]
    return "/".join("__Parent__" if part == ".." else part for part in parts)


def _crc(entry: dict[str, Any]) -> int | None:
    for key in ("RARCRC32", "RAR5CRC32", "ZipCRC32", "CRC32"):
        value = entry.get(key)
        if isinstance(value, int):
            return value
    return None


def _metadata(entry: dict[str, Any]) -> dict[str, Any]:
    metadata: dict[str, Any] = {}
    for key, field in (("XADFileSize", "size"), ("XADCompressedSize", "compressed_size")):
        if isinstance(entry.get(key), int):
            metadata[field] = entry[key]
    crc = _crc(entry)
    if crc is not None:
        metadata["crc32"] = f"{crc:08x}"
    if entry.get("XADCompressionName"):
        metadata["compression"] = str(entry["XADCompressionName"])
    if entry.get("XADIsEncrypted"):
        metadata["encrypted"] = True
    stamp = entry.get("XADLastModificationDate")
    if isinstance(stamp, str):
        try:
            moment = datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S %z")
        except ValueError:
            return metadata  # an unexpected date format: the member is still kept
        if "RARFlags" in entry and not any(key.startswith("RAR5") for key in entry):
            # RAR 4 stores DOS local time (no zone); unar shows it as if it were UTC.
            metadata["modified_local"] = moment.replace(tzinfo=None).isoformat()
        else:
            metadata["modified"] = iso_utc(moment)
    return metadata
