"""OCR of scanned PDF pages: pages with images and no text layer, rendered by PDFium.

Pages are handed over as PDFium page handles by the PDF ingestor, which owns them. The
page is rendered in grey at 300 dpi (less for very large pages) and read by tesseract
within a share of the item's time limit, so a long scan keeps the pages read so far
instead of failing as a whole.
"""

from __future__ import annotations

import ctypes
import time
from typing import TYPE_CHECKING, Any

import pypdfium2  # type: ignore[import-untyped]  # noqa: F401  (importing it starts PDFium)
import pypdfium2.raw as pdfium  # type: ignore[import-untyped]

from caselens.ocr.engine import OcrError, OcrTimeout
from caselens.ocr.reader import OcrReader

if TYPE_CHECKING:  # Pillow comes with the ocr extra: PDFs are read without it
    from PIL import Image

POINTS_PER_INCH = 72.0
MAX_RENDER_PIXELS = 25_000_000  # A3 at 300 dpi is 17 million pixels
MIN_RENDER_DPI = 20.0
# OCR stops at this share of the item's time limit: the rest is for the item's other work.
TIME_SHARE = 0.8
MAX_OBJECTS_SEARCHED = 10_000  # page objects looked at for an image
MAX_FORM_DEPTH = 8
SHOWN_PAGES = 10


class ScannedPages:
    """Reads the scanned pages of one PDF and reports on them as the item's warnings."""

    def __init__(self, languages: tuple[str, ...], item_timeout: float, page_count: int) -> None:
        self._languages = languages
        self._page_count = page_count
        self._item_timeout = item_timeout
        self._deadline = time.monotonic() + TIME_SHARE * item_timeout
        self._reader: OcrReader | None = None
        self.confidences: dict[int, float] = {}  # page -> mean word confidence
        self.empty: list[int] = []  # OCR ran and found no text
        self.failed: list[tuple[int, str]] = []
        self.not_read: list[int] = []  # no time left
        self._out_of_time = False

    def read(self, page: Any, number: int) -> str:
        """The OCR text of a page without a text layer; "" when it has no image or no text."""
        if not self._languages or not page_has_image(page):
            return ""
        reader = self._open_reader()
        if reader.skip_reason is not None:
            return ""
        remaining = self._deadline - time.monotonic()
        if self._out_of_time or remaining <= 0:
            self._out_of_time = True
            self.not_read.append(number)
            return ""
        from caselens.ocr.prepare import prepare_rendered

        try:
            image, dpi = render_page(page)
            result = reader.read_prepared(prepare_rendered(image, dpi), remaining)
        except OcrTimeout:
            self._out_of_time = True
            self.not_read.append(number)
            return ""
        except OcrError as err:
            self.failed.append((number, str(err)))
            return ""
        if not result.text:
            self.empty.append(number)
            return ""
        self.confidences[number] = result.confidence
        return result.text

    def report(self) -> tuple[list[str], dict[str, Any]]:
        """Warnings for the item, and the OCR record for its entity's context."""
        if self._reader is None:
            return [], {}
        reader = self._reader
        if reader.skip_reason is not None:
            return [reader.skip_reason], {}
        warnings = list(reader.notes)
        if self.confidences:
            mean = sum(self.confidences.values()) / len(self.confidences)
            listed = ", ".join(
                f"page {number} {confidence:.0f}%"
                for number, confidence in list(self.confidences.items())[:SHOWN_PAGES]
            )
            more = ", …" if len(self.confidences) > SHOWN_PAGES else ""
            warnings.append(
                f"text of {len(self.confidences)} of {self._page_count} pages comes from OCR "
                f"({reader.engine}, {'+'.join(reader.languages)}; mean word confidence "
                f"{mean:.0f}%: {listed}{more})"
            )
        if self.empty:
            warnings.append(f"OCR found no text on {_count(self.empty, 'scanned page')}")
        if self.failed:
            first_page, first_error = self.failed[0]
            warnings.append(
                f"OCR failed on {_count([n for n, _ in self.failed], 'page')}: "
                f"page {first_page}: {first_error}"
            )
        if self.not_read:
            warnings.append(
                f"OCR stopped, {_count(self.not_read, 'scanned page')} not read: out of time "
                f"(OCR may use {TIME_SHARE:.0%} of the item's {self._item_timeout:g} s, "
                "limit item_timeout)"
            )
        context: dict[str, Any] = {
            "engine": reader.engine,
            "languages": list(reader.languages),
            "page_confidence": {str(n): c for n, c in self.confidences.items()},
        }
        return warnings, context

    def _open_reader(self) -> OcrReader:
        # Opened at the first scanned page: PDFs with a text layer never ask tesseract.
        if self._reader is None:
            self._reader = OcrReader(self._languages)
        return self._reader


def page_has_image(page: Any) -> bool:
    """Whether the page draws an image, directly or inside a form XObject."""
    return _any_image(page, False, [MAX_OBJECTS_SEARCHED], 0)


def _any_image(container: Any, is_form: bool, budget: list[int], depth: int) -> bool:
    if is_form:
        count, get = pdfium.FPDFFormObj_CountObjects(container), pdfium.FPDFFormObj_GetObject
    else:
        count, get = pdfium.FPDFPage_CountObjects(container), pdfium.FPDFPage_GetObject
    for index in range(max(count, 0)):
        budget[0] -= 1  # shared across forms: a page of a million objects is not walked
        if budget[0] < 0:
            return False
        item = get(container, index)
        if not item:
            continue
        kind = pdfium.FPDFPageObj_GetType(item)
        if kind == pdfium.FPDF_PAGEOBJ_IMAGE:
            return True
        if (
            kind == pdfium.FPDF_PAGEOBJ_FORM
            and depth < MAX_FORM_DEPTH
            and _any_image(item, True, budget, depth + 1)
        ):
            return True
    return False


def render_page(page: Any) -> tuple[Image.Image, float]:
    """The page in 8-bit grey on white, at 300 dpi or less for very large pages."""
    from PIL import Image

    from caselens.ocr.prepare import TARGET_DPI

    width = pdfium.FPDF_GetPageWidthF(page) / POINTS_PER_INCH  # inches, /Rotate applied
    height = pdfium.FPDF_GetPageHeightF(page) / POINTS_PER_INCH
    if not (width > 0 and height > 0):
        raise OcrError("the page has no size to render")
    dpi = min(float(TARGET_DPI), (MAX_RENDER_PIXELS / (width * height)) ** 0.5)
    if dpi < MIN_RENDER_DPI:
        raise OcrError(f"the page is too large to render ({width:.0f} × {height:.0f} inches)")
    columns = max(1, round(width * dpi))
    rows = max(1, round(height * dpi))
    bitmap = pdfium.FPDFBitmap_CreateEx(columns, rows, pdfium.FPDFBitmap_Gray, None, 0)
    if not bitmap:
        raise OcrError(f"no memory to render the page at {dpi:.0f} dpi")
    try:
        pdfium.FPDFBitmap_FillRect(bitmap, 0, 0, columns, rows, 0xFFFFFFFF)
        # Annotations are drawn too: stamps and filled-in fields are part of what a reader sees.
        pdfium.FPDF_RenderPageBitmap(bitmap, page, 0, 0, columns, rows, 0, pdfium.FPDF_ANNOT)
        stride = pdfium.FPDFBitmap_GetStride(bitmap)
        data = ctypes.string_at(pdfium.FPDFBitmap_GetBuffer(bitmap), stride * rows)
    finally:
        pdfium.FPDFBitmap_Destroy(bitmap)
    image = Image.frombuffer("L", (columns, rows), data, "raw", "L", stride, 1)
    return image, dpi


def _count(pages: list[int], noun: str) -> str:
    shown = ", ".join(str(number) for number in pages[:SHOWN_PAGES])
    more = ", …" if len(pages) > SHOWN_PAGES else ""
    plural = noun if len(pages) == 1 else noun + "s"
    return f"{len(pages)} {plural} ({'page' if len(pages) == 1 else 'pages'} {shown}{more})"
