"""PDF ingestor: PDFs written byte by byte here, and the shared corpus read in place."""

from __future__ import annotations

import csv
import shutil
import subprocess
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from caselens.ingest.errors import BrokenFile, EncryptedFile, LimitReached, NotMyFormat
from caselens.ingest.formats.pdf import PdfIngestor, parse_pdf_date
from caselens.ingest.harness import Extraction, extract
from caselens.ingest.limits import Limits
from caselens.ocr import ocr_available
from tests.conftest import CORPUS, needs_corpus

# --- a small PDF writer: enough of the format to build every fixture by hand ----------------


def pdf_string(value: str) -> bytes:
    """A PDF text string: PDFDocEncoding-compatible Latin-1 as a literal, else UTF-16BE hex."""
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        return b"<" + (b"\xfe\xff" + value.encode("utf-16-be")).hex().upper().encode() + b">"
    escaped = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")"


def shown_text(line: str) -> bytes:
    """A line for the Tj operator, in the font's WinAnsiEncoding (cp1252): not UTF-8."""
    raw = line.encode("cp1252")
    return b"(" + raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)") + b")"


@dataclass
class PdfSpec:
    """What a hand-written PDF holds. A page of None has no text, only a filled square."""

    pages: list[str | None]
    info: dict[str, str] = field(default_factory=dict)
    language: str | None = None
    xmp: str | None = None
    embedded: list[tuple[str, bytes]] = field(default_factory=list)
    annotation_file: tuple[str, bytes] | None = None  # a FileAttachment on page 1
    text_field: tuple[str, str] | None = None  # a filled-in form field on page 1
    acroform: bool = True  # whether the catalog lists the form field


def build_pdf(spec: PdfSpec) -> bytes:
    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    def stream(dictionary: bytes, data: bytes) -> bytes:
        return b"<< " + dictionary + b" /Length %d >>\nstream\n" % len(data) + data + b"\nendstream"

    def file_stream(data: bytes) -> int:
        params = b"/Type /EmbeddedFile /Subtype /text#2Fplain "
        params += b"/Params << /Size %d /ModDate (D:20200131100000+01'00') >>" % len(data)
        return add(stream(params, data))

    def file_spec(name: str, data: bytes, description: str) -> int:
        body = b"<< /Type /Filespec /F " + pdf_string(name) + b" /UF " + pdf_string(name)
        body += b" /Desc " + pdf_string(description)
        return add(body + b" /EF << /F %d 0 R >> >>" % file_stream(data))

    catalog = add(b"")  # filled in last, once the objects it points to exist
    pages = add(b"")
    font = add(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>")
    kids = []
    fields: list[int] = []
    for number, text in enumerate(spec.pages, start=1):
        if text is None:
            content = b"0 0 1 rg 72 72 200 200 re f"
        else:
            lines = [shown_text(line) + b" Tj" for line in text.split("\n")]
            content = b"BT /F1 12 Tf 14 TL 72 720 Td " + b" T* ".join(lines) + b" ET"
        annotations = []
        if number == 1 and spec.annotation_file:
            name, data = spec.annotation_file
            spec_object = file_spec(name, data, "attached to a note")
            annotations.append(
                add(
                    b"<< /Type /Annot /Subtype /FileAttachment /Rect [500 700 520 720] "
                    b"/FS %d 0 R /Contents (see the file) >>" % spec_object
                )
            )
        if number == 1 and spec.text_field:
            name, value = spec.text_field
            fields.append(
                add(
                    b"<< /Type /Annot /Subtype /Widget /FT /Tx /T "
                    + pdf_string(name)
                    + b" /V "
                    + pdf_string(value)
                    + b" /Rect [72 600 300 620] /F 4 >>"
                )
            )
            annotations.extend(fields)
        annots = b""
        if annotations:
            annots = b" /Annots [%s]" % b" ".join(b"%d 0 R" % a for a in annotations)
        contents = add(stream(b"", content))
        kids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] " % pages
                + b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R" % (font, contents)
                + annots
                + b" >>"
            )
        )
    objects[pages - 1] = b"<< /Type /Pages /Kids [%s] /Count %d >>" % (
        b" ".join(b"%d 0 R" % kid for kid in kids),
        len(kids),
    )
    catalog_body = b"<< /Type /Catalog /Pages %d 0 R" % pages
    if spec.language:
        catalog_body += b" /Lang " + pdf_string(spec.language)
    if fields and spec.acroform:
        listed = b" ".join(b"%d 0 R" % f for f in fields)
        catalog_body += b" /AcroForm << /Fields [" + listed + b"] /DA (/Helv 0 Tf 0 g) >>"
    if spec.xmp is not None:
        metadata = add(stream(b"/Type /Metadata /Subtype /XML", spec.xmp.encode("utf-8")))
        catalog_body += b" /Metadata %d 0 R" % metadata
    if spec.embedded:
        names = b" ".join(
            pdf_string(name) + b" %d 0 R" % file_spec(name, data, f"about {name}")
            for name, data in sorted(spec.embedded)
        )
        catalog_body += b" /Names << /EmbeddedFiles << /Names [" + names + b"] >> >>"
    objects[catalog - 1] = catalog_body + b" >>"
    info = None
    if spec.info:
        entries = b" ".join(
            b"/" + key.encode() + b" " + pdf_string(v) for key, v in spec.info.items()
        )
        info = add(b"<< " + entries + b" >>")

    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    trailer = b"/Size %d /Root %d 0 R" % (len(objects) + 1, catalog)
    if info:
        trailer += b" /Info %d 0 R" % info
    out += b"trailer\n<< " + trailer + b" >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def write(tmp_path: Path, data: bytes, name: str = "fixture.pdf") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def run(tmp_path: Path, path: Path, **options: object) -> Extraction:
    return extract(PdfIngestor, path, tmp_path / "work", **options)  # type: ignore[arg-type]


INFO = {
    "Title": "Quarterly report – Ålesund",  # an en dash: written as UTF-16 with a BOM
    "Author": "Jane Doe",
    "Subject": "Payments to the shell company",
    "Keywords": "invoice; offshore",
    "Creator": "Writer",
    "Producer": "LibreOffice 7.4",
    "CreationDate": "D:20200131100000+02'00'",
    "ModDate": "D:20200201083000Z",
}


# --- built fixtures ----------------------------------------------------------------------


def test_text_per_page_and_info_metadata(tmp_path: Path) -> None:
    spec = PdfSpec(
        pages=["First page\nsecond line", "Café crème at 5 €", "Third (final) page"],
        info=INFO,
        language="en-GB",
    )
    result = run(tmp_path, write(tmp_path, build_pdf(spec)))

    assert result.sink.document_schema == "Pages"
    assert result.sink.pages == {
        1: "First page\nsecond line",
        2: "Café crème at 5 €",
        3: "Third (final) page",
    }
    assert result.properties == {
        "title": ["Quarterly report – Ålesund"],
        "author": ["Jane Doe"],
        "summary": ["Payments to the shell company"],
        "keywords": ["invoice; offshore"],
        "generator": ["Writer", "LibreOffice 7.4"],
        "createdAt": ["2020-01-31T08:00:00"],
        "modifiedAt": ["2020-02-01T08:30:00"],
        "language": ["en-GB"],
    }
    assert result.sink.warnings == []
    assert result.sink.decrypted is False
    assert result.child_paths == []


def test_pages_without_text_layer_are_counted(tmp_path: Path) -> None:
    spec = PdfSpec(pages=["Scanned cover letter", None, None, "Signed: J. Doe", None])
    result = run(tmp_path, write(tmp_path, build_pdf(spec)))

    assert result.sink.pages == {1: "Scanned cover letter", 4: "Signed: J. Doe"}
    assert result.sink.warnings == ["3 of 5 pages have no text layer"]


def test_page_that_cannot_be_loaded_is_skipped_with_a_warning(tmp_path: Path) -> None:
    data = build_pdf(PdfSpec(pages=["one", "three"]))
    # The page tree names a second page whose object does not exist.
    first_kid = data.split(b"/Kids [", 1)[1].split(b" ", 1)[0]
    data = data.replace(b"/Kids [" + first_kid + b" 0 R", b"/Kids [" + first_kid + b" 0 R 99 0 R")
    data = data.replace(b"/Count 2", b"/Count 3")
    result = run(tmp_path, write(tmp_path, data))

    assert result.sink.pages == {1: "one", 3: "three"}
    assert result.sink.warnings == ["1 of 3 pages could not be loaded (page 2)"]


def test_embedded_files_become_children(tmp_path: Path) -> None:
    spec = PdfSpec(
        pages=["See the attached ledger."],
        embedded=[("ledger.csv", b"date,amount\n2020-01-31,9500\n"), ("notes.txt", b"cash")],
    )
    result = run(tmp_path, write(tmp_path, build_pdf(spec)))

    assert result.child_paths == [b"ledger.csv", b"notes.txt"]
    assert result.child_bytes(b"ledger.csv") == b"date,amount\n2020-01-31,9500\n"
    assert result.child_bytes(b"notes.txt") == b"cash"
    assert result.sink.children[0].metadata == {
        "mime_type": "text/plain",
        "description": "about ledger.csv",
        "modified": "2020-01-31T09:00:00Z",
    }
    assert result.text == "See the attached ledger."


def test_file_attached_to_an_annotation_is_a_child(tmp_path: Path) -> None:
    spec = PdfSpec(pages=["Page with a note"], annotation_file=("wire.txt", b"IBAN DE89"))
    result = run(tmp_path, write(tmp_path, build_pdf(spec)))

    assert result.child_paths == [b"wire.txt"]
    assert result.child_bytes(b"wire.txt") == b"IBAN DE89"
    assert result.sink.children[0].metadata == {
        "page": 1,
        "mime_type": "text/plain",
        "description": "attached to a note",
        "modified": "2020-01-31T09:00:00Z",
    }


@pytest.mark.parametrize("acroform", [True, False])
def test_form_field_values_are_page_text(tmp_path: Path, acroform: bool) -> None:
    spec = PdfSpec(
        pages=["Name of the account holder:", "Second page"],
        text_field=("holder", "Olga Ivanova"),
        acroform=acroform,  # without it the value is read from the widget itself
    )
    result = run(tmp_path, write(tmp_path, build_pdf(spec)))
    assert result.sink.pages == {1: "Name of the account holder:\nOlga Ivanova", 2: "Second page"}


def test_xmp_metadata_when_the_info_dictionary_is_missing(tmp_path: Path) -> None:
    xmp = (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF '
        'xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:pdf="http://ns.adobe.com/pdf/1.3/" '
        'xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:dc="http://purl.org/dc/elements/1.1/" '
        'pdf:Producer="Ghostscript &amp; friends" xmp:CreateDate="2019-05-04T23:10:00-03:00">'
        '<dc:title><rdf:Alt><rdf:li xml:lang="x-default">Ledger &lt;draft&gt;</rdf:li>'
        "</rdf:Alt></dc:title>"
        "<dc:creator><rdf:Seq><rdf:li>Ana Silva</rdf:li><rdf:li>Bo Berg</rdf:li></rdf:Seq>"
        "</dc:creator>"
        "<dc:language><rdf:Bag><rdf:li>pt-BR</rdf:li></rdf:Bag></dc:language>"
        "<xmp:ModifyDate>2019-05-05</xmp:ModifyDate>"
        "</rdf:Description></rdf:RDF></x:xmpmeta>\n"
        '<?xpacket end="w"?>'
    )
    result = run(tmp_path, write(tmp_path, build_pdf(PdfSpec(pages=["text"], xmp=xmp))))

    assert result.properties == {
        "title": ["Ledger <draft>"],
        "author": ["Ana Silva", "Bo Berg"],
        "generator": ["Ghostscript & friends"],
        "createdAt": ["2019-05-05T02:10:00"],
        "modifiedAt": ["2019-05-05"],
        "language": ["pt-BR"],
    }


def test_unreadable_dates_are_kept_raw_in_a_warning(tmp_path: Path) -> None:
    spec = PdfSpec(pages=["x"], info={"CreationDate": "yesterday", "ModDate": "D:20201345000000Z"})
    result = run(tmp_path, write(tmp_path, build_pdf(spec)))

    assert "createdAt" not in result.properties
    assert "modifiedAt" not in result.properties
    assert result.sink.warnings == [
        "unreadable PDF date in CreationDate: 'yesterday'",
        "unreadable PDF date in ModDate: 'D:20201345000000Z'",
    ]


def test_wrong_xref_offsets_are_repaired(tmp_path: Path) -> None:
    data = build_pdf(PdfSpec(pages=["Alpha page", "Beta page"], info=INFO))
    # A comment pushed in after the header moves every object away from its xref offset.
    shifted = data.replace(b"%PDF-1.7\n", b"%PDF-1.7\n%" + b"padding " * 40 + b"\n", 1)
    result = run(tmp_path, write(tmp_path, shifted))

    assert result.sink.pages == {1: "Alpha page", 2: "Beta page"}
    assert result.properties["author"] == ["Jane Doe"]


def test_truncated_pdf_is_broken(tmp_path: Path) -> None:
    data = build_pdf(PdfSpec(pages=["Alpha page", "Beta page", "Gamma page"], info=INFO))
    path = write(tmp_path, data[: len(data) // 2])  # the trailer and its /Root are lost
    with pytest.raises(BrokenFile) as caught:
        run(tmp_path, path)
    assert str(caught.value) == (
        "PDF could not be loaded (PDFium FPDF_ERR_FORMAT: not a PDF or corrupted)"
    )


def test_garbage_behind_a_pdf_header_is_broken(tmp_path: Path) -> None:
    garbage = b"%PDF-1.4\n" + bytes(range(256)) * 40 + b"\n%%EOF\n"
    with pytest.raises(BrokenFile) as caught:
        run(tmp_path, write(tmp_path, garbage))
    assert str(caught.value) == (
        "PDF could not be loaded (PDFium FPDF_ERR_FORMAT: not a PDF or corrupted)"
    )


def test_file_named_pdf_without_a_header_is_not_mine(tmp_path: Path) -> None:
    path = write(tmp_path, b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(NotMyFormat):
        run(tmp_path, path)


def test_text_limit_cuts_and_warns(tmp_path: Path) -> None:
    spec = PdfSpec(pages=["0123456789", "abcdefghij", "never read"])
    result = run(tmp_path, write(tmp_path, build_pdf(spec)), limits=Limits(max_text_chars=15))

    assert result.sink.pages == {1: "0123456789", 2: "abcde"}
    assert result.sink.warnings == ["text cut at 15 characters (limit max_text_chars)"]


def test_embedded_file_over_the_size_limit_keeps_the_text(tmp_path: Path) -> None:
    spec = PdfSpec(pages=["Cover"], embedded=[("big.bin", b"x" * 5000)])
    path = write(tmp_path, build_pdf(spec))
    with pytest.raises(LimitReached) as caught:
        run(tmp_path, path, limits=Limits(max_expanded_bytes=1000))
    assert str(caught.value) == "expanded content exceeds 0 MiB (limit max_expanded_mb)"


def test_too_many_embedded_files(tmp_path: Path) -> None:
    files = [(f"f{number}.txt", b"x") for number in range(3)]
    path = write(tmp_path, build_pdf(PdfSpec(pages=["Cover"], embedded=files)))
    with pytest.raises(LimitReached) as caught:
        run(tmp_path, path, limits=Limits(max_members=2))
    assert str(caught.value) == "more than 2 members (limit max_archive_members)"


def test_scores_pdf_content_above_a_pdf_name(tmp_path: Path) -> None:
    result = run(tmp_path, write(tmp_path, build_pdf(PdfSpec(pages=["x"])), name="scan.bin"))
    assert result.source.mime_type == "application/pdf"
    assert PdfIngestor.score(result.source) == 12
    assert result.text == "x"


def test_pdf_behind_junk_bytes_is_still_read(tmp_path: Path) -> None:
    data = b"\x00\x01 mail gateway junk\n" + build_pdf(PdfSpec(pages=["Behind junk"]))
    result = run(tmp_path, write(tmp_path, data))
    # libmagic misses it; detection looks for the header in the first kilobyte
    assert result.source.mime_type == "application/pdf"
    assert PdfIngestor.score(result.source) == 12
    assert result.sink.pages == {1: "Behind junk"}


# --- PDF dates ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("D:20200131100000+02'00'", "2020-01-31T08:00:00Z"),
        ("D:20200131100000+02'00", "2020-01-31T08:00:00Z"),
        ("D:20200131100000-05'30'", "2020-01-31T15:30:00Z"),
        ("D:20200131100000Z00'00'", "2020-01-31T10:00:00Z"),
        ("D:20200131100000Z", "2020-01-31T10:00:00Z"),
        ("D:20200131100000", "2020-01-31T10:00:00"),
        ("D:202001311000", "2020-01-31T10:00:00"),
        ("D:20200131", "2020-01-31"),
        ("D:2020", "2020"),
        ("20200131235959+01'00'", "2020-01-31T22:59:59Z"),
        ("2019-05-04T23:10:00-03:00", "2019-05-05T02:10:00Z"),
        ("2019-05-04T23:10:00.25Z", "2019-05-04T23:10:00Z"),
        ("2019-05", "2019-05"),
        ("D:20201345000000Z", None),
        ("D:20200131100000+15'00'", None),
        ("D:191000102120000", None),  # the year 19100 of old Acrobat versions
        ("yesterday", None),
        ("", None),
    ],
)
def test_parse_pdf_date(raw: str, expected: str | None) -> None:
    assert parse_pdf_date(raw) == expected


@given(
    st.datetimes(min_value=datetime(1900, 1, 2), max_value=datetime(9998, 12, 30)),
    st.integers(min_value=-12 * 60, max_value=14 * 60),
)
def test_pdf_dates_with_an_offset_become_utc(moment: datetime, offset_minutes: int) -> None:
    moment = moment.replace(microsecond=0)
    zone = timezone(timedelta(minutes=offset_minutes))
    hours, minutes = divmod(abs(offset_minutes), 60)
    sign = "-" if offset_minutes < 0 else "+"
    raw = moment.strftime("D:%Y%m%d%H%M%S") + f"{sign}{hours:02d}'{minutes:02d}'"
    expected = moment.replace(tzinfo=zone).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert parse_pdf_date(raw) == expected


# --- the shared corpus, read in place ------------------------------------------------------

DOCUMENTS = CORPUS / "documents"
UNICODE_PASSWORD = (  # tika-server TikaResourceTest#testUnicodePasswordProtectedUnicode
    '  ! < > " \\ \u20ac \u0153 \u00a4 1\u20444 1\u20442 \U0002070e \U00029d98 \U0001f600  '
)
# Passwords from MANIFEST.md, tika-index.csv, and the pypdf / Tika tests that use the files.
PASSWORDS = {
    **{
        f"pypdf/{name}-user-password.pdf": "asdfzxcv"
        for name in ("r2", "r3", "r4", "r4-aes", "r5", "r6")
    },
    "pypdf/r6-both-passwords.pdf": "foo",
    "pypdf/crazyones-encrypted-256.pdf": "password",
    "pypdf/encrypted-file.pdf": "test",
    "pypdf/libreoffice-writer-password.pdf": "openpassword",
    "tika/testPassword4Spaces.pdf": "    ",
    "tika/testUnicodePassword.pdf": UNICODE_PASSWORD,
    "tika/testPDF_no_extract_no_accessibility_owner_user.pdf": "user",
}
# Pages with images or vector drawings only: no text until OCR (pdftotext agrees).
WITHOUT_TEXT = {
    "pypdf/box.pdf",
    "pypdf/encrypted_doc_no_id.pdf",
    "pypdf/git.pdf",
    "pypdf/imagemagick-ASCII85Decode.pdf",
    "pypdf/imagemagick-CCITTFaxDecode.pdf",
    "pypdf/imagemagick-lzw.pdf",
    "pypdf/issue-3850-1bit-indexed-flate.pdf",
    "tika/testOCR.pdf",
    "tika/testPDF_AdobeIllustrator.pdf",
    "tika/testPDF_Version.11.x.PDFA-1b.pdf",
    "tika/testPDF_Version.4.x.pdf",
    "tika/testPDF_jpeg2000.pdf",
    "tika/testPDF_malformedXFA.pdf",  # marked broken: an XFA form PDFium shows blank
    "tika/testPDF_twoAuthors.pdf",
}
# Of those, the ones whose images hold text that OCR reads (when tesseract is installed).
READ_BY_OCR = {
    "pypdf/encrypted_doc_no_id.pdf",
    "pypdf/issue-3850-1bit-indexed-flate.pdf",
    "tika/testOCR.pdf",
    "tika/testPDF_jpeg2000.pdf",
}


def corpus_pdfs() -> list[str]:
    return sorted(
        f"{path.parent.name}/{path.name}"
        for folder in ("pypdf", "tika")
        for path in (DOCUMENTS / folder).glob("*.pdf")
    )


def tika_notes() -> dict[str, str]:
    with (DOCUMENTS / "tika-index.csv").open(newline="", encoding="utf-8") as handle:
        return {row["file"]: row["notes"] for row in csv.DictReader(handle)}


def words(text: str) -> list[str]:
    return unicodedata.normalize("NFKC", text).split()


@needs_corpus
def test_crazyones_matches_pypdf_ground_truth(tmp_path: Path) -> None:
    result = run(tmp_path, DOCUMENTS / "pypdf" / "crazyones.pdf")
    expected = (DOCUMENTS / "pypdf" / "crazyones.txt").read_text(encoding="utf-8")
    assert words(result.text) == words(expected)
    assert result.text.startswith("The Crazy Ones\nOctober 14, 1998\n")
    assert result.properties == {
        "generator": ["XeTeX output 2015.06.04:1334", "xdvipdfmx (20140317)"],
        "createdAt": ["2015-06-04T19:34:06"],
    }


@needs_corpus
@pytest.mark.parametrize("name", sorted(PASSWORDS))
def test_encrypted_corpus_pdf_needs_its_password(tmp_path: Path, name: str) -> None:
    path = DOCUMENTS / name
    with pytest.raises(EncryptedFile) as caught:
        run(tmp_path, path)
    assert str(caught.value) == "PDF is password-protected"
    with pytest.raises(EncryptedFile):
        run(tmp_path, path, passwords=("wrong", "asdf"))

    result = run(tmp_path, path, passwords=("wrong", PASSWORDS[name]))
    assert result.sink.decrypted is True
    assert result.text.strip()


@needs_corpus
def test_pypdf_encryption_matrix_text(tmp_path: Path) -> None:
    expected = "pdf encryption test\npassword: asdfzxcv"  # unencrypted.pdf holds it too
    assert run(tmp_path, DOCUMENTS / "pypdf" / "unencrypted.pdf").text.strip() == expected
    for name in ("r2", "r3", "r4", "r4-aes", "r5", "r6"):
        opened = run(
            tmp_path, DOCUMENTS / "pypdf" / f"{name}-user-password.pdf", passwords=("asdfzxcv",)
        )
        assert opened.text.strip() == expected, name
    # The owner password opens it too, with every permission.
    both = run(tmp_path, DOCUMENTS / "pypdf" / "r6-both-passwords.pdf", passwords=("bar",))
    assert both.text.strip() == expected
    assert both.sink.warnings == []


@needs_corpus
@pytest.mark.parametrize(
    "name",
    [
        "pypdf/r2-empty-password.pdf",
        "pypdf/r2-owner-password.pdf",
        "pypdf/r3-empty-password.pdf",
        "pypdf/r4-owner-password.pdf",
        "pypdf/r5-empty-password.pdf",
        "pypdf/r5-owner-password.pdf",
        "pypdf/r6-empty-password.pdf",
        "pypdf/r6-owner-password.pdf",
        "pypdf/r4-aes-v2-no-key-length.pdf",
        "tika/testPDF_protected.pdf",
    ],
)
def test_owner_password_only_pdf_is_read_without_a_password(tmp_path: Path, name: str) -> None:
    result = run(tmp_path, DOCUMENTS / name)
    assert result.sink.decrypted is False
    assert result.text.strip()
    assert result.sink.warnings == [
        "PDF is encrypted with an empty user password: permissions restricted"
    ]


@needs_corpus
def test_corpus_attachments(tmp_path: Path) -> None:
    tika = DOCUMENTS / "tika"
    package = run(tmp_path, tika / "testPDFPackage.pdf")
    assert package.child_paths == [b"PDF1.pdf", b"PDF2.pdf"]
    assert all(package.child_bytes(path).startswith(b"%PDF-") for path in package.child_paths)

    annotated = run(tmp_path, tika / "testPDFFileEmbInAnnotation.pdf")
    assert annotated.child_paths == [b"Excel.xlsx"]
    assert annotated.child_bytes(b"Excel.xlsx").startswith(b"PK\x03\x04")
    assert annotated.sink.children[0].metadata["page"] == 1

    children = run(tmp_path, tika / "testPDF_childAttachments.pdf")
    assert children.child_paths == [b"Press Quality(1).joboptions", b"Unit10.doc"]
    assert children.child_bytes(b"Unit10.doc").startswith(bytes.fromhex("d0cf11e0a1b11ae1"))


@needs_corpus
def test_corpus_form_values(tmp_path: Path) -> None:
    filled = run(tmp_path, DOCUMENTS / "pypdf" / "form_acrobatReader.pdf")
    assert filled.sink.pages == {1: "foo\n1\nBar"}
    libreoffice = run(tmp_path, DOCUMENTS / "pypdf" / "libreoffice-form.pdf")
    assert libreoffice.text.endswith("\nAlice\nBob")


@needs_corpus
def test_irm_wrapper_is_read_and_its_payload_is_encrypted(tmp_path: Path) -> None:
    wrapper = run(tmp_path, DOCUMENTS / "tika" / "testMicrosoftIRMServices.pdf")
    assert "This PDF file is protected" in wrapper.text
    payload = wrapper.child_bytes(b"MicrosoftIRMServices Protected PDF.pdf")
    path = write(tmp_path, payload, "payload.pdf")
    with pytest.raises(EncryptedFile) as caught:
        run(tmp_path, path)
    assert str(caught.value) == "PDF uses a security handler PDFium cannot open (DRM?)"


@needs_corpus
def test_every_corpus_pdf_is_accounted_for(tmp_path: Path) -> None:
    notes = tika_notes()
    table: list[tuple[str, str, str]] = []
    without_text: set[str] = set()
    encrypted: set[str] = set()
    for name in corpus_pdfs():
        try:
            result = run(tmp_path / name, DOCUMENTS / name)
        except EncryptedFile as err:
            encrypted.add(name)
            table.append((name, "encrypted", str(err)))
            continue
        if result.text.strip():
            table.append((name, "text", f"{len(result.text)} characters"))
        else:
            without_text.add(name)
            table.append((name, "no text", "; ".join(result.sink.warnings)))
    print("\nPDF corpus: file | outcome | detail")
    for row in table:
        print(" | ".join(row))

    assert encrypted == set(PASSWORDS)
    assert without_text == (WITHOUT_TEXT - READ_BY_OCR if ocr_available() else WITHOUT_TEXT)
    marked = {
        name
        for name in corpus_pdfs()
        if name.startswith("tika/")
        and notes.get(name.split("/")[1], "").startswith(
            ("broken", "encrypted", "password", "image-only")
        )
    }
    readable = [name for name in corpus_pdfs() if name not in marked and name not in PASSWORDS]
    with_text = [name for name in readable if name not in without_text]
    print(f"{len(with_text)} of {len(readable)} readable PDFs yield text")


@needs_corpus
@pytest.mark.skipif(shutil.which("pdftotext") is None, reason="poppler-utils not installed")
def test_pdftotext_finds_no_text_either_where_we_find_none() -> None:
    for name in sorted(WITHOUT_TEXT):
        output = subprocess.run(
            ["pdftotext", "-q", str(DOCUMENTS / name), "-"],
            capture_output=True,
            check=False,
            timeout=60,
        ).stdout
        assert not output.strip(), name
