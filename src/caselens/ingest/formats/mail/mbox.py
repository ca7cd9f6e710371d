"""MBOX files: split on envelope "From " lines, streaming, each message a child .eml item.

The file is never read whole: each message is streamed from the mbox into the child
store line by line, so a mailbox of any size needs only a line's worth of memory.
``>From `` quoting (mboxrd) is undone, LF, CRLF and bare-CR line endings are all read.
"""

from __future__ import annotations

import re
from typing import BinaryIO, ClassVar

from caselens.ingest.errors import NotMyFormat
from caselens.ingest.registry import Ingestor
from caselens.ingest.sink import Sink
from caselens.ingest.source import Source

CHUNK = 1 << 20
# Envelope line: "From sender date", the date ending in a year (asctime) or a zone.
_ENVELOPE = re.compile(rb"^From \S*[ \t].*(\d{4}|[+-]\d{4}|[A-Z]{3})[ \t]*\r?\n?$")
_QUOTED_FROM = re.compile(rb"^>+From ")


Line = tuple[bytes, bool]  # the bytes, and whether they start a line (not a long line's rest)


class _Lines:
    """Lines of a binary stream, each at most CHUNK bytes (longer lines come in pieces)."""

    def __init__(self, stream: BinaryIO, separator: bytes) -> None:
        self._stream = stream
        self._separator = separator
        self._buffer = b""
        self._eof = False
        self._at_line_start = True
        self.pushed: Line | None = None

    def next(self) -> Line | None:
        if self.pushed is not None:
            line, self.pushed = self.pushed, None
            return line
        while True:
            end = self._buffer.find(self._separator)
            if end >= 0:
                end += len(self._separator)
                piece, self._buffer = self._buffer[:end], self._buffer[end:]
                return self._line(piece, complete=True)
            if len(self._buffer) >= CHUNK or (self._eof and self._buffer):
                piece, self._buffer = self._buffer[:CHUNK], self._buffer[CHUNK:]
                return self._line(piece, complete=False)
            if self._eof:
                return None
            chunk = self._stream.read(CHUNK)
            if not chunk:
                self._eof = True
            self._buffer += chunk

    def _line(self, piece: bytes, complete: bool) -> Line:
        starts_line = self._at_line_start
        self._at_line_start = complete
        return piece, starts_line


def _is_separator(line: Line) -> bool:
    data, starts_line = line
    return starts_line and data.startswith(b"From ") and bool(_ENVELOPE.match(data))


class _MessageStream:
    """The bytes of one message, read from the shared lines up to the next envelope line."""

    def __init__(self, lines: _Lines) -> None:
        self._lines = lines
        self._held_blank: bytes | None = None  # the blank line before "From " is the mbox's
        self._done = False

    def read(self, size: int = -1, /) -> bytes:
        pieces: list[bytes] = []
        length = 0
        while not self._done and (size < 0 or length < size):
            line = self._lines.next()
            if line is None or _is_separator(line):
                self._lines.pushed = line
                self._done = True
                break
            data, starts_line = line
            if starts_line and _QUOTED_FROM.match(data):
                data = data[1:]
            if self._held_blank is not None:
                pieces.append(self._held_blank)
                length += len(self._held_blank)
                self._held_blank = None
            if starts_line and data.strip(b"\r\n") == b"":
                self._held_blank = data
                continue
            pieces.append(data)
            length += len(data)
        return b"".join(pieces)


class MboxIngestor(Ingestor):
    name = "mbox"
    version = "1"
    mime_types: ClassVar[frozenset[str]] = frozenset({"application/mbox"})
    extensions: ClassVar[frozenset[str]] = frozenset({".mbox", ".mbx"})
    # Above the text ingestor (10), which also lists application/mbox as a text fallback.
    base_score = 20

    @classmethod
    def score(cls, source: Source) -> int:
        score = super().score(source)
        if score == cls.base_score and not source.head.startswith(b"From "):
            return cls.base_score - 15  # an .mbox name on other content: a weak claim
        return score

    def ingest(self, source: Source, sink: Sink) -> None:
        with source.open() as stream:
            lines = _Lines(stream, _line_separator(source.head))
            first = lines.next()
            while first is not None and not _is_separator(first):
                if first[0].strip():  # text before the first envelope line
                    sink.warn("text before the first message of the mbox was skipped")
                first = lines.next()
            if first is None:
                raise NotMyFormat("no mbox envelope line (From ...) found")
            sink.set_document("Folder")
            count = 0
            while first is not None:
                count += 1
                envelope = first[0].rstrip(b"\r\n").decode("utf-8", "replace")
                message = _MessageStream(lines)
                sink.add_child(
                    f"message-{count:05d}.eml".encode(),
                    message,
                    content_type="message/rfc822",
                    envelope=envelope,
                )
                first = lines.next()


def _line_separator(head: bytes) -> bytes:
    # Old Mac mailboxes end lines with a bare CR.
    if b"\n" not in head and b"\r" in head:
        return b"\r"
    return b"\n"
