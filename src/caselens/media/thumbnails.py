"""Small JPEG previews of pictures for the web view: upright, and without metadata.

A pure function: the caller decides where previews are cached. Nothing of the original's
metadata (EXIF with GPS, ICC profile, comments) is carried into the preview, so showing
it never leaks more than the pixels.
"""

from __future__ import annotations

import io
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from caselens.ingest.formats.image_decode import PixelLimit, decode, open_image, to_rgb

QUALITY = 85
BACKGROUND = (255, 255, 255)  # transparent parts are shown on white


class ThumbnailError(Exception):
    """The input is no picture that can be previewed (unreadable, or too large)."""


def make_thumbnail(source: Path | str | bytes, max_side: int = 256) -> bytes:
    """A JPEG at most ``max_side`` pixels a side, EXIF orientation applied, metadata stripped."""
    if max_side < 1:
        raise ValueError("max_side must be at least 1")
    raw = source if isinstance(source, bytes) else Path(source).read_bytes()
    try:
        with open_image(io.BytesIO(raw)) as image:
            image.draft("RGB", (max_side, max_side))  # JPEG decodes at a reduced scale
            decoded = decode(image)
            if decoded.error is not None:
                raise ThumbnailError(f"picture cannot be decoded: {decoded.error}")
            upright = ImageOps.exif_transpose(image)
            upright.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
            rgb = to_rgb(upright, BACKGROUND)
    except (UnidentifiedImageError, PixelLimit) as err:
        raise ThumbnailError(str(err)) from err
    except (OSError, ValueError, SyntaxError) as err:
        raise ThumbnailError(f"picture cannot be read: {err}") from err
    # A fresh image carries no info dict, so nothing of the original can be written out.
    bare = Image.frombytes("RGB", rgb.size, rgb.tobytes())
    output = io.BytesIO()
    bare.save(output, "JPEG", quality=QUALITY, optimize=True)
    return output.getvalue()
