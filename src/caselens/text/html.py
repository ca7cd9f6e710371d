"""HTML to readable text and document metadata with the standard library's tolerant parser."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

BLOCK_TAGS = frozenset(
    {
        "address",
        "article",
        "aside",
        "blockquote",
        "br",
        "dd",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "footer",
        "form",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "nav",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tr",
        "ul",
    }
)
SKIPPED_TAGS = frozenset({"script", "style", "noscript", "template"})
CELL_TAGS = frozenset({"td", "th"})
# <meta name=...> values kept as document metadata (lower-cased names).
META_NAMES = frozenset({"author", "description", "keywords", "generator", "title"})


@dataclass
class HtmlContent:
    """What an HTML document says: visible text, title, metadata and inline (data:) images."""

    text: str
    title: str | None
    language: str | None = None
    meta: dict[str, list[str]] = field(default_factory=dict)  # author, description, ...
    data_uris: list[str] = field(default_factory=list)  # src of <img src="data:...">


class _TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title_parts: list[str] = []
        self.meta: dict[str, list[str]] = {}
        self.data_uris: list[str] = []
        self.language: str | None = None  # <html lang>
        self.content_language: str | None = None  # <meta http-equiv=content-language>
        self._skip_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("meta", "html", "img"):
            self._note_attributes(tag, dict(attrs))
        if tag in SKIPPED_TAGS:
            self._skip_depth += 1
        elif tag == "title":
            self._in_title = True
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")
        elif tag in CELL_TAGS:
            self.parts.append("\t")

    def _note_attributes(self, tag: str, attributes: dict[str, str | None]) -> None:
        if tag == "html" and self.language is None:
            lang = attributes.get("lang") or attributes.get("xml:lang") or ""
            self.language = lang.strip() or None
        elif tag == "img" and (attributes.get("src") or "").lstrip().startswith("data:"):
            self.data_uris.append((attributes["src"] or "").strip())
        elif tag == "meta":
            name = (attributes.get("name") or "").strip().lower()
            content = " ".join((attributes.get("content") or "").split())
            if (attributes.get("http-equiv") or "").lower() == "content-language":
                self.content_language = self.content_language or content or None
            elif content and name in META_NAMES:
                self.meta.setdefault(name, []).append(content)

    def handle_endtag(self, tag: str) -> None:
        if tag in SKIPPED_TAGS and self._skip_depth:
            self._skip_depth -= 1
        elif tag == "title":
            self._in_title = False
        elif tag in BLOCK_TAGS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if self._skip_depth:
            return
        if self._in_title:
            self.title_parts.append(data)
            return
        self.parts.append(data)


def html_to_text(markup: str) -> tuple[str, str | None]:
    """Return the visible text and the title of an HTML document."""
    content = read_html(markup)
    return content.text, content.title


def read_html(markup: str) -> HtmlContent:
    """Visible text, title, <meta> metadata, language and inline images of an HTML document."""
    collector = _TextCollector()
    collector.feed(markup)
    collector.close()
    text = "".join(collector.parts)
    text = re.sub(r"[ \r\f\v]+", " ", text)
    text = re.sub(r"[ \t]*\n[ \t]*", "\n", text)
    text = re.sub(r" ?\t[ \t]*", "\t", text)
    text = re.sub(r"\n{3,}", "\n\n", text).strip()
    title = " ".join("".join(collector.title_parts).split()) or None
    language = collector.language or collector.content_language
    return HtmlContent(text, title, language, collector.meta, collector.data_uris)
