"""PDF: text per page, document metadata and embedded files, read with PDFium (pypdfium2).

PDFium is called through pypdfium2's raw ctypes bindings: its helper classes add a Python
object, a finaliser and a weak reference per page, which costs more than the text itself
on short pages. Every handle opened here is closed in ``finally`` blocks, in order.
"""

from __future__ import annotations

import ctypes
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from typing import Any, ClassVar

import pypdfium2  # type: ignore[import-untyped]  # noqa: F401  (importing it starts PDFium)
import pypdfium2.raw as pdfium  # type: ignore[import-untyped]

from caselens.ingest.errors import BrokenFile, EncryptedFile, LimitReached, NotMyFormat
from caselens.ingest.formats.pdf_metadata import (
    INFO_DATE_FIELDS,
    INFO_FIELDS,
    TEXT_CLEANUP,
    clean_value,
    parse_pdf_date,
    read_xmp,
)
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.ocr import ScannedPages

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
            sink.page_count = page_count
            sink.set_document("Pages")
            _read_metadata(document, source, sink)
            # Pages before embedded files: a limit reached on the files keeps the text.
            if page_count > 0:
                scanned = ScannedPages(source.ocr_languages, source.limits.item_timeout, page_count)
                with _form_environment(document) as form:
                    _read_pages(document, page_count, form, sink, scanned)
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
    return clean_value(ctypes.string_at(buffer, size - 2).decode("utf-16-le", "replace"))


def _read_pages(
    document: Any, page_count: int, form: Any, sink: Sink, scanned: ScannedPages
) -> None:
    """Text of every page with its form field values, and files attached to annotations;
    pages without a text layer that show an image are read by OCR."""
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
                    sink.add_text(scanned.read(page, number), page=number)
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
    ocr_warnings, ocr_record = scanned.report()
    for warning in ocr_warnings:
        sink.warn(warning)
    if ocr_record:
        sink.document_context["ocr"] = ocr_record


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
    return raw.decode("utf-16-le", "replace").replace("\r\n", "\n").translate(TEXT_CLEANUP)


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
