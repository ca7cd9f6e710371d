"""What every archive ingestor shares: member bookkeeping, guarded streams, timestamps.

Members are never unpacked to disk by name: each one is streamed into ``sink.add_child``.
A member that cannot be read is noted and the next one tried, so a damaged archive
keeps every member that could be read before the item is marked broken or encrypted.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime
from typing import Any

from caselens.ingest.errors import BrokenFile, EncryptedFile
from caselens.ingest.sink import Sink
from caselens.store.blobs import Readable

# Warnings of one kind (links, devices, ...) kept per item before they are only counted.
WARNINGS_PER_KIND = 50


class StreamDefect(Exception):
    """Reading a member failed (corrupt data, bad checksum, truncated archive)."""


def display(path: bytes) -> str:
    """A member name for messages: UTF-8 where it is, escapes elsewhere."""
    return path.decode("utf-8", "backslashreplace")


def iso_utc(value: datetime | float) -> str:
    """ISO 8601 in UTC with a Z, from an aware datetime or a POSIX timestamp."""
    moment = (
        datetime.fromtimestamp(value, UTC) if isinstance(value, int | float) else value
    ).astimezone(UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class GuardedStream:
    """Turns a library's own read errors into StreamDefect, so only those are caught.

    Errors from the blob store or the sink's limits never pass through here: the sink
    wraps this stream, not the other way round.
    """

    def __init__(
        self, inner: Readable, errors: tuple[type[BaseException], ...], expected_crc: int | None
    ) -> None:
        self._inner = inner
        self._errors = errors
        self._expected_crc = expected_crc
        self._crc = 0

    def read(self, size: int = -1, /) -> bytes:
        try:
            data = self._inner.read(size)
        except self._errors as err:
            raise StreamDefect(str(err) or type(err).__name__) from err
        if self._expected_crc is not None:
            if data:
                self._crc = zlib.crc32(data, self._crc)
            elif self._crc != self._expected_crc:
                raise StreamDefect(
                    f"CRC-32 mismatch (stored {self._expected_crc:08x}, read {self._crc:08x})"
                )
        return data


class MemberLog:
    """Counts what happened to an archive's members and gives the item's final outcome."""

    def __init__(self, sink: Sink, kind: str) -> None:
        self.sink = sink
        self.kind = kind
        self.added = 0
        self.broken: list[tuple[bytes, str]] = []
        self.locked: list[bytes] = []
        self._warned: dict[str, int] = {}

    def add(self, path: bytes, stream: Readable, **metadata: Any) -> bool:
        """Stream one member into the sink; False (and noted) when its data is damaged.

        LimitReached from the sink propagates: the limits stop the whole item.
        """
        defect = self.try_add(path, stream, **metadata)
        if defect is not None:
            self.broken.append((path, defect))
        return defect is None

    def try_add(self, path: bytes, stream: Readable, **metadata: Any) -> str | None:
        """Like add, but a damaged member is returned (its reason), not noted."""
        try:
            self.sink.add_child(path, stream, **metadata)
        except StreamDefect as err:
            return str(err)
        self.added += 1
        return None

    def note_broken(self, path: bytes, reason: str) -> None:
        self.broken.append((path, reason))

    def forget_broken(self, path: bytes) -> None:
        """A member noted as unreadable was read after all (by another route)."""
        self.broken = [(name, reason) for name, reason in self.broken if name != path]

    def note_locked(self, path: bytes) -> None:
        self.locked.append(path)

    def warn(self, kind: str, message: str) -> None:
        """A warning of one kind; past WARNINGS_PER_KIND they are only counted."""
        seen = self._warned.get(kind, 0) + 1
        self._warned[kind] = seen
        if seen <= WARNINGS_PER_KIND:
            self.sink.warn(message)

    def finish(self, damage: str | None = None) -> None:
        """Raise BrokenFile or EncryptedFile when members were lost; nothing otherwise."""
        for kind, seen in self._warned.items():
            if seen > WARNINGS_PER_KIND:
                self.sink.warn(f"{seen - WARNINGS_PER_KIND} more {kind} warnings not listed")
        locked = ""
        if self.locked:
            names = ", ".join(display(path) for path in self.locked[:5])
            more = ", ..." if len(self.locked) > 5 else ""
            locked = (
                f"{len(self.locked)} of {self.added + len(self.locked) + len(self.broken)} "
                f"members are encrypted and no supplied password opens them ({names}{more})"
            )
        if damage or self.broken:
            parts = [f"{self.kind} archive is damaged"]
            if damage:
                parts.append(damage)
            if self.broken:
                listed = "; ".join(f"{display(name)}: {why}" for name, why in self.broken[:5])
                more = f"; and {len(self.broken) - 5} more" if len(self.broken) > 5 else ""
                parts.append(f"{len(self.broken)} members unreadable ({listed}{more})")
            parts.append(f"{self.added} members kept")
            if locked:
                parts.append(locked)
            raise BrokenFile(": ".join(parts[:2]) + "; " + "; ".join(parts[2:]))
        if locked:
            raise EncryptedFile(f"{self.kind} archive: {locked}; {self.added} members kept")
