"""Walk source paths without following links or opening special files."""

from __future__ import annotations

import os
import stat
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, slots=True)
class WalkEntry:
    path: bytes  # absolute, byte-faithful
    kind: str  # file, directory, symlink, fifo, socket, device, missing
    metadata: dict[str, Any]
    problem: str | None = None  # why it is skipped or failed instead of read

    @property
    def readable(self) -> bool:
        return self.kind == "file" and self.problem is None


def walk(paths: list[bytes]) -> Iterator[WalkEntry]:
    for path in paths:
        yield from _walk_one(os.path.abspath(path))


def _walk_one(path: bytes) -> Iterator[WalkEntry]:
    try:
        info = os.lstat(path)
    except OSError as err:
        yield WalkEntry(path, "missing", {}, f"cannot stat: {err.strerror or err}")
        return
    kind = _kind(info.st_mode)
    metadata = source_metadata(info)
    if kind == "directory":
        try:
            with os.scandir(path) as scan:
                names = sorted(entry.name for entry in scan)
        except OSError as err:
            yield WalkEntry(path, kind, metadata, f"cannot list directory: {err.strerror or err}")
            return
        for name in names:
            yield from _walk_one(os.path.join(path, name))
    elif kind == "symlink":
        try:
            target = os.readlink(path)
        except OSError:
            target = b"?"
        exists = os.path.exists(path)
        state = "" if exists else ", target missing"
        metadata["link_target"] = os.fsdecode(target)
        reason = f"symbolic link to {os.fsdecode(target)!r}{state}; not followed"
        yield WalkEntry(path, kind, metadata, reason)
    elif kind == "file":
        yield WalkEntry(path, kind, metadata)
    else:
        yield WalkEntry(path, kind, metadata, f"special file ({kind}); not read")


def _kind(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "directory"
    if stat.S_ISLNK(mode):
        return "symlink"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    return "device"


def source_metadata(info: os.stat_result) -> dict[str, Any]:
    """File-system facts as found at acquisition, before the file is read."""
    return {
        "modified": _time_from_ns(info.st_mtime_ns),
        "accessed": _time_from_ns(info.st_atime_ns),
        "changed": _time_from_ns(info.st_ctime_ns),
        "mode": oct(info.st_mode),
        "uid": info.st_uid,
        "gid": info.st_gid,
        # As text: inode and device numbers can exceed the integers JSON holds exactly.
        "inode": str(info.st_ino),
        "device": str(info.st_dev),
        "size": info.st_size,
    }


def _time_from_ns(nanoseconds: int) -> str:
    """RFC 3339 in UTC with the file system's full nanosecond precision."""
    seconds, fraction = divmod(nanoseconds, 1_000_000_000)
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + f".{fraction:09d}Z"
