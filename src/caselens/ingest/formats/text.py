"""Plain text, CSV/TSV and HTML: decoded with charset detection, kept as searchable text."""

from __future__ import annotations

import csv
import io
from typing import ClassVar

from caselens.ingest.errors import BrokenFile
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.text.decode import declared_html_charset, decode_text
from caselens.text.html import html_to_text

HTML_TYPES = frozenset({"text/html", "application/xhtml+xml"})
TABLE_TYPES = frozenset({"text/csv", "text/tab-separated-values"})


class TextIngestor(Ingestor):
    name = "text"
    version = "1"
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
        limit = sink.max_text_chars * 4  # at most four bytes a character
        data = source.read_bytes(limit + 1)
        if len(data) > limit:
            data = data[:limit]
            sink.warn(f"only the first {limit} bytes were decoded (limit max_text_chars)")
        if source.mime_type in HTML_TYPES:
            self._html(data, sink)
        elif source.mime_type in TABLE_TYPES:
            self._table(data, source.mime_type, sink)
        else:
            decoded = decode_text(data)
            sink.set_document("PlainText", encoding=decoded.encoding)
            self._note_guess(decoded.certain, decoded.encoding, sink)
            sink.add_text(decoded.text)

    def _html(self, data: bytes, sink: Sink) -> None:
        decoded = decode_text(data, declared_html_charset(data))
        try:
            text, title = html_to_text(decoded.text)
        except (AssertionError, ValueError) as err:  # html.parser's own failures
            raise BrokenFile(f"HTML could not be parsed: {err}") from err
        sink.set_document("HyperText", encoding=decoded.encoding, title=title)
        self._note_guess(decoded.certain, decoded.encoding, sink)
        sink.add_text(text)

    def _table(self, data: bytes, mime_type: str, sink: Sink) -> None:
        decoded = decode_text(data)
        delimiter = "\t" if mime_type == "text/tab-separated-values" else ","
        reader = csv.reader(io.StringIO(decoded.text, newline=""), delimiter=delimiter)
        rows = 0
        header: list[str] = []
        try:
            for row in reader:
                if rows == 0:
                    header = row
                rows += 1
        except csv.Error as err:
            sink.warn(f"CSV is malformed at line {reader.line_num}: {err}")
        sink.set_document("Table", encoding=decoded.encoding, columns=header or None)
        sink.add_property("rowCount", str(rows))
        self._note_guess(decoded.certain, decoded.encoding, sink)
        sink.add_text(decoded.text)

    @staticmethod
    def _note_guess(certain: bool, encoding: str, sink: Sink) -> None:
        if not certain:
            sink.warn(f"character set guessed as {encoding}")
