"""Where the words of a query occur in an item: the page and a highlighted snippet.

Built from the item's stored text with the index's own tokenizer, so a highlight is
exactly a match the index made, on either database.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from caselens.search.query import And, Node, Not, Or, Text
from caselens.search.tokens import tokens_with_offsets

SNIPPET_CHARS = 240
LEAD_CHARS = 70  # context shown before the first highlighted word
MAX_PAGES_LISTED = 50
SCAN_BUDGET_CHARS = 4_000_000  # text read per item to list the pages with hits


@dataclass(slots=True)
class Snippet:
    page: int
    text: str
    highlights: list[tuple[int, int]]  # spans of ``text``
    pages: list[int] = field(default_factory=list)  # every page with a hit (first 50)


def body_phrases(node: Node) -> list[Text]:
    """The words a document's text can match: positive terms of the body or any field."""
    if isinstance(node, Text):
        return [node] if node.column in (None, "body") else []
    if isinstance(node, Not):
        return []
    if isinstance(node, And | Or):
        return [phrase for child in node.children for phrase in body_phrases(child)]
    return []


def find_snippet(pages: Iterable[tuple[int, str]], phrases: Sequence[Text]) -> Snippet | None:
    """The first hit's page and its snippet, and the pages with hits, from ``pages``."""
    if not phrases:
        return None
    snippet: Snippet | None = None
    hit_pages: list[int] = []
    scanned = 0
    for page, page_text in pages:
        spans = _hits(page_text, phrases)
        if spans:
            hit_pages.append(page)
            if snippet is None:
                snippet = _cut(page, page_text, spans)
        scanned += len(page_text)
        if len(hit_pages) >= MAX_PAGES_LISTED or (snippet and scanned > SCAN_BUDGET_CHARS):
            break
    if snippet is not None:
        snippet.pages = hit_pages
    return snippet


def _hits(page_text: str, phrases: Sequence[Text]) -> list[tuple[int, int]]:
    tokens = list(tokens_with_offsets(page_text))
    words = [token for token, _, _ in tokens]
    spans = []
    for phrase in phrases:
        size = len(phrase.tokens)
        for index in range(len(words) - size + 1):
            if _phrase_at(words, index, phrase):
                spans.append((tokens[index][1], tokens[index + size - 1][2]))
    return sorted(set(spans))


def _phrase_at(words: list[str], index: int, phrase: Text) -> bool:
    last = len(phrase.tokens) - 1
    for offset, token in enumerate(phrase.tokens):
        word = words[index + offset]
        if offset == last and phrase.prefix:
            if not word.startswith(token):
                return False
        elif word != token:
            return False
    return True


def _cut(page: int, page_text: str, spans: list[tuple[int, int]]) -> Snippet:
    first = spans[0][0]
    start = max(0, first - LEAD_CHARS)
    if start > 0:  # begin at a word
        space = page_text.find(" ", start, first)
        start = space + 1 if space != -1 else start
    end = min(len(page_text), start + SNIPPET_CHARS)
    if end < len(page_text):
        space = page_text.rfind(" ", spans[0][1], end)
        end = space if space != -1 else end
    prefix = "…" if start > 0 else ""
    suffix = "…" if end < len(page_text) else ""
    # Line breaks and runs of spaces are shown as one space; the text is rebuilt piece
    # by piece so the highlight spans stay right.
    text_parts = [prefix]
    highlights = []
    cursor = start
    length = len(prefix)
    for span_start, span_end in spans:
        if span_start < cursor or span_end > end:
            continue
        before = _squeeze(page_text[cursor:span_start])
        text_parts.append(before)
        length += len(before)
        word = _squeeze(page_text[span_start:span_end])
        highlights.append((length, length + len(word)))
        text_parts.append(word)
        length += len(word)
        cursor = span_end
    text_parts.append(_squeeze(page_text[cursor:end]))
    text_parts.append(suffix)
    return Snippet(page, "".join(text_parts), highlights)


def _squeeze(text: str) -> str:
    """Runs of white space as one space (keeping a leading or trailing one)."""
    if not text:
        return text
    inner = " ".join(text.split())
    lead = " " if text[0].isspace() and inner else ""
    trail = " " if text[-1].isspace() and inner else ""
    return lead + inner + trail if inner else " "
