"""Type detection: cheap signature and text sniffing first, libmagic for the rest.

libmagic spends milliseconds on plain text (it tries many text heuristics), which is
most of the cost of small files, so text-like content is classified here and only
binary content goes to libmagic.
"""

from __future__ import annotations

import re
import threading
from typing import Any

TEXT_EXTENSIONS = {
    ".csv": "text/csv",
    ".tsv": "text/tab-separated-values",
    ".json": "application/json",
    ".xml": "text/xml",
    ".html": "text/html",
    ".htm": "text/html",
    ".eml": "message/rfc822",
    ".md": "text/markdown",
    ".ics": "text/calendar",
    ".vcf": "text/vcard",
    ".mbox": "application/mbox",
    ".jsonl": "application/x-ndjson",
    ".ndjson": "application/x-ndjson",
    ".vcs": "text/calendar",
    ".ical": "text/calendar",
    ".vcard": "text/vcard",
    ".emlx": "message/x-emlx",
}

SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"%PDF-", "application/pdf"),
    (b"{\\rtf", "text/rtf"),
    (b"BEGIN:VCARD", "text/vcard"),
    (b"BEGIN:VCALENDAR", "text/calendar"),
    (b"!BDN", "application/vnd.ms-outlook-pst"),
)

_HTML = re.compile(rb"^\s*(<!doctype\s+html|<html|<head|<body)", re.IGNORECASE)
_XML = re.compile(rb"^\s*<\?xml", re.IGNORECASE)
_MAIL_HEADER = re.compile(
    rb"^(Return-Path|Received|Message-ID|From|To|Subject|Date|MIME-Version|Delivered-To|"
    rb"X-[A-Za-z-]+):[ \t]",
    re.IGNORECASE | re.MULTILINE,
)
_MBOX = re.compile(rb"^From \S+ .*\d{4}\r?$", re.MULTILINE)
CONTROL_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x1B), *range(0x1C, 0x20)])

_local = threading.local()


def looks_like_text(head: bytes) -> bool:
    """True for content with no NUL and few control bytes (UTF-8 or an 8-bit charset)."""
    if not head:
        return True
    if b"\x00" in head:
        return False
    sample = head[:8192]
    controls = len(sample) - len(sample.translate(None, CONTROL_BYTES))
    return controls <= max(1, len(sample) // 200)


def detect_mime(head: bytes, extension: str) -> str:
    """The MIME type of content starting with ``head``; ``extension`` lower-case with dot."""
    if not head:
        return "application/x-empty"
    for signature, mime in SIGNATURES:
        if head.startswith(signature):
            return mime
    if looks_like_text(head):
        return _sniff_text(head, extension)
    if b"%PDF-" in head[:1024]:  # readers accept junk before the header; so do we
        return "application/pdf"
    if head.startswith(b"PK\x03\x04"):
        container = _zip_container(head)
        if container:
            return container
        if extension == ".epub":  # some writers do not put the mimetype member first
            return "application/epub+zip"
    return _libmagic(head)


def _zip_container(head: bytes) -> str | None:
    """EPUB and Office Open XML by their first members (libmagic often says only zip)."""
    if head[30:38] == b"mimetype" and b"application/epub+zip" in head[38:128]:
        return "application/epub+zip"
    if b"[Content_Types].xml" not in head[:8192] and b"_rels/.rels" not in head[:8192]:
        return None
    for marker, mime in _OOXML_PARTS:
        if marker in head:
            return mime
    return None


_OOXML_PARTS = (
    (b"xl/workbook.bin", "application/vnd.ms-excel.sheet.binary.macroenabled.12"),
    (b"word/", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    (b"xl/", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    (b"ppt/", "application/vnd.openxmlformats-officedocument.presentationml.presentation"),
)


def _sniff_text(head: bytes, extension: str) -> str:
    stripped = head.lstrip(b"\xef\xbb\xbf")
    if _HTML.match(stripped):
        return "text/html"
    if _XML.match(stripped):
        return "text/xml"
    if extension in TEXT_EXTENSIONS:
        return TEXT_EXTENSIONS[extension]
    first_block = stripped[:4096].lstrip(b"\r\n")
    if _MBOX.match(first_block) and _MAIL_HEADER.search(first_block):
        return "application/mbox"
    headers = len(_MAIL_HEADER.findall(first_block.split(b"\n\n", 1)[0]))
    if headers >= 3 and _MAIL_HEADER.match(first_block):
        return "message/rfc822"
    return "text/plain"


def _libmagic(head: bytes) -> str:
    detector = _magic_detector()
    if detector is None:
        return "application/octet-stream"
    try:
        mime = detector.from_buffer(head)
    except Exception:  # libmagic fails on odd input; the type stays unknown
        return "application/octet-stream"
    return str(mime) if mime else "application/octet-stream"


def _magic_detector() -> Any:
    # libmagic handles are not thread-safe: one per thread (workers are single-threaded).
    detector = getattr(_local, "detector", None)
    if detector is None:
        detector = _load_magic()
        _local.detector = detector
    return detector


def warm_up() -> bool:
    """Load libmagic's database now (before workers fork, which then share it)."""
    return _magic_detector() is not None


def _load_magic() -> Any:
    try:
        import magic
    except ImportError:  # libmagic1 missing: types of binary files stay unknown
        return None
    return magic.Magic(mime=True)
