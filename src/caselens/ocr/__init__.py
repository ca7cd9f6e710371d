"""OCR: text in images and in scanned PDF pages, read by tesseract (an optional extra).

Tesseract and its language packs come from Debian (``apt-get install tesseract-ocr
tesseract-ocr-eng``). When they are missing, OCR is skipped with a warning on the item,
never a failure. An empty language list means OCR is switched off in the settings.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from caselens.ocr.engine import OcrError, OcrTimeout, find_tesseract
from caselens.ocr.pdf_pages import ScannedPages
from caselens.ocr.reader import DEFAULT_TIMEOUT, OcrReader, OcrText, pillow_installed

if TYPE_CHECKING:
    from PIL import Image

__all__ = [
    "OcrError",
    "OcrReader",
    "OcrText",
    "OcrTimeout",
    "ScannedPages",
    "ocr_available",
    "ocr_image",
]


def ocr_available() -> bool:
    """True when a working tesseract and Pillow are installed (whatever the language packs)."""
    return pillow_installed() and find_tesseract() is not None


def ocr_image(
    image: Image.Image,
    languages: tuple[str, ...],
    *,
    timeout: float = DEFAULT_TIMEOUT,
    warn: Callable[[str], None] | None = None,
) -> OcrText | None:
    """The text tesseract reads in ``image``, or None when OCR did not run.

    Why it did not run (tesseract or a language pack missing, a timeout, a failure) and
    which packs were missing go to ``warn`` (an item's ``sink.warn``) as one line each.
    """
    if not languages:
        return None
    reader = OcrReader(languages)
    report = warn or (lambda message: None)
    for note in reader.notes:
        report(note)
    if reader.skip_reason is not None:
        report(reader.skip_reason)
        return None
    try:
        return reader.read_image(image, timeout)
    except OcrTimeout as err:
        report(f"OCR stopped: {err}")
    except OcrError as err:
        report(f"OCR failed: {err}")
    return None
