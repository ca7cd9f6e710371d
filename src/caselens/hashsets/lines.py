"""Reading a list file line by line: any size, any encoding, overlong lines reported."""

from __future__ import annotations

import codecs
import io
from collections.abc import Callable, Iterator
from pathlib import Path

MAX_LINE = 64 * 1024  # no hash list has lines this long: longer ones are reported, not kept
UTF16_BOMS = (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)


def text_lines(path: Path) -> Iterator[tuple[int, str | None]]:
    """(line number from 1, text without its line ending), or None for an overlong line.

    UTF-8 is expected; a line that is not UTF-8 is read as Windows-1252 (then Latin-1),
    since older lists carry file names in the encoding of the machine that made them.
    UTF-16 files with a byte-order mark (as Windows tools write them) are read too.
    """
    with path.open("rb") as raw:
        utf16 = raw.read(2) in UTF16_BOMS
        raw.seek(0)
        reader: Callable[[], str | bytes]
        if utf16:
            text = io.TextIOWrapper(raw, encoding="utf-16", errors="replace", newline=None)
            reader = lambda: text.readline(MAX_LINE)  # noqa: E731
        else:
            reader = lambda: raw.readline(MAX_LINE)  # noqa: E731
        number = 0
        while True:
            chunk = reader()
            if not chunk:
                return
            number += 1
            if len(chunk) >= MAX_LINE and not _ends_line(chunk):
                while (rest := reader()) and not _ends_line(rest):
                    pass  # skip to the end of the overlong line
                yield number, None
                continue
            line = chunk if isinstance(chunk, str) else _decode(chunk)
            if number == 1:
                line = line.removeprefix("\ufeff")
            yield number, line.rstrip("\r\n")


def _ends_line(chunk: str | bytes) -> bool:
    if isinstance(chunk, str):
        return chunk.endswith("\n")
    return chunk.endswith(b"\n")


def _decode(data: bytes) -> str:
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1")
