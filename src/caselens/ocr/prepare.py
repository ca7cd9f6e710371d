"""One preprocessing for every image before tesseract: upright, grey, about 300 dpi.

Tesseract reads best when the letters are 20-30 pixels high, which at ordinary text sizes
is 300 dpi. Images that say their resolution are scaled to it (up only: scans at more
than 300 dpi keep their detail); images that do not say it and are small (screenshots,
phone crops) are doubled. Binarisation is left to tesseract (Otsu on the grey image).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any, cast

from PIL import Image, ImageOps

TARGET_DPI = 300
ORIENTATION_TAG = 0x0112
PLAUSIBLE_DPI = (50.0, 1200.0)  # outside this the header's resolution is a default or junk
MAX_UPSCALE = 4.0
SMALL_IMAGE_SIDE = 1600  # an image of unknown resolution below this is likely a screenshot
UNKNOWN_DPI_UPSCALE = 2.0
# An A4 page at 300 dpi is 8.7 million pixels. Upscaling stops at the first bound (time
# grows with pixels); larger originals are scaled down to the second (memory).
MAX_UPSCALED_PIXELS = 12_000_000
MAX_PIXELS = 40_000_000


@dataclass(frozen=True, slots=True)
class PreparedImage:
    data: bytes  # binary PGM: quick to write and read, no compression to spend time on
    dpi: int | None  # resolution to tell tesseract; None lets it estimate from the text
    width: int
    height: int


def prepare_image(image: Image.Image) -> PreparedImage:
    """The image as tesseract should see it. Raises OSError/ValueError on undecodable data."""
    upright = _upright(image)
    grey = _grey(upright)
    dpi = _stated_dpi(image)
    if dpi is not None:
        factor = min(max(TARGET_DPI / dpi, 1.0), MAX_UPSCALE)
    elif max(grey.size) < SMALL_IMAGE_SIDE:
        factor = UNKNOWN_DPI_UPSCALE
    else:
        factor = 1.0
    pixels = max(grey.width * grey.height, 1)
    if factor > 1.0:
        factor = max(min(factor, (MAX_UPSCALED_PIXELS / pixels) ** 0.5), 1.0)
    factor = min(factor, (MAX_PIXELS / pixels) ** 0.5)
    if abs(factor - 1.0) > 0.01:
        # Rounded down: the bounds on pixels hold exactly.
        size = (max(1, int(grey.width * factor)), max(1, int(grey.height * factor)))
        grey = grey.resize(size, Image.Resampling.LANCZOS)
        if dpi is not None:
            dpi *= factor
    buffer = io.BytesIO()
    grey.save(buffer, "PPM")
    return PreparedImage(buffer.getvalue(), round(dpi) if dpi else None, grey.width, grey.height)


def prepare_rendered(image: Image.Image, dpi: float) -> PreparedImage:
    """A page rendered here in grey at a known resolution: only encoded."""
    grey = image if image.mode == "L" else image.convert("L")
    buffer = io.BytesIO()
    grey.save(buffer, "PPM")
    return PreparedImage(buffer.getvalue(), round(dpi), grey.width, grey.height)


def _upright(image: Image.Image) -> Image.Image:
    """Turned as its EXIF orientation says (a phone photo of a document lies on its side)."""
    try:
        if image.getexif().get(ORIENTATION_TAG, 1) == 1:
            return image  # upright already: no copy
        return ImageOps.exif_transpose(image)
    except (OSError, ValueError, KeyError, TypeError, SyntaxError):
        return image  # a broken EXIF block: read the pixels as stored


def _grey(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA", "La", "RGBa") or (
        image.mode == "P" and "transparency" in image.info
    ):
        # Transparent pixels are often black: on white, dark text stays readable.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(background, rgba).convert("L")
    if image.mode.startswith("I;16"):
        image = image.convert("I")
    if image.mode in ("I", "F"):
        extrema = cast(tuple[float, float], image.getextrema())  # one band: (min, max)
        low, high = float(extrema[0]), float(extrema[1])
        span = (high - low) or 1.0
        return image.point(lambda value: (value - low) * 255.0 / span).convert("L")
    return image if image.mode == "L" else image.convert("L")


def _stated_dpi(image: Image.Image) -> float | None:
    dpi: Any = image.info.get("dpi")
    try:
        horizontal = float(dpi[0] if isinstance(dpi, tuple) else dpi)
    except (TypeError, ValueError, IndexError):
        return None
    low, high = PLAUSIBLE_DPI
    return horizontal if low <= horizontal <= high else None
