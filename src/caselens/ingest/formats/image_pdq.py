"""PDQ perceptual hash of a picture, in the 64-hex form hash lists exchange.

The hash is taken of the picture as it is shown (EXIF orientation applied), since copies
that travel through messengers have their orientation baked into the pixels. It is taken
at full resolution, as ThreatExchange's own hasher does: reducing first to 512 pixels a
side moved hashes of the corpus photos by 6-20 bits. Only pictures past HASH_MAX_PIXELS
are reduced (by area averaging), to bound memory: pdqhash needs about 20 bytes a pixel.
"""

from __future__ import annotations

import functools
import importlib.util
from dataclasses import dataclass

from PIL import Image

from caselens.ingest.formats.image_decode import to_rgb

HASH_MAX_PIXELS = 24_000_000  # about 0.5 GB of working memory and 2 s on one core


@dataclass(frozen=True, slots=True)
class Pdq:
    hash: str  # 64 hex digits, most significant bit first (ThreatExchange's order)
    quality: int  # 0-100; below about 50 the picture is too flat to match reliably


@functools.cache
def pdq_available() -> bool:
    """The optional "images" extra (pdqhash builds from source with a C++ compiler)."""
    return importlib.util.find_spec("pdqhash") is not None


def pdq_hash(picture: Image.Image) -> Pdq:
    """PDQ of an upright, loaded picture (needs pdq_available())."""
    # Imported here, not with the module: numpy's address space would otherwise come
    # with every ingest worker, pictures or not.
    import numpy as np
    import pdqhash  # type: ignore[import-untyped,import-not-found,unused-ignore]

    rgb = to_rgb(picture)
    pixels = rgb.width * rgb.height
    if pixels > HASH_MAX_PIXELS:
        scale = (HASH_MAX_PIXELS / pixels) ** 0.5
        size = (max(1, int(rgb.width * scale)), max(1, int(rgb.height * scale)))
        rgb = rgb.resize(size, Image.Resampling.BOX)
    bits, quality = pdqhash.compute(np.asarray(rgb, dtype=np.uint8))
    # pdqhash lists bit 255 first, so packing in order gives ThreatExchange's hex.
    packed = np.packbits(np.asarray(bits, dtype=np.uint8)).tobytes()
    return Pdq(packed.hex(), int(quality))
