"""Content lines shared by vCard and iCalendar: RFC 2425 / 6350 / 5545 and their elders.

Folded lines, parameters, QUOTED-PRINTABLE and BASE64 values, CHARSET parameters and
BEGIN/END nesting, for vCard 2.1 to 4.0 and vCalendar 1.0 / iCalendar 2.0. vobject fails
on vCard 2.1 quoted-printable soft line breaks (measured), hence our own reader.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import quopri
import re
from collections.abc import Iterator
from dataclasses import dataclass, field

from caselens.ingest.formats.textfile import read_text_bytes
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source
from caselens.text.decode import decode_text

MAX_NESTING = 16  # BEGIN inside BEGIN; deeper ones are read as plain properties
BINARY_ENCODINGS = frozenset({"BASE64", "B"})
BARE_ENCODINGS = frozenset({"QUOTED-PRINTABLE", "BASE64", "B", "8BIT", "7BIT"})
_LINE_BREAK = re.compile(rb"\r\n|\n|\r")
_NAME_AND_PARAMS = re.compile(rb'(?:[^":]++|"[^"]*+")*+:')
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_DATE = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})")


@dataclass
class ContentLine:
    """One property: ``NAME;PARAM=VALUE:value`` after unfolding, its value decoded."""

    name: str  # upper case, without its group ("item1.EMAIL" -> "EMAIL")
    params: dict[str, list[str]]  # upper-case names; vCard 2.1 bare values under TYPE
    source: bytes  # the unfolded line as written
    text: str = ""  # the value as text, still escaped (see unescape)
    binary: bytes | None = None  # the value of a BASE64 property

    def param(self, name: str) -> str | None:
        values = self.params.get(name)
        return values[0] if values else None

    @property
    def types(self) -> list[str]:
        return [t.lower() for value in self.params.get("TYPE", []) for t in value.split(",")]


@dataclass
class Component:
    """A BEGIN:NAME ... END:NAME block with its properties and nested blocks."""

    name: str
    lines: list[ContentLine] = field(default_factory=list)
    children: list[Component] = field(default_factory=list)
    closed: bool = False  # False when the file ended inside it

    def first(self, name: str) -> ContentLine | None:
        return next((line for line in self.lines if line.name == name), None)

    def text(self, name: str) -> str:
        """The (still escaped) value of the first ``name`` property, or ""."""
        line = self.first(name)
        return line.text if line else ""

    def all(self, name: str) -> list[ContentLine]:
        return [line for line in self.lines if line.name == name]

    def source(self) -> bytes:
        """The block written out again (for a library that wants it as text)."""
        parts = [f"BEGIN:{self.name}".encode()]
        parts.extend(line.source for line in self.lines)
        parts.extend(child.source() for child in self.children)
        parts.append(f"END:{self.name}".encode())
        return b"\r\n".join(parts)


def read_item_components(source: Source, sink: Sink) -> tuple[bytes, list[Component]]:
    """An item's bytes (within the text limit) and its components; the item's document
    gets the charset, and a warning when the charset was guessed."""
    data, _ = read_text_bytes(source, sink)
    roots, charset, certain = read_components(data)
    sink.set_document("Document", encoding=charset)
    if not certain:
        sink.warn(f"character set guessed as {charset}")
    return data, roots


def read_components(data: bytes) -> tuple[list[Component], str, bool]:
    """Top-level components of a vCard/iCalendar file; (components, charset, charset certain)."""
    sample = data[: 1 << 20]
    if len(data) > len(sample) and b"\n" in sample:
        sample = sample[: sample.rindex(b"\n")]  # whole lines: no character cut in two
    decoded = decode_text(sample)
    charset = decoded.encoding
    if charset.startswith(("utf-16", "utf-32")):  # the line reader works on ASCII-based bytes
        data = decode_text(data).text.encode("utf-8")
        charset = "utf-8"
    elif charset == "utf-8-sig":
        data, charset = data[3:], "utf-8"
    roots: list[Component] = []
    stack: list[Component] = []
    for line in _content_lines(data, charset):
        if line.name == "BEGIN" and len(stack) < MAX_NESTING:
            component = Component(line.text.strip().upper())
            (stack[-1].children if stack else roots).append(component)
            stack.append(component)
        elif line.name == "END" and any(c.name == line.text.strip().upper() for c in stack):
            while stack:
                ended = stack.pop()
                if ended.name == line.text.strip().upper():
                    ended.closed = True
                    break
        elif stack:
            stack[-1].lines.append(line)
    return roots, charset, decoded.certain


def _content_lines(data: bytes, charset: str) -> Iterator[ContentLine]:
    for logical in _unfolded(data):
        line = _parse_line(logical, charset)
        if line is not None:
            yield line


def _unfolded(data: bytes) -> Iterator[bytes]:
    """Logical lines: folded continuations joined, QUOTED-PRINTABLE soft breaks kept."""
    parts: list[bytes] = []  # joined once: a photo folded into thousands of lines
    keep_fold_space = False  # vCard 2.1 / vCalendar 1.0 unfold as RFC 822 does
    for raw in _LINE_BREAK.split(data):
        if parts and _soft_break(parts, raw):
            parts += (b"\r\n", raw)  # quopri removes the soft break with its "="
            continue
        if parts and raw[:1] in (b" ", b"\t"):
            parts.append(raw if keep_fold_space else raw[1:])
            continue
        if parts:
            line = b"".join(parts)
            keep_fold_space = _fold_style(line, keep_fold_space)
            yield line
        parts = [raw]
    if parts:
        yield b"".join(parts)


def _soft_break(parts: list[bytes], following: bytes) -> bool:
    """A QUOTED-PRINTABLE value whose line ends with "=" goes on, unless a block ends."""
    if not parts[-1].rstrip(b" \t").endswith(b"="):
        return False
    if following.upper().startswith((b"END:", b"BEGIN:")):
        return False
    return b"QUOTED-PRINTABLE" in parts[0].split(b":", 1)[0].upper()


def _fold_style(line: bytes, keep: bool) -> bool:
    upper = line.strip().upper()
    if upper.startswith(b"VERSION:"):
        return upper[8:].strip() in (b"2.1", b"1.0")
    if upper in (b"BEGIN:VCARD", b"BEGIN:VCALENDAR"):
        return False
    return keep


def _parse_line(logical: bytes, charset: str) -> ContentLine | None:
    colon = _value_start(logical)
    if colon < 0:
        return None  # not a property (garbage, or a blank line)
    head = logical[:colon].decode(charset, errors="replace")
    name, *raw_params = _split_unquoted(head, ";")
    name = name.rsplit(".", 1)[-1].strip().upper()
    if not name:
        return None
    params: dict[str, list[str]] = {}
    for raw in raw_params:
        key, equals, value = raw.partition("=")
        if not equals:  # vCard 2.1: TEL;CELL;VOICE, EMAIL;INTERNET, ;QUOTED-PRINTABLE
            key, value = ("ENCODING" if key.upper() in BARE_ENCODINGS else "TYPE"), key
        values = [v.strip().strip('"') for v in _split_unquoted(value, ",")]
        params.setdefault(key.strip().upper(), []).extend(values)
    line = ContentLine(name, params, logical)
    _decode_value(line, logical[colon + 1 :], charset)
    return line


def _decode_value(line: ContentLine, value: bytes, charset: str) -> None:
    encoding = (line.param("ENCODING") or "").upper()
    if encoding in BINARY_ENCODINGS:
        try:
            line.binary = base64.b64decode(b"".join(value.split()), validate=False)
        except (binascii.Error, ValueError):
            line.text = value.decode("ascii", errors="replace")
        return
    if encoding == "QUOTED-PRINTABLE":
        value = quopri.decodestring(value)
    text = _decode_bytes(value, line.param("CHARSET") or charset)
    line.text = text.replace("\r\n", "\n").replace("\r", "\n")  # QP line breaks are CRLF


def _decode_bytes(value: bytes, charset: str) -> str:
    try:
        codecs.lookup(charset)
        return value.decode(charset)
    except (LookupError, ValueError):  # unknown or malformed CHARSET, or not that charset
        return decode_text(value).text


def _value_start(line: bytes) -> int:
    """Index of the ":" ending name and parameters (a quoted parameter may hold one)."""
    match = _NAME_AND_PARAMS.match(line)
    return match.end() - 1 if match else line.find(b":")  # an unbalanced quote


def _split_unquoted(text: str, separator: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def unescape(text: str) -> str:
    r"""A TEXT value as meant: ``\n`` a line break, ``\,`` ``\;`` ``\\`` the character."""
    return _ESCAPE.sub(lambda m: "\n" if m.group(1) in "nN" else m.group(1), text)


def split_escaped(text: str, separator: str) -> list[str]:
    """Components of a structured value (``;``) or a list (``,``), each unescaped."""
    parts = re.split(rf"(?<!\\){re.escape(separator)}", text)  # escaped backslash: rare
    return [unescape(part).strip() for part in parts]


def date_text(value: str) -> str | None:
    """A vCard/iCalendar date (19700415, 1970-04-15, 1970-04-15T...) as 1970-04-15."""
    match = _DATE.match(value.strip())
    return f"{match[1]}-{match[2]}-{match[3]}" if match else None


def structured(text: str) -> list[str]:
    """The ``;``-separated components of a value, each list in it joined by spaces."""
    return [" ".join(v for v in split_escaped(part, ",") if v) for part in _split_raw(text, ";")]


def _split_raw(text: str, separator: str) -> list[str]:
    return re.split(rf"(?<!\\){re.escape(separator)}", text)
