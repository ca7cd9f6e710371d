"""A small writer of OLE2 compound files (MS-CFB version 3, 512-byte sectors) for test fixtures.

olefile only reads compound files, so tests that need an Outlook .msg (or any OLE file)
build it here from a nested dict: a ``bytes`` value is a stream, a ``dict`` value a
storage. Streams under 4096 bytes go to the mini stream (64-byte mini sectors chained by
the mini FAT), larger ones to regular sectors, as the spec requires. Only the header
DIFAT is written, which limits a file to 109 FAT sectors (about 7 MB): plenty for tests.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Union

Tree = dict[str, Union[bytes, "Tree"]]

MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
SECTOR = 512
MINI_SECTOR = 64
MINI_CUTOFF = 4096
FREESECT, ENDOFCHAIN, FATSECT, NOSTREAM = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD, 0xFFFFFFFF
STORAGE, STREAM, ROOT = 1, 2, 5
BLACK = 1
HEADER_DIFAT = 109
IDS_PER_SECTOR = SECTOR // 4


@dataclass
class _Entry:
    name: str
    kind: int
    data: bytes = b""
    children: list[int] = field(default_factory=list)
    left: int = NOSTREAM
    right: int = NOSTREAM
    child: int = NOSTREAM
    start: int = ENDOFCHAIN
    size: int = 0


def _sort_key(name: str) -> tuple[int, str]:
    # MS-CFB 2.6.4: shorter names first, then a case-insensitive comparison.
    return len(name.encode("utf-16-le")), name.upper()


def _chain(fat: list[int], first: int, count: int) -> None:
    for index in range(first, first + count - 1):
        fat[index] = index + 1
    fat[first + count - 1] = ENDOFCHAIN


def _pad(data: bytes, size: int) -> bytes:
    return data + b"\0" * (-len(data) % size)


class _Builder:
    def __init__(self, tree: Tree) -> None:
        self.entries: list[_Entry] = [_Entry("Root Entry", ROOT)]
        self._add_children(0, tree)

    def _add_children(self, parent: int, tree: Tree) -> None:
        names = sorted(tree, key=_sort_key)
        for name in names:
            if len(name) > 31:
                raise ValueError(f"OLE entry name longer than 31 characters: {name!r}")
            value = tree[name]
            index = len(self.entries)
            self.entries[parent].children.append(index)
            if isinstance(value, dict):
                self.entries.append(_Entry(name, STORAGE))
                self._add_children(index, value)
            else:
                self.entries.append(_Entry(name, STREAM, data=bytes(value), size=len(value)))
        self.entries[parent].child = self._balance(self.entries[parent].children)

    def _balance(self, ordered: list[int]) -> int:
        """A balanced binary search tree of siblings, all black (readers accept it)."""
        if not ordered:
            return NOSTREAM
        middle = len(ordered) // 2
        top = self.entries[ordered[middle]]
        top.left = self._balance(ordered[:middle])
        top.right = self._balance(ordered[middle + 1 :])
        return ordered[middle]

    def build(self) -> bytes:
        streams = [entry for entry in self.entries if entry.kind == STREAM and entry.size]
        small = [entry for entry in streams if entry.size < MINI_CUTOFF]
        large = [entry for entry in streams if entry.size >= MINI_CUTOFF]

        mini_stream = bytearray()
        mini_fat: list[int] = []
        for entry in small:
            count = -(-entry.size // MINI_SECTOR)
            entry.start = len(mini_fat)
            mini_fat.extend([0] * count)
            _chain(mini_fat, entry.start, count)
            mini_stream += _pad(entry.data, MINI_SECTOR)
        root = self.entries[0]
        root.size = len(mini_stream)

        body = bytearray()  # every sector after the header, in order
        fat: list[int] = []

        def place(data: bytes) -> int:
            if not data:
                return ENDOFCHAIN
            first = len(fat)
            count = -(-len(data) // SECTOR)
            fat.extend([0] * count)
            _chain(fat, first, count)
            body.extend(_pad(data, SECTOR))
            return first

        for entry in large:
            entry.start = place(entry.data)
        root.start = place(bytes(mini_stream))
        mini_fat_bytes = b"".join(
            struct.pack("<I", value)
            for value in mini_fat + [FREESECT] * (-len(mini_fat) % IDS_PER_SECTOR)
        )
        mini_fat_start = place(mini_fat_bytes)
        directory_start = place(self._directory())

        fat_count = 0
        while fat_count * IDS_PER_SECTOR < len(fat) + fat_count:
            fat_count += 1
        if fat_count > HEADER_DIFAT:
            raise ValueError("compound file too large for a header-only DIFAT")
        fat_sectors = list(range(len(fat), len(fat) + fat_count))
        fat.extend([FATSECT] * fat_count)
        fat.extend([FREESECT] * (fat_count * IDS_PER_SECTOR - len(fat)))
        body += b"".join(struct.pack("<I", value) for value in fat)

        header = self._header(
            fat_sectors, directory_start, mini_fat_start, len(mini_fat_bytes) // SECTOR
        )
        return header + bytes(body)

    def _directory(self) -> bytes:
        records = [self._record(entry) for entry in self.entries]
        records += [self._record(None)] * (-len(records) % (SECTOR // 128))
        return b"".join(records)

    @staticmethod
    def _record(entry: _Entry | None) -> bytes:
        if entry is None:  # an unused slot
            return struct.pack("<64sHBBIII", b"", 0, 0, 0, NOSTREAM, NOSTREAM, NOSTREAM).ljust(
                128, b"\0"
            )
        name = entry.name.encode("utf-16-le") + b"\0\0"
        size = entry.size if entry.kind != STORAGE else 0
        start = entry.start if entry.kind != STORAGE else 0
        return struct.pack(
            "<64sHBBIII16sIQQIQ",
            name,
            len(name),
            entry.kind,
            BLACK,
            entry.left,
            entry.right,
            entry.child,
            b"\0" * 16,  # CLSID
            0,  # state bits
            0,  # creation time
            0,  # modification time
            start,
            size,
        )

    @staticmethod
    def _header(
        fat_sectors: list[int], directory_start: int, mini_fat_start: int, mini_fat_count: int
    ) -> bytes:
        difat = fat_sectors + [FREESECT] * (HEADER_DIFAT - len(fat_sectors))
        header = struct.pack(
            "<8s16sHHHHH6sIIIIIIIII",
            MAGIC,
            b"\0" * 16,
            0x003E,  # minor version
            3,  # major version
            0xFFFE,  # little-endian byte order mark
            9,  # sector shift: 512
            6,  # mini sector shift: 64
            b"\0" * 6,
            0,  # directory sectors: always 0 in version 3
            len(fat_sectors),
            directory_start,
            0,  # transaction signature
            MINI_CUTOFF,
            mini_fat_start,
            mini_fat_count,
            ENDOFCHAIN,  # no DIFAT sectors
            0,
        ) + struct.pack(f"<{HEADER_DIFAT}I", *difat)
        assert len(header) == SECTOR
        return header


def write_ole(tree: Tree) -> bytes:
    """The bytes of a compound file holding ``tree`` (names map to streams or storages)."""
    return _Builder(tree).build()
