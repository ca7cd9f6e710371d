"""OOXML, ODF and EPUB ingestors on fixtures written here, part by part, and on the corpus."""

from __future__ import annotations

import base64
import csv
import hashlib
import os
import zipfile
import zlib
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from caselens.ingest.errors import BrokenFile, EncryptedFile, LimitReached
from caselens.ingest.formats import ooxml_package
from caselens.ingest.formats.epub import EpubIngestor
from caselens.ingest.formats.odf import OdfIngestor
from caselens.ingest.formats.ooxml import OoxmlIngestor
from caselens.ingest.formats.ooxml_sheets import date_kind, serial_to_text
from caselens.ingest.formats.text import TextIngestor
from caselens.ingest.harness import extract, source_for
from caselens.ingest.registry import candidates
from tests.conftest import CORPUS, needs_corpus

W = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
R = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
MC = 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"'
WPS = 'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape"'
S = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
P = 'xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main"'
A = 'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"'
RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
DOC_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 24
CORE = (
    '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/'
    'core-properties" xmlns:dc="http://purl.org/dc/elements/1.1/" '
    'xmlns:dcterms="http://purl.org/dc/terms/">'
    "<dc:title>Quarterly Zahlungen</dc:title><dc:subject>Payments</dc:subject>"
    "<dc:creator>Jürgen Müller</dc:creator><cp:keywords>fraud, wire</cp:keywords>"
    "<dc:description>Wire transfers Q1</dc:description>"
    "<cp:lastModifiedBy>Anna Smith</cp:lastModifiedBy><dc:language>de-DE</dc:language>"
    "<dcterms:created>2021-03-04T10:15:00Z</dcterms:created>"
    "<dcterms:modified>2021-03-05T09:00:00+02:00</dcterms:modified>"
    "<cp:lastPrinted>2021-03-06T08:00:00Z</cp:lastPrinted></cp:coreProperties>"
)
APP = (
    '<Properties xmlns="http://schemas.openxmlformats.org/officeDocument/2006/extended-properties">'
    "<Application>Microsoft Office Word</Application><AppVersion>16.0000</AppVersion>"
    "<Company>Acme GmbH</Company></Properties>"
)
CORE_PROPERTIES = {
    "title": ["Quarterly Zahlungen"],
    "description": ["Payments"],
    "author": ["Jürgen Müller"],
    "keywords": ["fraud", "wire"],
    "summary": ["Wire transfers Q1"],
    "notes": ["Last modified by: Anna Smith", "Last printed: 2021-03-06T08:00:00Z"],
    "language": ["de-DE"],
    "authoredAt": ["2021-03-04T10:15:00"],
    "modifiedAt": ["2021-03-05T07:00:00"],
    "generator": ["Microsoft Office Word 16.0000"],
    "publisher": ["Acme GmbH"],
}


def rels(*relations: tuple[str, str, str]) -> str:
    items = "".join(
        f'<Relationship Id="{rid}" Type="{DOC_REL}/{kind}" Target="{target}"/>'
        for rid, kind, target in relations
    )
    return f'<Relationships xmlns="{RELS}">{items}</Relationships>'


def package_rels(main: str) -> str:
    core = "http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties"
    return (
        f'<Relationships xmlns="{RELS}">'
        f'<Relationship Id="rId1" Type="{DOC_REL}/officeDocument" Target="{main}"/>'
        f'<Relationship Id="rId2" Type="{core}" Target="docProps/core.xml"/>'
        f'<Relationship Id="rId3" Type="{DOC_REL}/extended-properties" Target="docProps/app.xml"/>'
        "</Relationships>"
    )


def write_zip(path: Path, parts: dict[str, str | bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            data = content.encode("utf-8") if isinstance(content, str) else content
            compression = zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED
            archive.writestr(name, data, compress_type=compression)
    return path


def docx_parts(body: str) -> dict[str, str | bytes]:
    return {
        "[Content_Types].xml": "<Types/>",
        "_rels/.rels": package_rels("word/document.xml"),
        "word/document.xml": f"<w:document {W} {R} {MC} {WPS}><w:body>{body}</w:body></w:document>",
        "word/_rels/document.xml.rels": rels(
            ("rId1", "header", "header1.xml"),
            ("rId2", "footer", "footer1.xml"),
            ("rId3", "footnotes", "footnotes.xml"),
            ("rId4", "comments", "comments.xml"),
            ("rId5", "header", "header2.xml"),
        ),
        "word/header1.xml": f"<w:hdr {W}><w:p><w:r><w:t>Vertraulich</w:t></w:r></w:p></w:hdr>",
        "word/header2.xml": f"<w:hdr {W}><w:p><w:r><w:t>Vertraulich</w:t></w:r></w:p></w:hdr>",
        "word/footer1.xml": f"<w:ftr {W}><w:p><w:r><w:t>Seite 1</w:t></w:r></w:p></w:ftr>",
        "word/footnotes.xml": (
            f'<w:footnotes {W}><w:footnote w:type="separator" w:id="-1"><w:p><w:r>'
            '<w:separator/></w:r></w:p></w:footnote><w:footnote w:id="1"><w:p><w:r>'
            "<w:t>Quelle: Bankauszug</w:t></w:r></w:p></w:footnote></w:footnotes>"
        ),
        "word/comments.xml": (
            f'<w:comments {W}><w:comment w:id="0" w:author="Anna"><w:p><w:r>'
            "<w:t>Prüfen!</w:t></w:r></w:p></w:comment></w:comments>"
        ),
        "docProps/core.xml": CORE,
        "docProps/app.xml": APP,
        "word/media/image1.png": PNG,
        "word/embeddings/oleObject1.bin": b"embedded object bytes",
        "word/vbaProject.bin": b"VBA project",
    }


DOCX_BODY = (
    '<w:p><w:r><w:t xml:space="preserve">Überweisung an </w:t></w:r>'
    '<w:hyperlink r:id="x"><w:r><w:t>Zürich AG</w:t></w:r></w:hyperlink>'
    "<w:r><w:tab/><w:t>€ 1.500</w:t><w:br/><w:t>zweite Zeile</w:t></w:r>"
    '<w:del w:id="1"><w:r><w:delText>gelöscht</w:delText></w:r></w:del>'
    '<w:r><w:footnoteReference w:id="1"/></w:r>'
    '<w:r><w:fldChar w:fldCharType="begin"/></w:r><w:r><w:instrText> PAGE </w:instrText></w:r>'
    "</w:p>"
    "<w:tbl><w:tr><w:tc><w:p><w:r><w:t>Konto</w:t></w:r></w:p></w:tc>"
    "<w:tc><w:p><w:r><w:t>Betrag</w:t></w:r></w:p><w:p><w:r><w:t>EUR</w:t></w:r></w:p></w:tc></w:tr>"
    "<w:tr><w:tc><w:p/></w:tc><w:tc><w:p><w:r><w:t>42</w:t></w:r></w:p></w:tc></w:tr></w:tbl>"
    '<w:p><w:r><mc:AlternateContent><mc:Choice Requires="wps"><w:drawing><wps:txbx>'
    "<w:txbxContent><w:p><w:r><w:t>Textfeld</w:t></w:r></w:p></w:txbxContent></wps:txbx>"
    "</w:drawing></mc:Choice><mc:Fallback><w:pict><w:txbxContent><w:p><w:r><w:t>Textfeld</w:t>"
    "</w:r></w:p></w:txbxContent></w:pict></mc:Fallback></mc:AlternateContent></w:r>"
    "<w:r><w:t>Anker</w:t></w:r></w:p>"
    "<w:sdt><w:sdtContent><w:p><w:r><w:t>日本語のテキスト</w:t></w:r></w:p></w:sdtContent></w:sdt>"
)


def test_docx_text_metadata_and_children(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "memo.docx", docx_parts(DOCX_BODY))
    result = extract(OoxmlIngestor, path, tmp_path / "work")
    assert result.sink.document_schema == "Pages"
    assert result.sink.pages == {
        1: "Überweisung an Zürich AG\t€ 1.500\nzweite Zeile\n"
        "Konto\tBetrag EUR\n"
        "\t42\n"
        "Anker\n"
        "Textfeld\n"
        "日本語のテキスト\n\n"
        "Vertraulich\n\n"
        "Seite 1\n\n"
        "Quelle: Bankauszug\n\n"
        "Prüfen!\n\n"
    }
    assert result.properties == CORE_PROPERTIES
    assert result.child_paths == [
        b"word/media/image1.png",
        b"word/embeddings/oleObject1.bin",
        b"word/vbaProject.bin",
    ]
    assert result.child_bytes(b"word/embeddings/oleObject1.bin") == b"embedded object bytes"
    assert result.sink.warnings == ["contains macros (VBA project)"]


def test_docx_external_entities_are_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    parts = docx_parts("")
    parts["word/document.xml"] = (
        f'<?xml version="1.0"?><!DOCTYPE d [<!ENTITY x SYSTEM "file://{secret}">]>'
        f"<w:document {W}><w:body><w:p><w:r><w:t>a&x;b</w:t></w:r></w:p></w:body></w:document>"
    )
    result = extract(OoxmlIngestor, write_zip(tmp_path / "xxe.docx", parts), tmp_path / "w")
    assert "TOP SECRET" not in result.text
    assert result.text.startswith("ab\n")


def test_docx_truncated_and_not_a_zip_are_broken(tmp_path: Path) -> None:
    whole = write_zip(tmp_path / "whole.docx", docx_parts(DOCX_BODY)).read_bytes()
    truncated = tmp_path / "truncated.docx"
    truncated.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(BrokenFile, match="not a readable zip container"):
        extract(OoxmlIngestor, truncated, tmp_path / "a")
    text = tmp_path / "notzip.docx"
    text.write_bytes(b"This is not a zip file at all.\n")
    source, _ = source_for(text, tmp_path / "b")
    assert candidates([TextIngestor, OoxmlIngestor], source)[0] is OoxmlIngestor
    with pytest.raises(BrokenFile, match="not a zip container"):
        extract(OoxmlIngestor, text, tmp_path / "c")


def test_ole2_files_are_left_to_the_legacy_office_ingestor(tmp_path: Path) -> None:
    path = tmp_path / "protected.docx"
    path.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    source, _ = source_for(path, tmp_path / "w")
    assert OoxmlIngestor.score(source) == 0
    assert OdfIngestor.score(source) == 0


def test_oversized_part_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ooxml_package, "MAX_TREE_PART_BYTES", 1500)
    path = write_zip(tmp_path / "big.docx", docx_parts("<w:p/>" * 300))
    with pytest.raises(LimitReached, match=r"part word/document.xml expands to \d+ bytes"):
        extract(OoxmlIngestor, path, tmp_path / "w")


def xlsx_parts(date1904: bool = False) -> dict[str, str | bytes]:
    flag = '<workbookPr date1904="1"/>' if date1904 else ""
    return {
        "[Content_Types].xml": "<Types/>",
        "_rels/.rels": package_rels("xl/workbook.xml"),
        "xl/workbook.xml": (
            f"<workbook {S} {R}>{flag}<sheets>"
            '<sheet name="Überweisungen" sheetId="1" r:id="rId2"/>'
            '<sheet name="Leer" sheetId="2" r:id="rId1"/></sheets></workbook>'
        ),
        "xl/_rels/workbook.xml.rels": rels(
            ("rId1", "worksheet", "worksheets/sheet2.xml"),
            ("rId2", "worksheet", "worksheets/sheet1.xml"),
            ("rId3", "sharedStrings", "sharedStrings.xml"),
            ("rId4", "styles", "styles.xml"),
        ),
        "xl/sharedStrings.xml": (
            f"<sst {S}><si><t>Empfänger</t></si><si><r><t>Bet</t></r><r><t>rag</t></r></si>"
            "<si><t>東京</t><rPh><t>とうきょう</t></rPh></si></sst>"
        ),
        "xl/styles.xml": (
            f'<styleSheet {S}><numFmts><numFmt numFmtId="164" formatCode="dd/mm/yyyy hh:mm"/>'
            '<numFmt numFmtId="165" formatCode="&quot;Day&quot; 0.00"/></numFmts>'
            '<cellXfs><xf numFmtId="0"/><xf numFmtId="14"/><xf numFmtId="164"/>'
            '<xf numFmtId="165"/><xf numFmtId="20"/></cellXfs></styleSheet>'
        ),
        "xl/worksheets/sheet1.xml": (
            f"<worksheet {S}><sheetData>"
            '<row r="1"><c r="A1" t="s"><v>0</v></c><c r="B1" t="s"><v>1</v></c></row>'
            '<row r="2"><c r="A2" t="s"><v>2</v></c><c r="D2"><v>1500.5</v></c></row>'
            '<row r="4"><c r="A4" s="1"><v>44197</v></c><c r="B4" s="2"><v>44197.75</v></c>'
            '<c r="C4" s="3"><v>2.5</v></c><c r="D4" s="4"><v>0.5</v></c></row>'
            '<row r="5"><c r="A5" t="b"><v>1</v></c><c r="B5" t="e"><v>#DIV/0!</v></c>'
            '<c r="C5" t="inlineStr"><is><t>inline</t></is></c>'
            '<c r="D5" t="str"><f>A1&amp;"x"</f><v>Empfängerx</v></c></row>'
            '<row r="6"><c r="A6" s="1"/></row>'
            "</sheetData></worksheet>"
        ),
        "xl/worksheets/_rels/sheet1.xml.rels": rels(("rId1", "comments", "../comments1.xml")),
        "xl/comments1.xml": (
            f'<comments {S}><commentList><comment ref="D2" authorId="0"><text><r><t>zu hoch?'
            "</t></r></text></comment></commentList></comments>"
        ),
        "xl/worksheets/sheet2.xml": f"<worksheet {S}><sheetData/></worksheet>",
        "docProps/core.xml": CORE,
        "docProps/app.xml": APP,
        "xl/embeddings/Microsoft_Word_Document.docx": b"PK inner",
    }


def test_xlsx_sheets_in_workbook_order_with_dates(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "book.xlsx", xlsx_parts())
    result = extract(OoxmlIngestor, path, tmp_path / "work")
    assert result.sink.document_schema == "Workbook"
    assert result.sink.pages == {
        1: "Überweisungen\n"
        "Empfänger\tBetrag\n"
        "東京\t\t\t1500.5\n"
        "2021-01-01\t2021-01-01 18:00:00\t2.5\t12:00:00\n"
        "TRUE\t#DIV/0!\tinline\tEmpfängerx\n"
        "Comment D2: zu hoch?",
        2: "Leer",
    }
    assert result.properties["author"] == ["Jürgen Müller"]
    assert result.child_paths == [b"xl/embeddings/Microsoft_Word_Document.docx"]


def test_xlsx_1904_date_system(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "mac.xlsx", xlsx_parts(date1904=True))
    result = extract(OoxmlIngestor, path, tmp_path / "work")
    assert "2025-01-02\t2025-01-02 18:00:00\t2.5\t12:00:00" in result.sink.pages[1]


def test_excel_serial_dates() -> None:
    assert serial_to_text("1", "date", False) == "1900-01-01"
    assert serial_to_text("59", "date", False) == "1900-02-28"
    assert serial_to_text("60", "date", False) == "60"  # Lotus's 1900-02-29 does not exist
    assert serial_to_text("61", "date", False) == "1900-03-01"
    assert serial_to_text("0", "date", True) == "1904-01-01"
    assert serial_to_text("-1", "date", False) == "-1"
    assert serial_to_text("43831.999988426", "datetime", False) == "2020-01-01 23:59:59"
    assert serial_to_text("43831.9999999", "datetime", False) == "2020-01-02 00:00:00"
    assert date_kind(0, None) is None
    assert date_kind(14, None) == "date"
    assert date_kind(164, "[$-409]mmmm d, yyyy;@") == "date"
    assert date_kind(165, '"Day" 0.00') is None
    assert date_kind(166, "[h]:mm:ss") is None
    assert date_kind(167, "h:mm AM/PM") == "time"


def pptx_parts() -> dict[str, str | bytes]:
    def slide(text: str, extra: str = "") -> str:
        return (
            f"<p:sld {P} {A}><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>{text}</a:t>"
            f"</a:r><a:br/><a:r><a:t>zweite</a:t></a:r></a:p></p:txBody></p:sp>{extra}"
            "</p:spTree></p:cSld></p:sld>"
        )

    table = (
        "<p:graphicFrame><a:graphic><a:graphicData><a:tbl><a:tr>"
        "<a:tc><a:txBody><a:p><a:r><a:t>Name</a:t></a:r></a:p></a:txBody></a:tc>"
        "<a:tc><a:txBody><a:p><a:r><a:t>Konto</a:t></a:r></a:p></a:txBody></a:tc>"
        "</a:tr></a:tbl></a:graphicData></a:graphic></p:graphicFrame>"
    )
    notes = (
        f"<p:notes {P} {A}><p:cSld><p:spTree>"
        '<p:sp><p:nvSpPr><p:nvPr><p:ph type="sldImg"/></p:nvPr></p:nvSpPr></p:sp>'
        '<p:sp><p:nvSpPr><p:nvPr><p:ph type="body" idx="1"/></p:nvPr></p:nvSpPr><p:txBody>'
        "<a:p><a:r><a:t>Sprechernotiz</a:t></a:r></a:p></p:txBody></p:sp>"
        '<p:sp><p:nvSpPr><p:nvPr><p:ph type="sldNum" idx="2"/></p:nvPr></p:nvSpPr><p:txBody>'
        "<a:p><a:fld><a:t>1</a:t></a:fld></a:p></p:txBody></p:sp>"
        "</p:spTree></p:cSld></p:notes>"
    )
    return {
        "[Content_Types].xml": "<Types/>",
        "_rels/.rels": package_rels("ppt/presentation.xml"),
        "ppt/presentation.xml": (
            f'<p:presentation {P} {R}><p:sldIdLst><p:sldId id="256" r:id="rId3"/>'
            '<p:sldId id="257" r:id="rId2"/></p:sldIdLst></p:presentation>'
        ),
        "ppt/_rels/presentation.xml.rels": rels(
            ("rId2", "slide", "slides/slide1.xml"), ("rId3", "slide", "slides/slide2.xml")
        ),
        "ppt/slides/slide1.xml": slide("Zweite Folie", table),
        "ppt/slides/slide2.xml": slide("Erste Folie – Ü"),
        "ppt/slides/_rels/slide2.xml.rels": rels(
            ("rId1", "notesSlide", "../notesSlides/notesSlide1.xml")
        ),
        "ppt/notesSlides/notesSlide1.xml": notes,
        "docProps/core.xml": CORE,
        "docProps/app.xml": APP,
        "ppt/media/image1.png": PNG,
    }


def test_pptx_slides_in_presentation_order_with_notes(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "deck.pptx", pptx_parts())
    result = extract(OoxmlIngestor, path, tmp_path / "work")
    assert result.sink.pages == {
        1: "Erste Folie – Ü\nzweite\n\nSprechernotiz",
        2: "Zweite Folie\nzweite\nName\tKonto",
    }
    assert result.child_paths == [b"ppt/media/image1.png"]
    assert result.properties["title"] == ["Quarterly Zahlungen"]


ODF_NS = (
    'xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
    'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
    'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
    'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
    'xmlns:presentation="urn:oasis:names:tc:opendocument:xmlns:presentation:1.0" '
    'xmlns:style="urn:oasis:names:tc:opendocument:xmlns:style:1.0" '
    'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
    'xmlns:dc="http://purl.org/dc/elements/1.1/"'
)
ODF_META = (
    f"<office:document-meta {ODF_NS}><office:meta><meta:generator>LibreOffice/7.3</meta:generator>"
    "<dc:title>Bericht</dc:title><meta:initial-creator>Zoë Ćirić</meta:initial-creator>"
    "<dc:creator>Max Muster</dc:creator>"
    "<meta:creation-date>2022-08-24T16:24:00</meta:creation-date>"
    "<dc:date>2022-08-25T10:00:00.123</dc:date><meta:keyword>Bank</meta:keyword>"
    "<meta:keyword>Konto</meta:keyword><dc:language>de</dc:language></office:meta>"
    "</office:document-meta>"
)
ODF_PROPERTIES = {
    "generator": ["LibreOffice/7.3"],
    "title": ["Bericht"],
    "author": ["Zoë Ćirić"],
    "notes": ["Last modified by: Max Muster"],
    "authoredAt": ["2022-08-24T16:24:00"],
    "modifiedAt": ["2022-08-25T10:00:00"],
    "keywords": ["Bank", "Konto"],
    "language": ["de"],
}
ODT_BODY = (
    "<office:text><text:sequence-decls/>"
    "<text:h>Überschrift</text:h>"
    '<text:p>Zwei<text:s text:c="2"/>Leer<text:tab/>Tab<text:line-break/>Neu'
    "<text:note><text:note-citation>1</text:note-citation><text:note-body><text:p>Fußnote</text:p>"
    "</text:note-body></text:note> <text:span>fett</text:span></text:p>"
    "<text:list><text:list-item><text:p>Punkt eins</text:p></text:list-item></text:list>"
    "<table:table><table:table-column/><table:table-row>"
    "<table:table-cell><text:p>A</text:p></table:table-cell>"
    '<table:table-cell table:number-columns-repeated="2"/>'
    "<table:table-cell><text:p>D</text:p></table:table-cell></table:table-row></table:table>"
    "<text:tracked-changes><text:changed-region><text:deletion><text:p>weg</text:p>"
    "</text:deletion></text:changed-region></text:tracked-changes>"
    "</office:text>"
)


def odf_parts(mimetype: str, body: str) -> dict[str, str | bytes]:
    return {
        "mimetype": f"application/vnd.oasis.opendocument.{mimetype}",
        "content.xml": (
            f"<office:document-content {ODF_NS}><office:body>{body}</office:body>"
            "</office:document-content>"
        ),
        "meta.xml": ODF_META,
        "styles.xml": (
            f"<office:document-styles {ODF_NS}><office:master-styles><style:master-page>"
            "<style:footer><text:p>Fußzeile</text:p></style:footer></style:master-page>"
            "</office:master-styles></office:document-styles>"
        ),
        "META-INF/manifest.xml": (
            '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:'
            'manifest:1.0"/>'
        ),
        "Pictures/1000.png": PNG,
        "Basic/Standard/Module1.xml": "<script>Sub Main</script>",
        "Thumbnails/thumbnail.png": PNG,
    }


def test_odt_text_metadata_children_and_macros(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "bericht.odt", odf_parts("text", ODT_BODY))
    result = extract(OdfIngestor, path, tmp_path / "work")
    assert result.sink.document_schema == "Pages"
    assert result.sink.pages == {
        1: "Überschrift\nZwei  Leer\tTab\nNeu fett\nFußnote\nPunkt eins\nA\t\t\tD\n\nFußzeile\n\n"
    }
    assert result.properties == ODF_PROPERTIES
    assert result.child_paths == [b"Pictures/1000.png", b"Basic/Standard/Module1.xml"]
    assert result.sink.warnings == ["contains macros (Basic/Scripts libraries)"]


def test_ods_sheets_with_repeated_cells(tmp_path: Path) -> None:
    body = (
        '<office:spreadsheet><table:table table:name="Konten">'
        '<table:table-row><table:table-cell office:value="3"><text:p>3,00 €</text:p>'
        '</table:table-cell><table:table-cell table:number-columns-repeated="2">'
        "<text:p>x</text:p></table:table-cell>"
        '<table:table-cell table:number-columns-repeated="16380"/></table:table-row>'
        '<table:table-row table:number-rows-repeated="1048575"><table:table-cell '
        'table:number-columns-repeated="16384"/></table:table-row></table:table>'
        '<table:table table:name="Zwei"><table:table-row><table:table-cell>'
        "<text:p>ß</text:p></table:table-cell></table:table-row></table:table>"
        "</office:spreadsheet>"
    )
    result = extract(
        OdfIngestor,
        write_zip(tmp_path / "k.ods", odf_parts("spreadsheet", body)),
        tmp_path / "work",
    )
    assert result.sink.document_schema == "Workbook"
    assert result.sink.pages == {1: "Konten\n3,00 €\tx\tx", 2: "Zwei\nß"}


def test_odp_one_page_per_slide_with_notes(tmp_path: Path) -> None:
    body = (
        "<office:presentation>"
        '<draw:page draw:name="page1"><draw:frame><draw:text-box><text:p>Folie eins</text:p>'
        "</draw:text-box></draw:frame><presentation:notes><draw:frame><draw:text-box>"
        "<text:p>Notiz</text:p></draw:text-box></draw:frame></presentation:notes></draw:page>"
        '<draw:page draw:name="page2"><draw:frame><draw:text-box><text:p>Folie zwei</text:p>'
        "</draw:text-box></draw:frame></draw:page></office:presentation>"
    )
    result = extract(
        OdfIngestor,
        write_zip(tmp_path / "d.odp", odf_parts("presentation", body)),
        tmp_path / "work",
    )
    assert result.sink.pages == {1: "Folie eins\n\nNotiz", 2: "Folie zwei"}


def test_flat_odt(tmp_path: Path) -> None:
    path = tmp_path / "flat.fodt"
    path.write_text(
        f'<?xml version="1.0"?><office:document {ODF_NS}><office:meta><dc:title>Flach</dc:title>'
        "</office:meta><office:body><office:text><text:p>Flacher Text</text:p></office:text>"
        "</office:body></office:document>",
        encoding="utf-8",
    )
    source, _ = source_for(path, tmp_path / "s")
    assert candidates([TextIngestor, OdfIngestor], source)[0] is OdfIngestor
    result = extract(OdfIngestor, path, tmp_path / "work")
    assert result.sink.pages == {1: "Flacher Text\n\n"}
    assert result.properties == {"title": ["Flach"]}


def _encrypt_member(data: bytes, password: str, blowfish: bool) -> tuple[bytes, str]:
    """Encrypt one member as LibreOffice does; returns the bytes and its manifest entry."""
    deflater = zlib.compressobj(9, zlib.DEFLATED, -15)
    packed = deflater.compress(data) + deflater.flush()
    salt, iv = os.urandom(16), os.urandom(8 if blowfish else 16)
    if blowfish:
        from cryptography.hazmat.decrepit.ciphers.algorithms import Blowfish
        from cryptography.hazmat.decrepit.ciphers.modes import CFB

        start = hashlib.sha1(password.encode()).digest()
        key = PBKDF2HMAC(hashes.SHA1(), 16, salt, 1024).derive(start)
        encryptor = Cipher(Blowfish(key), CFB(iv)).encryptor()
        encrypted = encryptor.update(packed) + encryptor.finalize()
        checksum = hashlib.sha1(packed[:1024]).digest()
        algorithm, checksum_type, start_name, size = "Blowfish CFB", "SHA1/1K", "SHA1", 16
    else:
        start = hashlib.sha256(password.encode()).digest()
        key = PBKDF2HMAC(hashes.SHA1(), 32, salt, 1000).derive(start)
        padding = 16 - len(packed) % 16
        encryptor = Cipher(algorithms.AES(key), modes.CBC(iv)).encryptor()
        encrypted = encryptor.update(packed + bytes([padding]) * padding) + encryptor.finalize()
        checksum = hashlib.sha256(packed[:1024]).digest()
        algorithm = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
        checksum_type = "urn:oasis:names:tc:opendocument:xmlns:manifest:1.0#sha256-1k"
        start_name, size = "http://www.w3.org/2000/09/xmldsig#sha256", 32
    entry = (
        f'<manifest:encryption-data manifest:checksum-type="{checksum_type}" '
        f'manifest:checksum="{b64(checksum)}"><manifest:algorithm manifest:algorithm-name='
        f'"{algorithm}" manifest:initialisation-vector="{b64(iv)}"/><manifest:key-derivation '
        f'manifest:key-derivation-name="PBKDF2" manifest:key-size="{size}" '
        f'manifest:iteration-count="{1024 if blowfish else 1000}" manifest:salt="{b64(salt)}"/>'
        f'<manifest:start-key-generation manifest:start-key-generation-name="{start_name}" '
        f'manifest:key-size="{size}"/></manifest:encryption-data>'
    )
    return encrypted, entry


def b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def encrypted_odt(path: Path, password: str, blowfish: bool) -> Path:
    parts = odf_parts("text", "<office:text><text:p>Geheimer Inhalt</text:p></office:text>")
    entries = []
    for name in ("content.xml", "meta.xml", "Pictures/1000.png"):
        raw = parts[name]
        data = raw.encode() if isinstance(raw, str) else raw
        parts[name], entry = _encrypt_member(data, password, blowfish)
        entries.append(
            f'<manifest:file-entry manifest:full-path="{name}" manifest:media-type="text/xml">'
            f"{entry}</manifest:file-entry>"
        )
    parts["META-INF/manifest.xml"] = (
        '<manifest:manifest xmlns:manifest="urn:oasis:names:tc:opendocument:xmlns:manifest:1.0">'
        + "".join(entries)
        + "</manifest:manifest>"
    )
    return write_zip(path, parts)


@pytest.mark.parametrize("blowfish", [False, True], ids=["aes256", "blowfish"])
def test_encrypted_odt_opens_with_its_password(tmp_path: Path, blowfish: bool) -> None:
    path = encrypted_odt(tmp_path / "secret.odt", "geheim", blowfish)
    with pytest.raises(EncryptedFile, match="password-protected"):
        extract(OdfIngestor, path, tmp_path / "a")
    with pytest.raises(EncryptedFile, match=r"password-protected \(1 supplied passwords tried\)"):
        extract(OdfIngestor, path, tmp_path / "b", passwords=("falsch",))
    result = extract(OdfIngestor, path, tmp_path / "c", passwords=("falsch", "geheim"))
    assert result.sink.decrypted is True
    assert result.sink.pages == {1: "Geheimer Inhalt\n\nFußzeile\n\n"}
    assert result.properties["author"] == ["Zoë Ćirić"]
    assert result.child_bytes(b"Pictures/1000.png") == PNG


def test_odt_not_a_zip_is_broken(tmp_path: Path) -> None:
    path = tmp_path / "fake.odt"
    path.write_bytes(b"This is not a zip file.\n")
    with pytest.raises(BrokenFile, match="not a zip container, as ODF must be"):
        extract(OdfIngestor, path, tmp_path / "w")


def epub_parts() -> dict[str, str | bytes]:
    page = (
        '<?xml version="1.0" encoding="utf-8"?><html xmlns="http://www.w3.org/1999/xhtml">'
        "<head><title>{0}</title></head><body><h1>{0}</h1><p>{1}</p></body></html>"
    )
    return {
        "mimetype": "application/epub+zip",
        "META-INF/container.xml": (
            '<container xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles>'
            '<rootfile full-path="OEBPS/content.opf"/></rootfiles></container>'
        ),
        "OEBPS/content.opf": (
            '<package xmlns="http://www.idpf.org/2007/opf" xmlns:opf="http://www.idpf.org/2007/opf">'
            '<metadata xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Das Buch</dc:title>'
            "<dc:creator>Ève Durand</dc:creator><dc:language>fr</dc:language>"
            "<dc:publisher>Verlag</dc:publisher><dc:date>2019-05-01</dc:date>"
            '<dc:date opf:event="modification">2020-01-02T03:04:05Z</dc:date></metadata>'
            '<manifest><item id="c1" href="text/ch1.xhtml" media-type="application/xhtml+xml"/>'
            '<item id="c2" href="text/ch%202.xhtml" media-type="application/xhtml+xml"/>'
            '<item id="img" href="cover.jpg" media-type="image/jpeg"/></manifest>'
            '<spine><itemref idref="c2"/><itemref idref="c1"/></spine></package>'
        ),
        "OEBPS/text/ch1.xhtml": page.format("Kapitel 1", "Später"),
        "OEBPS/text/ch 2.xhtml": page.format("Vorwort", "Zuerst"),
        "OEBPS/cover.jpg": b"\xff\xd8\xff",
    }


def test_epub_spine_order_and_metadata(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "book.epub", epub_parts())
    source, _ = source_for(path, tmp_path / "s", name="book.zip")
    assert EpubIngestor.score(source) > 0  # recognised by its mimetype member
    result = extract(EpubIngestor, path, tmp_path / "work")
    assert result.sink.pages == {1: "Vorwort\n\nZuerst", 2: "Kapitel 1\n\nSpäter"}
    assert result.properties == {
        "title": ["Das Buch"],
        "author": ["Ève Durand"],
        "language": ["fr"],
        "publisher": ["Verlag"],
        "publishedAt": ["2019-05-01"],
        "modifiedAt": ["2020-01-02T03:04:05"],
    }
    assert result.child_paths == []


def test_drm_epub_is_encrypted(tmp_path: Path) -> None:
    parts = epub_parts()
    parts["META-INF/encryption.xml"] = (
        '<encryption xmlns="urn:oasis:names:tc:opendocument:xmlns:container" '
        'xmlns:enc="http://www.w3.org/2001/04/xmlenc#"><enc:EncryptedData><enc:EncryptionMethod '
        'Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/><enc:CipherData>'
        '<enc:CipherReference URI="OEBPS/text/ch1.xhtml"/></enc:CipherData></enc:EncryptedData>'
        "</encryption>"
    )
    with pytest.raises(EncryptedFile, match="DRM"):
        extract(EpubIngestor, write_zip(tmp_path / "drm.epub", parts), tmp_path / "w")


# --- corpus ---------------------------------------------------------------------------------

TIKA = CORPUS / "documents" / "tika"
FORMATS: dict[str, type[OoxmlIngestor] | type[OdfIngestor] | type[EpubIngestor]] = {
    "docx": OoxmlIngestor, "xlsx": OoxmlIngestor, "xlsm": OoxmlIngestor, "pptx": OoxmlIngestor,
    "pptm": OoxmlIngestor, "odt": OdfIngestor, "ods": OdfIngestor, "odp": OdfIngestor,
    "epub": EpubIngestor,
}  # fmt: skip
# Files with no text at all (an image, an empty paragraph or embedded objects only).
TEXTLESS = {"headerPic.docx", "testWORD_multi_authors.docx", "testPPT_EmbeddedPDF.pptx"}


def _corpus_files() -> list[tuple[str, str]]:
    index = CORPUS / "documents" / "tika-index.csv"
    if not index.is_file():
        return []
    with index.open(newline="") as handle:
        return [
            (row["file"], row["category"])
            for row in csv.DictReader(handle)
            if row["category"] in FORMATS
            and not any(word in row["notes"] for word in ("broken", "encrypted", "password"))
        ]


@needs_corpus
@pytest.mark.parametrize(("name", "category"), _corpus_files())
def test_corpus_office_files_yield_text(tmp_path: Path, name: str, category: str) -> None:
    result = extract(FORMATS[category], TIKA / name, tmp_path)
    if name in TEXTLESS:
        assert result.text.strip() == ""
    else:
        assert result.text.strip(), name


@needs_corpus
@pytest.mark.parametrize(
    ("name", "snippet"),
    [
        ("testWORD.docx", "This is a sample Microsoft Word Document.\n\n"),
        ("testWORD.docx", "Apache Tika: http://tika.apache.org/ Tika\n"),
        ("testEXCEL.xlsx", "Feuil1\nSample Excel Worksheet - Numbers and their Squares\n"),
        ("testEXCEL.xlsx", "\t15\t225\nWritten and saved in Microsoft Excel X for Mac"),
        ("testPPT.pptx", "Attachment Test\nRajiv"),
        ("testEPUB.epub", "This is the text for chapter One"),
        ("testODFwithOOo3.odt", "Tika is part of the Lucene project."),
        ("test-columnar.xlsx", "0\t0\tThis is row            0 of           10\t0\t\t1960-01-01"),
        ("protectedSheets.xlsx", "Лист1\n1\t2\t3\npass:\tq1"),
    ],
)
def test_corpus_snippets(tmp_path: Path, name: str, snippet: str) -> None:
    ingestor = FORMATS[name.rsplit(".", 1)[1]]
    assert snippet in extract(ingestor, TIKA / name, tmp_path).text


@needs_corpus
def test_corpus_special_cases(tmp_path: Path) -> None:
    with pytest.raises(BrokenFile):
        extract(OoxmlIngestor, TIKA / "testWORD_truncated.docx", tmp_path / "a")
    with pytest.raises(BrokenFile):
        extract(OdfIngestor, TIKA / "testODTnotaZipFile.odt", tmp_path / "b")
    with pytest.raises(EncryptedFile):
        extract(OdfIngestor, TIKA / "testODTEncrypted.odt", tmp_path / "c")
    source, _ = source_for(TIKA / "testWORD_protected_passtika.docx", tmp_path / "d")
    assert OoxmlIngestor.score(source) == 0
    word = extract(OoxmlIngestor, TIKA / "testWORD.docx", tmp_path / "e")
    assert word.properties["title"] == ["Sample Word Document"]
    assert word.properties["author"] == ["Keith Bennett"]
    assert word.properties["authoredAt"] == ["2008-12-11T16:04:00"]
    macro = extract(OoxmlIngestor, TIKA / "testEXCEL_macro.xlsm", tmp_path / "f")
    assert macro.child_paths == [b"xl/vbaProject.bin"]
    assert "contains macros (VBA project)" in macro.sink.warnings


def test_ods_repetition_bomb_stays_bounded(tmp_path: Path) -> None:
    from caselens.ingest.limits import Limits

    body = (
        '<office:spreadsheet><table:table table:name="Bombe">'
        '<table:table-row table:number-rows-repeated="1048576">'
        '<table:table-cell table:number-columns-repeated="16384"><text:p>x</text:p>'
        "</table:table-cell></table:table-row></table:table></office:spreadsheet>"
    )
    path = write_zip(tmp_path / "bomb.ods", odf_parts("spreadsheet", body))
    result = extract(OdfIngestor, path, tmp_path / "work", limits=Limits(max_text_chars=100))
    assert result.sink.pages == {1: "Bombe\n" + "\t".join(["x"] * 47) + "\t"}
    assert result.sink.warnings[0] == "text cut at 100 characters (limit max_text_chars)"
