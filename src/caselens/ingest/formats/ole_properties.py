"""Summary information property sets ([MS-OLEPS]), read with bounded work.

olefile's own parser loops over counts taken from the file (a damaged vector count keeps
it busy for hours), so the few properties caselens uses are read here: strings, FILETIME
dates and the code page, from the first section of a property set stream. Every count
and offset is checked against the stream's length.
"""

from __future__ import annotations

import datetime
import struct

CODEPAGE = 1
VT_I2 = 2
VT_I4 = 3
VT_LPSTR = 30
VT_LPWSTR = 31
VT_FILETIME = 64
FIRST_SECTION_OFFSET = 44  # byte order, version, system id, CLSID, count, FMTID
FILETIME_EPOCH = datetime.datetime(1601, 1, 1)
MAX_PROPERTIES = 4096

PropertyValue = str | bytes | int | datetime.datetime


def read_property_set(data: bytes) -> dict[int, PropertyValue]:
    """Property id → value for the first section; raises ValueError when malformed.

    Strings of 8-bit code pages stay bytes (decoded by the caller with the code page).
    """
    if len(data) < FIRST_SECTION_OFFSET + 4:
        raise ValueError("property set stream is too short")
    byte_order, _, _ = struct.unpack_from("<HHI", data, 0)
    if byte_order != 0xFFFE:
        raise ValueError("property set has a wrong byte order mark")
    (section_offset,) = struct.unpack_from("<I", data, FIRST_SECTION_OFFSET)
    if section_offset + 8 > len(data):
        raise ValueError("property set section lies outside the stream")
    section_size, count = struct.unpack_from("<II", data, section_offset)
    section_end = min(len(data), section_offset + section_size)
    if count > MAX_PROPERTIES or section_offset + 8 + count * 8 > section_end:
        raise ValueError(f"property set section claims {count} properties")
    values: dict[int, PropertyValue] = {}
    for index in range(count):
        property_id, offset = struct.unpack_from("<II", data, section_offset + 8 + index * 8)
        start = section_offset + offset
        if start + 4 > section_end:
            continue
        value = _value(data, start, section_end)
        if value is not None:
            values[property_id] = value
    return values


def _value(data: bytes, start: int, end: int) -> PropertyValue | None:
    (kind,) = struct.unpack_from("<H", data, start)
    position = start + 4
    if kind == VT_I2 and position + 2 <= end:
        return int(struct.unpack_from("<h", data, position)[0])
    if kind == VT_I4 and position + 4 <= end:
        return int(struct.unpack_from("<i", data, position)[0])
    if kind in (VT_LPSTR, VT_LPWSTR) and position + 4 <= end:
        (length,) = struct.unpack_from("<I", data, position)
        width = 2 if kind == VT_LPWSTR else 1
        raw = data[position + 4 : min(end, position + 4 + length * width)]
        if kind == VT_LPWSTR:
            return raw.decode("utf-16-le", errors="replace").split("\x00", 1)[0]
        return raw  # decoded by the caller: code page 1200 makes these UTF-16 too
    if kind == VT_FILETIME and position + 8 <= end:
        (ticks,) = struct.unpack_from("<Q", data, position)
        try:
            return FILETIME_EPOCH + datetime.timedelta(microseconds=ticks // 10)
        except OverflowError:
            return None
    return None
