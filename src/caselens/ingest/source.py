"""What an ingestor sees of an item: its stored bytes, name and detected type."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

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
