"""The RTF ingestor on RTF written here byte by byte, and on the corpus."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest

from caselens.ingest.errors import NotMyFormat
from caselens.ingest.formats.rtf import RtfIngestor, unwrap_ole1
from caselens.ingest.formats.text import TextIngestor
from caselens.ingest.harness import extract, source_for
from caselens.ingest.registry import candidates
from tests.conftest import CORPUS, needs_corpus

TIKA = CORPUS / "documents" / "tika"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x01\x02\x03"


def write(tmp_path: Path, content: bytes, name: str = "doc.rtf") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def ole1(class_name: bytes, native: bytes) -> bytes:
    def lpstr(value: bytes) -> bytes:
        return struct.pack("<I", len(value) + 1) + value + b"\x00"

    header = struct.pack("<II", 0x0501, 2) + lpstr(class_name) + lpstr(b"") + lpstr(b"")
    return header + struct.pack("<I", len(native)) + native


def package(name: bytes, data: bytes) -> bytes:
    temp = b"C:\\Temp\\" + name + b"\x00"
    return (
        b"\x02\x00" + name + b"\x00" + b"C:\\src\\" + name + b"\x00" + b"\x00\x00\x03\x00"
        + struct.pack("<I", len(temp)) + temp + struct.pack("<I", len(data)) + data
    )  # fmt: skip


DOCUMENT = (
    rb"{\rtf1\ansi\ansicpg1250\deff0"
    rb"{\fonttbl{\f0\fswiss\fcharset238 Arial CE;}{\f1\fnil\fcharset128 MS Mincho;}"
    rb"{\f2\fnil\fcharset0 Times;}}"
    rb"{\colortbl;\red255\green0\blue0;}{\stylesheet{\s0 Normal;}}"
    rb"{\info{\title Zpr\'e1va}{\author Ji\'f8\'ed Nov\'e1k}{\operator Eva}{\subject Platby}"
    rb"{\keywords banka}{\doccomm Souhrn}{\company ACME s.r.o.}"
    rb"{\creatim\yr2020\mo1\dy31\hr10\min5\sec7}{\revtim\yr2021\mo2\dy3\hr4\min5}"
    rb"{\printim\yr2021\mo2\dy4}}"
    rb"{\*\generator Msftedit 5.41;}"
    rb"\pard\f0 P\'f8\'edli\'9a \'9elu\'9dou\'e8k\'fd k\'f9\'f2\par"
    rb"{\f1 \'93\'fa\'96\'7b\'8c\'ea}\par"
    rb"\uc1\u8364?\u-10179\u-8704?x \uc0\u26085 y\par"
    rb"{\field{\*\fldinst HYPERLINK http://example.org}{\fldrslt odkaz}}\tab konec\line"
    rb"\trowd\cellx100\cellx200 A\cell B\cell\row"
    rb"{\*\unknowndest hidden}{\pict\pngblip\picw1 89504e470d0a1a0a010203}"
    rb"{\object\objemb{\*\objclass Package}{\*\objdata "
    + ole1(b"Package", package(b"secret.txt", b"payload")).hex().encode()
    + rb"}{\result{\pict\wmetafile8 0000}Obj}}\par"
    rb"{\*\bkmkstart m}\~\emdash\_\-\\\{\}"
    rb"}"
)


def test_rtf_text_metadata_and_children(tmp_path: Path) -> None:
    result = extract(RtfIngestor, write(tmp_path, DOCUMENT), tmp_path / "work")
    assert result.sink.document_schema == "Pages"
    assert result.sink.pages == {
        1: "Příliš žluťoučký kůň\n日本語\n€😀x 日y\nodkaz\tkonec\nA\tB\nObj\n\xa0—‑\\{}"
    }
    assert result.properties == {
        "title": ["Zpráva"],
        "author": ["Jiří Novák"],
        "notes": ["Last modified by: Eva", "Last printed: 2021-02-04T00:00:00"],
        "description": ["Platby"],
        "keywords": ["banka"],
        "summary": ["Souhrn"],
        "publisher": ["ACME s.r.o."],
        "generator": ["Msftedit 5.41"],
        "authoredAt": ["2020-01-31T10:05:07"],
        "modifiedAt": ["2021-02-03T04:05:00"],
    }
    assert result.child_paths == [b"image-1.png", b"secret.txt"]
    assert result.child_bytes(b"image-1.png") == PNG
    assert result.child_bytes(b"secret.txt") == b"payload"


def test_rtf_binary_data_and_unpaired_surrogates(tmp_path: Path) -> None:
    content = (
        rb"{\rtf1\ansi{\pict\jpegblip\bin4 " + b"\xff\xd8}{" + rb"}Text \uc0\u-10240 lone\par}"
    )
    result = extract(RtfIngestor, write(tmp_path, content), tmp_path / "work")
    assert result.sink.pages == {1: "Text \ufffdlone"}
    assert result.child_bytes(b"image-1.jpg") == b"\xff\xd8}{"


def test_truncated_rtf_keeps_its_text(tmp_path: Path) -> None:
    content = DOCUMENT[: DOCUMENT.index(rb"{\field")]
    result = extract(RtfIngestor, write(tmp_path, content), tmp_path / "work")
    assert result.sink.pages[1].startswith("Příliš žluťoučký kůň\n日本語\n")


def test_embedded_non_package_object_keeps_its_class(tmp_path: Path) -> None:
    native = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1 ole2"
    content = (
        rb"{\rtf1{\object{\*\objclass Word.Document.8}{\*\objdata "
        + ole1(b"Word.Document.8", native).hex().encode()
        + rb"}}}"
    )
    result = extract(RtfIngestor, write(tmp_path, content), tmp_path / "work")
    assert result.child_paths == [b"object-1.Word.Document.8"]
    assert result.child_bytes(b"object-1.Word.Document.8") == native
    assert unwrap_ole1(b"not ole1") == (None, b"not ole1")


def test_rtf_wins_over_text_and_refuses_other_content(tmp_path: Path) -> None:
    source, _ = source_for(write(tmp_path, DOCUMENT), tmp_path / "s")
    assert source.mime_type == "text/rtf"
    assert candidates([TextIngestor, RtfIngestor], source)[0] is RtfIngestor
    with pytest.raises(NotMyFormat):
        extract(RtfIngestor, write(tmp_path, b"PK\x03\x04 a docx", "x.rtf"), tmp_path / "w")


def test_text_limit_stops_early(tmp_path: Path) -> None:
    from caselens.ingest.limits import Limits

    content = rb"{\rtf1 " + b"abcdefghij" * 1000 + b"}"
    result = extract(
        RtfIngestor, write(tmp_path, content), tmp_path / "w", limits=Limits(max_text_chars=25)
    )
    assert result.sink.pages == {1: "abcdefghijabcdefghijabcde"}
    assert result.sink.warnings == ["text cut at 25 characters (limit max_text_chars)"]


@needs_corpus
@pytest.mark.parametrize(
    ("name", "snippet"),
    [
        ("testRTF.rtf", "Test d’indexation Word"),
        ("testRTF-ms932.rtf", "Hello\nこんにちは\nTest\nテスト"),
        ("testRTFWindowsCodepage1250.rtf", "zażółć gęślą jaźń\nZAŻÓŁĆ GĘŚLĄ JAŹŃ"),
        ("testRTFWord2010CzechCharacters.rtf", "Článek týdne\nČást svitku s textem Knihy Izajáš"),
        ("testRTFJapanese.rtf", "ゾルゲと尾崎、淡々と最期"),
        ("testRTFVarious.rtf", "Row 1 Col 1\tRow 1 Col 2\tRow 1 Col 3\n"),
        ("testRTFVarious.rtf", "And then some Gothic text:\n𐌲𐌿𐍄𐌹𐍃𐌺"),
        ("testRTFCorruptListOverride.rtf", "Apples are fun!"),
        ("testRTFInvalidUnicode.rtf", "Unpaired hi \ufffd here"),
        ("testRTFHyperlink.rtf", "Thank you for using Microsoft® Office Outlook® 2003!"),
    ],
)
def test_corpus_rtf_text(tmp_path: Path, name: str, snippet: str) -> None:
    assert snippet in extract(RtfIngestor, TIKA / name, tmp_path).text


@needs_corpus
def test_corpus_rtf_embedded_files(tmp_path: Path) -> None:
    result = extract(RtfIngestor, TIKA / "testRTFEmbeddedFiles.rtf", tmp_path)
    assert len(result.child_paths) == 14
    assert b"test-zip-of-zip_????.zip" in result.child_paths  # the packager stored "?"s
    assert result.child_bytes(b"test-zip-of-zip_????.zip").startswith(b"PK\x03\x04")
    assert result.child_bytes(b"object-1.Word.Document.8").startswith(
        b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    )
    ms932 = extract(RtfIngestor, TIKA / "testRTF-ms932.rtf", tmp_path / "b")
    assert ms932.properties["title"] == ["タイトル"]
    assert ms932.properties["authoredAt"] == ["2010-10-08T14:18:00"]
