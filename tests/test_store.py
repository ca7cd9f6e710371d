"""The blob store: content addressing, atomic writes, integrity checks."""

from __future__ import annotations

import errno
import hashlib
import io
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caselens.errors import IntegrityError, StorageError
from caselens.store.blobs import BlobStore


def test_put_stores_once_under_sha256_with_all_digests(tmp_path: Path) -> None:
    store = BlobStore(tmp_path / "blobs")
    data = b"evidence bytes\n" * 1000
    first = store.put_bytes(data)
    second = store.put_bytes(data)
    sha256 = hashlib.sha256(data).hexdigest()
    assert first.digests.sha256 == sha256
    assert first.digests.sha1 == hashlib.sha1(data).hexdigest()
    assert first.digests.md5 == hashlib.md5(data).hexdigest()
    assert first.digests.size == len(data)
    assert first.created and not second.created
    path = store.path_for(sha256)
    assert path == tmp_path / "blobs" / sha256[:2] / sha256
    assert path.read_bytes() == data
    assert not (path.stat().st_mode & 0o222), "blobs are read-only"
    assert [p for p in store.temp_dir.rglob("*") if p.is_file()] == []


@settings(max_examples=40, deadline=None)
@given(st.binary(max_size=3 * 1024 * 1024 // 64))
def test_round_trip_any_content(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    store = BlobStore(tmp_path_factory.mktemp("store"))
    stored = store.put_stream(io.BytesIO(data), head_size=100)
    assert stored.head == data[:100]
    with store.open_verified(stored.digests.sha256) as handle:
        assert handle.read() == data
    assert store.check(stored.digests.sha256, stored.digests) is None


def test_flipped_byte_is_refused_on_read(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    sha = store.put_bytes(b"original content").digests.sha256
    path = store.path_for(sha)
    os.chmod(path, 0o644)
    path.write_bytes(b"Original content")
    problem = store.check(sha)
    assert problem is not None and "has changed" in problem
    with pytest.raises(IntegrityError), store.open_verified(sha):
        pass


def test_failed_write_leaves_no_partial_blob(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)

    class FailingStream(io.RawIOBase):
        def __init__(self) -> None:
            self.calls = 0

        def read(self, size: int = -1) -> bytes:
            self.calls += 1
            if self.calls > 2:
                raise OSError(errno.ENOSPC, "No space left on device")
            return b"x" * 1000

    with pytest.raises(StorageError, match="disk is full"):
        store.put_stream(FailingStream())  # type: ignore[arg-type]
    assert [p for p in store.temp_dir.rglob("*") if p.is_file()] == []
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_stale_temp_files_of_dead_processes_are_removed(tmp_path: Path) -> None:
    store = BlobStore(tmp_path)
    store.ensure()
    (store.temp_dir / "incoming-999999999").mkdir()
    (store.temp_dir / f"incoming-{os.getpid()}").mkdir()
    dead = store.temp_dir / "incoming-999999999" / "1-abcd"
    mine = store.temp_dir / f"incoming-{os.getpid()}" / "1-abcd"
    dead.write_bytes(b"half")
    mine.write_bytes(b"in progress")
    assert store.remove_stale_temp_files() == 1
    assert not dead.exists() and mine.exists()
