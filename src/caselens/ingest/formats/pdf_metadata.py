"""PDF metadata: the Info dictionary's fields, PDF dates, and XMP read from the raw bytes."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

# Text clean-up in one C-level pass: PDFium ends lines with CRLF, marks the hyphen of a
# word it joined across lines with U+FFFE, and passes through control characters that
# broken font encodings map glyphs to (and that databases refuse, like NUL).
TEXT_CLEANUP: dict[int, str | None] = {
    **{code: None for code in range(0x20) if chr(code) not in "\t\n\r"},
    ord("\r"): "\n",
    0x7F: None,
    0xFFFE: None,
    0xFFFF: None,
}


def clean_value(value: str) -> str:
    return value.translate(TEXT_CLEANUP).strip()


# Info keys and the FtM properties they fill. Creator (the authoring application) and
# Producer (the library that wrote the PDF) are both "the program used to generate this
# file"; FtM's processingAgent names the software that processed the evidence, not this.
INFO_FIELDS = (
    ("Title", "title"),
    ("Author", "author"),
    ("Subject", "summary"),
    ("Keywords", "keywords"),
    ("Creator", "generator"),
    ("Producer", "generator"),
)
INFO_DATE_FIELDS = (("CreationDate", "createdAt"), ("ModDate", "modifiedAt"))
XMP_FIELDS = (
    ("dc:title", "title"),
    ("dc:creator", "author"),
    ("dc:description", "summary"),
    ("pdf:Keywords", "keywords"),
    ("xmp:CreatorTool", "generator"),
    ("xap:CreatorTool", "generator"),
    ("pdf:Producer", "generator"),
    ("xmp:CreateDate", "createdAt"),
    ("xap:CreateDate", "createdAt"),
    ("xmp:ModifyDate", "modifiedAt"),
    ("xap:ModifyDate", "modifiedAt"),
    ("dc:language", "language"),
)
XMP_DATE_PROPERTIES = frozenset({"createdAt", "modifiedAt"})

# Each part is optional only after the one before it; a zone only follows a time.
_PDF_DATE = re.compile(
    r"(?:D:)?\s*(\d{4})(?:(\d{2})(?:(\d{2})(?:(\d{2})(?:(\d{2})(\d{2})?)?"
    r"(?:([Zz+-])(?:(\d{2})'?(?:(\d{2})'?)?)?)?)?)?)?"
)
_PARTIAL_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")
MAX_UTC_OFFSET = timedelta(hours=14)


def parse_pdf_date(raw: str) -> str | None:
    """ISO 8601 from a PDF date (``D:YYYYMMDDHHmmSSOHH'mm'``) or an XMP (ISO) date.

    Times with an offset become UTC (``…Z``); times without one stay as written, since the
    file does not say which zone they are in. Precision is kept ("D:2019" gives "2019").
    None when the value is not a readable date.
    """
    value = raw.strip()
    try:
        match = _PDF_DATE.fullmatch(value)
        if match:
            return _from_pdf_date(*match.groups())
        partial = _PARTIAL_DATE.fullmatch(value)
        if partial:
            year, month, day = partial.groups()
            datetime(int(year), int(month or 1), int(day or 1))  # validates
            return value
        return _iso(datetime.fromisoformat(value))
    except (ValueError, OverflowError):
        return None


def _from_pdf_date(
    year: str,
    month: str | None,
    day: str | None,
    hour: str | None,
    minute: str | None,
    second: str | None,
    sign: str | None,
    offset_hours: str | None,
    offset_minutes: str | None,
) -> str:
    if hour is None or month is None or day is None:
        datetime(int(year), int(month or 1), int(day or 1))  # validates
        return "-".join(part for part in (year, month, day) if part)
    moment = datetime(
        int(year), int(month), int(day), int(hour), int(minute or 0), int(second or 0)
    )
    if sign is None:
        return _iso(moment)
    offset = timedelta(hours=int(offset_hours or 0), minutes=int(offset_minutes or 0))
    if sign in "Zz":
        offset = timedelta(0)
    elif offset > MAX_UTC_OFFSET or int(offset_minutes or 0) >= 60:
        raise ValueError("offset out of range")
    return _iso(moment - offset if sign != "-" else moment + offset, utc=True)


def _iso(moment: datetime, utc: bool = False) -> str:
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
        utc = True
    return moment.isoformat(timespec="seconds") + ("Z" if utc else "")


# XMP is looked for in the first and last few MiB only: Acrobat writes it near the start,
# incremental updates append a newer one at the end.
XMP_SCAN_BYTES = 4 * 1024 * 1024
MAX_XMP_PACKET = 1024 * 1024
MAX_XMP_PACKETS = 64
# The document's own packet declares the PDF schema; images and fonts carry XMP too.
PDF_SCHEMA = b"http://ns.adobe.com/pdf/1.3/"
_XMP_PATTERNS = {
    tag: (
        re.compile(rf"<{re.escape(tag)}(?:\s[^>]*)?>(.*?)</{re.escape(tag)}\s*>", re.S),
        re.compile(rf"\s{re.escape(tag)}\s*=\s*(?:\"([^\"]*)\"|'([^']*)')"),
    )
    for tag, _ in XMP_FIELDS
}
_RDF_ITEM = re.compile(r"<rdf:li(?:\s[^>]*)?>(.*?)</rdf:li\s*>", re.S)
_TAG = re.compile(r"<[^>]*>")


def read_xmp(source: Source, sink: Sink) -> dict[str, list[str]]:
    """Properties from the document's XMP packet, found with tolerant patterns on raw bytes.

    Only uncompressed packets are found (the usual case: XMP is meant to be readable
    without a PDF parser). Entities are not expanded beyond XML's character references.
    """
    packet = _document_xmp_packet(source)
    if packet is None:
        return {}
    text = packet.decode("utf-8", "replace")
    found: dict[str, list[str]] = {}
    for tag, prop in XMP_FIELDS:
        for value in _xmp_values(text, tag):
            if prop in XMP_DATE_PROPERTIES:
                date = parse_pdf_date(value)
                if date is None:
                    sink.warn(f"unreadable XMP date in {tag}: {value!r}")
                    continue
                value = date
            if value not in found.setdefault(prop, []):
                found[prop].append(value)
    return {prop: values for prop, values in found.items() if values}


def _document_xmp_packet(source: Source) -> bytes | None:
    """The last packet declaring the PDF schema, or the only packet there is."""
    chosen, packets_seen, only_packet = None, 0, None
    for region in _scan_regions(source):
        position, packets = 0, 0
        while packets < MAX_XMP_PACKETS:
            start = region.find(b"<x:x", position)
            if start < 0:
                break
            position = start + 1
            tag = region[start + 1 : start + 10]
            if tag not in (b"x:xmpmeta", b"x:xapmeta"):
                continue
            packets += 1
            end = region.find(b"</" + tag + b">", start, start + MAX_XMP_PACKET)
            if end < 0:
                continue
            packet = region[start : end + len(tag) + 3]
            if PDF_SCHEMA in packet:
                chosen = packet  # the last one wins: incremental updates come later
            if packet != only_packet:  # an identical copy is the same packet
                packets_seen += 1
                only_packet = packet
            position = end
    return chosen if chosen is not None or packets_seen != 1 else only_packet


def _scan_regions(source: Source) -> Iterator[bytes]:
    if source.content is not None:
        yield source.content[: 2 * XMP_SCAN_BYTES]
        return
    with source.open() as handle:
        yield handle.read(XMP_SCAN_BYTES)
        if source.size > XMP_SCAN_BYTES:
            handle.seek(max(source.size - XMP_SCAN_BYTES, XMP_SCAN_BYTES))
            yield handle.read(XMP_SCAN_BYTES)


def _xmp_values(text: str, tag: str) -> list[str]:
    element, attribute = _XMP_PATTERNS[tag]
    raw: list[str] = []
    for match in element.finditer(text):
        content = match.group(1)
        items = _RDF_ITEM.findall(content)
        raw.extend(items if items else [content])
    raw.extend(a or b for a, b in attribute.findall(text))
    values = (clean_value(html.unescape(_TAG.sub("", value))) for value in raw)
    return [value for value in values if value]
