"""Plain text, CSV/TSV and HTML: decoded with charset detection, kept as searchable text."""

from __future__ import annotations

import base64
import binascii
import csv
import io
import json
import mimetypes
from collections.abc import Iterator
from typing import ClassVar

from caselens.ingest.errors import BrokenFile
from caselens.ingest.formats.textfile import read_text_bytes
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.text.decode import declared_html_charset, decode_text
from caselens.text.html import read_html

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TABLE_TYPES = frozenset({"text/csv", "text/tab-separated-values"})
TABLE_EXTENSIONS = {".csv": "text/csv", ".tsv": "text/tab-separated-values"}
TABLE_DELIMITERS = ",;\t|"
SNIFF_SAMPLE_CHARS = 16 * 1024  # csv.Sniffer's regexes are slow on long samples
ROWS_PER_CHUNK = 1000


class TextIngestor(Ingestor):
    name = "text"
    version = "2"
    mime_types: ClassVar[frozenset[str]] = frozenset(
        {
            "text/plain",
            "text/markdown",
            "text/x-log",
            "message/rfc822",
            "application/mbox",
            "application/x-empty",  # nothing to read, nothing missed
            *HTML_TYPES,
            *TABLE_TYPES,
        }
    )
    extensions: ClassVar[frozenset[str]] = frozenset(
        {".txt", ".text", ".log", ".md", ".csv", ".tsv", ".html", ".htm", ".eml"}
    )
    base_score = 10

    @classmethod
    def score(cls, source: Source) -> int:
        score = super().score(source)
        if score == 0 and source.mime_type.startswith("text/"):
            return cls.base_score - 5  # any other text type still reads as text
        return score

    def ingest(self, source: Source, sink: Sink) -> None:
        data, complete = read_text_bytes(source, sink)
        if source.mime_type in HTML_TYPES:
            self._html(data, sink)
        elif table_type := _table_type(source):
            self._table(data, table_type, complete, sink)
        else:
            decoded = decode_text(data)
            sink.set_document("PlainText", encoding=decoded.encoding)
            self._note_guess(decoded.certain, decoded.encoding, sink)
            sink.add_text(decoded.text)

    def _html(self, data: bytes, sink: Sink) -> None:
        decoded = decode_text(data, declared_html_charset(data))
        try:
            content = read_html(decoded.text)
        except (AssertionError, ValueError) as err:  # html.parser's own failures
            raise BrokenFile(f"HTML could not be parsed: {err}") from err
        meta = content.meta
        title = content.title or next(iter(meta.get("title", [])), None)
        sink.set_document("HyperText", encoding=decoded.encoding, title=title)
        sink.add_property("author", meta.get("author"))
        sink.add_property("summary", meta.get("description"))
        sink.add_property("keywords", _split_keywords(meta.get("keywords", [])))
        sink.add_property("generator", meta.get("generator"))
        sink.add_property("language", content.language)
        self._note_guess(decoded.certain, decoded.encoding, sink)
        sink.add_text(content.text)
        for number, uri in enumerate(content.data_uris, start=1):
            _add_inline_image(number, uri, sink)

    def _table(self, data: bytes, mime_type: str, complete: bool, sink: Sink) -> None:
        decoded = decode_text(data)
        text = decoded.text
        if "\x00" in text:
            sink.warn("NUL bytes in the table were removed")
            text = text.replace("\x00", "")
        delimiter = _sniff_delimiter(text, mime_type)
        header, rows = _table_rows(text, delimiter, sink)
        sink.set_document("Table", encoding=decoded.encoding)
        if header is not None:
            sink.add_property("columns", json.dumps(header, ensure_ascii=False))
        if complete:
            sink.add_property("rowCount", str(max(rows - 1, 0)))  # data rows, not the header
        self._note_guess(decoded.certain, decoded.encoding, sink)

    @staticmethod
    def _note_guess(certain: bool, encoding: str, sink: Sink) -> None:
        if not certain:
            sink.warn(f"character set guessed as {encoding}")


def _table_type(source: Source) -> str | None:
    """The table type of the item; by its extension when detection could not tell (NULs)."""
    if source.mime_type in TABLE_TYPES:
        return source.mime_type
    if source.mime_type == "application/octet-stream":
        return TABLE_EXTENSIONS.get(source.extension)
    return None


def _sniff_delimiter(text: str, mime_type: str) -> str:
    """The delimiter the content uses; the type's own when the sample is inconclusive."""
    declared = "\t" if mime_type == "text/tab-separated-values" else ","
    first_line = text.split("\n", 1)[0]
    if declared == "\t" and "\t" in first_line:
        return declared
    sample = text[:SNIFF_SAMPLE_CHARS]
    if len(text) > SNIFF_SAMPLE_CHARS and "\n" in sample:
        sample = sample[: sample.rindex("\n")]  # whole lines only
    try:
        return csv.Sniffer().sniff(sample, delimiters=TABLE_DELIMITERS).delimiter
    except csv.Error:  # one column, or too irregular to tell
        return declared


def _table_rows(text: str, delimiter: str, sink: Sink) -> tuple[list[str] | None, int]:
    """Put the rows into the sink, one a line with tab-separated cells; (header, row count).

    A malformed row (a stray or unclosed quote) ends the parsing: the rest of the table is
    kept as it is written, so nothing goes unsearched.
    """
    lines = _Lines(text)
    reader = csv.reader(lines, delimiter=delimiter, strict=True)
    header: list[str] | None = None
    rows = 0
    row_start = 0  # where the row after the last complete one begins
    chunk: list[str] = []
    try:
        for row in reader:
            row_start = lines.consumed
            if not any(cell.strip() for cell in row):
                continue  # a blank line, or a row of empty cells
            if header is None:
                header = [cell.strip() for cell in row]
            rows += 1
            if not sink.text_full:
                chunk.append("\t".join(" ".join(cell.split()) for cell in row))
            if len(chunk) >= ROWS_PER_CHUNK:
                sink.add_text("\n".join(chunk) + "\n")
                chunk = []
    except csv.Error as err:
        sink.warn(f"table is malformed at line {reader.line_num}: {err}; the rest kept as written")
        chunk.append(text[row_start:])
    sink.add_text("\n".join(chunk))
    return header, rows


class _Lines(Iterator[str]):
    """The lines of a text for csv.reader, counting the characters handed out."""

    def __init__(self, text: str) -> None:
        self._buffer = io.StringIO(text, newline="")
        self.consumed = 0

    def __next__(self) -> str:
        line = self._buffer.readline()
        if not line:
            raise StopIteration
        self.consumed += len(line)
        return line


def _split_keywords(values: list[str]) -> list[str]:
    return [word.strip() for value in values for word in value.split(",") if word.strip()]


def _add_inline_image(number: int, uri: str, sink: Sink) -> None:
    """An image embedded as a data: URI becomes a child item, like an attachment."""
    header, _, payload = uri[len("data:") :].partition(",")
    media_type, *parameters = header.split(";")
    if "base64" not in parameters:
        return  # percent-encoded data: URIs are rare for images; the markup keeps them
    try:
        data = base64.b64decode(payload, validate=False)
    except (binascii.Error, ValueError) as err:
        sink.warn(f"inline image {number} could not be decoded: {err}")
        return
    extension = mimetypes.guess_extension(media_type.strip().lower()) or ".bin"
    sink.add_child(f"inline-image-{number}{extension}".encode(), data)
