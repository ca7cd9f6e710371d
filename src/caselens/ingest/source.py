"""What an ingestor sees of an item: its stored bytes, name, type, limits and passwords."""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from caselens.ingest.limits import Limits
from caselens.store.blobs import process_alive
from caselens.store.hashing import Digests


@dataclass(frozen=True, slots=True)
class Source:
    item_id: str
    name: str  # display name of the file
    path: Path  # the stored blob, read-only
    digests: Digests
    mime_type: str
    head: bytes
    content: bytes | None = None  # whole content when small
    limits: Limits = field(default_factory=Limits)
    passwords: tuple[str, ...] = ()  # to try on encrypted items, in order
    depth: int = 0  # 0 for acquired files, 1 for their children, ...
    work_root: Path | None = None  # where scratch folders go (the system's temp otherwise)
    region: str | None = None  # the case's country, for phone numbers written nationally
    # IANA zone of the exhibit's clock (``ingest --timezone``), for local times without one.
    timezone: str | None = None
    # Files seized next to this one that belong to it, by suffix: a SQLite database's
    # "-wal" and "-journal" (their paths on the source medium, read only).
    siblings: tuple[tuple[str, bytes], ...] = ()
    # Column mappings (YAML files) for operators' call detail records, from the settings.
    cdr_mappings: tuple[Path, ...] = ()
    # Tesseract languages for text in images and scanned pages (e.g. ("eng", "deu")).
    ocr_languages: tuple[str, ...] = ("eng",)
    transcribe: bool = True  # speech in recordings to text (needs caselens[transcribe])

    @property
    def extension(self) -> str:
        return os.path.splitext(self.name)[1].lower()

    @property
    def size(self) -> int:
        return self.digests.size

    def read_bytes(self, limit: int | None = None) -> bytes:
        if self.content is not None:
            return self.content if limit is None else self.content[:limit]
        with self.path.open("rb") as handle:
            return handle.read() if limit is None else handle.read(limit)

    def open(self) -> BinaryIO:
        return self.path.open("rb")

    @contextlib.contextmanager
    def scratch(self) -> Iterator[Path]:
        """A private, empty folder for tools that need files; removed afterwards.

        Evidence is never unpacked anywhere else, so names that try to escape (``../``,
        absolute paths) can at worst reach this folder's own tree.
        """
        root = self.work_root
        if root is not None:
            root.mkdir(parents=True, exist_ok=True)
        folder = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=root))
        try:
            yield folder
        finally:
            shutil.rmtree(folder, ignore_errors=True)


def remove_stale_scratch(work_root: Path) -> int:
    """Remove scratch folders of parser processes that no longer run (killed mid-item)."""
    if not work_root.is_dir():
        return 0
    removed = 0
    for entry in os.scandir(work_root):
        pid, _, _ = entry.name.partition("-")
        if entry.is_dir(follow_symlinks=False) and pid.isdigit() and not process_alive(int(pid)):
            shutil.rmtree(entry.path, ignore_errors=True)
            removed += 1
    return removed
