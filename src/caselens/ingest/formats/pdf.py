"""PDF: text per page, document metadata and embedded files, read with PDFium (pypdfium2).

PDFium is called through pypdfium2's raw ctypes bindings: its helper classes add a Python
object, a finaliser and a weak reference per page, which costs more than the text itself
on short pages. Every handle opened here is closed in ``finally`` blocks, in order.
"""

from __future__ import annotations

import ctypes
import html
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import pypdfium2  # type: ignore[import-untyped]  # noqa: F401  (importing it starts PDFium)
import pypdfium2.raw as pdfium  # type: ignore[import-untyped]

from caselens.ingest.errors import BrokenFile, EncryptedFile, LimitReached, NotMyFormat
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

PDF_MIME_TYPES = frozenset({"application/pdf", "application/x-pdf", "application/acrobat"})
# PDFium accepts a header anywhere in the first 1024 bytes, as Acrobat does.
HEADER_WINDOW = 1024

LOAD_ERRORS = {
    pdfium.FPDF_ERR_UNKNOWN: "FPDF_ERR_UNKNOWN: unknown error",
    pdfium.FPDF_ERR_FILE: "FPDF_ERR_FILE: file could not be opened",
    pdfium.FPDF_ERR_FORMAT: "FPDF_ERR_FORMAT: not a PDF or corrupted",
    pdfium.FPDF_ERR_PASSWORD: "FPDF_ERR_PASSWORD: password required or incorrect",
    pdfium.FPDF_ERR_SECURITY: "FPDF_ERR_SECURITY: unsupported security scheme",
    pdfium.FPDF_ERR_PAGE: "FPDF_ERR_PAGE: page not found or content error",
}

# Text clean-up in one C-level pass: PDFium ends lines with CRLF, marks the hyphen of a
# word it joined across lines with U+FFFE, and passes through control characters that
# broken font encodings map glyphs to (and that databases refuse, like NUL).
_TEXT_CLEANUP: dict[int, str | None] = {
    **{code: None for code in range(0x20) if chr(code) not in "\t\n\r"},
    ord("\r"): "\n",
    0x7F: None,
    0xFFFE: None,
    0xFFFF: None,
}
_BLANK = re.compile(r"\S")
# Form fields whose value is text a reader sees on the page (not check boxes, buttons).
TEXT_FIELD_TYPES = frozenset(
    {pdfium.FPDF_FORMFIELD_TEXTFIELD, pdfium.FPDF_FORMFIELD_COMBOBOX, pdfium.FPDF_FORMFIELD_LISTBOX}
)


class PdfIngestor(Ingestor):
    name = "pdf"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = PDF_MIME_TYPES
    extensions: ClassVar[frozenset[str]] = frozenset({".pdf"})
    signatures: ClassVar[tuple[bytes, ...]] = (b"%PDF-",)
    base_score = 10

    @classmethod
    def score(cls, source: Source) -> int:
        score = super().score(source)
        if score < cls.base_score + 1 and b"%PDF-" in source.head[:HEADER_WINDOW]:
            return cls.base_score + 1  # a PDF behind a few bytes of junk
        return score

    def ingest(self, source: Source, sink: Sink) -> None:
        if b"%PDF" not in source.head[:HEADER_WINDOW]:
            raise NotMyFormat("no %PDF header in the first 1024 bytes")
        with _open_document(source, sink) as document:
            page_count = pdfium.FPDF_GetPageCount(document)
            sink.set_document("Pages")
            _read_metadata(document, source, sink)
            # Pages before embedded files: a limit reached on the files keeps the text.
            if page_count > 0:
                with _form_environment(document) as form:
                    _read_pages(document, page_count, form, sink)
            _read_embedded_files(document, sink)
            if page_count < 1:
                raise BrokenFile("PDF has no readable pages")


@contextmanager
def _open_document(source: Source, sink: Sink) -> Iterator[Any]:
    """The loaded document: without a password, else with the first supplied one that fits."""
    path = os.fsencode(source.path) + b"\0"
    document = pdfium.FPDF_LoadDocument(path, None)
    if document:
        if pdfium.FPDF_GetSecurityHandlerRevision(document) != -1:
            sink.warn("PDF is encrypted with an empty user password: permissions restricted")
    else:
        error = pdfium.FPDF_GetLastError()
        if error == pdfium.FPDF_ERR_SECURITY:
            raise EncryptedFile("PDF uses a security handler PDFium cannot open (DRM?)")
        if error != pdfium.FPDF_ERR_PASSWORD:
            raise BrokenFile(f"PDF could not be loaded (PDFium {_load_error(error)})")
        document = _open_with_passwords(path, source.passwords)
        if not document:
            raise EncryptedFile("PDF is password-protected")
        sink.decrypted = True
    try:
        yield document
    finally:
        pdfium.FPDF_CloseDocument(document)


@contextmanager
def _form_environment(document: Any) -> Iterator[Any]:
    """PDFium's form handle, to read filled-in field values; None when there is no form."""
    if pdfium.FPDF_GetFormType(document) == pdfium.FORMTYPE_NONE:
        yield None
        return
    config = pdfium.FPDF_FORMFILLINFO(version=2)  # must outlive the handle
    form = pdfium.FPDFDOC_InitFormFillEnvironment(document, config)
    try:
        yield form or None
    finally:
        if form:
            pdfium.FPDFDOC_ExitFormFillEnvironment(form)
        del config


def _open_with_passwords(path: bytes, passwords: tuple[str, ...]) -> Any:
    for password in passwords:
        for encoded in _password_encodings(password):
            document = pdfium.FPDF_LoadDocument(path, encoded)
            if document:
                return document
    return None


def _password_encodings(password: str) -> list[bytes]:
    # AES-256 (revisions 5, 6) takes UTF-8; older revisions were often written in Latin-1.
    forms: list[bytes] = []
    for encoding, errors in (("utf-8", "surrogateescape"), ("latin-1", "strict")):
        with suppress(UnicodeEncodeError):
            encoded = password.encode(encoding, errors)
            if encoded not in forms:
                forms.append(encoded)
    return forms


def _load_error(code: int) -> str:
    return LOAD_ERRORS.get(code, f"error {code}")


def _read_metadata(document: Any, source: Source, sink: Sink) -> None:
    found: dict[str, list[str]] = {}
    for key, prop in INFO_FIELDS:
        value = _meta_text(document, key)
        if value and value not in found.get(prop, []):
            found.setdefault(prop, []).append(value)
    for key, prop in INFO_DATE_FIELDS:
        raw = _meta_text(document, key)
        if raw:
            date = parse_pdf_date(raw)
            if date is None:
                sink.warn(f"unreadable PDF date in {key}: {raw!r}")
            else:
                found[prop] = [date]
    info_is_empty = not found
    language = _catalog_language(document)
    if language:
        found["language"] = [language]
    if info_is_empty or not language:
        # PDFium does not expose the catalog's XMP stream; it is read from the raw bytes.
        for prop, values in read_xmp(source, sink).items():
            kept = found.setdefault(prop, values)
            if prop == "author":  # Info holds one author string, XMP the list of them
                kept.extend(value for value in values if value not in kept)
    for prop, values in found.items():
        sink.add_property(prop, values)


def _meta_text(document: Any, key: str) -> str:
    return _utf16_value(pdfium.FPDF_GetMetaText, document, key.encode("ascii") + b"\0")


def _catalog_language(document: Any) -> str:
    return _utf16_value(pdfium.FPDFCatalog_GetLanguage, document)


def _utf16_value(getter: Any, *arguments: Any) -> str:
    """A string from one of PDFium's two-call getters: its size in bytes, then UTF-16LE."""
    size = getter(*arguments, None, 0)
    if size <= 2:  # an empty string is its terminator alone
        return ""
    buffer = (pdfium.FPDF_WCHAR * ((size + 1) // 2))()
    getter(*arguments, buffer, size)
    return _clean_value(ctypes.string_at(buffer, size - 2).decode("utf-16-le", "replace"))


def _clean_value(value: str) -> str:
    return value.translate(_TEXT_CLEANUP).strip()


def _read_pages(document: Any, page_count: int, form: Any, sink: Sink) -> None:
    """Text of every page with its form field values, and files attached to annotations."""
    without_text = 0
    unloadable: list[int] = []
    unreadable: list[int] = []
    for index in range(page_count):
        number = index + 1
        page = pdfium.FPDF_LoadPage(document, index)
        if not page:
            unloadable.append(number)
            continue
        try:
            field_values = _read_annotations(page, number, form, sink)
            if not sink.text_full:
                text = _page_text(page)
                if text is None:
                    unreadable.append(number)
                    text = ""
                text = "\n".join(part for part in (text, *field_values) if part)
                if _BLANK.search(text):
                    sink.add_text(text, page=number)
                elif number not in unreadable:
                    without_text += 1
        finally:
            pdfium.FPDF_ClosePage(page)
    # One warning for each kind of problem, however many pages have it.
    if unloadable:
        sink.warn(
            f"{len(unloadable)} of {page_count} pages could not be loaded ({_pages(unloadable)})"
        )
    if unreadable:
        sink.warn(
            f"the text of {len(unreadable)} of {page_count} pages could not be read "
            f"({_pages(unreadable)})"
        )
    if without_text:
        sink.warn(f"{without_text} of {page_count} pages have no text layer")


def _pages(numbers: list[int]) -> str:
    shown = ", ".join(str(number) for number in numbers[:10])
    return ("page " if len(numbers) == 1 else "pages ") + shown + (", …" if numbers[10:] else "")


def _page_text(page: Any) -> str | None:
    """The page's text, or None when PDFium cannot read it."""
    text_page = pdfium.FPDFText_LoadPage(page)
    if not text_page:
        return None
    try:
        count = pdfium.FPDFText_CountChars(text_page)
        if count <= 0:
            return ""
        # Room for a surrogate pair per character, should PDFium write them.
        buffer = (ctypes.c_ushort * (2 * count + 1))()
        written = pdfium.FPDFText_GetText(text_page, 0, count, buffer)
    finally:
        pdfium.FPDFText_ClosePage(text_page)
    raw = ctypes.string_at(buffer, max(written - 1, 0) * 2)
    return raw.decode("utf-16-le", "replace").replace("\r\n", "\n").translate(_TEXT_CLEANUP)


def _read_embedded_files(document: Any, sink: Sink) -> None:
    """Files in the document's EmbeddedFiles name tree (attachments, portfolio members)."""
    for index in range(max(pdfium.FPDFDoc_GetAttachmentCount(document), 0)):
        attachment = pdfium.FPDFDoc_GetAttachment(document, index)
        if not attachment:
            sink.warn(f"embedded file {index + 1} could not be read")
            continue
        _add_attachment(attachment, f"attachment-{index + 1}", sink, {})


def _read_annotations(page: Any, number: int, form: Any, sink: Sink) -> list[str]:
    """Files attached to the page's annotations become children; returns field values."""
    field_values = []
    for index in range(max(pdfium.FPDFPage_GetAnnotCount(page), 0)):
        annotation = pdfium.FPDFPage_GetAnnot(page, index)
        if not annotation:
            continue
        try:
            subtype = pdfium.FPDFAnnot_GetSubtype(annotation)
            if subtype == pdfium.FPDF_ANNOT_FILEATTACHMENT:
                attachment = pdfium.FPDFAnnot_GetFileAttachment(annotation)
                if attachment:
                    fallback = f"page-{number}-attachment-{index + 1}"
                    _add_attachment(attachment, fallback, sink, {"page": number})
            elif subtype == pdfium.FPDF_ANNOT_WIDGET:
                value = _field_value(form, annotation)
                if value:
                    field_values.append(value)
        finally:
            pdfium.FPDFPage_CloseAnnot(annotation)
    return field_values


def _field_value(form: Any, annotation: Any) -> str:
    """The text a filled-in form field shows; check boxes and buttons show none."""
    if form is not None:
        if pdfium.FPDFAnnot_GetFormFieldType(form, annotation) not in TEXT_FIELD_TYPES:
            return ""
        return _utf16_value(pdfium.FPDFAnnot_GetFormFieldValue, form, annotation)
    # A widget whose document lost its /AcroForm (pages copied out of a form) may still
    # carry its value; a check box's value is a name, not a string.
    if pdfium.FPDFAnnot_GetValueType(annotation, b"V\0") != pdfium.FPDF_OBJECT_STRING:
        return ""
    return _utf16_value(pdfium.FPDFAnnot_GetStringValue, annotation, b"V\0")


def _add_attachment(attachment: Any, fallback: str, sink: Sink, metadata: dict[str, Any]) -> None:
    name = _utf16_value(pdfium.FPDFAttachment_GetName, attachment) or fallback
    size = ctypes.c_ulong()
    if not pdfium.FPDFAttachment_GetFile(attachment, None, 0, ctypes.byref(size)):
        sink.warn(f"embedded file {name!r} has no readable content")
        return
    # PDFium hands the content over whole: refuse before allocating, not while reading.
    problem = sink.limits.expansion_problem(sink.expanded_bytes + size.value, sink.source_size)
    if problem:
        raise LimitReached(problem)
    buffer = ctypes.create_string_buffer(max(size.value, 1))
    written = ctypes.c_ulong()
    pdfium.FPDFAttachment_GetFile(attachment, buffer, size.value, ctypes.byref(written))
    data = buffer.raw[: min(written.value, size.value)]
    mime_type = _utf16_value(pdfium.FPDFAttachment_GetSubtype, attachment)
    if mime_type:
        metadata["mime_type"] = mime_type
    description = _utf16_value(pdfium.FPDFAttachment_GetDescription, attachment)
    if description:
        metadata["description"] = description
    for key, field in (("CreationDate", "created"), ("ModDate", "modified")):
        raw = _attachment_param(attachment, key)
        date = parse_pdf_date(raw) if raw else None
        if date:
            metadata[field] = date
    sink.add_child(name.encode("utf-8"), data, **metadata)


def _attachment_param(attachment: Any, key: str) -> str:
    tag = key.encode("ascii") + b"\0"
    if not pdfium.FPDFAttachment_HasKey(attachment, tag):
        return ""
    return _utf16_value(pdfium.FPDFAttachment_GetStringValue, attachment, tag)


# --- Metadata: the Info dictionary, PDF dates and XMP --------------------------------------

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
    values = (_clean_value(html.unescape(_TAG.sub("", value))) for value in raw)
    return [value for value in values if value]
