"""The GPS block of EXIF as a point on a map: signed decimal degrees, altitude, UTC time.

A coordinate is only given when every part of it is readable and in range: a zero
denominator, a missing hemisphere, a receiver that says its fix is void, or 0°/0° (what
many cameras write when they had no fix) leave no point and a warning, with the raw
values kept for a person to judge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from PIL import ExifTags

from caselens.ingest.formats.image_values import rational, raw, text, whole
from caselens.ingest.formats.phone.times import Moment, from_aware

GPS = ExifTags.GPS
DECIMALS = 7  # about 1 cm on the ground: more than any camera's receiver resolves
_DATE = re.compile(r"^(\d{4})[:-](\d{2})[:-](\d{2})$")


@dataclass
class GpsReading:
    latitude: float | None = None
    longitude: float | None = None
    altitude: float | None = None  # metres, negative below sea level
    moment: Moment | None = None
    raw: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)

    def context(self) -> dict[str, Any]:
        found: dict[str, Any] = {}
        if self.latitude is not None and self.longitude is not None:
            found.update(latitude=self.latitude, longitude=self.longitude)
        if self.altitude is not None:
            found["altitude"] = self.altitude
        if self.moment is not None:
            found["time"] = self.moment.iso
            found["time_zone"] = "UTC"
        datum = text(self.raw.get("GPSMapDatum"))
        if datum:
            found["datum"] = datum
        if self.problems:
            found["raw"] = self.raw  # for a person to judge what the camera wrote
        return found


def read_gps(tags: dict[int, Any]) -> GpsReading | None:
    """The GPS IFD's tags (Pillow's ``get_ifd(IFD.GPSInfo)``), or None when it is empty."""
    if not tags:
        return None
    reading = GpsReading(raw={GPS(tag).name: raw(v) for tag, v in tags.items() if tag in _KNOWN})
    latitude = _coordinate(tags, GPS.GPSLatitude, GPS.GPSLatitudeRef, "NS", 90, reading)
    longitude = _coordinate(tags, GPS.GPSLongitude, GPS.GPSLongitudeRef, "EW", 180, reading)
    void = text(tags.get(GPS.GPSStatus)) == "V"
    if void and (latitude is not None or longitude is not None):
        reading.problems.append("GPS receiver marked its fix void (GPSStatus V): no point kept")
    elif latitude == 0 and longitude == 0:
        reading.problems.append("GPS position 0°, 0° is what cameras write without a fix")
    elif latitude is not None and longitude is not None:
        reading.latitude, reading.longitude = latitude, longitude
    reading.altitude = _altitude(tags, reading)
    reading.moment = _timestamp(tags, reading)
    return reading


_KNOWN = frozenset(int(tag) for tag in GPS)


def _coordinate(
    tags: dict[int, Any], value_tag: int, ref_tag: int, hemispheres: str, limit: int,
    reading: GpsReading,
) -> float | None:  # fmt: skip
    value = tags.get(value_tag)
    if value is None:
        return None
    name = GPS(value_tag).name
    degrees = _sexagesimal(value)
    if degrees is None:
        reading.problems.append(f"{name} unreadable (zero denominator or malformed): ignored")
        return None
    ref = (text(tags.get(ref_tag)) or "").upper()[:1]
    if len(ref) != 1 or ref not in hemispheres:
        reading.problems.append(f"{name} has no hemisphere ({GPS(ref_tag).name}): ignored")
        return None
    if degrees > limit:
        reading.problems.append(f"{name} {float(degrees):g}° is out of range: ignored")
        return None
    signed = -degrees if ref == hemispheres[1] else degrees
    return round(float(signed), DECIMALS)


def _sexagesimal(value: Any) -> Fraction | None:
    """Degrees, minutes, seconds (or fewer parts) as exact degrees; None when unusable."""
    parts = value if isinstance(value, tuple) else (value,)
    if not 1 <= len(parts) <= 3:
        return None
    numbers = [rational(part) for part in parts]
    if any(number is None or number < 0 for number in numbers):
        return None
    if any(number >= 60 for number in numbers[1:] if number is not None):
        return None
    return sum(
        (number / 60**index for index, number in enumerate(numbers) if number is not None),
        Fraction(0),
    )


def _altitude(tags: dict[int, Any], reading: GpsReading) -> float | None:
    if GPS.GPSAltitude not in tags:
        return None
    height = rational(tags[GPS.GPSAltitude])
    if height is None or height < 0:
        reading.problems.append("GPSAltitude unreadable: ignored")
        return None
    below = whole(tags.get(GPS.GPSAltitudeRef)) == 1  # 0 or absent: above sea level
    return round(float(-height if below else height), 3)


def _timestamp(tags: dict[int, Any], reading: GpsReading) -> Moment | None:
    """GPSDateStamp + GPSTimeStamp, which EXIF defines as UTC."""
    date_text = text(tags.get(GPS.GPSDateStamp))
    clock = tags.get(GPS.GPSTimeStamp)
    if date_text is None or clock is None:
        return None
    date = _DATE.match(date_text)
    parts = [rational(part) for part in (clock if isinstance(clock, tuple) else ())]
    if date is None or len(parts) != 3 or any(p is None or p < 0 for p in parts):
        reading.problems.append("GPS date or time stamp unreadable: ignored")
        return None
    hours, minutes, seconds = (p for p in parts if p is not None)
    try:
        year, month, day_of_month = (int(g) for g in date.groups())
        day = datetime(year, month, day_of_month, tzinfo=UTC)
    except ValueError:
        reading.problems.append(f"GPSDateStamp {date_text!r} is no date: ignored")
        return None
    if hours >= 24 or minutes >= 60 or seconds >= 61:
        reading.problems.append("GPSTimeStamp out of range: ignored")
        return None
    offset = hours * 3600 + minutes * 60 + seconds
    return from_aware(day + timedelta(seconds=float(offset)))
