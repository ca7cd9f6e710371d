"""Files and folders that cannot be read are recorded with the reason, and the walk goes on.

The suite runs as root, who may read anything, so the operating system's refusal is
injected where caselens asks for the file.
"""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from caselens.ingest.limits import Limits
from caselens.ingest.tasks import Task
from caselens.ingest.walk import walk
from caselens.ingest.worker import ItemProcessor
from caselens.store.blobs import BlobStore


def test_unreadable_file_is_failed_with_the_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("not for you")
    real_open = os.open

    def refusing_open(path: object, flags: int, *args: object) -> int:
        if os.fsencode(path) == os.fsencode(secret):  # type: ignore[arg-type]
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_open(path, flags, *args)  # type: ignore[arg-type]

    monkeypatch.setattr(os, "open", refusing_open)
    processor = ItemProcessor(
        BlobStore(tmp_path / "blobs"), "c" * 32, Limits(max_text_chars=1000, item_timeout=30)
    )
    task = Task("i" * 32, "secret.txt", source_path=os.fsencode(secret), actor="alice")
    result = processor.process(task)
    assert (result.state, result.error) == ("failed", "cannot read the file: Permission denied")
    assert result.digests is None
    assert [entry.action for entry in result.custody] == ["ingested"]


def test_unreadable_directory_is_recorded_and_the_walk_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "locked").mkdir()
    (tmp_path / "locked" / "inside.txt").write_text("unseen")
    (tmp_path / "open.txt").write_text("seen")
    real_scandir = os.scandir

    def refusing_scandir(path: bytes) -> object:
        if path.endswith(b"locked"):
            raise PermissionError(errno.EACCES, "Permission denied")
        return real_scandir(path)

    monkeypatch.setattr(os, "scandir", refusing_scandir)
    entries = {Path(os.fsdecode(e.path)).name: e for e in walk([os.fsencode(tmp_path)])}
    assert set(entries) == {"locked", "open.txt"}
    assert entries["locked"].problem == "cannot list directory: Permission denied"
    assert entries["open.txt"].readable
