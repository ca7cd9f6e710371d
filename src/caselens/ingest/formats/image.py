"""Pictures: EXIF camera, capture time and GPS point, a PDQ perceptual hash, and OCR text
when the optional OCR module is installed.

What FollowTheMoney has properties for goes there (authoredAt, modifiedAt, generator,
author); the rest (camera, point, hash, picture size) goes to the item's context. One
line of text names the camera and the place, so that search finds pictures by them.
"""

from __future__ import annotations

import warnings
from typing import Any, ClassVar

from PIL import Image, ImageOps, UnidentifiedImageError

from caselens.ingest.errors import BrokenFile, LimitReached, UnsupportedVersion
from caselens.ingest.formats.image_decode import (
    Decoded,
    PixelLimit,
    bmff_missing_bytes,
    decode,
    enable_heif,
    open_image,
)
from caselens.ingest.formats.image_exif import PhotoFacts, read_exif
from caselens.ingest.formats.image_pdq import pdq_available, pdq_hash
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

_BMFF_FORMATS = frozenset({"HEIF", "AVIF"})
_HEIF_TYPES = frozenset({"image/heic", "image/heif", "image/heic-sequence", "image/heif-sequence"})


class ImageIngestor(Ingestor):
    name = "image"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset(
        {"image/jpeg", "image/png", "image/tiff", "image/webp", "image/gif", "image/bmp",
         "image/x-ms-bmp", "image/avif", *_HEIF_TYPES}
    )  # fmt: skip
    extensions: ClassVar[frozenset[str]] = frozenset(
        {".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".tif", ".tiff", ".webp", ".gif", ".bmp",
         ".avif", ".heic", ".heif"}
    )  # fmt: skip
    signatures: ClassVar[tuple[bytes, ...]] = (
        b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"II*\x00", b"MM\x00*", b"GIF87a", b"GIF89a",
    )  # fmt: skip
    base_score = 20

    def ingest(self, source: Source, sink: Sink) -> None:
        # Pillow reports damage it reads past (a corrupt EXIF block...) as warnings: keep them.
        with warnings.catch_warnings(record=True) as noted, source.open() as stream:
            warnings.simplefilter("always")
            with _open(source, stream) as image:
                self._read(image, source, sink)
        for note in noted:
            if issubclass(note.category, UserWarning):
                sink.warn(f"Pillow noted: {str(note.message).strip()[:200]}")

    def _read(self, image: Image.Image, source: Source, sink: Sink) -> None:
        facts = read_exif(image, source.timezone)
        decoded = decode(image)
        if decoded.complete and image.format in _BMFF_FORMATS:
            with source.open() as stream:
                if bmff_missing_bytes(stream, source.size):
                    decoded = Decoded(complete=False)
        if decoded.error is not None:
            sink.warn(f"pixel data cannot be decoded ({decoded.error}): metadata only")
        elif not decoded.complete:
            sink.warn("picture is truncated: hash and OCR see only the part its data holds")
        _record_facts(facts, sink)
        sink.document_context["image"] = {
            "format": image.format,
            "mode": image.mode,
            "width": image.width,
            "height": image.height,
            "frames": getattr(image, "n_frames", 1),
            "complete": decoded.complete,
        }
        upright = _upright(image, sink) if decoded.error is None else None
        if upright is not None:
            _add_pdq(upright, decoded.complete, sink)
        sink.add_text(summary(image, facts), page=1)
        if upright is not None:
            _add_ocr(upright, source.ocr_languages, sink)


def _add_pdq(picture: Image.Image, complete: bool, sink: Sink) -> None:
    if not pdq_available():
        sink.warn("no PDQ hash: perceptual hashing needs the 'images' extra (pdqhash)")
        return
    try:
        found = pdq_hash(picture)
    except (OSError, ValueError) as err:  # an unusual pixel mode Pillow cannot convert
        sink.warn(f"no PDQ hash: picture cannot be converted ({err})")
        return
    sink.document_context["pdq"] = {"hash": found.hash, "quality": found.quality}
    if not complete:
        sink.document_context["pdq"]["complete"] = False


def _open(source: Source, stream: Any) -> Image.Image:
    try:
        return open_image(stream)
    except PixelLimit as err:
        raise LimitReached(str(err)) from err
    except UnidentifiedImageError as err:
        if source.mime_type in _HEIF_TYPES and not enable_heif():
            raise UnsupportedVersion(
                "HEIF/HEIC pictures need the optional 'heif' extra (pi-heif)"
            ) from err
        raise BrokenFile("not a picture that can be read (unknown or damaged header)") from err
    except Exception as err:  # Pillow's plugins raise many kinds on hostile headers
        raise BrokenFile(f"picture header unreadable ({type(err).__name__}: {err})") from err


def _record_facts(facts: PhotoFacts, sink: Sink) -> None:
    for problem in facts.problems + (facts.gps.problems if facts.gps else []):
        sink.warn(problem)
    camera = facts.camera
    sink.set_document(
        "Image",
        authoredAt=facts.captured.iso if facts.captured else None,
        modifiedAt=facts.modified.iso if facts.modified else None,
        generator=camera.get("software"),
        author=camera.get("artist"),
    )
    if camera:
        sink.document_context["exif"] = dict(camera)
    captured = facts.captured_context()
    if captured:
        sink.document_context["captured"] = captured
    if facts.modified:
        sink.document_context["modified"] = {"utc": facts.modified.iso} | facts.modified.context()
    gps = facts.gps.context() if facts.gps else None
    if gps:  # a block holding only its version number says nothing
        sink.document_context["gps"] = gps


def _upright(image: Image.Image, sink: Sink) -> Image.Image | None:
    """The picture as shown (EXIF orientation applied), first frame only."""
    try:
        return ImageOps.exif_transpose(image)
    except Exception as err:  # a broken orientation tag must not lose the picture
        sink.warn(f"EXIF orientation not applied ({type(err).__name__}): picture as stored")
        return image


def summary(image: Image.Image, facts: PhotoFacts) -> str:
    """One line naming the picture's camera, time and place, for search."""
    parts = [f"Picture {image.format or 'image'} {image.width}×{image.height}"]
    labels = (
        ("make", "camera make"), ("model", "camera model"), ("serial", "camera serial"),
        ("owner", "camera owner"), ("lens", "lens"), ("software", "software"),
        ("artist", "artist"), ("description", "description"),
    )  # fmt: skip
    parts += [f"{label} {facts.camera[key]}" for key, label in labels if key in facts.camera]
    if facts.captured is not None:
        zone = facts.captured.zone + (" assumed" if facts.captured.assumed else "")
        parts.append(f"taken {facts.captured_text} ({zone}; {facts.captured.iso} UTC)")
    gps = facts.gps
    if gps is not None and gps.latitude is not None and gps.longitude is not None:
        place = f"GPS {gps.latitude:.6f}, {gps.longitude:.6f}"
        if gps.altitude is not None:
            place += f", altitude {gps.altitude:g} m"
        parts.append(place)
    return "; ".join(parts)


def _add_ocr(picture: Image.Image, languages: tuple[str, ...], sink: Sink) -> None:
    """Text read by ``caselens.ocr`` (machine output: its engine and confidence are kept)."""
    try:
        from caselens.ocr import ocr_image
    except ImportError:  # OCR is optional: without it pictures keep their metadata only
        return
    try:
        found = ocr_image(picture, languages, warn=sink.warn)
    except Exception as err:  # OCR is a bonus: its failure must not lose the metadata
        sink.warn(f"OCR failed ({type(err).__name__}: {err})")
        return
    if found is None or not found.text.strip():
        return
    sink.add_text("\n\n" + found.text.strip(), page=1)
    sink.document_context["ocr"] = {
        "engine": found.engine,
        "languages": list(found.languages),
        "confidence": found.confidence,
        "words": found.words,
    }
