"""What a photo's EXIF says about the camera and the time it was taken.

Capture time is DateTimeOriginal (else DateTimeDigitized) with its sub-seconds and, when
the camera wrote one, OffsetTimeOriginal; without an offset the wall-clock time is read
in the exhibit's ``--timezone`` and marked as assumed. "0000:00:00 00:00:00" and blanks
mean "unknown" in EXIF and are skipped silently; other unreadable times leave a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

from PIL import ExifTags, Image

from caselens.ingest.formats.image_gps import GpsReading, read_gps
from caselens.ingest.formats.image_values import text, whole
from caselens.ingest.formats.phone.times import Moment, from_aware, from_local

Base = ExifTags.Base
_TIME = re.compile(r"^(\d{4})[:-](\d{2})[:-](\d{2})[ T](\d{2}):(\d{2}):(\d{2})")
_OFFSET = re.compile(r"^([+-])(\d{2}):(\d{2})$")
_UNKNOWN_TIME = re.compile(r"^[0: ]*$")
# (label in the record, tag, IFD it lives in: None = IFD0, else the Exif sub-IFD)
_CAMERA_TAGS: tuple[tuple[str, int, bool], ...] = (
    ("make", Base.Make, False),
    ("model", Base.Model, False),
    ("serial", Base.BodySerialNumber, True),
    ("serial", Base.CameraSerialNumber, False),  # DNG and some older TIFF writers
    ("owner", Base.CameraOwnerName, True),
    ("lens_make", Base.LensMake, True),
    ("lens", Base.LensModel, True),
    ("lens_serial", Base.LensSerialNumber, True),
    ("software", Base.Software, False),
    ("artist", Base.Artist, False),
    ("copyright", Base.Copyright, False),
    ("description", Base.ImageDescription, False),
)


@dataclass
class PhotoFacts:
    camera: dict[str, Any] = field(default_factory=dict)
    captured: Moment | None = None
    captured_text: str | None = None  # the time exactly as the camera wrote it
    captured_tag: str | None = None
    modified: Moment | None = None
    gps: GpsReading | None = None
    problems: list[str] = field(default_factory=list)

    def captured_context(self) -> dict[str, Any] | None:
        if self.captured is None:
            return None
        found = {"utc": self.captured.iso, "local": self.captured_text, "tag": self.captured_tag}
        return found | self.captured.context()


def read_exif(image: Image.Image, zone: str | None) -> PhotoFacts:
    """Camera, times and GPS from the image's EXIF; unreadable parts become problems."""
    facts = PhotoFacts()
    try:
        exif = image.getexif()
        main = dict(exif.items())
        sub = dict(exif.get_ifd(ExifTags.IFD.Exif).items())
        gps = dict(exif.get_ifd(ExifTags.IFD.GPSInfo).items())
    except Exception as err:  # Pillow raises many kinds on a hostile EXIF block
        facts.problems.append(f"EXIF block unreadable ({type(err).__name__}): skipped")
        return facts
    for label, tag, in_sub in _CAMERA_TAGS:
        value = text((sub if in_sub else main).get(tag))
        if value and label not in facts.camera:
            facts.camera[label] = value
    orientation = whole(main.get(Base.Orientation))
    if orientation is not None:
        facts.camera["orientation"] = orientation
    for tag, offset_tag, subsec_tag in (
        (Base.DateTimeOriginal, Base.OffsetTimeOriginal, Base.SubsecTimeOriginal),
        (Base.DateTimeDigitized, Base.OffsetTimeDigitized, Base.SubsecTimeDigitized),
    ):
        moment = _moment(sub, tag, offset_tag, subsec_tag, zone, facts)
        if moment is not None:
            facts.captured, facts.captured_tag = moment, Base(tag).name
            facts.captured_text = text(sub.get(tag))
            break
    facts.modified = _moment(
        main | sub, Base.DateTime, Base.OffsetTime, Base.SubsecTime, zone, facts
    )
    try:
        facts.gps = read_gps(gps)
    except Exception as err:  # one bad block must not lose the others
        facts.problems.append(f"GPS block unreadable ({type(err).__name__}): ignored")
    return facts


def _moment(
    tags: dict[int, Any], tag: int, offset_tag: int, subsec_tag: int, zone: str | None,
    facts: PhotoFacts,
) -> Moment | None:  # fmt: skip
    written = text(tags.get(tag))
    if written is None or _UNKNOWN_TIME.match(written):
        return None
    name = Base(tag).name
    naive = _wall_clock(written)
    if naive is None:
        facts.problems.append(f"{name} {written!r} is no date and time: ignored")
        return None
    fraction = text(tags.get(subsec_tag))
    if fraction and fraction.isdigit():
        naive += timedelta(seconds=float(f"0.{fraction}"))
    offset = _offset(text(tags.get(offset_tag)))
    moment = from_aware(naive.replace(tzinfo=offset)) if offset else from_local(naive, zone)
    if moment is None:
        facts.problems.append(f"{name} {written!r} is out of the plausible range: ignored")
    return moment


def _wall_clock(written: str) -> datetime | None:
    match = _TIME.match(written)
    if match is None:
        return None
    year, month, day, hour, minute, second = (int(g) for g in match.groups())
    try:
        return datetime(year, month, day, hour, minute, second)
    except ValueError:
        return None


def _offset(written: str | None) -> timezone | None:
    match = _OFFSET.match(written or "")
    if match is None:
        return None
    sign, hours, minutes = match.groups()
    delta = timedelta(hours=int(hours), minutes=int(minutes))
    if delta > timedelta(hours=14):
        return None
    return timezone(-delta if sign == "-" else delta)
