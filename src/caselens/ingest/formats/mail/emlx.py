"""Apple Mail .emlx: a byte count line, the RFC 822 message, then an XML property list.

The message is read in place as an Email; the flags of the property list (read,
answered, flagged...) become the Email's keywords, prefixed "apple-mail:".
"""

from __future__ import annotations

import plistlib
import re
import xml.parsers.expat
from typing import ClassVar

from caselens.ingest.errors import BrokenFile, NotMyFormat
from caselens.ingest.formats.mail.message import MAX_MESSAGE_BYTES, ingest_rfc822
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

_LENGTH_LINE = re.compile(rb"^[ \t]*(\d{1,12})[ \t]*\r?\n")
# Bits of the "flags" number (as documented by people who reverse-engineered Apple Mail).
FLAG_BITS = {
    0: "read",
    1: "deleted",
    2: "answered",
    3: "encrypted",
    4: "flagged",
    5: "recent",
    6: "draft",
    8: "forwarded",
    9: "redirected",
    23: "signed",
    24: "junk",
    25: "not-junk",
}


class EmlxIngestor(Ingestor):
    name = "emlx"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset({"message/x-emlx"})
    extensions: ClassVar[frozenset[str]] = frozenset({".emlx"})
    base_score = 20

    @classmethod
    def score(cls, source: Source) -> int:
        score = super().score(source)
        return score if score and _LENGTH_LINE.match(source.head) else 0

    def ingest(self, source: Source, sink: Sink) -> None:
        data = source.read_bytes(MAX_MESSAGE_BYTES + 64 * 1024)
        match = _LENGTH_LINE.match(data)
        if match is None:
            raise NotMyFormat("no byte count on the first line")
        start = match.end()
        length = int(match.group(1))
        message = data[start : start + length]
        if len(message) < length:
            sink.warn(f"message cut short: {len(message)} of {length} bytes")
        if not message.strip():
            raise BrokenFile("the .emlx file holds no message")
        ingest_rfc822(message, sink)
        _add_flags(data[start + length :], sink)


def _add_flags(trailer: bytes, sink: Sink) -> None:
    if not trailer.strip():
        return
    try:
        # plistlib refuses entity declarations and never loads external entities.
        properties = plistlib.loads(trailer.strip(), fmt=plistlib.FMT_XML)
    except (plistlib.InvalidFileException, xml.parsers.expat.ExpatError, ValueError) as err:
        sink.warn(f"Apple Mail property list unreadable: {err}")
        return
    if not isinstance(properties, dict):
        return
    flags = properties.get("flags")
    if isinstance(flags, int):
        names = [name for bit, name in FLAG_BITS.items() if flags >> bit & 1]
        sink.add_property("keywords", [f"apple-mail:{name}" for name in names])
