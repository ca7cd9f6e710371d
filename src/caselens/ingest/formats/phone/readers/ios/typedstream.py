"""The text of a message kept only as an archived NSAttributedString (``attributedBody``).

Since iOS 16 and macOS Ventura, Messages often leaves ``message.text`` empty and keeps
the text in ``attributedBody``: an NSAttributedString archived in Apple's little-endian
"typedstream" format. Its first component is the plain NSString, written as the type
"+" (bytes with a length) followed by the UTF-8 bytes and the end-of-object tag. Only
that component is read here, and only when every length and tag around it checks out:
anything else returns None, so a message is marked as lacking its body rather than
given a wrong one.
"""

from __future__ import annotations

import struct

HEADER = b"\x04\x0bstreamtyped"  # version 4, little-endian signature
_STRING_CLASS = b"\x08NSString"  # the class name, with its length byte
_VALUE = b"\x84\x01+"  # a new type string "+": the bytes of the NSString follow
_END_OF_OBJECT = 0x86
_INT16 = 0x81
_INT32 = 0x82
_SEARCH_WINDOW = 64  # class version and superclass reference sit between the two


def attributed_text(blob: bytes) -> str | None:
    """The plain text of an archived NSAttributedString, or None when it cannot be read."""
    if not blob.startswith(HEADER):
        return None
    class_at = blob.find(_STRING_CLASS, len(HEADER))
    if class_at < 0:
        return None
    search_from = class_at + len(_STRING_CLASS)
    value_at = blob.find(_VALUE, search_from, search_from + _SEARCH_WINDOW)
    if value_at < 0:
        return None
    read = _length(blob, value_at + len(_VALUE))
    if read is None:
        return None
    length, start = read
    end = start + length
    if end >= len(blob) or blob[end] != _END_OF_OBJECT:
        return None
    try:
        return blob[start:end].decode("utf-8")
    except UnicodeDecodeError:
        return None


def _length(blob: bytes, offset: int) -> tuple[int, int] | None:
    """A typedstream integer used as a length, and where the bytes after it start."""
    if offset >= len(blob):
        return None
    first = blob[offset]
    if first < 0x80:  # a small non-negative value, stored in the byte itself
        return first, offset + 1
    sizes = {_INT16: "<h", _INT32: "<i"}
    layout = sizes.get(first)
    if layout is None:
        return None
    width = struct.calcsize(layout)
    if offset + 1 + width > len(blob):
        return None
    (value,) = struct.unpack_from(layout, blob, offset + 1)
    return (value, offset + 1 + width) if value >= 0 else None
