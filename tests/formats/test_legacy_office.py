"""Legacy Office (DOC/XLS/PPT), encrypted Office files and the LibreOffice runner."""

from __future__ import annotations

import csv
import io
import struct
import time
import zipfile
from pathlib import Path

import pytest
from msoffcrypto.format.ooxml import OOXMLFile  # type: ignore[import-untyped]

from caselens.ingest.convert import (
    ConversionError,
    ConversionUnavailable,
    convert_with_libreoffice,
)
from caselens.ingest.errors import BrokenFile, EncryptedFile, NotMyFormat
from caselens.ingest.formats.legacy_office import (
    ExcelIngestor,
    LegacyOfficeIngestor,
    PowerPointIngestor,
    WordIngestor,
)
from caselens.ingest.formats.office_crypto import EncryptedOoxmlIngestor
from caselens.ingest.formats.ole_doc import clean_text
from caselens.ingest.formats.ole_properties import read_property_set
from caselens.ingest.harness import extract, source_for
from caselens.ingest.registry import Ingestor, candidates
from tests.conftest import CORPUS, needs_corpus

TIKA = CORPUS / "documents" / "tika"
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
INGESTORS: list[type[Ingestor]] = [
    EncryptedOoxmlIngestor,
    WordIngestor,
    ExcelIngestor,
    PowerPointIngestor,
]


# --- fixtures built here -------------------------------------------------------------


def biff_record(kind: int, data: bytes) -> bytes:
    return struct.pack("<HH", kind, len(data)) + data


def biff2_sheet(cells: list[tuple[int, int, str | float]], codepage: int = 1252) -> bytes:
    """A bare BIFF2 worksheet stream (as Excel 2 wrote them) with labels and numbers."""
    records = [
        biff_record(0x0009, struct.pack("<HH", 0x0002, 0x0010)),  # BOF: worksheet
        biff_record(0x0042, struct.pack("<H", codepage)),  # CODEPAGE
    ]
    for row, column, value in cells:
        attributes = b"\x00\x00\x00"
        if isinstance(value, str):
            text = value.encode(f"cp{codepage}")
            data = struct.pack("<HH", row, column) + attributes + bytes([len(text)]) + text
            records.append(biff_record(0x0004, data))  # LABEL
        else:
            data = struct.pack("<HH", row, column) + attributes + struct.pack("<d", value)
            records.append(biff_record(0x0003, data))  # NUMBER
    records.append(biff_record(0x000A, b""))  # EOF
    return b"".join(records)


def ooxml_package() -> bytes:
    content_types = (
        '<?xml version="1.0"?><Types xmlns='
        '"http://schemas.openxmlformats.org/package/2006/content-types"/>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as package:
        package.writestr("[Content_Types].xml", content_types)
        package.writestr("word/document.xml", "<document>secret plans</document>")
        # msoffcrypto's writer needs the package above the OLE mini-stream cutoff (4096).
        package.writestr("word/media/noise.bin", bytes(range(256)) * 20)
    return buffer.getvalue()


def encrypted_ooxml(password: str) -> tuple[bytes, bytes]:
    plain = ooxml_package()
    encrypted = io.BytesIO()
    OOXMLFile(io.BytesIO(plain)).encrypt(password, encrypted)
    return plain, encrypted.getvalue()


# --- XLS -----------------------------------------------------------------------------


def test_bare_biff_workbook_one_page_per_sheet_with_codepage(tmp_path: Path) -> None:
    path = tmp_path / "ledger.xls"
    path.write_bytes(
        biff2_sheet([(0, 0, "Счёт"), (0, 1, "Сумма"), (1, 0, "Иванов"), (1, 1, 1250.5)], 1251)
    )
    result = extract(ExcelIngestor, path, tmp_path / "work")
    assert result.sink.document_schema == "Workbook"
    assert result.sink.pages == {1: "Sheet 1\nСчёт\tСумма\nИванов\t1250.5"}


def test_bare_stream_that_is_not_biff_is_not_mine(tmp_path: Path) -> None:
    path = tmp_path / "table.xls"
    path.write_bytes(b"<html><body><table><tr><td>1</td></tr></table></body></html>")
    with pytest.raises(NotMyFormat):
        extract(ExcelIngestor, path, tmp_path / "work")


def test_truncated_biff_stream_is_broken(tmp_path: Path) -> None:
    path = tmp_path / "cut.xls"
    path.write_bytes(biff2_sheet([(0, 0, "a label that is cut")])[:20])
    with pytest.raises(BrokenFile, match="workbook cannot be read"):
        extract(ExcelIngestor, path, tmp_path / "work")


@needs_corpus
def test_corpus_xls_text_dates_and_metadata(tmp_path: Path) -> None:
    result = extract(ExcelIngestor, TIKA / "testEXCEL.xls", tmp_path / "a")
    assert result.sink.pages[1].splitlines()[:6] == [
        "Feuil1",
        "Sample Excel Worksheet - Numbers and their Squares",
        "",
        "",
        "\tNumber\tSquare",
        "",
    ]
    assert "\t15\t225" in result.sink.pages[1]
    assert result.sink.pages[2] == "Feuil2"
    assert result.properties == {
        "title": ["Simple Excel document"],
        "author": ["Keith Bennett"],
        "generator": ["Microsoft Excel"],
        "createdAt": ["2007-10-01T16:13:56"],
        "modifiedAt": ["2007-10-01T16:31:43"],
        "notes": ["Last saved by: RIBEN9"],
    }
    dates = extract(ExcelIngestor, TIKA / "testEXCEL_dateFormats.xls", tmp_path / "b")
    assert dates.text == "Munka1\ndate\n2018-09-20\n1996-08-10"
    columnar = extract(ExcelIngestor, TIKA / "test-columnar.xls", tmp_path / "c")
    assert (
        "1\t1\tThis is row            1 of           10\t0.1\t0\t1960-01-02"
        "\t1960-01-01T00:00:10\t00:00:03"
    ) in columnar.text.splitlines()


@needs_corpus
def test_corpus_xls_cell_comment(tmp_path: Path) -> None:
    result = extract(ExcelIngestor, TIKA / "testComment.xls", tmp_path)
    assert result.text == "Sheet1\nHere is some text\nNote A1 (Author): Author:\nHere is a comment"


@needs_corpus
def test_corpus_excel_4_bare_biff(tmp_path: Path) -> None:
    result = extract(ExcelIngestor, TIKA / "testEXCEL_4.xls", tmp_path)
    assert "Table 10 -- Examination Coverage:  Recommended and Average Recommended" in result.text


# --- DOC -----------------------------------------------------------------------------


def test_field_codes_tables_and_breaks_are_cleaned() -> None:
    raw = (
        'See \x13HYPERLINK "http://x.example/"\x14the site\x15.\r'
        "a\x07b\x07\x07c\x07d\x07\x07after\x0bline\x1ehyphen\x1f\x01"
    )
    assert clean_text(raw) == "See the site.\na\tb\nc\td\nafter\nline-hyphen"


def test_nested_field_keeps_only_the_outer_result() -> None:
    assert clean_text("x\x13IF \x13PAGE\x142\x15 = 2\x14yes\x15z") == "xyesz"


@needs_corpus
def test_corpus_doc_text_and_metadata(tmp_path: Path) -> None:
    result = extract(WordIngestor, TIKA / "testWORD.doc", tmp_path)
    assert result.sink.document_schema == "Pages"
    text = result.text
    assert text.startswith("Sample Word Document Title\nAnd now for a subtitle\nMain Heading\n")
    assert "This document includes text that is BOLD and ITALIC." in text
    # Field codes gone, their results kept:
    assert "Apache Tika: http://tika.apache.org/ Tika" in text
    assert "HYPERLINK" not in text
    assert text.endswith(
        "This is the header for our document\n\nThis is the footer for our document"
    )
    assert result.properties == {
        "title": ["Sample Word Document"],
        "author": ["Keith Bennett"],
        "generator": ["Microsoft Office Word"],
        "createdAt": ["2010-11-12T16:22:00"],
        "modifiedAt": ["2010-11-12T16:22:00"],
        "notes": ["Last saved by: Nick Burch"],
    }


@needs_corpus
def test_corpus_word6_and_comment(tmp_path: Path) -> None:
    word6 = extract(WordIngestor, TIKA / "testWORD6.doc", tmp_path / "a")
    assert word6.sink.pages == {1: "The quick brown fox jumps over the lazy dog"}
    assert word6.properties["summary"] == ["Gym class featuring a brown fox and lazy dog"]
    comment = extract(WordIngestor, TIKA / "testComment.doc", tmp_path / "b")
    assert comment.sink.pages == {1: "Here is some text.\n\nHere is a comment"}


@needs_corpus
def test_corpus_doc_pages_tables_and_astral_characters(tmp_path: Path) -> None:
    result = extract(WordIngestor, TIKA / "testWORD_various.doc", tmp_path)
    assert sorted(result.sink.pages) == [1, 2, 4]
    assert (
        "Row 1 Col 1\tRow 1 Col 2\tRow 1 Col 3\nRow 2 Col 1\tRow 2 Col 2\tRow 2 Col 3"
        in (result.sink.pages[1])
    )
    assert "And then some Gothic text:\n𐌲𐌿𐍄𐌹𐍃𐌺" in result.sink.pages[1]
    # Stories after the main text (footnotes, headers, text boxes) cut at the right place:
    assert result.sink.pages[4].startswith("This is a footnote.\n\nThis is the header text.")
    assert result.sink.pages[4].endswith("Here is a text box")


@needs_corpus
def test_corpus_doc_embedded_objects(tmp_path: Path) -> None:
    result = extract(WordIngestor, TIKA / "testWORD_embeded.doc", tmp_path)
    assert result.child_paths == [
        b"ObjectPool/_1345470949/workbook.xls",
        b"ObjectPool/_1345471034/package.docx",
    ]
    assert result.child_bytes(b"ObjectPool/_1345471034/package.docx").startswith(b"PK\x03\x04")
    assert any("ObjectPool/_1345471035" in warning for warning in result.sink.warnings)
    # The embedded workbook is a bare BIFF8 stream the Excel ingestor reads.
    child = tmp_path / "workbook.xls"
    child.write_bytes(result.child_bytes(b"ObjectPool/_1345470949/workbook.xls"))
    workbook = extract(ExcelIngestor, child, tmp_path / "child")
    assert workbook.text.startswith("Sheet1\n")


@needs_corpus
def test_truncated_doc_is_broken(tmp_path: Path) -> None:
    path = tmp_path / "cut.doc"
    path.write_bytes((TIKA / "testWORD.doc").read_bytes()[:12000])
    with pytest.raises(BrokenFile):
        extract(WordIngestor, path, tmp_path / "work")


def test_ole_signature_then_garbage_is_broken(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path / "no-tools"))  # no LibreOffice to fall back on
    path = tmp_path / "garbage.doc"
    path.write_bytes(OLE_SIGNATURE + bytes(range(256)) * 40)
    with pytest.raises(BrokenFile, match="damaged OLE2 compound file") as raised:
        extract(WordIngestor, path, tmp_path / "work")
    assert "LibreOffice might convert it but is not installed" in str(raised.value)


def test_not_ole_named_doc_is_not_mine(tmp_path: Path) -> None:
    path = tmp_path / "wordperfect.doc"
    path.write_bytes(b"\xffWPC" + bytes(200))
    with pytest.raises(NotMyFormat):
        extract(WordIngestor, path, tmp_path / "work")


# --- PPT -----------------------------------------------------------------------------


@needs_corpus
def test_corpus_ppt_slide_text_comment_and_embedded(tmp_path: Path) -> None:
    result = extract(PowerPointIngestor, TIKA / "testPPT.ppt", tmp_path / "a")
    assert result.sink.pages == {
        1: "Sample Powerpoint Slide\nCreated with Microsoft \nPowerpoint X for Mac\n"
        "Service Release 1"
    }
    assert result.properties["title"] == ["Sample Powerpoint Slide"]
    assert result.child_paths == [b"embedded-4142.ole"]
    comment = extract(PowerPointIngestor, TIKA / "testComment.ppt", tmp_path / "b")
    assert comment.sink.pages == {1: "Here is some text\nHere is a comment"}


@needs_corpus
def test_corpus_ppt_pages_per_slide_and_damaged_object(tmp_path: Path) -> None:
    result = extract(PowerPointIngestor, TIKA / "testPPT_skipBadCompressedObject.ppt", tmp_path)
    assert result.sink.pages[1] == (
        "An Evaluation of CDTI Dynamic Predictor Display Technology\n"
        "Walter W. Johnson, Lisa Thomas, and Vernol Battiste\n"
        "Human Information Research and Technology Division\nNASA Ames Research Center"
    )
    assert result.sink.pages[3].startswith("Purpose\n")
    assert (
        "embedded object at offset 82212 not extracted: compressed object is damaged: "
        in (result.sink.warnings[0])
    )


@needs_corpus
def test_corpus_ppt_embedded_documents_named_by_kind(tmp_path: Path) -> None:
    result = extract(PowerPointIngestor, TIKA / "testPPT_embeded.ppt", tmp_path)
    assert result.child_paths == [b"embedded-40744.xls", b"embedded-49403.doc"]


# --- encryption ----------------------------------------------------------------------


def test_encrypted_ooxml_needs_its_password(tmp_path: Path) -> None:
    plain, encrypted = encrypted_ooxml("Correct Horse")
    path = tmp_path / "plans.docx"
    path.write_bytes(encrypted)
    with pytest.raises(
        EncryptedFile, match=r"plans.docx is password-protected \(agile encryption\)"
    ):
        extract(EncryptedOoxmlIngestor, path, tmp_path / "a", passwords=("wrong",))
    result = extract(
        EncryptedOoxmlIngestor, path, tmp_path / "b", passwords=("wrong", "Correct Horse")
    )
    assert result.child_paths == [b"decrypted.docx"]
    assert result.child_bytes(b"decrypted.docx") == plain
    assert result.sink.decrypted is True
    assert result.sink.document_schema == "Document"


def test_encrypted_ooxml_without_extension_named_from_its_parts(tmp_path: Path) -> None:
    _, encrypted = encrypted_ooxml("pw")
    path = tmp_path / "attachment.bin"
    path.write_bytes(encrypted)
    result = extract(EncryptedOoxmlIngestor, path, tmp_path / "work", passwords=("pw",))
    assert result.child_paths == [b"decrypted.docx"]


def test_encrypted_ooxml_scores_above_everything_else(tmp_path: Path) -> None:
    _, encrypted = encrypted_ooxml("pw")
    path = tmp_path / "plans.docx"
    path.write_bytes(encrypted)
    source, _ = source_for(path, tmp_path / "work")
    assert candidates(INGESTORS, source) == [EncryptedOoxmlIngestor]


@needs_corpus
def test_default_password_workbook_opens_without_user_password(tmp_path: Path) -> None:
    result = extract(EncryptedOoxmlIngestor, TIKA / "protectedFile.xlsx", tmp_path)
    assert result.child_paths == [b"decrypted.xlsx"]
    assert result.sink.decrypted is False
    assert result.sink.warnings == [
        "encrypted with Excel's default password (write-protection only): "
        "opened without a user password"
    ]


@needs_corpus
def test_drm_document_is_encrypted_with_reason(tmp_path: Path) -> None:
    with pytest.raises(EncryptedFile, match="protected with DRM"):
        extract(WordIngestor, TIKA / "testWORD_protected_drm.doc", tmp_path)


@needs_corpus
@pytest.mark.parametrize(
    ("name", "ingestor", "child", "child_ingestor", "text"),
    [
        (
            "testWORD_protected_passtika.doc",
            WordIngestor,
            b"decrypted.doc",
            WordIngestor,
            "This is an encrypted Word 2007 File.",
        ),
        (
            "testEXCEL_protected_passtika.xls",
            ExcelIngestor,
            b"decrypted.xls",
            ExcelIngestor,
            "Sheet1\nThis is an Encrypted Excel spreadsheet.\nSheet2\nSheet3",
        ),
        (
            "testPPT_protected_passtika.ppt",
            PowerPointIngestor,
            b"decrypted.ppt",
            PowerPointIngestor,
            "Encrypted\nThis is an encrypted PowerPoint 2007 slide.",
        ),
    ],
)
def test_encrypted_legacy_file_decrypts_into_a_child(
    tmp_path: Path,
    name: str,
    ingestor: type[Ingestor],
    child: bytes,
    child_ingestor: type[Ingestor],
    text: str,
) -> None:
    with pytest.raises(EncryptedFile, match="password-protected"):
        extract(ingestor, TIKA / name, tmp_path / "a")
    result = extract(ingestor, TIKA / name, tmp_path / "b", passwords=("nope", "tika"))
    assert result.child_paths == [child]
    assert result.sink.decrypted is True
    assert result.sink.document_schema == "Document"
    decrypted = tmp_path / child.decode()
    decrypted.write_bytes(result.child_bytes(child))
    assert extract(child_ingestor, decrypted, tmp_path / "c").text == text


# --- claiming ------------------------------------------------------------------------


@needs_corpus
def test_compound_files_go_to_the_program_that_wrote_them(tmp_path: Path) -> None:
    def best(name: str, as_name: str | None = None) -> list[type[Ingestor]]:
        source, _ = source_for(TIKA / name, tmp_path / name, name=as_name)
        return candidates(INGESTORS, source)[:1]

    assert best("testWORD.doc", "misnamed.xls") == [WordIngestor]
    assert best("testPPT_various.ppt") == [PowerPointIngestor]
    assert best("testEXCEL_embeded.xls") == [ExcelIngestor]
    assert best("testMSG.msg") == []  # Outlook messages are the mail ingestors'
    assert best("testHWP_5.0.hwp") == []


def test_property_set_with_absurd_count_is_refused_quickly() -> None:
    header = struct.pack("<HHI", 0xFFFE, 0, 0) + bytes(16) + struct.pack("<I", 1)
    section = struct.pack("<II", 64, 0xFFFFFFF)
    data = header + bytes(16) + struct.pack("<I", 48) + section + bytes(64)
    with pytest.raises(ValueError, match="claims 268435455 properties"):
        read_property_set(data)


# --- corpus --------------------------------------------------------------------------


def corpus_rows() -> list[dict[str, str]]:
    index = CORPUS / "documents" / "tika-index.csv"
    if not index.is_file():
        return []
    with index.open(newline="") as handle:
        return [
            row
            for row in csv.DictReader(handle)
            if row["category"] in {"doc", "xls", "ppt"}
            and row["notes"] not in {"misnamed-wordperfect"}
        ]


# password.xls: the index records no password; "password" opens it.
EXTRA_PASSWORDS = {"password.xls": "password"}


@needs_corpus
def test_corpus_every_legacy_file_yields_text_or_is_encrypted(tmp_path: Path) -> None:
    table = []
    for number, row in enumerate(corpus_rows()):
        name = row["file"]
        source, _ = source_for(TIKA / name, tmp_path / "work")
        chosen = candidates(INGESTORS, source)
        assert chosen, name
        ingestor = chosen[0]
        assert issubclass(ingestor, LegacyOfficeIngestor)
        password = row["known_password"] or EXTRA_PASSWORDS.get(name)
        encrypted = password is not None or "encrypted" in row["notes"]
        if encrypted:
            with pytest.raises(EncryptedFile):
                extract(ingestor, TIKA / name, tmp_path / f"e{number}")
            if password:
                opened = extract(
                    ingestor, TIKA / name, tmp_path / f"p{number}", passwords=(password,)
                )
                assert opened.sink.decrypted and opened.child_paths, name
            table.append((name, "encrypted"))
            continue
        try:
            result = extract(ingestor, TIKA / name, tmp_path / f"r{number}")
        except BrokenFile as err:
            assert row["notes"] == "broken", f"{name}: {err}"
            table.append((name, f"failed ({err})"))
            continue
        if name != "testWORD_multi_authors.doc":  # a document with no words at all
            assert result.text.strip(), name
        table.append((name, f"ingested, {len(result.text)} characters"))
    print("\n".join(f"{name:40} {state}" for name, state in table))
    assert len(table) >= 25


# --- LibreOffice runner --------------------------------------------------------------


def fake_soffice(folder: Path, body: str) -> str:
    program = folder / "fake-soffice"
    program.write_text("#!/bin/sh\n" + body)
    program.chmod(0o755)
    return str(program)


def test_conversion_writes_into_outdir_with_own_profile(tmp_path: Path) -> None:
    # The fake program records its arguments and writes "<name>.pdf" into --outdir.
    program = fake_soffice(
        tmp_path,
        'echo "$@" > "$(dirname "$0")/arguments"\n'
        'while [ "$1" != "--outdir" ]; do shift; done\n'
        'printf "%%PDF-1.4 converted" > "$2/report.pdf"\n',
    )
    source = tmp_path / "report.doc"
    source.write_bytes(b"x")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    converted = convert_with_libreoffice(source, "pdf", scratch, 10, 512, program=program)
    assert converted == scratch / "converted" / "report.pdf"
    assert converted.read_bytes() == b"%PDF-1.4 converted"
    arguments = (tmp_path / "arguments").read_text().split()
    assert arguments[0] == f"-env:UserInstallation={(scratch / 'profile').resolve().as_uri()}"
    assert arguments[1:6] == ["--headless", "--norestore", "--convert-to", "pdf", "--outdir"]


def test_conversion_timeout_kills_the_process_group(tmp_path: Path) -> None:
    marker = tmp_path / "survivor"
    program = fake_soffice(tmp_path, f"(sleep 3; touch {marker}) &\nsleep 30\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(ConversionError, match=r"did not finish within 0\.5 seconds"):
        convert_with_libreoffice(tmp_path / "a.doc", "pdf", scratch, 0.5, 512, program=program)
    time.sleep(3.5)
    assert not marker.exists()  # the background helper died with its group


def test_conversion_failure_reports_the_output(tmp_path: Path) -> None:
    program = fake_soffice(tmp_path, "echo 'Error: source file could not be loaded'\nexit 1\n")
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    with pytest.raises(ConversionError, match="source file could not be loaded"):
        convert_with_libreoffice(tmp_path / "a.doc", "pdf", scratch, 10, 512, program=program)


def test_absent_libreoffice_says_how_to_install(tmp_path: Path) -> None:
    with pytest.raises(ConversionUnavailable) as raised:
        convert_with_libreoffice(
            tmp_path / "a.doc", "pdf", tmp_path, 10, 512, program="no-such-soffice-here"
        )
    assert str(raised.value) == (
        "LibreOffice is not installed: apt-get install libreoffice-core-nogui (optional)"
    )


def test_broken_doc_falls_back_to_libreoffice_when_installed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    tools = tmp_path / "bin"
    tools.mkdir()
    fake = fake_soffice(
        tools,
        'while [ "$1" != "--outdir" ]; do shift; done\n'
        'printf "text LibreOffice recovered" > "$2/original.txt"\n',
    )
    Path(fake).rename(tools / "soffice")
    monkeypatch.setenv("PATH", f"{tools}:/usr/bin:/bin")
    path = tmp_path / "garbage.doc"
    path.write_bytes(OLE_SIGNATURE + bytes(range(256)) * 40)
    result = extract(WordIngestor, path, tmp_path / "work")
    assert result.sink.pages == {1: "text LibreOffice recovered"}
    assert result.sink.warnings[0].startswith("built-in parser failed (damaged OLE2 compound file")
