"""Hash-list parsers: every format read from files the tests write, bad lines counted."""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from caselens.hashsets import pdq
from caselens.hashsets.entries import Algorithm, HashEntry, UnreadableList
from caselens.hashsets.lines import MAX_LINE
from caselens.hashsets.parsers import HashList, detect_format, open_list

MD5 = hashlib.md5(b"a").hexdigest()
SHA1 = hashlib.sha1(b"a").hexdigest()
SHA256 = hashlib.sha256(b"a").hexdigest()
PDQ_A = "f" * 16 + "0" * 48


def read(path: Path, fmt: str = "auto") -> tuple[HashList, list[HashEntry]]:
    hash_list = open_list(path, fmt)
    return hash_list, list(hash_list.entries())


def test_plain_list_with_checksum_lines_comments_and_bad_lines(tmp_path: Path) -> None:
    path = tmp_path / "alert.txt"
    lines = [
        "# alert list, case 17",
        MD5.upper(),
        "",
        f"{SHA1}  photos/beach.jpg",
        f"{SHA256} *binary mode.exe",
        f"SHA256 (report final.pdf) = {SHA256}",
        "not a hash at all",
        "abcdef",
        f"MD5 (x) = {SHA1}",
        "\\" + SHA1 + "  back\\\\slash\\nname",
    ]
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode())
    hash_list, entries = read(path)
    assert hash_list.format == "plain"
    assert entries == [
        HashEntry(Algorithm.MD5, MD5),
        HashEntry(Algorithm.SHA1, SHA1, label="photos/beach.jpg"),
        HashEntry(Algorithm.SHA256, SHA256, label="binary mode.exe"),
        HashEntry(Algorithm.SHA256, SHA256, label="report final.pdf"),
        HashEntry(Algorithm.SHA1, SHA1, label="back\\slash\nname"),
    ]
    report = hash_list.report
    assert (report.lines, report.entries, report.bad_lines) == (10, 5, 3)
    assert report.by_algorithm == {"md5": 1, "sha1": 2, "sha256": 2}
    assert report.problems == [
        (7, "not a hash"),
        (8, "6 hex digits: neither MD5 (32), SHA-1 (40) nor SHA-256 (64)"),
        (9, "40 hex digits cannot be md5"),
    ]
    assert report.summary().startswith("5 hashes (1 md5, 2 sha1, 2 sha256) from 10 lines; 3 bad")


def test_overlong_binary_and_foreign_encoded_lines_are_reported_not_fatal(
    tmp_path: Path,
) -> None:
    path = tmp_path / "list.txt"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + MD5.encode()
        + b"\n"  # UTF-8 byte-order mark
        + b"x" * (MAX_LINE * 3)
        + b"\n"
        + SHA1.encode()
        + b"\x00\n"
        + SHA256.encode()
        + b"  caf\xe9.txt\n"  # Windows-1252 file name
        + SHA1.encode()  # no newline at the end
    )
    hash_list, entries = read(path)
    assert [e.label for e in entries] == [None, "café.txt", None]
    assert [e.algorithm for e in entries] == [Algorithm.MD5, Algorithm.SHA256, Algorithm.SHA1]
    assert hash_list.report.problems == [
        (2, "line longer than 64 KiB"),
        (3, "binary data (NUL bytes)"),
    ]
    assert hash_list.report.lines == 5


def test_utf16_list_as_windows_writes_it(tmp_path: Path) -> None:
    path = tmp_path / "hashes.txt"
    path.write_text(f"{SHA256}  Bericht.docx\r\n{MD5}\r\n", encoding="utf-16")
    hash_list, entries = read(path)
    assert hash_list.format == "plain"
    assert entries == [
        HashEntry(Algorithm.SHA256, SHA256, label="Bericht.docx"),
        HashEntry(Algorithm.MD5, MD5),
    ]


NSRL_HEADER = (
    '"SHA-1","MD5","CRC32","FileName","FileSize","ProductCode","OpSystemCode","SpecialCode"'
)


def test_nsrl_rds2_csv(tmp_path: Path) -> None:
    path = tmp_path / "NSRLFile.txt"
    rows = [
        NSRL_HEADER,
        f'"{SHA1.upper()}","{MD5.upper()}","FFFFFFFF","kernel32.dll",4109,21000,"358",""',
        f'"{SHA1.upper()}","{MD5.upper()}","FFFFFFFF","copy, with comma.dll",4109,21001,"358",""',
        '"NOTAHASH","' + MD5 + '","00000000","half.txt",1,2,"3",""',
        '"too","few"',
        '"unbalanced,"quotes' + ",x" * 6,
    ]
    path.write_bytes(
        "\n".join(rows).encode()
        + b'\n"'
        + SHA1.encode()
        + b'","'
        + MD5.encode()
        + b'","0","r\xe9sum\xe9.doc",1,2,"3",""\n'
    )
    hash_list, entries = read(path)
    assert hash_list.format == "nsrl-rds2"
    assert entries[:2] == [
        HashEntry(Algorithm.SHA1, SHA1, label="kernel32.dll"),
        HashEntry(Algorithm.MD5, MD5, label="kernel32.dll"),
    ]
    assert entries[3].label == "copy, with comma.dll"
    assert entries[4] == HashEntry(Algorithm.MD5, MD5, label="half.txt")  # its SHA-1 was bad
    assert entries[5].label == "résumé.doc"
    assert len(entries) == 7
    assert hash_list.report.problems == [
        (4, "bad sha1 'NOTAHASH'"),
        (5, "2 fields where the header has 8"),
        (6, "not CSV (unbalanced quotes)"),
    ]


def test_nsrl_rds2_without_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "NSRLFile.txt"
    path.write_text(f'"{SHA1}","{MD5}","0","a",1,2,"3",""\n')
    with pytest.raises(UnreadableList, match="line 1 is not an NSRL header"):
        read(path, "nsrl-rds2")


def _rds3(path: Path, table: str = "FILE") -> None:
    with sqlite3.connect(path) as db:
        db.execute(
            f"CREATE TABLE {table} (sha256 VARCHAR NOT NULL, sha1 VARCHAR NOT NULL, "
            "md5 VARCHAR NOT NULL, crc32 VARCHAR NOT NULL, file_name VARCHAR NOT NULL, "
            "file_size INTEGER NOT NULL, package_id INTEGER NOT NULL)"
        )
        db.execute("CREATE TABLE PKG (package_id INTEGER, name VARCHAR)")
        db.executemany(
            f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (SHA256.upper(), SHA1.upper(), MD5.upper(), "E8B7BE43", "notepad.exe", 1, 7),
                ("zz", SHA1, MD5, "0", "bad.exe", 1, 7),
                (12345, "", "", "0", "numbers.exe", 1, 7),
            ],
        )
    db.close()


def test_nsrl_rds3_sqlite_found_by_structure(tmp_path: Path) -> None:
    path = tmp_path / "RDS_2024.12.1_modern_minimal.db"
    _rds3(path)
    hash_list, entries = read(path)
    assert hash_list.format == "nsrl-rds3"
    assert entries == [
        HashEntry(Algorithm.SHA256, SHA256, label="notepad.exe"),
        HashEntry(Algorithm.SHA1, SHA1, label="notepad.exe"),
        HashEntry(Algorithm.MD5, MD5, label="notepad.exe"),
        HashEntry(Algorithm.SHA1, SHA1, label="bad.exe"),
        HashEntry(Algorithm.MD5, MD5, label="bad.exe"),
    ]
    assert hash_list.report.problems == [(2, "bad sha256 'zz'"), (3, "bad sha256 '12345'")]
    assert hash_list.report.lines == 3
    # Read-only and immutable: the list file is not touched.
    assert not (tmp_path / "RDS_2024.12.1_modern_minimal.db-wal").exists()


def test_sqlite_subset_with_another_table_name_and_broken_databases(tmp_path: Path) -> None:
    subset = tmp_path / "subset.db"
    _rds3(subset, table="hashes")
    assert len(read(subset)[1]) == 5

    other = tmp_path / "other.db"
    with sqlite3.connect(other) as db:
        db.execute("CREATE TABLE t (md5 TEXT)")
    db.close()
    with pytest.raises(UnreadableList, match="without a table of sha256, sha1 and md5"):
        read(other)

    broken = tmp_path / "broken.db"
    broken.write_bytes(b"SQLite format 3\x00" + b"\xff" * 300)
    with pytest.raises(UnreadableList, match=r"broken\.db"):
        read(broken)


def test_pdq_lists_with_quality_labels_header_and_bare_hashes(tmp_path: Path) -> None:
    path = tmp_path / "pdq.csv"
    path.write_text(
        "hash,quality,label\n"
        f"{PDQ_A},100,series A, image 1\n"
        f"{'0' * 64},49\n"
        f"{'1' * 63},90\n"
        f"{'2' * 64},101\n"
        f"{'3' * 64},high\n"
    )
    hash_list, entries = read(path)
    assert hash_list.format == "pdq"
    assert entries == [
        HashEntry(Algorithm.PDQ, PDQ_A, 100, "series A, image 1"),
        HashEntry(Algorithm.PDQ, "0" * 64, 49),
    ]
    assert [line for line, _ in hash_list.report.problems] == [4, 5, 6]

    bare = tmp_path / "bare.txt"
    bare.write_text(f"{PDQ_A}\n")
    assert detect_format(bare) == "plain"  # 64 hex digits read as SHA-256 by default
    assert read(bare, "pdq")[1] == [HashEntry(Algorithm.PDQ, PDQ_A)]


def test_detection_and_refusals(tmp_path: Path) -> None:
    assert detect_format(_write(tmp_path / "a", NSRL_HEADER + "\n")) == "nsrl-rds2"
    assert detect_format(_write(tmp_path / "b", f"# pdq\n{PDQ_A},88\n")) == "pdq"
    assert detect_format(_write(tmp_path / "c", f"{MD5}\n")) == "plain"
    binary = tmp_path / "d.bin"
    binary.write_bytes(b"\x7fELF\x00\x00\x01")
    with pytest.raises(UnreadableList, match="binary file"):
        open_list(binary)
    with pytest.raises(UnreadableList, match="no such file"):
        open_list(tmp_path / "missing.txt")
    with pytest.raises(UnreadableList, match="unknown hash-list format 'csv'"):
        open_list(tmp_path / "c", "csv")


def _write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


names = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\\"), max_size=40
).map(str.strip)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.binary(max_size=64), names), max_size=20))
def test_sha256sum_round_trip(tmp_path_factory: pytest.TempPathFactory, files: list) -> None:
    path = tmp_path_factory.mktemp("rt") / "SHA256SUMS"
    written = [(hashlib.sha256(data).hexdigest(), name) for data, name in files]
    path.write_text("".join(f"{digest}  {name}\n" for digest, name in written), encoding="utf-8")
    _, entries = read(path, "plain")
    assert [(e.value, e.label) for e in entries] == [(d, n or None) for d, n in written]


def test_pdq_distances_agree_with_a_plain_reference() -> None:
    import random

    rng = random.Random(5)
    left = [f"{rng.getrandbits(256):064x}" for _ in range(40)]
    right = [f"{rng.getrandbits(256):064x}" for _ in range(30)]
    base = int(left[0], 16)
    right.append(f"{base ^ 0b1011:064x}")  # 3 bits from left[0]
    right.append(f"{base ^ ((1 << 256) - 1):064x}")  # all 256 bits differ: wraps in uint8
    threshold = 110
    found = {
        (a, b, d)
        for block in pdq.close_pairs(left, right, threshold)
        for a, b, d in zip(
            block.left.tolist(), block.right.tolist(), block.distance.tolist(), strict=True
        )
    }
    expected = {
        (a, b, pdq.distance(x, y))
        for a, x in enumerate(left)
        for b, y in enumerate(right)
        if pdq.distance(x, y) <= threshold
    }
    assert found == expected
    assert (0, 30, 3) in found and not any(a == 0 and b == 31 for a, b, _ in found)


def test_near_duplicate_groups_chain_and_count_copies_once() -> None:
    base = 1 << 200 | 12345
    hashes = [
        f"{base:064x}",
        f"{base ^ 0b111:064x}",  # 3 from the first
        f"{base ^ 0b111 ^ (0b11111 << 40):064x}",  # 5 from the second, 8 from the first
        f"{(1 << 255) | (1 << 100):064x}",  # far from all
        f"{base:064x}",  # a copy of the first
    ]
    groups = pdq.near_duplicate_groups(hashes, 5)
    assert [(g.members, g.nearest) for g in groups] == [([0, 1, 2, 4], [0, 3, 5, 0])]
    assert pdq.near_duplicate_groups(hashes, 2) == [pdq.Group([0, 4], [0, 0])]
    with pytest.raises(ValueError, match="outside"):
        pdq.near_duplicate_groups(hashes, 129)
