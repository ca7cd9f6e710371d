"""Text of a WordprocessingML (DOCX/DOCM/DOTX) package.

Order: body (paragraphs and tables as they come; table cells tab-separated, one row a line;
text boxes after the paragraph that anchors them), then headers, footers, footnotes,
endnotes and comments, each block separated by a blank line.

All of it is page 1: a DOCX stores no page layout. ``w:lastRenderedPageBreak`` is only where
the last program that saved the file happened to break pages, and explicit page breaks are a
small part of the real breaks, so neither gives page numbers fit to cite.
"""

from __future__ import annotations

from caselens.ingest.formats.officemeta import ElementType, local, node_text
from caselens.ingest.formats.ooxml_package import OoxmlPackage

# Elements whose content is not displayed text: deleted and moved-away revisions, field
# instructions, properties, and the fallback copy of alternate content (drawn twice otherwise).
_SKIP = frozenset(
    {
        "del",
        "moveFrom",
        "delText",
        "instrText",
        "delInstrText",
        "rPr",
        "pPr",
        "sectPr",
        "tblPr",
        "trPr",
        "tcPr",
        "tblGrid",
        "Fallback",
        "footnoteReference",
        "endnoteReference",
        "commentReference",
        "annotationRef",
    }
)
_NOTE_SEPARATORS = frozenset({"separator", "continuationSeparator", "continuationNotice"})
_SECONDARY_PARTS = ("header", "footer", "footnotes", "endnotes", "comments")


def word_text(package: OoxmlPackage, main_part: str, root: ElementType) -> list[str]:
    """The blocks of text of the document, body first."""
    blocks = [_block_text(root)]
    relationships = package.relationships(main_part)
    for kind in _SECONDARY_PARTS:
        seen: set[str] = set()
        for rel in relationships:
            if rel.kind != kind or rel.target in seen:
                continue
            seen.add(rel.target)
            part = package.xml(rel.target)
            if part is None:
                continue
            text = _notes_text(part) if kind in ("footnotes", "endnotes") else _block_text(part)
            if text and text not in blocks:  # first-page/even headers often repeat
                blocks.append(text)
    return [block for block in blocks if block]


def _block_text(element: ElementType) -> str:
    lines: list[str] = []
    _blocks(element, lines)
    return "\n".join(lines).strip("\n")


def _notes_text(root: ElementType) -> str:
    lines: list[str] = []
    for note in root:
        name = local(note.tag)
        kind = next((v for k, v in note.attrib.items() if local(k) == "type"), "normal")
        if name in ("footnote", "endnote") and kind not in _NOTE_SEPARATORS:
            _blocks(note, lines)
    return "\n".join(lines).strip("\n")


def _blocks(element: ElementType, lines: list[str]) -> None:
    for child in element:
        name = local(child.tag)
        if name == "p":
            _paragraph(child, lines)
        elif name == "tbl":
            _table(child, lines)
        elif name and name not in _SKIP:
            _blocks(child, lines)  # sdt, customXml, ins, body ...


def _paragraph(paragraph: ElementType, lines: list[str]) -> None:
    parts: list[str] = []
    nested: list[str] = []
    _runs(paragraph, parts, nested)
    lines.append("".join(parts))
    lines.extend(nested)


def _runs(element: ElementType, parts: list[str], nested: list[str]) -> None:
    for child in element:
        name = local(child.tag)
        if name == "t":
            parts.append(node_text(child))
        elif name == "tab" or name == "ptab":
            parts.append("\t")
        elif name in ("br", "cr"):
            parts.append("\n")
        elif name == "noBreakHyphen":
            parts.append("\u2011")
        elif name == "txbxContent":
            _blocks(child, nested)
        elif name and name not in _SKIP:
            _runs(child, parts, nested)  # r, hyperlink, ins, fldSimple, smartTag, math ...


def _table(table: ElementType, lines: list[str]) -> None:
    for row in _descendants_named(table, "tr", stop="tbl"):
        cells = []
        for cell in _descendants_named(row, "tc", stop="tr"):
            cell_lines: list[str] = []
            _blocks(cell, cell_lines)
            text = " ".join(line for line in cell_lines if line.strip())
            cells.append(text.replace("\t", " ").replace("\n", " "))
        lines.append("\t".join(cells).rstrip("\t"))


def _descendants_named(element: ElementType, name: str, stop: str) -> list[ElementType]:
    """Children called ``name``, also when wrapped (sdt, customXml), not inside ``stop``."""
    found: list[ElementType] = []
    for child in element:
        child_name = local(child.tag)
        if child_name == name:
            found.append(child)
        elif child_name and child_name != stop and child_name not in _SKIP:
            found.extend(_descendants_named(child, name, stop))
    return found
