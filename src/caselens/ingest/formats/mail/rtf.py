"""Outlook's compressed RTF bodies (MS-OXRTFCP) and the text inside them.

Outlook often keeps a message body only as compressed RTF, which may wrap the original
HTML (``\\fromhtml1``, MS-OXRTFEX). ``rtf_body_text`` returns readable text either way.
"""

from __future__ import annotations

import re
import struct

from caselens.text.html import html_to_text

# The dictionary every LZFu stream starts from (MS-OXRTFCP 2.1.2.1).
_PREBUFFER = (
    b"{\\rtf1\\ansi\\mac\\deff0\\deftab720{\\fonttbl;}{\\f0\\fnil \\froman \\fswiss \\fmodern "
    b"\\fscript \\fdecor MS Sans SerifSymbolArialTimes New RomanCourier{\\colortbl\\red0\\green0"
    b"\\blue0\r\n\\par \\pard\\plain\\f0\\fs20\\b\\i\\u\\tab\\tx"
)
assert len(_PREBUFFER) == 207
COMPRESSED = 0x75465A4C  # "LZFu"
UNCOMPRESSED = 0x414C454D  # "MELA"
MAX_RTF_BYTES = 64 * 1024 * 1024

_TOKEN = re.compile(
    rb"\\([a-zA-Z]{1,32})(-?\d{1,10})? ?"  # control word with its argument
    rb"|\\'([0-9a-fA-F]{2})"  # a byte in the document's code page
    rb"|\\([^a-zA-Z'])"  # control symbol
    rb"|([{}])|([^\\{}\r\n]+)|[\r\n]+"
)
# Destinations whose content is not text.
_SKIPPED = frozenset(
    b"fonttbl colortbl stylesheet info pict object themedata datastore latentstyles listtable "
    b"listoverridetable rsidtbl generator xmlnstbl mmathPr fldinst header footer headerl "
    b"headerr footerl footerr revtbl filetbl pgdsctbl objdata blipuid".split()
)
_BREAKS = {b"par": "\n", b"line": "\n", b"tab": "\t", b"cell": "\t", b"row": "\n", b"page": "\n"}
_SYMBOLS = {b"~": "\u00a0", b"_": "\u2011", b"\\": "\\", b"{": "{", b"}": "}"}


class RtfError(ValueError):
    pass


def decompress_rtf(data: bytes) -> bytes:
    """The RTF of a PR_RTF_COMPRESSED property; RtfError when it is damaged."""
    if len(data) < 16:
        raise RtfError("compressed RTF header is truncated")
    compressed_size, raw_size, kind, _crc = struct.unpack_from("<IIII", data)
    if kind == UNCOMPRESSED:
        return data[16 : 16 + raw_size]
    if kind != COMPRESSED:
        raise RtfError(f"unknown compressed RTF type {kind:#x}")
    raw_size = min(raw_size, MAX_RTF_BYTES)
    window = bytearray(_PREBUFFER.ljust(4096, b"\0"))
    position = len(_PREBUFFER)
    out = bytearray()
    source = memoryview(data)[16 : 4 + compressed_size]
    index = 0
    while index < len(source) and len(out) < raw_size:
        control = source[index]
        index += 1
        for bit in range(8):
            if index >= len(source):
                break
            if not control >> bit & 1:
                byte = source[index]
                index += 1
                out.append(byte)
                window[position] = byte
                position = (position + 1) & 0xFFF
                continue
            if index + 1 >= len(source):
                raise RtfError("compressed RTF reference is truncated")
            reference = source[index] << 8 | source[index + 1]
            index += 2
            offset, length = reference >> 4, (reference & 0xF) + 2
            if offset == position:
                return bytes(out)  # the end marker
            for step in range(length):
                byte = window[(offset + step) & 0xFFF]
                out.append(byte)
                window[position] = byte
                position = (position + 1) & 0xFFF
    return bytes(out[:raw_size])


def rtf_body_text(rtf: bytes) -> str:
    """Readable text of an RTF body; encapsulated HTML is converted as HTML."""
    from_html = b"\\fromhtml" in rtf[:2048]
    content = _rtf_content(rtf, from_html)
    if from_html:
        try:
            return html_to_text(content)[0]
        except (AssertionError, ValueError):
            pass
    return content.strip()


def _rtf_content(rtf: bytes, from_html: bool) -> str:
    """Text of the RTF, or the encapsulated HTML when ``from_html``."""
    out: list[str] = []
    pending = bytearray()  # \'xx bytes, decoded together in the document's code page
    codepage = "cp1252"
    stack: list[tuple[bool, bool, int]] = []
    skip, html_tag, unicode_skip = False, False, 1
    suppressed = False  # inside \htmlrtf ... \htmlrtf0 (RTF-only content of wrapped HTML)
    to_skip = 0  # characters still to skip after a \uN
    destination_next = False

    def flush() -> None:
        if pending:
            out.append(pending.decode(codepage, "replace"))
            pending.clear()

    def emitting() -> bool:
        return not skip and (not from_html or html_tag or not suppressed)

    for match in _TOKEN.finditer(rtf):
        word, argument, hexbyte, symbol, brace, text = match.groups()
        if brace == b"{":
            stack.append((skip, html_tag, unicode_skip))
            destination_next = False
            continue
        if brace == b"}":
            flush()
            if stack:
                skip, html_tag, unicode_skip = stack.pop()
            continue
        if symbol == b"*":
            destination_next = True
            continue
        if word is not None:
            if destination_next:
                destination_next = False
                if word == b"htmltag" and from_html:
                    html_tag = True
                    continue
                skip = True
                continue
            if word in _SKIPPED:
                skip = True
            elif word == b"ansicpg" and argument:
                codepage = f"cp{int(argument)}"
                try:
                    b"".decode(codepage)
                except LookupError:
                    codepage = "cp1252"
            elif word == b"uc" and argument:
                unicode_skip = max(0, int(argument))
            elif word == b"u" and argument:
                if emitting():
                    flush()
                    out.append(chr(int(argument) % 65536))
                to_skip = unicode_skip
            elif word == b"htmlrtf":
                suppressed = argument != b"0"
            elif word in _BREAKS and emitting():
                flush()
                out.append(_BREAKS[word])
            continue
        if to_skip:
            if hexbyte is not None:
                to_skip -= 1
                continue
            if text is not None:
                text = text[to_skip:]
                to_skip = 0
        if not emitting():
            continue
        if hexbyte is not None:
            pending.append(int(hexbyte, 16))
        elif symbol is not None:
            flush()
            out.append(_SYMBOLS.get(symbol, ""))
        elif text:
            flush()
            out.append(text.decode(codepage, "replace"))
    flush()
    return "".join(out)
