"""Text of Word 97–2003 (and Word 6/95) documents, read from the WordDocument stream.

Word 97+ keeps the text in pieces listed by the piece table (the CLX in the table stream,
``0Table`` or ``1Table``); each piece is either 8-bit (cp1252, "compressed") or UTF-16LE.
Word 6/95 files keep 8-bit text between fcMin and fcMac in the document's code page.
Field codes are dropped and their results kept; Word's control characters become tabs,
newlines and page breaks.
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

from caselens.ingest.errors import BrokenFile

WORD97_NFIB = 0x00C1  # Word 97 and later write nFib >= 193; Word 6 is 101, Word 95 104
FIB_BASE_SIZE = 32
PIECE_DESCRIPTOR_SIZE = 8
PAGE_BREAK = "\x0c"
# Main text, footnotes, headers, macros (unused), comments, endnotes, text boxes, header
# text boxes: the order of the stories in the character position space.
STORY_COUNT = 8

# Windows code page from the primary language of a Word 6 document's lid.
_LANGUAGE_CODEPAGES = {
    0x19: "cp1251",  # Russian
    0x22: "cp1251",  # Ukrainian
    0x23: "cp1251",  # Belarusian
    0x02: "cp1251",  # Bulgarian
    0x08: "cp1253",  # Greek
    0x1F: "cp1254",  # Turkish
    0x0D: "cp1255",  # Hebrew
    0x01: "cp1256",  # Arabic
    0x05: "cp1250",  # Czech
    0x15: "cp1250",  # Polish
    0x0E: "cp1250",  # Hungarian
    0x1A: "cp1250",  # Croatian/Serbian
    0x24: "cp1250",  # Slovenian
    0x1B: "cp1250",  # Slovak
    0x18: "cp1250",  # Romanian
    0x25: "cp1257",  # Estonian
    0x26: "cp1257",  # Latvian
    0x27: "cp1257",  # Lithuanian
    0x1E: "cp874",  # Thai
    0x11: "cp932",  # Japanese
    0x12: "cp949",  # Korean
}


@dataclass(frozen=True)
class WordHeader:
    """What the text extraction needs from the File Information Block."""

    nfib: int
    encrypted: bool
    obfuscated: bool
    complex: bool  # fast-saved (Word 6/95: text in pieces)
    table_stream: str
    language_id: int
    fc_min: int
    fc_mac: int
    story_lengths: tuple[int, ...]
    fc_clx: int
    lcb_clx: int

    @property
    def is_word97(self) -> bool:
        return self.nfib >= WORD97_NFIB


def read_header(word: bytes) -> WordHeader:
    """Parse the FIB at the start of the WordDocument stream."""
    if len(word) < FIB_BASE_SIZE:
        raise BrokenFile("WordDocument stream is too short for its header")
    ident, nfib, _, lid, _, flags = struct.unpack_from("<HHHHHH", word, 0)
    if ident not in (0xA5EC, 0xA5DC):
        raise BrokenFile(f"WordDocument stream has an unknown signature 0x{ident:04X}")
    fc_min, fc_mac = struct.unpack_from("<II", word, 0x18)
    common = {
        "nfib": nfib,
        "encrypted": bool(flags & 0x0100),
        "obfuscated": bool(flags & 0x8000),
        "complex": bool(flags & 0x0004),
        "table_stream": "1Table" if flags & 0x0200 else "0Table",
        "language_id": lid,
        "fc_min": fc_min,
        "fc_mac": fc_mac,
    }
    try:
        if nfib >= WORD97_NFIB:
            return WordHeader(**common, **_word97_tables(word))  # type: ignore[arg-type]
        return WordHeader(**common, **_word6_tables(word))  # type: ignore[arg-type]
    except struct.error as err:
        raise BrokenFile(f"WordDocument header is truncated: {err}") from err


def _word97_tables(word: bytes) -> dict[str, object]:
    offset = FIB_BASE_SIZE
    (csw,) = struct.unpack_from("<H", word, offset)
    offset += 2 + csw * 2
    (cslw,) = struct.unpack_from("<H", word, offset)
    rg_lw = offset + 2
    lengths = struct.unpack_from("<11i", word, rg_lw) if cslw >= 11 else (0,) * 11
    offset = rg_lw + cslw * 4
    (cb_rg_fc_lcb,) = struct.unpack_from("<H", word, offset)
    if cb_rg_fc_lcb <= 33:
        raise BrokenFile("WordDocument header has no piece table location")
    fc_clx, lcb_clx = struct.unpack_from("<II", word, offset + 2 + 33 * 8)
    # ccpText, ccpFtn, ccpHdd, ccpMcr, ccpAtn, ccpEdn, ccpTxbx, ccpHdrTxbx: fibRgLw 3..10
    return {
        "story_lengths": tuple(max(0, n) for n in lengths[3:11]),
        "fc_clx": fc_clx,
        "lcb_clx": lcb_clx,
    }


def _word6_tables(word: bytes) -> dict[str, object]:
    lengths = struct.unpack_from("<8i", word, 0x34)
    fc_clx, lcb_clx = struct.unpack_from("<II", word, 0x1A2) if len(word) >= 0x1AA else (0, 0)
    return {
        "story_lengths": tuple(max(0, n) for n in lengths),
        "fc_clx": fc_clx,
        "lcb_clx": lcb_clx,
    }


def word6_codec(header: WordHeader) -> str:
    return _LANGUAGE_CODEPAGES.get(header.language_id & 0x3FF, "cp1252")


def raw_text(header: WordHeader, word: bytes, table: bytes | None) -> tuple[str, str]:
    """(main text, other stories) with control characters kept.

    Stories are cut by character position before decoding: a position counts UTF-16
    code units, and a character outside the BMP is two of them.
    """
    main_length = header.story_lengths[0]
    total = sum(header.story_lengths)
    if header.is_word97:
        if table is None:
            raise BrokenFile(f"the {header.table_stream} stream is missing")
        pieces = _piece_table(table, header.fc_clx, header.lcb_clx)
        return _split(word, pieces, main_length, total, eight_bit="cp1252")
    codec = word6_codec(header)
    if header.complex and header.lcb_clx:
        pieces = _piece_table(word, header.fc_clx, header.lcb_clx, word6=True)
        return _split(word, pieces, main_length, total, eight_bit=codec)
    end = min(header.fc_mac, len(word), header.fc_min + total) if total else header.fc_mac
    if header.fc_min >= len(word) or end <= header.fc_min:
        raise BrokenFile("Word 6/95 text range lies outside the WordDocument stream")
    split = header.fc_min + main_length if main_length else end
    text = word[header.fc_min : end]
    return (
        text[: split - header.fc_min].decode(codec, errors="replace"),
        text[split - header.fc_min :].decode(codec, errors="replace"),
    )


def _split(
    word: bytes, pieces: list[_Piece], main_length: int, total: int, eight_bit: str
) -> tuple[str, str]:
    if not total:  # no story lengths recorded: everything is main text
        return _read_range(word, pieces, 0, pieces[-1].cp_end, eight_bit), ""
    return (
        _read_range(word, pieces, 0, main_length, eight_bit),
        _read_range(word, pieces, main_length, total, eight_bit),
    )


@dataclass(frozen=True)
class _Piece:
    cp_start: int
    cp_end: int
    offset: int
    eight_bit: bool


def _piece_table(data: bytes, fc_clx: int, lcb_clx: int, word6: bool = False) -> list[_Piece]:
    if fc_clx + lcb_clx > len(data) or lcb_clx == 0:
        raise BrokenFile("the piece table lies outside its stream")
    clx = data[fc_clx : fc_clx + lcb_clx]
    position = 0
    # Skip the Prc entries (property modifiers) that precede the Pcdt.
    while position < len(clx) and clx[position] == 0x01:
        if position + 3 > len(clx):
            raise BrokenFile("the piece table is truncated")
        (size,) = struct.unpack_from("<H", clx, position + 1)
        position += 3 + size
    if position + 5 > len(clx) or clx[position] != 0x02:
        raise BrokenFile("the piece table has no piece descriptors")
    (size,) = struct.unpack_from("<I", clx, position + 1)
    plc = clx[position + 5 : position + 5 + size]
    count = (len(plc) - 4) // (4 + PIECE_DESCRIPTOR_SIZE)
    if count <= 0:
        raise BrokenFile("the piece table is empty")
    cps = struct.unpack_from(f"<{count + 1}I", plc, 0)
    pieces = []
    for index in range(count):
        (fc,) = struct.unpack_from("<I", plc, (count + 1) * 4 + index * PIECE_DESCRIPTOR_SIZE + 2)
        if word6:
            pieces.append(_Piece(cps[index], cps[index + 1], fc, True))
        elif fc & 0x40000000:
            pieces.append(_Piece(cps[index], cps[index + 1], (fc & 0x3FFFFFFF) // 2, True))
        else:
            pieces.append(_Piece(cps[index], cps[index + 1], fc, False))
    return pieces


def _read_range(word: bytes, pieces: list[_Piece], start: int, end: int, eight_bit: str) -> str:
    """The characters from position ``start`` to ``end``, across pieces."""
    parts = []
    for piece in pieces:
        first, last = max(start, piece.cp_start), min(end, piece.cp_end)
        if last <= first:
            continue
        width = 1 if piece.eight_bit else 2
        offset = piece.offset + (first - piece.cp_start) * width
        chunk = word[offset : offset + (last - first) * width]
        if len(chunk) < (last - first) * width:
            raise BrokenFile("a text piece lies outside the WordDocument stream")
        parts.append(chunk.decode(eight_bit if piece.eight_bit else "utf-16-le", errors="replace"))
    return "".join(parts)


# Characters dropped from the text: anchors of pictures, drawings, footnote and comment
# marks, optional hyphens, and the remaining C0 controls.
_DROPPED = {chr(c) for c in range(0x20)} - {"\t", "\n", "\x07", "\x0b", "\x0c", "\x0d", "\x0e"}
_BLANK_LINES = re.compile(r"\n{3,}")
_REPLACED = {"\x0b": "\n", "\x0d": "\n", "\x0e": "\n", "\x1e": "-", "\x1f": ""}


def clean_text(raw: str) -> str:
    """Word's stored characters as readable text; field codes dropped, results kept.

    Tables: a cell mark (0x07) becomes a tab and the row mark that follows a row's last
    cell a newline. Page breaks (0x0C) stay, to be split into pages by the caller.
    """
    out: list[str] = []
    # One entry per open field: True once its separator was seen (showing its result).
    fields: list[bool] = []
    previous = ""
    for char in raw:
        if char == "\x13":
            fields.append(False)
        elif char == "\x14":
            if fields:
                fields[-1] = True
        elif char == "\x15":
            if fields:
                fields.pop()
        elif not all(fields):
            pass  # inside a field's code
        elif char == "\x07":
            if previous == "\x07":
                while out and out[-1] == "\t":
                    out.pop()
                out.append("\n")
            else:
                out.append("\t")
        elif char in _REPLACED:
            out.append(_REPLACED[char])
        elif char not in _DROPPED:
            out.append(char)
        if char not in "\x13\x14\x15":
            previous = char
    return "".join(out)


def document_pages(header: WordHeader, word: bytes, table: bytes | None) -> list[str]:
    """The text per page: the main text split at page breaks, other stories after it."""
    main_raw, rest_raw = raw_text(header, word, table)
    main = _BLANK_LINES.sub("\n\n", clean_text(main_raw))
    rest = _BLANK_LINES.sub("\n\n", clean_text(rest_raw).replace(PAGE_BREAK, "\n")).strip()
    pages = [page.strip("\n") for page in main.split(PAGE_BREAK)]
    if rest:
        pages[-1] = f"{pages[-1]}\n\n{rest}" if pages[-1] else rest
    return pages
