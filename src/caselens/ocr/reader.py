"""Reading text in images with tesseract, for one item: packs checked once, pages read."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from caselens.ocr.engine import (
    INSTALL_HINT,
    OcrError,
    Tesseract,
    find_tesseract,
    plan_languages,
    run_tesseract,
)
from caselens.ocr.words import parse_tsv

if TYPE_CHECKING:  # Pillow comes with the ocr extra: PDFs are read without it
    from PIL import Image

    from caselens.ocr.prepare import PreparedImage

DEFAULT_TIMEOUT = 60.0


@dataclass(frozen=True, slots=True)
class OcrText:
    """Text read by OCR: machine output, so it carries how it was made and how sure it is."""

    text: str
    confidence: float  # tesseract's mean word confidence, 0-100
    words: int
    engine: str  # "tesseract 5.3.0"
    languages: tuple[str, ...]  # language packs used


class OcrReader:
    """Tesseract with the usable language packs among those asked for.

    ``notes`` holds what the item's warnings should say about the set-up (a missing pack);
    ``skip_reason`` is set when OCR cannot run at all, and then nothing is read.
    """

    def __init__(self, languages: tuple[str, ...]) -> None:
        self.languages: tuple[str, ...] = ()
        self.notes: tuple[str, ...] = ()
        self.skip_reason: str | None = None
        self._tesseract: Tesseract | None = find_tesseract()
        if not pillow_installed():
            self.skip_reason = "OCR skipped: Pillow not installed (pip install 'caselens[ocr]')"
            return
        if self._tesseract is None:
            self.skip_reason = f"OCR skipped: tesseract not installed ({INSTALL_HINT})"
            return
        plan = plan_languages(self._tesseract, languages)
        if not plan.usable:
            problems = "; ".join(plan.problems) or "no language pack requested"
            self.skip_reason = f"OCR skipped: {problems}"
            return
        self.languages = plan.usable
        self.notes = tuple(
            f"OCR: {problem}; read with {'+'.join(plan.usable)}" for problem in plan.problems
        )

    @property
    def engine(self) -> str:
        return self._tesseract.name if self._tesseract else "tesseract (not installed)"

    def read_image(self, image: Image.Image, timeout: float = DEFAULT_TIMEOUT) -> OcrText:
        """OCR of an image; raises OcrError (OcrTimeout) when it cannot be read."""
        from PIL import Image

        from caselens.ocr.prepare import prepare_image

        try:
            prepared = prepare_image(image)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as err:
            raise OcrError(f"the image could not be decoded ({err})") from err
        return self.read_prepared(prepared, timeout)

    def read_prepared(self, prepared: PreparedImage, timeout: float) -> OcrText:
        if self._tesseract is None or self.skip_reason is not None:
            raise OcrError(self.skip_reason or "OCR is not available")
        tsv = run_tesseract(self._tesseract, prepared.data, self.languages, prepared.dpi, timeout)
        recognised = parse_tsv(tsv)
        return OcrText(
            recognised.text,
            recognised.confidence,
            recognised.words,
            self._tesseract.name,
            self.languages,
        )


def pillow_installed() -> bool:
    try:
        import PIL  # noqa: F401
    except ImportError:
        return False
    return True
