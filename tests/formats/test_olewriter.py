"""The test OLE writer: what it writes, olefile reads back exactly."""

from __future__ import annotations

import io

import olefile  # type: ignore[import-untyped]

from tests.olewriter import Tree, write_ole


def _read_back(data: bytes) -> dict[str, bytes | None]:
    # Any defect olefile notices, even a minor one, fails the test.
    ole = olefile.OleFileIO(io.BytesIO(data), raise_defects=olefile.DEFECT_POTENTIAL)
    with ole:
        assert ole.parsing_issues == []
        found: dict[str, bytes | None] = {}
        for path in ole.listdir(streams=True, storages=True):
            if ole.get_type(path) == olefile.STGTY_STORAGE:
                found["/".join(path)] = None
            else:
                found["/".join(path)] = bytes(ole.openstream(path).read())
        return found


def test_streams_and_storages_read_back() -> None:
    big = bytes(range(256)) * 40  # 10240 bytes: regular sectors
    tree: Tree = {
        "__substg1.0_0037001F": "Subject".encode("utf-16-le"),
        "Big": big,
        "Exact4096": b"\x07" * 4096,  # at the cutoff: regular sectors
        "Just4095": b"\x08" * 4095,  # below it: mini stream
        "empty": b"",
        "storage": {"inner": b"hello", "nested": {"deep": b"q" * 5000, "tiny": b"z"}},
        "empty storage": {},
    }
    assert _read_back(write_ole(tree)) == {
        "Big": big,
        "Exact4096": b"\x07" * 4096,
        "Just4095": b"\x08" * 4095,
        "__substg1.0_0037001F": "Subject".encode("utf-16-le"),
        "empty": b"",
        "empty storage": None,
        "storage": None,
        "storage/inner": b"hello",
        "storage/nested": None,
        "storage/nested/deep": b"q" * 5000,
        "storage/nested/tiny": b"z",
    }


def test_many_entries_span_several_fat_minifat_and_directory_sectors() -> None:
    # 300 small streams need 600 mini sectors (5 mini FAT sectors, a 75-sector mini
    # stream) and 76 directory sectors; with the 137-sector stream, 3 FAT sectors.
    tree: Tree = {f"stream{number:03d}": bytes([number % 256]) * 100 for number in range(300)}
    tree["large"] = b"L" * 70_000
    data = write_ole(tree)
    assert int.from_bytes(data[44:48], "little") == 3  # FAT sectors
    assert int.from_bytes(data[64:68], "little") == 5  # mini FAT sectors
    expected: dict[str, bytes | None] = {
        f"stream{number:03d}": bytes([number % 256]) * 100 for number in range(300)
    }
    expected["large"] = b"L" * 70_000
    assert _read_back(data) == expected


def test_names_are_ordered_as_the_spec_compares_them() -> None:
    # Shorter names sort first, then case-insensitively: olefile finds each one by name.
    tree: Tree = {"bb": b"2", "A": b"1", "a_long_name": b"3", "C": {"x": b"4"}}
    ole = olefile.OleFileIO(io.BytesIO(write_ole(tree)))
    with ole:
        assert ole.openstream("bb").read() == b"2"
        assert ole.openstream("A").read() == b"1"
        assert ole.openstream("a_long_name").read() == b"3"
        assert ole.openstream("c/X").read() == b"4"
