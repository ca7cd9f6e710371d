"""XML and JSON: every text node, attribute value and scalar value kept as searchable text.

XML is parsed as a stream with entity expansion, DTD loading and network access off, so a
hostile file (XXE, billion laughs) reads nothing from this machine and stays small in memory.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from typing import Any, ClassVar

from lxml import etree  # type: ignore[import-untyped]

from caselens.ingest.errors import BrokenFile
from caselens.ingest.formats.textfile import TextFormatIngestor, read_text_bytes
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.text.decode import decode_text

# Types a detector gives when it cannot tell; an extension of ours then says more.
XML_NAMESPACE = "{http://www.w3.org/XML/1998/namespace}"
# Office 2003 XML (Word, Excel) carries its document properties in this element.
OFFICE_PROPERTIES = "{urn:schemas-microsoft-com:office:office}DocumentProperties"
OFFICE_FIELDS = {
    "Title": "title",
    "Subject": "summary",
    "Author": "author",
    "Keywords": "keywords",
    "Description": "description",
    "Created": "createdAt",
    "LastSaved": "modifiedAt",
}
OFFICE_DATES = frozenset({"createdAt", "modifiedAt"})
# Word 2003 XML embeds images and OLE objects as base64: they become child items, not text.
WORD_BINARY = "{http://schemas.microsoft.com/office/word/2003/wordml}binData"
WORD_NAME = "{http://schemas.microsoft.com/office/word/2003/wordml}name"
JSON_TREE_LIMIT = 32 * 1024 * 1024  # bigger single documents are kept as plain text
JSON_MAX_DEPTH = 500
JSON_LINES_EXTENSIONS = frozenset({".jsonl", ".ndjson"})
JSON_LINES_TYPES = frozenset({"application/x-ndjson", "application/jsonl", "application/ndjson"})
_PLAIN_KEY = re.compile(r"[A-Za-z_$@][\w$@-]*")
LINES_PER_CHUNK = 1000


class XmlIngestor(TextFormatIngestor):
    name = "xml"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset({"text/xml", "application/xml"})
    # XML dialects nobody else reads; not .svg (an image) nor .plist (often binary).
    extensions: ClassVar[frozenset[str]] = frozenset(
        {".xml", ".xsd", ".xsl", ".xslt", ".wsdl", ".kml", ".gpx", ".rss", ".atom"}
    )
    base_score = 10

    @classmethod
    def score(cls, source: Source) -> int:
        score = super().score(source)
        if score == 0 and source.mime_type.endswith("+xml"):
            return cls.base_score  # SVG, RSS, KML...: below any ingestor naming the type
        return score

    def ingest(self, source: Source, sink: Sink) -> None:
        sink.set_document("Document")
        lines = _XmlLines(sink)
        with source.open() as handle:
            events = etree.iterparse(
                handle,
                events=("start", "end"),
                resolve_entities=False,
                no_network=True,
                load_dtd=False,
                huge_tree=False,  # keeps libxml2's limits on depth and node size
                recover=True,
            )
            try:
                for event, element in events:
                    lines.handle(event, element)
                    if sink.text_full:
                        break
            except etree.LxmlError as err:  # recovery itself gave up
                raise BrokenFile(f"XML could not be parsed: {err}") from err
            finally:
                lines.flush()  # what was read so far is kept, whatever happens
            errors = [e for e in events.error_log if e.level >= etree.ErrorLevels.ERROR]
        if errors and not lines.found_element:
            raise BrokenFile(f"not XML: {_describe(errors[0])}")
        if errors:
            sink.warn(f"XML is not well-formed; text recovered ({_describe(errors[0])})")


class _XmlLines:
    """Turns iterparse events into lines, in document order, freeing what was read.

    Text before an element is complete when it starts, and text inside it when it ends;
    each line holds an element's attribute values and the text up to the next tag.
    """

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.found_element = False
        self.embedded = 0
        self._line: list[str] = []
        self._chunk: list[str] = []

    def handle(self, event: str, element: Any) -> None:
        parent = element.getparent()
        if event == "start":
            if parent is None:
                self._note_root(element)
            else:
                self._add(_text_before(parent, element.getprevious()))
            self._break_line()
            self._add(element.attrib.values())
            return
        if element.tag == WORD_BINARY:
            self._add_embedded(element)
        else:
            self._add(_text_before(element, element[-1] if len(element) else None))
        self._break_line()
        if parent is not None and parent.tag == OFFICE_PROPERTIES:
            self._note_office_property(element)
        element.clear(keep_tail=True)  # its tail is read when the next sibling starts
        while parent is not None and element.getprevious() is not None:
            del parent[0]

    def _note_root(self, root: Any) -> None:
        self.found_element = True
        self.sink.add_property("language", root.get(f"{XML_NAMESPACE}lang"))

    def _note_office_property(self, element: Any) -> None:
        name = OFFICE_FIELDS.get(element.tag.rpartition("}")[2])
        value = " ".join((element.text or "").split())
        if name in OFFICE_DATES:
            value = _utc_text(value) or ""
        if name and value:
            self.sink.add_property(name, value)

    def _add_embedded(self, element: Any) -> None:
        self.embedded += 1
        name = (element.get(WORD_NAME) or "").removeprefix("wordml://")
        try:
            data = base64.b64decode(element.text or "")
        except (binascii.Error, ValueError) as err:
            self.sink.warn(f"embedded object {name or self.embedded} is not base64: {err}")
            return
        self.sink.add_child((name or f"embedded-{self.embedded}.bin").encode(), data)

    def _add(self, pieces: Iterable[str]) -> None:
        self._line.extend(" ".join(piece.split()) for piece in pieces if piece and piece.strip())

    def _break_line(self) -> None:
        if self._line:
            self._chunk.append(" ".join(self._line))
            self._line = []
        if len(self._chunk) >= LINES_PER_CHUNK:
            self._write()

    def flush(self) -> None:
        """Put what is left into the sink (also after an error: partial text is kept)."""
        self._break_line()
        self._write()

    def _write(self) -> None:
        if self._chunk:
            self.sink.add_text("\n".join(self._chunk) + "\n")
            self._chunk = []


def _text_before(parent: Any, node: Any) -> list[str]:
    """Text of ``parent`` from its last element child (or its start) up to after ``node``.

    ``node`` is the child before the point reached (None: nothing before it). Comments,
    processing instructions and unexpanded entities give no text, but text after them does.
    """
    pieces: list[str] = []
    while node is not None and not isinstance(node.tag, str):
        pieces.append(node.tail or "")
        node = node.getprevious()
    pieces.append((parent.text or "") if node is None else (node.tail or ""))
    return pieces[::-1]


def _describe(error: Any) -> str:
    return f"line {error.line}: {error.message}"


def _utc_text(value: str) -> str | None:
    """An ISO 8601 time as FollowTheMoney keeps it: UTC, without a zone suffix."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.isoformat()


class JsonIngestor(TextFormatIngestor):
    name = "json"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset({"application/json", *JSON_LINES_TYPES})
    extensions: ClassVar[frozenset[str]] = frozenset({".json", ".geojson", *JSON_LINES_EXTENSIONS})
    base_score = 10

    @classmethod
    def score(cls, source: Source) -> int:
        score = super().score(source)
        if score == 0 and source.mime_type.endswith("+json"):
            return cls.base_score
        return score

    def ingest(self, source: Source, sink: Sink) -> None:
        data, _ = read_text_bytes(source, sink)
        decoded = decode_text(data)
        sink.set_document("Document", encoding=decoded.encoding)
        if not decoded.certain:
            sink.warn(f"character set guessed as {decoded.encoding}")
        text = decoded.text
        named_lines = source.extension in JSON_LINES_EXTENSIONS
        if named_lines or source.mime_type in JSON_LINES_TYPES or _looks_like_lines(text):
            _json_lines(text, sink)
        elif len(data) > JSON_TREE_LIMIT:
            sink.warn(f"JSON larger than {JSON_TREE_LIMIT // (1024 * 1024)} MiB kept as plain text")
            sink.add_text(text)
        else:
            _json_document(text, sink)


def _json_document(text: str, sink: Sink) -> None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError as err:
        sink.warn(f"not valid JSON (line {err.lineno} column {err.colno}: {err.msg}); kept as text")
        sink.add_text(text)
        return
    except (RecursionError, ValueError) as err:  # too deep; a number too long to convert
        sink.warn(f"JSON could not be parsed ({type(err).__name__}: {err}); kept as text")
        sink.add_text(text)
        return
    _add_lines(_flatten(value, sink), sink)


def _looks_like_lines(text: str) -> bool:
    """JSON Lines under a .json name: a first line that is a whole value, and more lines."""
    first, _, rest = text.lstrip().partition("\n")
    if not rest.strip() or not first.strip().startswith(("{", "[")):
        return False
    try:
        json.loads(first)
    except (RecursionError, ValueError):
        return False
    return True


def _json_lines(text: str, sink: Sink) -> None:
    """One record a line; a line that is not JSON is kept as it is written, with a warning."""
    bad_lines: list[int] = []

    def records() -> Iterator[str]:
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except (RecursionError, ValueError):
                bad_lines.append(number)
                yield line
                continue
            yield from _flatten(value, sink)
            yield ""  # a blank line between records

    _add_lines(records(), sink)
    if bad_lines:
        shown = ", ".join(str(n) for n in bad_lines[:10]) + (", ..." if len(bad_lines) > 10 else "")
        sink.warn(f"{len(bad_lines)} lines are not valid JSON and were kept as text: {shown}")


def _flatten(value: Any, sink: Sink) -> Iterator[str]:
    """``path: value`` for every scalar, paths like ``a.b[2].c``; depth-first, in order."""
    stack: list[tuple[str, Any, int]] = [("", value, 0)]
    while stack:
        path, current, depth = stack.pop()
        if isinstance(current, dict | list) and depth >= JSON_MAX_DEPTH:
            sink.warn(f"JSON nested deeper than {JSON_MAX_DEPTH} levels: deeper values skipped")
            continue
        if isinstance(current, dict) and current:
            children = [(_key_path(path, key), item) for key, item in current.items()]
        elif isinstance(current, list) and current:
            children = [(f"{path}[{index}]", item) for index, item in enumerate(current)]
        else:
            scalar = current if isinstance(current, str) else json.dumps(current)
            yield f"{path}: {scalar}" if path else scalar
            continue
        stack.extend((child_path, item, depth + 1) for child_path, item in reversed(children))


def _key_path(path: str, key: str) -> str:
    if _PLAIN_KEY.fullmatch(key):
        return f"{path}.{key}" if path else key
    return f"{path}[{json.dumps(key, ensure_ascii=False)}]"


def _add_lines(lines: Iterator[str], sink: Sink) -> None:
    chunk: list[str] = []
    for line in lines:
        chunk.append(line)
        if len(chunk) >= LINES_PER_CHUNK:
            sink.add_text("\n".join(chunk) + "\n")
            chunk = []
            if sink.text_full:
                return
    sink.add_text("\n".join(chunk).rstrip("\n"))
