"""Archive ingestors: zip, tar (+gz/bz2/xz), single compressed files, 7z and RAR.

Fixtures are written here with the standard library, pyzipper and py7zr (including
hostile, truncated, encrypted and non-UTF-8 ones); the shared corpus is read in place.
"""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import lzma
import os
import stat
import struct
import tarfile
import zipfile
import zlib
from pathlib import Path

import py7zr
import pytest
import pyzipper  # type: ignore[import-untyped]

from caselens.ingest.errors import BrokenFile, EncryptedFile, LimitReached
from caselens.ingest.formats import archives_tool
from caselens.ingest.formats.archives import (
    ARCHIVE_INGESTORS,
    CompressedIngestor,
    RarIngestor,
    SevenZipIngestor,
    TarIngestor,
    ZipIngestor,
)
from caselens.ingest.harness import Extraction, extract, source_for
from caselens.ingest.limits import MIB, Limits
from caselens.ingest.registry import Ingestor, candidates
from tests.conftest import CORPUS, needs_corpus

TIKA = CORPUS / "documents" / "tika"
TEST_DOCUMENTS = [
    f"test-documents/{name}"
    for name in (
        "testEXCEL.xls",
        "testHTML.html",
        "testOpenOffice2.odt",
        "testPDF.pdf",
        "testPPT.ppt",
        "testRTF.rtf",
        "testTXT.txt",
        "testWORD.doc",
        "testXML.xml",
    )
]
needs_unar = pytest.mark.skipif(not archives_tool.has_unar(), reason="unar/lsar not installed")
needs_bsdtar = pytest.mark.skipif(
    archives_tool.tool("bsdtar") is None, reason="bsdtar not installed"
)
FIXED_TIME = (2021, 3, 4, 5, 6, 8)


def write_zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, FIXED_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return path


def run(ingestor: type[Ingestor], path: Path, tmp_path: Path, **options: object) -> Extraction:
    return extract(ingestor, path, tmp_path / "work", **options)  # type: ignore[arg-type]


def files_outside(tmp_path: Path, name: str) -> list[Path]:
    """Files called ``name`` anywhere near the test folder (an escape would land there)."""
    return [path for path in tmp_path.parent.rglob(name) if "blobs" not in path.parts]


# ---------------------------------------------------------------- zip


def test_zip_members_bytes_and_metadata(tmp_path: Path) -> None:
    path = write_zip(
        tmp_path / "a.zip", {"docs/report.txt": b"quarterly figures\n", "b.bin": b"\x00\x01"}
    )
    result = run(ZipIngestor, path, tmp_path)
    assert result.sink.document_schema == "Package"
    assert result.child_paths == [b"docs/report.txt", b"b.bin"]
    assert result.child_bytes(b"docs/report.txt") == b"quarterly figures\n"
    assert result.sink.children[0].metadata == {
        "size": 18,
        "compressed_size": 20,
        "crc32": f"{zlib.crc32(b'quarterly figures' + bytes([10])):08x}",
        "compression": "deflate",
        "modified_local": "2021-03-04T05:06:08",
    }
    assert result.sink.warnings == []


def test_zip_utc_time_from_extended_timestamp(tmp_path: Path) -> None:
    path = tmp_path / "ut.zip"
    with zipfile.ZipFile(path, "w") as archive:
        info = zipfile.ZipInfo("x.txt", FIXED_TIME)
        info.extra = struct.pack("<HHBi", 0x5455, 5, 1, 1_600_000_000)
        archive.writestr(info, b"x")
    result = run(ZipIngestor, path, tmp_path)
    assert result.sink.children[0].metadata["modified"] == "2020-09-13T12:26:40Z"


def test_zip_names_keep_their_raw_bytes(tmp_path: Path) -> None:
    sjis = "報告.txt".encode("shift_jis")  # 8 bytes, written without the UTF-8 flag
    path = write_zip(tmp_path / "n.zip", {"XXXX.txt": b"sjis", "café/naïve.txt": b"utf8"})
    raw = path.read_bytes()
    assert raw.count(b"XXXX.txt") == 2  # local header and central directory
    path.write_bytes(raw.replace(b"XXXX.txt", sjis))
    result = run(ZipIngestor, path, tmp_path)
    assert result.child_paths == [sjis, "café/naïve.txt".encode()]
    assert result.child_bytes(sjis) == b"sjis"


def test_zip64_and_data_descriptors(tmp_path: Path) -> None:
    class Unseekable(io.RawIOBase):
        """Forces zipfile to write data descriptors (it cannot go back to the header)."""

        def __init__(self) -> None:
            self.buffer = bytearray()

        def writable(self) -> bool:
            return True

        def write(self, data: object) -> int:
            chunk = bytes(data)  # type: ignore[call-overload]
            self.buffer += chunk
            return len(chunk)

    target = Unseekable()
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open("big.txt", "w", force_zip64=True) as member:
            member.write(b"line\n" * 1000)
        archive.writestr("small.txt", b"small")
    path = tmp_path / "dd.zip"
    path.write_bytes(bytes(target.buffer))
    with zipfile.ZipFile(path) as check:
        assert all(info.flag_bits & 0x08 for info in check.infolist())
    result = run(ZipIngestor, path, tmp_path)
    assert result.child_paths == [b"big.txt", b"small.txt"]
    assert result.child_bytes(b"big.txt") == b"line\n" * 1000


def write_aes_zip(path: Path, password: bytes, plain: dict[str, bytes] | None = None) -> Path:
    with pyzipper.AESZipFile(
        path, "w", compression=pyzipper.ZIP_DEFLATED, encryption=pyzipper.WZ_AES
    ) as archive:
        archive.setpassword(password)
        archive.writestr("secret.txt", b"the ledger is in the safe")
    if plain:
        with zipfile.ZipFile(path, "a") as archive:
            for name, data in plain.items():
                archive.writestr(name, data)
    return path


def test_aes_zip_opens_only_with_the_right_password(tmp_path: Path) -> None:
    path = write_aes_zip(tmp_path / "aes.zip", b"s3cret")
    with pytest.raises(EncryptedFile) as locked:
        run(ZipIngestor, path, tmp_path / "none")
    assert str(locked.value) == (
        "zip archive: 1 of 1 members are encrypted and no supplied password opens them "
        "(secret.txt); 0 members kept"
    )
    with pytest.raises(EncryptedFile):
        run(ZipIngestor, path, tmp_path / "wrong", passwords=("guess", "other"))
    result = run(ZipIngestor, path, tmp_path / "right", passwords=("guess", "s3cret"))
    assert result.sink.decrypted is True
    assert result.child_bytes(b"secret.txt") == b"the ledger is in the safe"
    metadata = result.sink.children[0].metadata
    assert (metadata["encrypted"], metadata["compression"]) == ("aes", "deflate")


def test_zip_with_some_members_locked_keeps_the_readable_ones(tmp_path: Path) -> None:
    path = write_aes_zip(tmp_path / "mixed.zip", b"pw", plain={"open.txt": b"visible"})
    with pytest.raises(EncryptedFile, match="1 of 2 members are encrypted") as locked:
        run(ZipIngestor, path, tmp_path)
    assert "(secret.txt); 1 members kept" in str(locked.value)
    sink_children = _children_after_error(ZipIngestor, path, tmp_path / "again")
    assert sink_children == {b"open.txt": b"visible"}


def _children_after_error(
    ingestor: type[Ingestor], path: Path, work: Path, limits: Limits | None = None
) -> dict[bytes, bytes]:
    """The children kept in the sink when ingest raised (partial results)."""
    from caselens.ingest.harness import CASE_ID
    from caselens.ingest.sink import Sink

    source, store = source_for(path, work, limits=limits)
    sink = Sink(
        CASE_ID,
        source.item_id,
        source.limits,
        lambda stream: store.put_stream(stream, head_size=0, keep_limit=0).digests,
        source.size,
    )
    with pytest.raises((BrokenFile, EncryptedFile, LimitReached)):
        ingestor().ingest(source, sink)
    return {
        child.path: store.path_for(child.digests.sha256).read_bytes() for child in sink.children
    }


def test_zip_hostile_names_are_only_names(tmp_path: Path) -> None:
    names = ["../../escape-zip.txt", "/etc/abs-zip.txt", "C:\\Windows\\drive-zip.txt"]
    path = write_zip(tmp_path / "evil.zip", {name: b"x" for name in names})
    result = run(ZipIngestor, path, tmp_path)
    assert result.child_paths == [name.encode() for name in names]
    for leaf in ("escape-zip.txt", "abs-zip.txt", "drive-zip.txt"):
        assert files_outside(tmp_path, leaf) == []
    assert not Path("/etc/abs-zip.txt").exists()


def test_zip_symlink_member_is_recorded_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "link.zip"
    with zipfile.ZipFile(path, "w") as archive:
        link = zipfile.ZipInfo("passwd-link", FIXED_TIME)
        link.create_system = 3
        link.external_attr = (stat.S_IFLNK | 0o777) << 16
        archive.writestr(link, b"/etc/passwd")
        archive.writestr("real.txt", b"real")
    result = run(ZipIngestor, path, tmp_path)
    assert result.child_paths == [b"real.txt"]
    assert result.sink.warnings == ["symbolic link passwd-link -> /etc/passwd not followed"]


def test_zip_bomb_stops_at_the_expanded_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "bomb.zip"
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive,
        archive.open("zeros.bin", "w") as member,
    ):
        for _ in range(16):
            member.write(bytes(MIB))
    assert path.stat().st_size < 50_000
    with pytest.raises(LimitReached, match=r"expanded content exceeds 2 MiB"):
        run(ZipIngestor, path, tmp_path, limits=Limits(max_expanded_bytes=2 * MIB))


def test_zip_with_too_many_members(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "many.zip", {f"m{index}.txt": b"m" for index in range(5)})
    limits = Limits(max_members=3)
    with pytest.raises(LimitReached, match=r"more than 3 members"):
        run(ZipIngestor, path, tmp_path, limits=limits)
    kept = _children_after_error(ZipIngestor, path, tmp_path / "again", limits)
    assert sorted(kept) == [b"m0.txt", b"m1.txt", b"m2.txt"]
    huge = write_zip(tmp_path / "huge.zip", {f"h{index}": b"" for index in range(7)})
    with pytest.raises(LimitReached, match=r"the zip lists 7 members, more than 3"):
        run(ZipIngestor, huge, tmp_path / "huge", limits=limits)


def test_truncated_zip_keeps_the_members_before_the_cut(tmp_path: Path) -> None:
    members = {"one.txt": b"first" * 50, "two.txt": b"second" * 50, "three.txt": b"3" * 5000}
    path = write_zip(tmp_path / "full.zip", members)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(path.read_bytes()[: path.read_bytes().index(b"three.txt") + 20])
    with pytest.raises(BrokenFile) as broken:
        run(ZipIngestor, cut, tmp_path)
    assert str(broken.value) == (
        "zip archive is damaged: the central directory is missing (truncated?); "
        "1 members unreadable (three.txt: the archive ends inside this member); "
        "2 members kept"
    )
    kept = _children_after_error(ZipIngestor, cut, tmp_path / "again")
    assert kept == {b"one.txt": b"first" * 50, b"two.txt": b"second" * 50}


def test_zip_member_with_bad_crc_is_reported_others_kept(tmp_path: Path) -> None:
    path = tmp_path / "crc.zip"
    with zipfile.ZipFile(path, "w") as archive:  # stored, so the bytes can be altered
        archive.writestr("good.txt", b"good data")
        archive.writestr("bad.txt", b"original")
    path.write_bytes(path.read_bytes().replace(b"original", b"tampered"))
    with pytest.raises(BrokenFile, match=r"1 members unreadable \(bad.txt: Bad CRC-32"):
        run(ZipIngestor, path, tmp_path)
    assert _children_after_error(ZipIngestor, path, tmp_path / "again") == {
        b"good.txt": b"good data"
    }


def test_split_zip_volume_is_broken_with_a_clear_reason(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "part.zip", {"a.txt": b"a"})
    raw = bytearray(path.read_bytes())
    end = raw.rindex(b"PK\x05\x06")
    struct.pack_into("<HH", raw, end + 4, 2, 2)  # this is disk 3, directory on disk 3
    path.write_bytes(bytes(raw))
    with pytest.raises(BrokenFile) as broken:
        run(ZipIngestor, path, tmp_path)
    assert str(broken.value) == (
        "this is volume 3 of a split (spanned) zip archive: the other volumes "
        "(.z01, .z02, ...) are needed to read it"
    )


def test_not_a_zip_at_all(tmp_path: Path) -> None:
    path = tmp_path / "fake.zip"
    path.write_bytes(b"just some text, no archive")
    with pytest.raises(BrokenFile, match="not a readable zip archive"):
        run(ZipIngestor, path, tmp_path)


# ---------------------------------------------------------------- tar


def write_tar(path: Path, mode: str = "w") -> Path:
    with tarfile.open(path, mode, format=tarfile.PAX_FORMAT) as archive:  # type: ignore[call-overload]
        for name, data in (("dir/notes.txt", b"meeting at noon\n"), ("../escape-tar.txt", b"x")):
            info = tarfile.TarInfo(name)
            info.size, info.mtime, info.mode = len(data), 1_600_000_000, 0o640
            info.uname, info.gname = "alice", "staff"
            archive.addfile(info, io.BytesIO(data))
        for name, kind, target in (
            ("dir", tarfile.DIRTYPE, ""),
            ("link-out", tarfile.SYMTYPE, "/etc/passwd"),
            ("hard", tarfile.LNKTYPE, "dir/notes.txt"),
            ("pipe", tarfile.FIFOTYPE, ""),
            ("/abs/escape-abs.txt", tarfile.REGTYPE, ""),
        ):
            info = tarfile.TarInfo(name)
            info.type, info.linkname = kind, target
            archive.addfile(info, io.BytesIO(b""))
    return path


TAR_WARNINGS = [
    "symbolic link link-out -> /etc/passwd not followed",
    "hard link hard -> dir/notes.txt not followed",
    "special file pipe (FIFO) skipped",
]


def test_tar_regular_members_only_links_warned(tmp_path: Path) -> None:
    result = run(TarIngestor, write_tar(tmp_path / "a.tar"), tmp_path)
    assert result.child_paths == [b"dir/notes.txt", b"../escape-tar.txt", b"/abs/escape-abs.txt"]
    assert result.child_bytes(b"dir/notes.txt") == b"meeting at noon\n"
    assert result.sink.children[0].metadata == {
        "size": 16,
        "mode": "640",
        "modified": "2020-09-13T12:26:40Z",
        "owner": "alice",
        "group": "staff",
    }
    assert result.sink.warnings == TAR_WARNINGS
    assert files_outside(tmp_path, "escape-tar.txt") == []
    assert not Path("/abs/escape-abs.txt").exists()


@pytest.mark.parametrize(
    ("mode", "suffix"), [("w:gz", ".tgz"), ("w:bz2", ".tar.bz2"), ("w:xz", ".tar.xz")]
)
def test_compressed_tars_read_as_tar(tmp_path: Path, mode: str, suffix: str) -> None:
    result = run(CompressedIngestor, write_tar(tmp_path / f"a{suffix}", mode), tmp_path)
    assert result.child_paths == [b"dir/notes.txt", b"../escape-tar.txt", b"/abs/escape-abs.txt"]
    assert result.child_bytes(b"dir/notes.txt") == b"meeting at noon\n"
    assert result.sink.warnings == TAR_WARNINGS


def test_truncated_tar_keeps_the_members_before_the_cut(tmp_path: Path) -> None:
    path = tmp_path / "t.tar"
    with tarfile.open(path, "w") as archive:
        for name, data in (("first.txt", b"1" * 600), ("second.txt", b"2" * 3000)):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    cut = tmp_path / "cut.tar"
    cut.write_bytes(path.read_bytes()[:2500])
    with pytest.raises(BrokenFile) as broken:
        run(TarIngestor, cut, tmp_path)
    assert str(broken.value) == (
        "tar archive is damaged: reading the next header failed (unexpected end of data); "
        "1 members unreadable (second.txt: unexpected end of data); 1 members kept"
    )
    assert _children_after_error(TarIngestor, cut, tmp_path / "again") == {b"first.txt": b"1" * 600}


def test_empty_tar_is_an_empty_package(tmp_path: Path) -> None:
    path = tmp_path / "empty.tar"
    with tarfile.open(path, "w"):
        pass
    result = run(TarIngestor, path, tmp_path)
    assert (result.child_paths, result.sink.document_schema) == ([], "Package")


# ---------------------------------------------------------------- single compressed files


def test_gzip_child_takes_the_stored_file_name(tmp_path: Path) -> None:
    path = tmp_path / "renamed.gz"
    with (
        open(path, "wb") as raw,
        gzip.GzipFile("Bank Statement.csv", "wb", fileobj=raw, mtime=1_600_000_000) as out,
    ):
        out.write(b"date,amount\n")
    result = run(CompressedIngestor, path, tmp_path)
    assert result.child_paths == [b"Bank Statement.csv"]
    assert result.child_bytes(b"Bank Statement.csv") == b"date,amount\n"
    assert result.sink.children[0].metadata == {
        "compressed_size": path.stat().st_size,
        "compression": "gzip",
        "modified": "2020-09-13T12:26:40Z",
    }


@pytest.mark.parametrize(
    ("name", "compress", "child"),
    [
        ("notes.txt.gz", lambda data: gzip.compress(data, mtime=0), b"notes.txt"),
        ("notes.txt.bz2", bz2.compress, b"notes.txt"),
        ("notes.txt.xz", lzma.compress, b"notes.txt"),
        ("image.svgz", lambda data: gzip.compress(data, mtime=0), b"image.svg"),
    ],
)
def test_single_compressed_file_named_after_the_file(
    tmp_path: Path, name: str, compress: object, child: bytes
) -> None:
    path = tmp_path / name
    path.write_bytes(compress(b"hello\n"))  # type: ignore[operator]
    result = run(CompressedIngestor, path, tmp_path)
    assert result.child_paths == [child]
    assert result.child_bytes(child) == b"hello\n"


def test_multi_member_gzip_is_one_stream(tmp_path: Path) -> None:
    path = tmp_path / "log.gz"
    path.write_bytes(gzip.compress(b"part one\n", mtime=0) + gzip.compress(b"part two\n", mtime=0))
    result = run(CompressedIngestor, path, tmp_path)
    assert result.child_bytes(b"log") == b"part one\npart two\n"


def test_gzip_with_trailing_garbage_keeps_the_content(tmp_path: Path) -> None:
    path = tmp_path / "tail.gz"
    path.write_bytes(gzip.compress(b"content\n", mtime=0) + b"GARBAGE!!" + bytes(7))
    result = run(CompressedIngestor, path, tmp_path)
    assert result.child_bytes(b"tail") == b"content\n"
    assert result.sink.warnings == ["16 bytes of data after the compressed stream were ignored"]
    padded = tmp_path / "padded.gz"
    padded.write_bytes(gzip.compress(b"content\n", mtime=0) + bytes(512))
    assert run(CompressedIngestor, padded, tmp_path / "padded").sink.warnings == []


def test_truncated_gzip_keeps_what_was_decompressed(tmp_path: Path) -> None:
    data = os.urandom(200_000)
    path = tmp_path / "cut.bin.gz"
    path.write_bytes(gzip.compress(data, mtime=0)[:100_000])
    with pytest.raises(BrokenFile, match=r"gzip data is damaged: the compressed data ends early"):
        run(CompressedIngestor, path, tmp_path)
    kept = _children_after_error(CompressedIngestor, path, tmp_path / "again")
    assert 90_000 < len(kept[b"cut.bin"]) < 100_000
    assert data.startswith(kept[b"cut.bin"])


def test_corrupt_bzip2_is_broken(tmp_path: Path) -> None:
    path = tmp_path / "bad.bz2"
    raw = bytearray(bz2.compress(b"x" * 10_000))
    raw[20:30] = b"\xff" * 10
    path.write_bytes(bytes(raw))
    with pytest.raises(BrokenFile, match=r"bzip2 data is damaged: the compressed data is corrupt"):
        run(CompressedIngestor, path, tmp_path)


# ---------------------------------------------------------------- 7z


def write_7z(path: Path, members: dict[str, bytes], **options: object) -> Path:
    with py7zr.SevenZipFile(path, "w", **options) as archive:  # type: ignore[arg-type]
        for name, data in members.items():
            archive.writestr(data, name)
    return path


def test_7z_members_bytes_and_metadata(tmp_path: Path) -> None:
    path = write_7z(tmp_path / "a.7z", {"dir/one.txt": b"first member", "two.txt": b"second"})
    result = run(SevenZipIngestor, path, tmp_path)
    assert result.child_paths == [b"dir/one.txt", b"two.txt"]
    assert result.child_bytes(b"dir/one.txt") == b"first member"
    metadata = result.sink.children[0].metadata
    assert (metadata["size"], metadata["crc32"]) == (12, f"{zlib.crc32(b'first member'):08x}")
    assert metadata["modified"].endswith("Z")


@pytest.mark.parametrize("header_encryption", [False, True])
def test_7z_with_password(tmp_path: Path, header_encryption: bool) -> None:
    path = write_7z(
        tmp_path / "p.7z",
        {"ledger.txt": b"account 42"},
        password="hunter2",
        header_encryption=header_encryption,
    )
    with pytest.raises(EncryptedFile):
        run(SevenZipIngestor, path, tmp_path / "none")
    with pytest.raises(EncryptedFile):
        run(SevenZipIngestor, path, tmp_path / "wrong", passwords=("nope",))
    result = run(SevenZipIngestor, path, tmp_path / "right", passwords=("nope", "hunter2"))
    assert result.sink.decrypted is True
    assert result.child_bytes(b"ledger.txt") == b"account 42"


def test_7z_hostile_names_are_only_names(tmp_path: Path) -> None:
    path = tmp_path / "evil.7z"
    buffer = io.BytesIO()
    archive = py7zr.SevenZipFile(buffer, "w")
    archive.encoded_header_mode = False  # a plain header, so the name can be patched
    archive.writestr(b"x", "AA/escape-7z.txt")
    archive.writestr(b"ok", "good.txt")
    archive.close()
    raw = bytearray(buffer.getvalue())
    old = "AA/escape-7z.txt".encode("utf-16-le")
    start = raw.index(old)
    raw[start : start + len(old)] = "../escape-7z.txt".encode("utf-16-le")
    offset, size = struct.unpack_from("<QQ", raw, 12)
    struct.pack_into("<I", raw, 28, zlib.crc32(raw[32 + offset : 32 + offset + size]))
    struct.pack_into("<I", raw, 8, zlib.crc32(raw[12:32]))
    path.write_bytes(bytes(raw))
    result = run(SevenZipIngestor, path, tmp_path)
    assert result.child_paths == [b"../escape-7z.txt", b"good.txt"]
    assert files_outside(tmp_path, "escape-7z.txt") == []


def test_7z_bomb_and_truncation(tmp_path: Path) -> None:
    bomb = write_7z(tmp_path / "bomb.7z", {"zeros": bytes(16 * MIB)})
    with pytest.raises(LimitReached, match=r"expanded content exceeds 2 MiB"):
        run(SevenZipIngestor, bomb, tmp_path / "bomb", limits=Limits(max_expanded_bytes=2 * MIB))
    path = write_7z(tmp_path / "t.7z", {"a.bin": os.urandom(50_000)})
    cut = tmp_path / "cut.7z"
    cut.write_bytes(path.read_bytes()[:20_000])
    with pytest.raises(BrokenFile, match="7z"):
        run(SevenZipIngestor, cut, tmp_path / "cut")


# ---------------------------------------------------------------- RAR (and the tool path)


@needs_unar
def test_tool_extraction_keeps_hostile_names_inside_scratch(tmp_path: Path) -> None:
    # unar reads zip too: the same extraction path as RAR, with names a test can write.
    names = ["../../escape-rar.txt", "/abs/abs-rar.txt", "C:\\win\\drive-rar.txt", "ok/fine.txt"]
    path = write_zip(tmp_path / "evil.zip", {name: name.encode() for name in names})
    result = run(RarIngestor, path, tmp_path)
    assert result.child_paths == [name.encode() for name in names]
    assert result.child_bytes(b"../../escape-rar.txt") == b"../../escape-rar.txt"
    for leaf in ("escape-rar.txt", "abs-rar.txt", "drive-rar.txt"):
        assert files_outside(tmp_path, leaf) == []
    assert list((tmp_path / "work" / "scratch").iterdir()) == []  # scratch removed


@needs_unar
def test_tool_extraction_reports_a_truncated_member(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "t.zip", {"a.txt": b"a" * 100, "b.bin": os.urandom(30_000)})
    cut = tmp_path / "cut.zip"
    cut.write_bytes(path.read_bytes()[:15_000])
    with pytest.raises(BrokenFile, match=r"RAR archive is damaged"):
        run(RarIngestor, cut, tmp_path)


def test_rar_without_any_tool(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(archives_tool, "tool", lambda name: None)
    path = tmp_path / "x.rar"
    path.write_bytes(b"Rar!\x1a\x07\x00" + bytes(50))
    with pytest.raises(BrokenFile) as broken:
        run(RarIngestor, path, tmp_path)
    assert str(broken.value) == "RAR needs unar or bsdtar (apt-get install unar)"


@needs_corpus
@needs_bsdtar
def test_rar_through_bsdtar_when_unar_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(archives_tool, "has_unar", lambda: False)
    result = run(RarIngestor, TIKA / "test-documents.rar", tmp_path)
    assert sorted(result.child_paths) == [name.encode() for name in TEST_DOCUMENTS]


# ---------------------------------------------------------------- registration and scores


def test_scores_pick_the_archive_ingestors(tmp_path: Path) -> None:
    files = {
        "a.zip": write_zip(tmp_path / "a.zip", {"a": b"a"}),
        "a.tar": write_tar(tmp_path / "a.tar"),
        "a.tgz": write_tar(tmp_path / "a.tgz", "w:gz"),
        "a.7z": write_7z(tmp_path / "a.7z", {"a": b"a"}),
    }
    expected = {"a.zip": "zip", "a.tar": "tar", "a.tgz": "compressed", "a.7z": "7z"}
    for name, path in files.items():
        source, _ = source_for(path, tmp_path / "s" / name)
        assert candidates(list(ARCHIVE_INGESTORS), source)[0].name == expected[name]
    tarless, _ = source_for(write_tar(tmp_path / "noext", "w"), tmp_path / "s" / "noext")
    assert TarIngestor.score(tarless) > 0


# ---------------------------------------------------------------- corpus


def _expect(name: str) -> tuple[type[Ingestor], str]:
    by_suffix: dict[str, type[Ingestor]] = {
        ".zip": ZipIngestor,
        ".7z": SevenZipIngestor,
        ".rar": RarIngestor,
        ".tar": TarIngestor,
    }
    suffix = Path(name).suffix
    return by_suffix.get(suffix, CompressedIngestor), suffix


CORPUS_EXPECTED: dict[str, object] = {
    "test-documents.zip": [name.split("/")[1] for name in TEST_DOCUMENTS],
    "test-documents.7z": TEST_DOCUMENTS,
    "test-documents.tar": TEST_DOCUMENTS,
    "test-documents.tgz": TEST_DOCUMENTS,
    "test-documents.rar": TEST_DOCUMENTS,
    "droste.zip": ["droste.jpg", "droste.zip"],
    "test-zip-of-zip.zip": ["html-within-zip.zip"],
    "testZip_with_DataDescriptor.zip": ["en4", "en0", "en1", "en2", "en3"],
    "test-nested-tarball.tar": ["folderContainingTgz/inner/nested.tgz"],
    "testTAR_no_magic.tar": ["Lorem ipsum 1", "Lorem ipsum 2", "Lorem ipsum 3"],
    "multiple.gz": ["a"],
    "quine.gz": ["quine.gz"],
    "test-bz2.txt.bz2": ["test-bz2.txt"],
    "testWARC_multiple.warc.gz": ["testWARC_multiple.warc"],
    "testZipEntryNameCharsetShiftSJIS.zip": ["文章1.txt", "文章2.txt"],
    "test-documents-spanned.zip": BrokenFile,
    "testZIP_corrupted_oom.zip": BrokenFile,
    "full_encrypted.7z": EncryptedFile,
    "test7Z_protected_passTika.7z": EncryptedFile,
    "test-documents-enc.rar": EncryptedFile,
    "testZipEncrypted.zip": EncryptedFile,
}


@needs_corpus
@pytest.mark.parametrize("name", sorted(CORPUS_EXPECTED))
def test_corpus_archives(tmp_path: Path, name: str) -> None:
    if name.endswith(".rar") and not archives_tool.has_unar():
        pytest.skip("unar not installed")
    ingestor, _ = _expect(name)
    expected = CORPUS_EXPECTED[name]
    if isinstance(expected, type):
        with pytest.raises(expected):
            run(ingestor, TIKA / name, tmp_path)
        return
    result = run(ingestor, TIKA / name, tmp_path)
    wanted = [
        entry.encode("shift_jis") if "SJIS" in name else entry.encode()
        for entry in expected  # type: ignore[attr-defined]
    ]
    assert result.child_paths == wanted


@needs_corpus
def test_corpus_quine_and_droste_do_not_recurse(tmp_path: Path) -> None:
    droste = run(ZipIngestor, TIKA / "droste.zip", tmp_path / "d")
    assert droste.child_bytes(b"droste.zip") == (TIKA / "droste.zip").read_bytes()
    quine = run(CompressedIngestor, TIKA / "quine.gz", tmp_path / "q")
    assert quine.child_bytes(b"quine.gz")[:10] == (TIKA / "quine.gz").read_bytes()[:10]


@needs_corpus
def test_corpus_encrypted_archives_open_with_their_password(tmp_path: Path) -> None:
    seven = run(
        SevenZipIngestor, TIKA / "test7Z_protected_passTika.7z", tmp_path / "7", passwords=("Tika",)
    )
    assert seven.sink.decrypted is True
    assert seven.child_paths == [b"text.txt"]
    assert seven.child_bytes(b"text.txt").startswith(b"TEST DATA FOR TIKA.\n")
    with pytest.raises(EncryptedFile) as locked:
        run(ZipIngestor, TIKA / "testZipEncrypted.zip", tmp_path / "z")
    assert str(locked.value) == (
        "zip archive: 1 of 2 members are encrypted and no supplied password opens them "
        "(encrypted.txt); 1 members kept"
    )


@needs_corpus
@needs_unar
def test_corpus_encrypted_rar_opens_with_its_password(tmp_path: Path) -> None:
    # RAR 2.9 with encrypted headers: decrypted into a scratch copy unar can read.
    path = TIKA / "test-documents-enc.rar"
    with pytest.raises(EncryptedFile, match="encrypted headers"):
        run(RarIngestor, path, tmp_path / "none")
    with pytest.raises(EncryptedFile, match="encrypted headers"):
        run(RarIngestor, path, tmp_path / "wrong", passwords=("apachetika",))
    result = run(RarIngestor, path, tmp_path / "right", passwords=("wrong", "ApacheTika"))
    assert sorted(result.child_paths) == [name.encode() for name in TEST_DOCUMENTS]
    assert result.child_bytes(b"test-documents/testTXT.txt") == (
        b"Test d'indexation de Txt\r\nhttp://www.apache.org\r\n"
    )
    assert result.sink.decrypted


@needs_corpus
@needs_unar
def test_corpus_moby_zip_implode_members_via_tools(tmp_path: Path) -> None:
    result = run(ZipIngestor, TIKA / "moby.zip", tmp_path)
    assert len(result.child_paths) == 135
    assert result.child_bytes(b"README").startswith(b"Moby Dick\nby Herman Melville (1819-1891)\n")
    assert result.sink.children[0].metadata["compression"] == "implode"


@needs_corpus
def test_corpus_table_accounts_for_every_archive(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Every archive file in the Tika index: ingested / encrypted / failed (reason)."""
    formats = {"zip", "7z", "rar", "tar", "tgz", "gz", "bz2"}
    with (CORPUS / "documents" / "tika-index.csv").open(newline="") as index:
        rows = [row for row in csv.DictReader(index) if row["category"] in formats]
    outcomes = []
    for row in rows:
        ingestor, _ = _expect(row["file"])
        try:
            result = run(ingestor, TIKA / row["file"], tmp_path / row["file"])
            outcomes.append((row["file"], "ingested", f"{len(result.child_paths)} members"))
        except EncryptedFile as err:
            outcomes.append((row["file"], "encrypted", str(err)))
        except (BrokenFile, LimitReached) as err:
            outcomes.append((row["file"], "failed", str(err)))
    with capsys.disabled():
        print()
        for outcome in outcomes:
            print(" | ".join(outcome)[:160])
    states = {name: state for name, state, _ in outcomes}
    for row in rows:
        if "encrypted" in row["notes"] or "password" in row["notes"]:
            assert states[row["file"]] == "encrypted", row["file"]
        elif row["notes"] in ("broken", "spanned"):
            assert states[row["file"]] == "failed", row["file"]
        else:
            assert states[row["file"]] == "ingested", row["file"]


@needs_corpus
@needs_unar
def test_corpus_encrypted_rar_cut_short_is_broken(tmp_path: Path) -> None:
    cut = tmp_path / "cut.rar"
    cut.write_bytes((TIKA / "test-documents-enc.rar").read_bytes()[:30000])
    with pytest.raises(BrokenFile, match="encrypted headers: the archive is cut short"):
        run(RarIngestor, cut, tmp_path, passwords=("ApacheTika",))
