"""Tesseract's TSV output turned into page text and a confidence.

The text is laid out as tesseract's own text output does it: words of a line joined by a
space, one line a line, an empty line between paragraphs.
"""

from __future__ import annotations

from dataclasses import dataclass

WORD_LEVEL = "5"
COLUMNS = 12  # level page block par line word left top width height conf text


@dataclass(frozen=True, slots=True)
class Recognised:
    text: str
    confidence: float  # mean word confidence, 0-100; 0 when no word was read
    words: int


def parse_tsv(tsv: str) -> Recognised:
    paragraphs: list[list[list[str]]] = []  # paragraph -> line -> words
    last_paragraph: tuple[str, ...] | None = None
    last_line: tuple[str, ...] | None = None
    confidences: list[float] = []
    for row in tsv.splitlines()[1:]:
        fields = row.split("\t", COLUMNS - 1)
        if len(fields) != COLUMNS or fields[0] != WORD_LEVEL:
            continue
        word = fields[11].strip()
        if not word:
            continue
        paragraph_key = tuple(fields[1:4])
        line_key = tuple(fields[1:5])
        if paragraph_key != last_paragraph:
            paragraphs.append([])
            last_paragraph = paragraph_key
            last_line = None
        if line_key != last_line:
            paragraphs[-1].append([])
            last_line = line_key
        paragraphs[-1][-1].append(word)
        confidence = _number(fields[10])
        if confidence is not None and 0.0 <= confidence <= 100.0:  # -1: none given
            confidences.append(confidence)
    text = "\n\n".join("\n".join(" ".join(words) for words in lines) for lines in paragraphs)
    mean = sum(confidences) / len(confidences) if confidences else 0.0
    return Recognised(text, round(mean, 1), sum(len(line) for p in paragraphs for line in p))


def _number(value: str) -> float | None:
    try:
        return float(value)
    except ValueError:
        return None
