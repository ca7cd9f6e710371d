"""An RTF reader: tokens, groups and destinations, with the character sets done right.

Text bytes (literal or ``\\'hh``) are decoded with the code page of the current font's
``\\fcharset`` (or ``\\cpg``), else the document's ``\\ansicpg``, so double-byte text
(Shift-JIS, GBK...) and Central European code pages come out right. ``\\uN`` gives Unicode,
skipping the ``\\ucN`` fallback characters after it. Tables, styles, fields' instructions
and other non-text destinations are skipped; ``\\info`` fields and ``\\*\\generator`` are
collected as metadata; ``\\objdata`` and ``\\pict`` data are collected as binary.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

from caselens.ingest.formats.rtf_tables import (
    CHARACTERS,
    CHARSETS,
    DATE_FIELDS,
    META_FIELDS,
    PICTURE_TYPES,
    SKIP,
    SYMBOLS,
    TEXT,
)

TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?[0-9]{1,10})? ?"  # control word with its parameter
    rb"|\\'([0-9a-fA-F]{2})"  # a byte in hex
    rb"|\\([^a-zA-Z'])"  # control symbol
    rb"|([{}])"  # group
    rb"|[\r\n]+"  # line ends are not text in RTF
    rb"|([^\\{}\r\n]+)",  # text
    re.DOTALL,
)
_NOT_HEX = re.compile(rb"[^0-9a-fA-F]")


@dataclass
class Binary:
    """Data of a ``\\pict`` or ``\\objdata`` destination, with what describes it."""

    kind: str  # "pict" or "object"
    hex_digits: list[bytes] = field(default_factory=list)
    raw: list[bytes] = field(default_factory=list)
    format: str = "bin"
    class_name: str = ""

    def data(self) -> bytes:
        digits = _NOT_HEX.sub(b"", b"".join(self.hex_digits))
        return bytes.fromhex(digits[: len(digits) // 2 * 2].decode("ascii")) + b"".join(self.raw)


@dataclass
class _State:
    dest: str = "text"  # text, skip, fonttbl, info, meta:<field>, date:<field>, object, ...
    codec: str = "cp1252"
    uc: int = 1
    binary: Binary | None = None
    in_object: bool = False


@dataclass
class RtfContent:
    text: str
    metadata: dict[str, list[str]]
    dates: dict[str, dict[str, int]]
    binaries: list[Binary]


class RtfParser:
    """Reads one RTF document; ``max_chars`` stops text collection early."""

    def __init__(self, max_chars: int) -> None:
        self.max_chars = max_chars
        self.out: list[str] = []
        self.size = 0
        self.ansi_codec = "cp1252"
        self.default_font = 0
        self.fonts: dict[int, str] = {}
        self.font_charsets: dict[int, int] = {}
        self.defining_font = 0
        self.metadata: dict[str, list[str]] = {}
        self.dates: dict[str, dict[str, int]] = {}
        self.binaries: list[Binary] = []
        self.pending = bytearray()
        self.pending_codec = "cp1252"
        self.pending_dest = "text"
        self.skip_chars = 0
        self.state = _State()
        self.stack: list[_State] = []
        self.group_start = False
        self.ignorable = False

    def parse(self, data: bytes) -> RtfContent:
        position = 0
        end = len(data)
        while position < end:
            match = TOKEN.match(data, position)
            if match is None:
                position += 1  # a lone backslash or a broken \' escape
                continue
            position = match.end()
            word, parameter, hex_byte, symbol, brace, text = match.groups()
            if word is not None:
                name = word.decode("ascii")
                number = int(parameter) if parameter else None
                if name == "bin" and number:
                    count = max(0, min(number, end - position))
                    self._binary(data[position : position + count])
                    position += count
                    continue
                self._control_word(name, number)
            elif hex_byte is not None:
                self._bytes(bytes.fromhex(hex_byte.decode("ascii")), hex_escape=True)
            elif symbol is not None:
                self._symbol(symbol)
            elif brace is not None:
                self._brace(brace)
            elif text is not None:
                self._bytes(text, hex_escape=False)
            if self.size > self.max_chars:
                break
        self._flush()
        joined = "".join(self.out)
        # \u gives UTF-16 code units: pair the surrogates, replace the unpaired ones.
        text = joined.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        metadata: dict[str, list[str]] = {}
        for key, values in self.metadata.items():
            for value in values:
                value = value.strip().removesuffix(";").strip()  # generator ends with ";"
                if value and value not in metadata.get(key, []):
                    metadata.setdefault(key, []).append(value)
        return RtfContent(text, metadata, self.dates, self.binaries)

    # -- tokens --------------------------------------------------------------------------

    def _brace(self, brace: bytes) -> None:
        self._flush()
        self.skip_chars = 0
        if brace == b"{":
            self.stack.append(self.state)
            self.state = _State(
                self.state.dest,
                self.state.codec,
                self.state.uc,
                self.state.binary,
                self.state.in_object,
            )
            self.group_start = True
            self.ignorable = False
        elif self.stack:
            self.state = self.stack.pop()
            self.group_start = False

    def _symbol(self, symbol: bytes) -> None:
        if symbol == b"*":
            self.ignorable = True
            return
        if self._skipping():
            return
        self.group_start = False
        character = SYMBOLS.get(symbol)
        if character is not None:
            self._emit(character)

    def _control_word(self, name: str, number: int | None) -> None:
        if self.group_start:
            self.group_start = False
            if self._destination(name):
                return
        if name != "u" and self._skipping():
            return
        state = self.state
        if state.dest == "fonttbl":
            self._font_definition(name, number)
            return
        if state.dest == "binary" and state.binary is not None:
            if name in PICTURE_TYPES:
                state.binary.format = PICTURE_TYPES[name]
            return
        if state.dest.startswith("date:"):
            if name in ("yr", "mo", "dy", "hr", "min", "sec") and number is not None:
                self.dates.setdefault(state.dest[5:], {})[name] = number
            return
        if name == "u" and number is not None:
            self._flush()
            self._emit(chr(number + 65536 if number < 0 else number % 65536))
            self.skip_chars = state.uc
        elif name == "uc" and number is not None:
            state.uc = max(0, number)
        elif name == "f" and number is not None:
            self._flush()
            state.codec = self._font_codec(number)
        elif name == "plain":
            self._flush()
            state.codec = self._font_codec(self.default_font)
        elif name == "ansicpg" and number is not None:
            self.ansi_codec = _codec(f"cp{number}", self.ansi_codec)
            state.codec = self.ansi_codec
        elif name in ("mac", "pc", "pca"):
            self.ansi_codec = {"mac": "mac_roman", "pc": "cp437", "pca": "cp850"}[name]
            state.codec = self.ansi_codec
        elif name == "deff" and number is not None:
            self.default_font = number
        elif name == "row":
            self._flush()
            if self.out and self.out[-1] == "\t":
                self.out.pop()
            self._emit("\n")
        elif name in CHARACTERS:
            self._emit(CHARACTERS[name])

    def _destination(self, name: str) -> bool:
        """Handle a group's first control word; True when it named a destination."""
        parent = self.state
        ignorable, self.ignorable = self.ignorable, False
        if parent.dest == "skip":
            return name in SKIP or name in TEXT or ignorable
        if name == "fonttbl":
            parent.dest = "fonttbl"
        elif name == "info":
            parent.dest = "info"
        elif parent.dest == "info" and name in META_FIELDS:
            self._start_field(parent, name)
        elif parent.dest == "info" and name in DATE_FIELDS:
            parent.dest = f"date:{name}"
        elif name == "generator":
            self._start_field(parent, name)
        elif name == "object":
            parent.dest = "object"
            parent.in_object = True
        elif name == "objclass" and parent.in_object:
            self._start_field(parent, name)
        elif name == "objdata" and parent.in_object:
            class_name = "".join(self.metadata.pop("objclass", [])).strip()
            parent.binary = Binary("object", class_name=class_name)
            self.binaries.append(parent.binary)
            parent.dest = "binary"
        elif name == "pict":
            if parent.in_object:  # the object's preview picture: not a file of its own
                parent.dest = "skip"
            else:
                parent.binary = Binary("pict")
                self.binaries.append(parent.binary)
                parent.dest = "binary"
        elif name in TEXT:
            parent.dest = "text"
        elif name in SKIP or ignorable or parent.dest in ("info", "object"):
            parent.dest = "skip"
        else:
            return False
        return True

    def _start_field(self, state: _State, name: str) -> None:
        """A metadata field's group: its text becomes one value (a field may repeat)."""
        state.dest = f"meta:{name}"
        self.metadata.setdefault(name, []).append("")

    def _font_definition(self, name: str, number: int | None) -> None:
        if number is None:
            return
        if name == "f":
            self.defining_font = number
        elif name == "fcharset":
            self.font_charsets[self.defining_font] = number
        elif name == "cpg":
            self.fonts[self.defining_font] = _codec(f"cp{number}", "")

    def _font_codec(self, font: int) -> str:
        codec = self.fonts.get(font)
        if codec:
            return codec
        charset = self.font_charsets.get(font)
        return CHARSETS.get(charset, self.ansi_codec) if charset is not None else self.ansi_codec

    # -- text ----------------------------------------------------------------------------

    def _skipping(self) -> bool:
        """Consume one fallback character after \\uN when one is still due."""
        if self.skip_chars > 0:
            self.skip_chars -= 1
            return True
        return False

    def _bytes(self, data: bytes, *, hex_escape: bool) -> None:
        self.group_start = False
        if self.skip_chars:
            consumed = 1 if hex_escape else min(self.skip_chars, len(data))
            self.skip_chars -= consumed
            data = data[consumed:] if not hex_escape else b""
            if not data:
                return
        state = self.state
        if state.dest == "binary" and state.binary is not None:
            if hex_escape:
                state.binary.raw.append(data)
            else:
                state.binary.hex_digits.append(data)
            return
        if state.dest == "text" or state.dest.startswith("meta:"):
            if self.pending and (
                self.pending_codec != state.codec or self.pending_dest != state.dest
            ):
                self._flush()
            self.pending_codec = state.codec
            self.pending_dest = state.dest
            self.pending.extend(data)

    def _binary(self, data: bytes) -> None:
        if self.state.dest == "binary" and self.state.binary is not None:
            self.state.binary.raw.append(data)

    def _emit(self, text: str) -> None:
        self._flush()
        self._write(text, self.state.dest)

    def _flush(self) -> None:
        if self.pending:
            text = bytes(self.pending).decode(self.pending_codec, errors="replace")
            self.pending.clear()
            self._write(text, self.pending_dest)

    def _write(self, text: str, dest: str) -> None:
        if dest == "text":
            self.out.append(text)
            self.size += len(text)
        elif dest.startswith("meta:"):
            values = self.metadata.setdefault(dest[5:], [""])
            values[-1] += text


def _codec(name: str, fallback: str) -> str:
    try:
        return codecs.lookup(name).name
    except LookupError:
        return fallback
