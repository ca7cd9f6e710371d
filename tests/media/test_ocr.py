"""OCR: images and scanned PDF pages drawn here with Pillow, read by the installed tesseract.

Tests that need tesseract are skipped with the reason when it is not installed (CI
installs it); the tests of a missing tesseract or language pack run everywhere.
"""

from __future__ import annotations

import dataclasses
import difflib
import io
import os
import stat
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from PIL import Image, ImageDraw, ImageFont

from caselens.ingest.formats.pdf import PdfIngestor
from caselens.ingest.harness import CASE_ID, Extraction, extract, source_for
from caselens.ingest.limits import Limits
from caselens.ingest.sink import Sink
from caselens.ocr import OcrReader, OcrTimeout, ocr_available, ocr_image
from caselens.ocr.engine import debian_package, find_tesseract
from caselens.ocr.prepare import MAX_PIXELS, MAX_UPSCALED_PIXELS, prepare_image
from caselens.ocr.words import parse_tsv
from caselens.store.blobs import Readable
from caselens.store.hashing import Digests
from tests.conftest import ADMIN, CORPUS, needs_corpus, new_installation

TESSERACT = find_tesseract()
needs_tesseract = pytest.mark.skipif(
    TESSERACT is None or "eng" not in TESSERACT.languages,
    reason="tesseract with English not installed (apt-get install tesseract-ocr tesseract-ocr-eng)",
)
DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
LETTER = [
    "Payment instruction",
    "Transfer 4500 EUR to Harbour Trading",
    "Reference: invoice 2291 of March",
]


def font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    # DejaVu from fonts-dejavu-core; else the font Pillow carries itself.
    if DEJAVU.is_file():
        return ImageFont.truetype(str(DEJAVU), size)
    return ImageFont.load_default(size=size)


def text_image(
    lines: list[str], size: int = 48, mode: str = "L", background: object = 255
) -> Image.Image:
    """Dark text on a page; the page is ``background`` (transparent for RGBA pages)."""
    face = font(size)
    width = 60 + max(int(face.getlength(line)) for line in lines)
    height = 60 + len(lines) * int(size * 1.5)
    image = Image.new(mode, (width, height), background)  # type: ignore[arg-type]
    draw = ImageDraw.Draw(image)
    ink = (0, 0, 0, 255) if mode == "RGBA" else 0
    for index, line in enumerate(lines):
        draw.text((30, 30 + index * int(size * 1.5)), line, font=face, fill=ink)
    return image


def words(text: str) -> set[str]:
    return {word.strip(".,:;") for word in text.split()}


def scanned_pdf(path: Path, pages: list[Image.Image], dpi: int = 200) -> Path:
    """A PDF whose pages are only images (no text layer), as a scanner writes it."""
    first, *rest = pages
    first.save(path, "PDF", resolution=dpi, save_all=True, append_images=rest)
    return path


def run_pdf(tmp_path: Path, path: Path, **source_changes: object) -> Extraction:
    if not source_changes:
        return extract(PdfIngestor, path, tmp_path / "work")
    source, store = source_for(path, tmp_path / "work")
    source = dataclasses.replace(source, **source_changes)  # type: ignore[arg-type]

    def store_child(stream: Readable) -> Digests:
        return store.put_stream(stream, head_size=0, keep_limit=0).digests

    sink = Sink(CASE_ID, source.item_id, source.limits, store_child, source.size)
    PdfIngestor().ingest(source, sink)
    return Extraction(sink, source, store, dict(sink.document_properties))


@pytest.fixture
def no_tesseract(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A PATH on which there is no tesseract."""
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))


# --- images ------------------------------------------------------------------------------


@needs_tesseract
def test_image_text_is_read_with_engine_languages_and_confidence() -> None:
    result = ocr_image(text_image(LETTER), ("eng",))

    assert result is not None
    assert result.text.splitlines() == LETTER
    assert result.engine == f"tesseract {TESSERACT.version}"  # type: ignore[union-attr]
    assert result.languages == ("eng",)
    assert result.words == 13
    assert 80.0 <= result.confidence <= 100.0


@needs_tesseract
def test_small_screenshot_text_is_upscaled_and_read() -> None:
    # 13-pixel text without a resolution: too small for tesseract as it is.
    image = text_image(["Meet at the old quarry 23:15", "bring the second phone"], size=13)
    assert image.info.get("dpi") is None and max(image.size) < 400

    result = ocr_image(image, ("eng",))

    assert result is not None
    assert {"Meet", "old", "quarry", "23:15", "bring", "second", "phone"} <= words(result.text)


@needs_tesseract
def test_transparent_background_is_read_as_white_paper() -> None:
    # Transparent black: read as plain grey it would be black text on black.
    image = text_image(LETTER, mode="RGBA", background=(0, 0, 0, 0))

    result = ocr_image(image, ("eng",))

    assert result is not None
    assert "Harbour Trading" in result.text


@needs_tesseract
def test_photo_is_turned_upright_by_its_exif_orientation() -> None:
    upright = text_image(LETTER).convert("RGB")
    stored = upright.rotate(90, expand=True)  # as the sensor wrote it
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buffer = io.BytesIO()
    stored.save(buffer, "JPEG", exif=exif, quality=95)
    photo = Image.open(io.BytesIO(buffer.getvalue()))

    result = ocr_image(photo, ("eng",))

    assert result is not None
    assert "Transfer 4500 EUR to Harbour Trading" in result.text


@needs_tesseract
def test_blank_image_gives_empty_text_not_none() -> None:
    result = ocr_image(Image.new("L", (800, 600), 255), ("eng",))

    assert result is not None
    assert (result.text, result.words, result.confidence) == ("", 0, 0.0)


@needs_tesseract
def test_tesseract_past_its_time_is_stopped_with_a_warning() -> None:
    warnings: list[str] = []
    big = text_image(LETTER * 12)

    assert ocr_image(big, ("eng",), timeout=0.01, warn=warnings.append) is None
    assert warnings == ["OCR stopped: tesseract ran longer than 0.01 s (limit item_timeout)"]
    with pytest.raises(OcrTimeout):
        OcrReader(("eng",)).read_image(big, timeout=0.01)


def test_missing_tesseract_is_a_warning_not_a_failure(no_tesseract: None) -> None:
    warnings: list[str] = []

    assert ocr_available() is False
    assert ocr_image(text_image(LETTER), ("eng",), warn=warnings.append) is None
    assert warnings == ["OCR skipped: tesseract not installed (apt-get install tesseract-ocr)"]


def test_ocr_switched_off_reads_nothing_and_says_nothing() -> None:
    warnings: list[str] = []

    assert ocr_image(text_image(LETTER), (), warn=warnings.append) is None
    assert warnings == []


@needs_tesseract
def test_missing_language_pack_is_named_and_the_others_are_used() -> None:
    warnings: list[str] = []

    result = ocr_image(text_image(LETTER), ("eng", "zzz"), warn=warnings.append)

    assert result is not None and result.languages == ("eng",)
    assert "Harbour Trading" in result.text
    assert warnings == [
        "OCR: language pack 'zzz' missing (apt-get install tesseract-ocr-zzz); read with eng"
    ]


@needs_tesseract
def test_only_missing_or_bad_language_packs_skip_ocr() -> None:
    warnings: list[str] = []

    assert ocr_image(text_image(LETTER), ("zzz", "../eng"), warn=warnings.append) is None
    assert warnings == [
        "OCR skipped: language pack 'zzz' missing (apt-get install tesseract-ocr-zzz); "
        "'../eng' is not a tesseract language name"
    ]


def test_failing_tesseract_is_reported_with_its_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tesseract that installs and lists its packs but dies on every image.
    folder = tmp_path / "bin"
    folder.mkdir()
    tool = folder / "tesseract"
    tool.write_text(
        "#!/bin/sh\n"
        'case "$1" in\n'
        "  --version) echo 'tesseract 9.9.9' ;;\n"
        "  --list-langs) printf 'List of available languages in \"/x\" (1):\\neng\\n' ;;\n"
        "  *) echo 'Error in pixReadMem: Unknown format' >&2; exit 1 ;;\n"
        "esac\n"
    )
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    warnings: list[str] = []

    assert ocr_image(text_image(LETTER), ("eng",), warn=warnings.append) is None
    assert warnings == [
        "OCR failed: tesseract failed (exit 1): Error in pixReadMem: Unknown format"
    ]


def test_debian_package_names() -> None:
    assert debian_package("deu") == "tesseract-ocr-deu"
    assert debian_package("chi_sim") == "tesseract-ocr-chi-sim"
    assert debian_package("script/Latin") == "tesseract-ocr-script-*"


# --- preprocessing and tesseract's output ------------------------------------------------------


def test_preprocessing_scales_to_300_dpi_and_bounds_the_pixels() -> None:
    fax = Image.new("1", (850, 1100), 1)  # a letter page at 100 dpi
    fax.info["dpi"] = (100, 100)
    prepared = prepare_image(fax)
    assert (prepared.width, prepared.height, prepared.dpi) == (2550, 3300, 300)
    assert prepared.data.startswith(b"P5")  # 8-bit grey

    screen = Image.new("RGB", (3000, 2000), "white")
    screen.info["dpi"] = (72, 72)  # would be 4x: capped by the upscale bound
    prepared = prepare_image(screen)
    assert prepared.width * prepared.height <= MAX_UPSCALED_PIXELS
    assert prepared.width > 3000

    huge = Image.new("L", (9_000, 5_000), 255)  # 45 million pixels: scaled down
    prepared = prepare_image(huge)
    assert prepared.width * prepared.height <= MAX_PIXELS
    assert prepared.dpi is None

    deep = Image.new("I;16", (2000, 2000), 40_000)
    assert prepare_image(deep).data.startswith(b"P5")


def test_tsv_becomes_lines_paragraphs_and_a_mean_confidence() -> None:
    header = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\t" + (
        "left\ttop\twidth\theight\tconf\ttext"
    )
    rows = [
        "1\t1\t0\t0\t0\t0\t0\t0\t100\t100\t-1\t",
        "5\t1\t1\t1\t1\t1\t0\t0\t1\t1\t90.5\tFirst",
        "5\t1\t1\t1\t1\t2\t0\t0\t1\t1\t80\tline",
        "5\t1\t1\t1\t2\t1\t0\t0\t1\t1\t70\tsecond",
        "5\t1\t1\t1\t2\t2\t0\t0\t1\t1\t-1\t ",
        "5\t1\t2\t1\t1\t1\t0\t0\t1\t1\t60\tNext",
        "5\t1\t2\t1\t1\t2\t0\t0\t1\t1\t40\tblock",
    ]
    recognised = parse_tsv("\n".join([header, *rows]))

    assert recognised.text == "First line\nsecond\n\nNext block"
    assert recognised.words == 5
    assert recognised.confidence == round((90.5 + 80 + 70 + 60 + 40) / 5, 1)


@given(st.text())
def test_any_tsv_output_parses(tsv: str) -> None:
    recognised = parse_tsv(tsv)
    assert 0.0 <= recognised.confidence <= 100.0
    assert recognised.words > 0 or (recognised.text, recognised.confidence) == ("", 0.0)


# --- scanned PDF pages ------------------------------------------------------------------------


@needs_tesseract
def test_pdf_without_text_layer_gets_ocr_text_on_its_page(tmp_path: Path) -> None:
    blank = Image.new("L", (1700, 2200), 255)
    pdf = scanned_pdf(tmp_path / "scan.pdf", [text_image(LETTER), blank])

    result = run_pdf(tmp_path, pdf)

    assert list(result.sink.pages) == [1]
    assert result.sink.pages[1].splitlines() == LETTER
    confidence = result.sink.document_context["ocr"]["page_confidence"]["1"]
    assert 80.0 <= confidence <= 100.0
    assert result.sink.document_context["ocr"]["languages"] == ["eng"]
    assert result.sink.warnings == [
        "2 of 2 pages have no text layer",
        f"text of 1 of 2 pages comes from OCR (tesseract {TESSERACT.version}, eng; "  # type: ignore[union-attr]
        f"mean word confidence {confidence:.0f}%: page 1 {confidence:.0f}%)",
        "OCR found no text on 1 scanned page (page 2)",
    ]


def test_scanned_pdf_without_tesseract_keeps_the_item(tmp_path: Path, no_tesseract: None) -> None:
    pdf = scanned_pdf(tmp_path / "scan.pdf", [text_image(LETTER)])

    result = run_pdf(tmp_path, pdf)

    assert result.sink.pages == {}
    assert result.sink.page_count == 1
    assert result.sink.warnings == [
        "1 of 1 pages have no text layer",
        "OCR skipped: tesseract not installed (apt-get install tesseract-ocr)",
    ]
    assert "ocr" not in result.sink.document_context


def test_scanned_pdf_without_pillow_keeps_the_item(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pdf = scanned_pdf(tmp_path / "scan.pdf", [text_image(LETTER)])
    monkeypatch.setitem(sys.modules, "PIL", None)  # as if caselens[ocr] were not installed

    result = run_pdf(tmp_path, pdf)

    assert ocr_available() is False
    assert result.sink.pages == {}
    assert result.sink.warnings == [
        "1 of 1 pages have no text layer",
        "OCR skipped: Pillow not installed (pip install 'caselens[ocr]')",
    ]


def test_scanned_pdf_with_ocr_switched_off(tmp_path: Path) -> None:
    pdf = scanned_pdf(tmp_path / "scan.pdf", [text_image(LETTER)])

    result = run_pdf(tmp_path, pdf, ocr_languages=())

    assert result.sink.pages == {}
    assert result.sink.warnings == ["1 of 1 pages have no text layer"]


@needs_tesseract
def test_scanned_pdf_with_a_missing_language_pack(tmp_path: Path) -> None:
    pdf = scanned_pdf(tmp_path / "scan.pdf", [text_image(LETTER)])

    result = run_pdf(tmp_path, pdf, ocr_languages=("zzz",))

    assert result.sink.pages == {}
    assert result.sink.warnings == [
        "1 of 1 pages have no text layer",
        "OCR skipped: language pack 'zzz' missing (apt-get install tesseract-ocr-zzz)",
    ]


@needs_tesseract
def test_scanned_pages_past_the_time_limit_are_listed_not_failed(tmp_path: Path) -> None:
    pdf = scanned_pdf(tmp_path / "scan.pdf", [text_image(LETTER)] * 3)

    result = run_pdf(tmp_path, pdf, limits=Limits(item_timeout=0.001))

    assert result.sink.pages == {}
    assert result.sink.warnings == [
        "3 of 3 pages have no text layer",
        "OCR stopped, 3 scanned pages (pages 1, 2, 3) not read: out of time "
        "(OCR may use 80% of the item's 0.001 s, limit item_timeout)",
    ]


@needs_tesseract
@needs_corpus
def test_skewed_scan_in_the_corpus_is_read(tmp_path: Path) -> None:
    folder = CORPUS / "ocr" / "ocrmypdf"
    result = run_pdf(tmp_path, folder / "skew.pdf")

    text = " ".join(result.text.split())
    truth = " ".join((folder / "linn.txt").read_text("utf-8").split())
    assert text.startswith("The LinnSequencer")
    assert "Linn Electronics, Inc. 18720 Oxnard Street, Tarzana, CA 91356" in text
    # linn.txt is itself OCR output: an approximate reference (benchmarks/ocr.py: 0.95).
    assert difflib.SequenceMatcher(None, text, truth, autojunk=False).ratio() > 0.9


@needs_tesseract
def test_scanned_pdf_is_searchable_in_a_case(tmp_path: Path, database_url: str | None) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    scanned_pdf(
        evidence / "instruction.pdf", [Image.new("L", (1700, 2200), 255), text_image(LETTER)]
    )
    app = new_installation(tmp_path / "home", database_url)
    try:
        app.ingest.ingest(ADMIN, "C", [str(evidence)])
        answer = app.search.search(ADMIN, "C", '"Harbour Trading"')

        assert answer["total"] == 1
        hit = answer["results"][0]
        assert Path(str(hit["path"])).name == "instruction.pdf"
        assert hit["snippet"]["page"] == 2
    finally:
        app.close()
