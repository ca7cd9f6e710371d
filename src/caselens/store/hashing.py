"""The three digests every blob is known by: SHA-256 (its address), SHA-1 and MD5 (hash sets)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import BinaryIO

CHUNK_SIZE = 1 << 20


@dataclass(frozen=True, slots=True)
class Digests:
    sha256: str
    sha1: str
    md5: str
    size: int


class MultiHasher:
    """Feeds the same bytes to all three hash functions."""

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self._sha1 = hashlib.sha1(usedforsecurity=False)
        self._md5 = hashlib.md5(usedforsecurity=False)
        self.size = 0

    def update(self, data: bytes | memoryview) -> None:
        self._sha256.update(data)
        self._sha1.update(data)
        self._md5.update(data)
        self.size += len(data)

    def digests(self) -> Digests:
        return Digests(
            self._sha256.hexdigest(), self._sha1.hexdigest(), self._md5.hexdigest(), self.size
        )


def digest_stream(stream: BinaryIO) -> Digests:
    hasher = MultiHasher()
    while chunk := stream.read(CHUNK_SIZE):
        hasher.update(chunk)
    return hasher.digests()


def digest_bytes(data: bytes) -> Digests:
    hasher = MultiHasher()
    hasher.update(data)
    return hasher.digests()
