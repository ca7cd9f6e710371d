"""Content-addressed blob store: each distinct content stored once, under its SHA-256.

Blobs are written to a temporary file in the store and renamed into place, so a reader
never sees a half-written blob. The costly flush to disk is done once per batch by
:meth:`BlobStore.sync`, which the ingest writer calls before it commits the items that
refer to the blobs: a crash before the commit leaves only unreferenced blobs behind.
"""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import errno
import os
import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol

from caselens.errors import IntegrityError, NotFound, StorageError
from caselens.store.hashing import CHUNK_SIZE, Digests, MultiHasher

SHA256_PATTERN = re.compile(r"^[0-9a-f]{64}$")
TEMP_PREFIX = "incoming-"
# Blobs at least this large start going to disk as soon as they are written, so the
# batch's flush later waits for less; smaller ones are left to that one flush.
EARLY_WRITEBACK_BYTES = 1 << 16
SYNC_FILE_RANGE_WRITE = 2  # from <fcntl.h>: start writeback, do not wait for it


class Readable(Protocol):
    """Anything with ``read(size)``: a file, a decompressing stream, an archive member."""

    def read(self, size: int = -1, /) -> bytes: ...


@dataclass(frozen=True, slots=True)
class StoredBlob:
    """The result of writing one blob: its digests, and its first bytes for type detection."""

    digests: Digests
    head: bytes
    content: bytes | None  # whole content when small, to spare parsers a second read
    created: bool  # False when the content was already in the store


class BlobStore:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.temp_dir = root / "tmp"
        self._known_dirs: set[str] = set()
        self._counter = 0

    def ensure(self) -> None:
        """Create the temporary area and the 256 fan-out directories once."""
        if str(self.temp_dir) in self._known_dirs:
            return
        self.temp_dir.mkdir(parents=True, exist_ok=True)
        for index in range(256):
            os.makedirs(self.root / f"{index:02x}", exist_ok=True)
        self._known_dirs.add(str(self.temp_dir))

    def path_for(self, sha256: str) -> Path:
        if not SHA256_PATTERN.match(sha256):
            raise NotFound(f"not a SHA-256 digest: {sha256!r}")
        # One level of 256 directories, as git does: creating a directory per new blob
        # (two levels) costs more than hashing a small file.
        return self.root / sha256[:2] / sha256

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def put_stream(
        self, stream: Readable, *, head_size: int = 65536, keep_limit: int = 1 << 20
    ) -> StoredBlob:
        """Copy a stream into the store while hashing it; return digests and first bytes."""
        hasher = MultiHasher()
        head = bytearray()
        kept: list[bytes] | None = []
        temp_fd, temp_name = self._open_temp()
        try:
            with os.fdopen(temp_fd, "wb", buffering=0) as temp:
                while chunk := stream.read(CHUNK_SIZE):
                    hasher.update(chunk)
                    if len(head) < head_size:
                        head += chunk[: head_size - len(head)]
                    if kept is not None:
                        kept.append(chunk)
                        if hasher.size > keep_limit:
                            kept = None
                    _write_all(temp, chunk)
                if hasher.size >= EARLY_WRITEBACK_BYTES:
                    _start_writeback(temp.fileno())
            digests = hasher.digests()
            created = self._commit_temp(temp_name, digests.sha256, digests.size)
        except OSError as err:
            _remove_quietly(temp_name)
            raise _storage_error(err) from err
        except BaseException:
            _remove_quietly(temp_name)
            raise
        content = b"".join(kept) if kept is not None else None
        return StoredBlob(digests, bytes(head), content, created)

    def put_bytes(self, data: bytes) -> StoredBlob:
        import io

        return self.put_stream(io.BytesIO(data))

    def _open_temp(self) -> tuple[int, str]:
        self.ensure()
        # Each process writes in a directory of its own: processes creating files in one
        # shared directory contend for its lock, which costs more than the writes.
        pid = os.getpid()
        folder = os.path.join(self.temp_dir, f"{TEMP_PREFIX}{pid}")
        if folder not in self._known_dirs:
            os.makedirs(folder, exist_ok=True)
            self._known_dirs.add(folder)
        name = os.path.join(folder, f"{self._counter}-{os.urandom(4).hex()}")
        self._counter += 1
        try:
            fd = os.open(name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as err:
            raise _storage_error(err) from err
        return fd, name

    def _commit_temp(self, temp_name: str, sha256: str, size: int) -> bool:
        final = os.path.join(self.root, sha256[:2], sha256)
        try:
            if os.stat(final).st_size == size:
                _remove_quietly(temp_name)
                return False
        except FileNotFoundError:
            pass
        os.chmod(temp_name, 0o444)  # evidence is never edited in place
        os.replace(temp_name, final)
        return True

    @contextlib.contextmanager
    def open_verified(self, sha256: str) -> Iterator[BinaryIO]:
        """Open a blob for reading after re-checking its hash; refuse a mismatch loudly."""
        problem = self.check(sha256)
        if problem:
            raise IntegrityError(problem, sha256=sha256)
        with self.path_for(sha256).open("rb") as handle:
            yield handle

    def check(self, sha256: str, expected: Digests | None = None) -> str | None:
        """Re-hash one blob; return what is wrong with it, or None when it is intact."""
        path = self.path_for(sha256)
        try:
            with path.open("rb") as handle:
                hasher = MultiHasher()
                while chunk := handle.read(CHUNK_SIZE):
                    hasher.update(chunk)
        except FileNotFoundError:
            return f"blob {sha256} is missing from the store"
        except OSError as err:
            return f"blob {sha256} cannot be read: {err.strerror or err}"
        actual = hasher.digests()
        if actual.sha256 != sha256:
            return f"blob {sha256} has changed: its content now hashes to {actual.sha256}"
        if expected is not None:
            for field in ("sha1", "md5", "size"):
                if getattr(actual, field) != getattr(expected, field):
                    return (
                        f"blob {sha256}: {field} is {getattr(actual, field)}, "
                        f"recorded {getattr(expected, field)}"
                    )
        return None

    def sync(self) -> None:
        """Flush everything written to the store's file system to disk (one call per batch)."""
        self.ensure()
        fd = os.open(self.root, os.O_RDONLY)
        try:
            if _LIBC is not None and _LIBC.syncfs(fd) == 0:
                return
            os.sync()
        finally:
            os.close(fd)

    def remove_stale_temp_files(self) -> int:
        """Delete temporary files left by processes that no longer run (killed mid-write)."""
        if not self.temp_dir.is_dir():
            return 0
        removed = 0
        for folder in os.scandir(self.temp_dir):
            match = re.fullmatch(rf"{TEMP_PREFIX}(\d+)", folder.name)
            if not match or process_alive(int(match.group(1))):
                continue
            for entry in os.scandir(folder.path):
                _remove_quietly(entry.path)
                removed += 1
            with contextlib.suppress(OSError):
                os.rmdir(folder.path)
        return removed


def _write_all(handle: BinaryIO, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = handle.write(view)
        if written is None:  # pragma: no cover - blocking files always write
            raise OSError(errno.EAGAIN, "write would block")
        view = view[written:]


def _start_writeback(fd: int) -> None:
    """Ask the kernel to begin writing a file's pages to disk, without waiting.

    The durability point stays the batch's flush: this only moves disk time forward,
    under the parsing, instead of all of it into the commit.
    """
    if _SYNC_FILE_RANGE is not None:
        _SYNC_FILE_RANGE(fd, 0, 0, SYNC_FILE_RANGE_WRITE)  # a failure only loses the head start


def _remove_quietly(name: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.chmod(name, stat.S_IWUSR | stat.S_IRUSR)
        os.unlink(name)


def process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A killed process not yet reaped still answers signal 0; it writes nothing more.
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            state = handle.read().rsplit(b")", 1)[1].split()[0]
    except (OSError, IndexError):
        return True
    return state not in (b"Z", b"X")


def _storage_error(err: OSError) -> StorageError:
    if err.errno == errno.ENOSPC:
        return StorageError("the evidence store's disk is full; free space and run again")
    if err.errno == errno.EDQUOT:
        return StorageError("disk quota exceeded in the evidence store; run again with more room")
    return StorageError(f"cannot write to the evidence store: {err.strerror or err}")


def _load_libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    if not name:
        return None
    try:
        libc = ctypes.CDLL(name, use_errno=True)
    except OSError:
        return None
    return libc if hasattr(libc, "syncfs") else None


_LIBC = _load_libc()


def _load_sync_file_range() -> Any:
    function = getattr(_LIBC, "sync_file_range", None)  # Linux only
    if function is not None:
        function.argtypes = [ctypes.c_int, ctypes.c_int64, ctypes.c_int64, ctypes.c_uint]
        function.restype = ctypes.c_int
    return function


_SYNC_FILE_RANGE = _load_sync_file_range()
