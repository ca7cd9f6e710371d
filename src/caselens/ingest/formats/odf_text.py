"""Text of ODF content (``office:body``): text documents, spreadsheets, presentations.

Paragraphs and headings one a line (``text:s`` spaces, tabs and line breaks kept); notes,
comments and text frames follow the paragraph that anchors them; table cells are
tab-separated, one row a line; repeated rows and cells are expanded, except the trailing
empty ones that spreadsheets repeat to the sheet's end.
"""

from __future__ import annotations

from caselens.ingest.formats.officemeta import ElementType, attribute, local
from caselens.ingest.sink import Sink

# Not displayed text: tracked deletions, declarations, forms, the note's number.
_SKIP = frozenset(
    {
        "tracked-changes",
        "sequence-decls",
        "variable-decls",
        "user-field-decls",
        "dde-connection-decls",
        "forms",
        "note-citation",
        "table-columns",
        "table-column",
        "named-expressions",
        "database-ranges",
        "scripts",
        "event-listeners",
        "settings",
        "notes",  # presentation notes: read separately, after the slide
    }
)
# Anchored in a paragraph but shown apart from it: their paragraphs follow it.
_NESTED = frozenset(
    {"note", "annotation", "frame", "custom-shape", "rect", "ellipse", "circle", "polygon"}
    | {"polyline", "path", "line", "connector", "caption", "measure", "g", "control"}
)
# svg:title / svg:desc: accessibility labels of shapes, not displayed text.
_SVG = "{urn:oasis:names:tc:opendocument:xmlns:svg-compatible:1.0}"
MAX_REPEAT = 1000  # copies of a repeated row or cell that hold content
MAX_COLUMNS = 16384


def blocks(element: ElementType, lines: list[str]) -> None:
    """Lines of text of the block-level content under ``element``."""
    for child in element:
        name = local(child.tag)
        if name in ("p", "h"):
            _paragraph(child, lines)
        elif name == "table":
            lines.extend(table_rows(child))
        elif name and name not in _SKIP and not child.tag.startswith(_SVG):
            blocks(child, lines)


def text_of(element: ElementType) -> str:
    lines: list[str] = []
    blocks(element, lines)
    return "\n".join(lines).strip("\n")


def _paragraph(paragraph: ElementType, lines: list[str]) -> None:
    parts: list[str] = []
    nested: list[str] = []
    _inline(paragraph, parts, nested)
    lines.append("".join(parts))
    lines.extend(nested)


def _inline(element: ElementType, parts: list[str], nested: list[str]) -> None:
    if element.text:
        parts.append(element.text)
    for child in element:
        name = local(child.tag)
        if name == "s":
            parts.append(" " * _count(attribute(child, "c")))
        elif name == "tab":
            parts.append("\t")
        elif name == "line-break":
            parts.append("\n")
        elif name in _NESTED:
            blocks(child, nested)
        elif name and name not in _SKIP and not child.tag.startswith(_SVG):
            _inline(child, parts, nested)  # span, a, fields, ruby ...
        if child.tail:
            parts.append(child.tail)


def table_rows(table: ElementType, budget: int = 20_000_000) -> list[str]:
    """One line per row, cells tab-separated, repetitions expanded (trailing blanks dropped).

    Expansion stops at ``budget`` characters and at the widest sheet a spreadsheet program
    allows, so a few bytes of "repeat a million times" cannot fill the memory.
    """
    rows: list[str] = []
    size = 0
    for row in _named(table, "table-row"):
        cells: list[str] = []
        pending_cells = 0
        for cell in row:
            if local(cell.tag) not in ("table-cell", "covered-table-cell"):
                continue
            text = _cell_text(cell)
            repeat = _count(attribute(cell, "number-columns-repeated"))
            if not text:
                pending_cells += repeat  # only kept if a later cell has content
                continue
            room = MAX_COLUMNS - len(cells)
            cells.extend([""] * min(pending_cells, room))
            pending_cells = 0
            cells.extend([text] * min(repeat, MAX_REPEAT, MAX_COLUMNS - len(cells)))
        if not cells:
            continue
        line = "\t".join(cells)
        copies = min(_count(attribute(row, "number-rows-repeated")), MAX_REPEAT)
        rows.extend([line] * copies)
        size += (len(line) + 1) * copies
        if size > budget:
            break  # the sink would cut the text here anyway
    return rows


def _named(element: ElementType, name: str) -> list[ElementType]:
    """Rows of a table, also inside header-rows / row-groups, not inside nested tables."""
    found: list[ElementType] = []
    for child in element:
        child_name = local(child.tag)
        if child_name == name:
            found.append(child)
        elif child_name in ("table-header-rows", "table-rows", "table-row-group"):
            found.extend(_named(child, name))
    return found


def _cell_text(cell: ElementType) -> str:
    lines: list[str] = []
    blocks(cell, lines)
    text = " ".join(line for line in lines if line.strip())
    if not text:
        text = attribute(cell, "value") or ""
    return text.replace("\t", " ").replace("\n", " ")


def _count(value: str | None) -> int:
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        return 1


def body_pages(body: ElementType, sink: Sink, headers: str) -> None:
    """Put the text of ``office:body`` into the sink: a page per sheet or slide."""
    content = next((child for child in body if local(child.tag)), None)
    kind = local(content.tag) if content is not None else ""
    if content is None:
        return
    if kind == "spreadsheet":
        sheets = [child for child in content if local(child.tag) == "table"]
        for page, sheet in enumerate(sheets, start=1):
            name = attribute(sheet, "name") or f"Sheet {page}"
            rows = table_rows(sheet, sink.max_text_chars)
            sink.add_text("\n".join([name, *rows]), page=page)
    elif kind in ("presentation", "drawing"):
        slides = [child for child in content if local(child.tag) == "page"]
        for page, slide in enumerate(slides, start=1):
            texts = [text_of(slide)]
            texts.extend(text_of(notes) for notes in slide if local(notes.tag) == "notes")
            sink.add_text("\n\n".join(text for text in texts if text), page=page)
    else:
        text = text_of(content)
        if text:
            sink.add_text(text + "\n\n", page=1)
        if headers:
            sink.add_text(headers + "\n\n", page=1)


def header_footer_text(styles: ElementType | None) -> str:
    """Text of the master pages' headers and footers (``styles.xml``), each once."""
    if styles is None:
        return ""
    seen: list[str] = []
    for element in styles.iter():
        if local(element.tag) in (
            "header",
            "footer",
            "header-left",
            "footer-left",
            "header-first",
            "footer-first",
        ):
            text = text_of(element)
            if text and text not in seen:
                seen.append(text)
    return "\n".join(seen)
