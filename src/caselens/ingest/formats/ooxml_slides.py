"""Text of a PresentationML (PPTX/PPTM) deck: one page per slide, in presentation order.

A page holds the slide's text (shapes in stored order, table cells tab-separated, one row a
line), then its comments, then its speaker notes, each block after a blank line. Hidden slides
are included: they are part of the evidence.
"""

from __future__ import annotations

from caselens.ingest.formats.officemeta import ElementType, local, node_text
from caselens.ingest.formats.ooxml_package import OoxmlPackage, relationship_id
from caselens.ingest.sink import Sink

# Placeholders of a notes page that only repeat the slide (its picture, its number...).
_NOTES_BOILERPLATE = frozenset({"sldImg", "sldNum", "hdr", "ftr", "dt"})


def presentation_text(package: OoxmlPackage, main_part: str, root: ElementType, sink: Sink) -> None:
    """Put one page per slide into the sink."""
    targets = {rel.id: rel.target for rel in package.relationships(main_part)}
    slide_ids = [el for el in root.iter() if local(el.tag) == "sldId"]
    for page, slide_id in enumerate(slide_ids, start=1):
        if sink.text_full:
            return
        target = targets.get(relationship_id(slide_id) or "")
        slide = package.xml(target) if target else None
        if target is None or slide is None:
            sink.warn(f"slide {page} has no readable part")
            continue
        blocks = [shape_text(slide)]
        for comments in package.related(target, "comments"):
            blocks.append(_comments_text(package.xml(comments)))
        for notes in package.related(target, "notesSlide"):
            notes_root = package.xml(notes)
            if notes_root is not None:
                blocks.append(shape_text(notes_root, skip=_NOTES_BOILERPLATE))
        sink.add_text("\n\n".join(block for block in blocks if block), page=page)


def shape_text(root: ElementType, skip: frozenset[str] = frozenset()) -> str:
    lines: list[str] = []
    _walk(root, lines, skip)
    return "\n".join(line for line in lines if line.strip())


def _walk(element: ElementType, lines: list[str], skip: frozenset[str]) -> None:
    for child in element:
        name = local(child.tag)
        if name == "txBody":
            lines.extend(_paragraph(p) for p in child if local(p.tag) == "p")
        elif name == "tbl":
            lines.extend(_table(child))
        elif name == "sp" and skip and _placeholder_type(child) in skip:
            continue
        elif name and name != "Fallback":
            _walk(child, lines, skip)


def _paragraph(paragraph: ElementType) -> str:
    parts: list[str] = []
    for element in paragraph.iter():
        name = local(element.tag)
        if name == "t":
            parts.append(node_text(element))
        elif name == "br":
            parts.append("\n")
    return "".join(parts)


def _table(table: ElementType) -> list[str]:
    rows = []
    for row in table:
        if local(row.tag) != "tr":
            continue
        cells = []
        for cell in row:
            if local(cell.tag) == "tc":
                texts = [_paragraph(p) for p in cell.iter() if local(p.tag) == "p"]
                cells.append(" ".join(t for t in texts if t).replace("\n", " "))
        rows.append("\t".join(cells).rstrip("\t"))
    return rows


def _placeholder_type(shape: ElementType) -> str | None:
    for element in shape.iter():
        if local(element.tag) == "ph":
            return element.get("type") or "body"
    return None


def _comments_text(root: ElementType | None) -> str:
    if root is None:
        return ""
    lines = []
    for comment in root.iter():
        if local(comment.tag) in ("cm", "comment"):
            text = next(("".join(el.itertext()) for el in comment if local(el.tag) == "text"), "")
            text = text or "\n".join(_paragraph(p) for p in comment.iter() if local(p.tag) == "p")
            if text.strip():
                lines.append(text.strip())
    return "\n".join(lines)
