"""Opening pictures safely: a pixel limit checked on the header, before any decoding, and
truncated pixel data decoded as far as it goes rather than refused.

HEIC/HEIF is read when the optional ``pi-heif`` package (decode-only libheif, LGPL) is
installed; without it such a file is not an image Pillow can open.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import IO, cast

from PIL import Image, ImageFile, UnidentifiedImageError

# Pillow's own guard (about 89 million pixels, a 0.25 GB RGB buffer).
MAX_PIXELS = Image.MAX_IMAGE_PIXELS or 89_478_485
_heif_checked = False


class PixelLimit(Exception):
    """The header announces more pixels than the limit allows."""


def enable_heif() -> bool:
    """Register the HEIF opener with Pillow once, if the optional package is there."""
    global _heif_checked
    if not _heif_checked:
        _heif_checked = True
        try:
            import pi_heif  # type: ignore[import-untyped,import-not-found,unused-ignore]
        except ImportError:
            return False
        pi_heif.register_heif_opener()
    return "HEIF" in Image.OPEN


def open_image(stream: IO[bytes], max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The image, header read and size checked, pixels not yet decoded.

    Raises UnidentifiedImageError when no Pillow plugin reads it, PixelLimit past the limit.
    """
    enable_heif()
    with warnings.catch_warnings():
        # Pillow warns between its limit and twice it; the check below decides instead.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            image = Image.open(stream)
        except Image.DecompressionBombError as err:
            raise PixelLimit(str(err)) from err
    width, height = image.size
    if width <= 0 or height <= 0:
        raise UnidentifiedImageError("image header gives no size")
    if width * height > max_pixels:
        raise PixelLimit(
            f"image of {width}×{height} pixels exceeds {max_pixels} pixels: a decompression bomb?"
        )
    return image


def bmff_missing_bytes(stream: IO[bytes], size: int) -> int:
    """Bytes that the top-level boxes of an ISO-BMFF file (HEIF, AVIF) announce beyond its end.

    libheif decodes a truncated HEIF without complaint, filling the missing tiles, so the
    truncation is found from the container instead.
    """
    offset = 0
    for _ in range(100_000):  # a file of empty boxes cannot keep us here
        if offset + 8 > size:
            break
        stream.seek(offset)
        header = stream.read(16)
        length = int.from_bytes(header[:4], "big")
        if length == 1 and len(header) == 16:
            length = int.from_bytes(header[8:16], "big")
        if length == 0:  # the last box, running to the end of the file
            break
        if length < 8:
            return 0  # not a box structure we can judge
        offset += length
    return max(0, offset - size)


@dataclass(frozen=True, slots=True)
class Decoded:
    complete: bool  # False: the data ended early and the rest of the picture is blank
    error: str | None = None  # why nothing could be decoded


def decode(image: Image.Image) -> Decoded:
    """Decode the pixels; a truncated file is decoded as far as its data goes."""
    try:
        image.load()
        return Decoded(complete=True)
    except (ValueError, SyntaxError) as err:  # Pillow's word for a damaged chunk or stream
        return Decoded(complete=False, error=str(err))
    except OSError as err:
        if "truncated" not in str(err):
            return Decoded(complete=False, error=str(err))
    # Pillow only offers this switch globally; it is restored straight after.
    previous = ImageFile.LOAD_TRUNCATED_IMAGES
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        image.load()
    except (OSError, ValueError, SyntaxError) as err:
        return Decoded(complete=False, error=str(err))
    finally:
        ImageFile.LOAD_TRUNCATED_IMAGES = previous
    return Decoded(complete=False)


def to_rgb(image: Image.Image, background: tuple[int, int, int] = (255, 255, 255)) -> Image.Image:
    """8-bit RGB: deep greys stretched rather than clipped, transparency on ``background``."""
    if image.mode.startswith("I;16"):
        image = image.convert("I")
    if image.mode in ("I", "F"):
        # High-bit-depth greys: stretch to 8 bits instead of clipping to white.
        low, high = cast(tuple[float, float], image.getextrema())
        scale = 255 / (high - low) if high > low else 0.0
        image = image.point(lambda value: (value - low) * scale).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info:
        rgba = image.convert("RGBA")
        flat = Image.new("RGB", rgba.size, background)
        flat.paste(rgba, mask=rgba.getchannel("A"))
        return flat
    return image.convert("RGB")
