"""Text of a SpreadsheetML (XLSX/XLSM) workbook: one page per sheet, in workbook order.

Each page starts with the sheet's name on its own line; then one line per non-empty row with
the cells tab-separated (empty cells keep their column). Cells show their stored value:
shared and inline strings, numbers as stored, booleans as TRUE/FALSE, errors as stored, the
cached result of formulas, and numbers with a date or time format as ISO dates/times in the
workbook's date system (1900 or 1904). Cell comments follow the rows as "Comment A1: text".
Worksheets are streamed, so a big sheet never has to fit in memory as a tree.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from caselens.ingest.formats.officemeta import ElementType, attribute, local, node_text
from caselens.ingest.formats.ooxml_package import OoxmlPackage, relationship_id
from caselens.ingest.sink import Sink

# Built-in number formats that show dates or times (ECMA-376 18.8.30 and the CJK ones).
_BUILTIN_DATE = frozenset({14, 15, 16, 17, 22, 27, 28, 29, 30, 31, 34, 35, 36, 50, 51, 52, 53})
_BUILTIN_DATE |= frozenset({54, 57, 58})
_BUILTIN_TIME = frozenset({18, 19, 20, 21, 32, 33, 45, 47, 55, 56})
_QUOTED = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')
_EPOCH_1900 = datetime(1899, 12, 30)
_EPOCH_1904 = datetime(1904, 1, 1)
_MAX_SERIAL = 2958465  # 9999-12-31
_COLUMN = re.compile(r"[A-Za-z]{1,3}")
_MAX_COLUMNS = 16384


def date_kind(format_id: int, code: str | None) -> str | None:
    """ "date", "time", "datetime" or None for a number format (built-in id or its code)."""
    if code is None:
        if format_id in _BUILTIN_DATE:
            return "datetime" if format_id == 22 else "date"
        return "time" if format_id in _BUILTIN_TIME else None
    if code.startswith("[h]") or code.startswith("[mm]") or code.startswith("[ss]"):
        return None  # elapsed durations, not points in time
    bare = _QUOTED.sub("", code.split(";")[0]).lower()
    has_date = "y" in bare or "d" in bare
    has_time = "h" in bare or "s" in bare
    if not has_date and "m" in bare and not has_time:
        has_date = True  # "mmm" alone is a month
    if has_date and has_time:
        return "datetime"
    return "date" if has_date else ("time" if has_time else None)


def serial_to_text(value: str, kind: str, date1904: bool) -> str:
    """An Excel date serial as ISO text; the stored value when it is no valid date."""
    try:
        serial = float(value)
    except ValueError:
        return value
    if serial < 0 or serial > _MAX_SERIAL or (not date1904 and 60 <= serial < 61):
        return value  # negative, beyond 9999, or Lotus's non-existent 1900-02-29
    epoch = _EPOCH_1904 if date1904 else _EPOCH_1900
    if not date1904 and serial < 60:
        serial += 1  # before the fictitious 1900-02-29, serials are one day off
    day = epoch + timedelta(seconds=round(serial * 86400))
    if kind == "date":
        return day.strftime("%Y-%m-%d")
    if kind == "time":
        return day.strftime("%H:%M:%S")
    return day.strftime("%Y-%m-%d %H:%M:%S")


class _Styles:
    """Which cell style indexes (``s``) show dates, and how."""

    def __init__(self, root: ElementType | None) -> None:
        self.kinds: list[str | None] = []
        if root is None:
            return
        codes: dict[int, str] = {}
        for element in root.iter():
            if local(element.tag) == "numFmt":
                number = _int(element.get("numFmtId"))
                if number is not None:
                    codes[number] = element.get("formatCode") or ""
        for group in root:
            if local(group.tag) != "cellXfs":
                continue
            for xf in group:
                format_id = _int(xf.get("numFmtId")) or 0
                self.kinds.append(date_kind(format_id, codes.get(format_id)))

    def kind(self, index: str | None) -> str | None:
        number = _int(index)
        if number is None or not 0 <= number < len(self.kinds):
            return None
        return self.kinds[number]


def workbook_text(package: OoxmlPackage, main_part: str, root: ElementType, sink: Sink) -> None:
    """Put one page per sheet into the sink."""
    date1904 = any(
        local(el.tag) == "workbookPr" and (el.get("date1904") or "").lower() in ("1", "true")
        for el in root
    )
    targets = {rel.id: rel.target for rel in package.relationships(main_part)}
    kinds = {rel.target: rel.kind for rel in package.relationships(main_part)}
    shared = _shared_strings(package, main_part)
    styles = _Styles(_first(package, main_part, "styles"))
    sheets = [el for el in root.iter() if local(el.tag) == "sheet"]
    for page, sheet in enumerate(sheets, start=1):
        if sink.text_full:
            return
        name = sheet.get("name") or f"Sheet {page}"
        target = targets.get(relationship_id(sheet) or "")
        lines = [name]
        if target and kinds.get(target) == "worksheet":
            lines.extend(_rows(package, target, shared, styles, date1904, sink))
            lines.extend(_comments(package, target))
        elif target is None or not package.has(target):
            sink.warn(f"sheet {name!r} has no stored part")
        sink.add_text("\n".join(lines), page=page)


def _first(package: OoxmlPackage, part: str, kind: str) -> ElementType | None:
    for target in package.related(part, kind):
        return package.xml(target)
    return None


def _shared_strings(package: OoxmlPackage, main_part: str) -> list[str]:
    strings: list[str] = []
    for target in package.related(main_part, "sharedStrings"):
        for name, element in package.stream(target):
            if name == "si":
                strings.append(_rich_text(element))
                element.clear()
        break
    return strings


def _rich_text(element: ElementType) -> str:
    """Text of a string item (``si`` / ``is``) without phonetic guides (``rPh``)."""
    parts: list[str] = []
    for child in element:
        name = local(child.tag)
        if name == "t":
            parts.append(node_text(child))
        elif name == "r":
            parts.extend(node_text(t) for t in child if local(t.tag) == "t")
    return "".join(parts)


def _rows(
    package: OoxmlPackage,
    part: str,
    shared: list[str],
    styles: _Styles,
    date1904: bool,
    sink: Sink,
) -> list[str]:
    lines: list[str] = []
    cells: dict[int, str] = {}
    next_column = 0
    size = 0
    for name, element in package.stream(part):
        if name == "c":
            column = _column(element.get("r"), next_column)
            value = _cell_value(element, shared, styles, date1904, sink)
            if value:
                cells[column] = value
            next_column = column + 1
            element.clear()
        elif name == "row":
            if cells:
                row = [""] * (max(cells) + 1)
                for column, value in cells.items():
                    row[column] = value.replace("\t", " ").replace("\n", " ")
                line = "\t".join(row)
                lines.append(line)
                size += len(line) + 1
            cells = {}
            next_column = 0
            element.clear()
            while element.getprevious() is not None:
                del element.getparent()[0]
            if size > sink.max_text_chars:
                break  # the sink cuts the text here anyway
    return lines


def _column(reference: str | None, default: int) -> int:
    if not reference:
        return default
    match = _COLUMN.match(reference)
    if match is None:
        return default
    number = 0
    for letter in match.group().upper():
        number = number * 26 + ord(letter) - 64
    return min(number - 1, _MAX_COLUMNS - 1)


def _cell_value(
    cell: ElementType, shared: list[str], styles: _Styles, date1904: bool, sink: Sink
) -> str:
    kind = cell.get("t") or "n"
    if kind == "inlineStr":
        inline = next((el for el in cell if local(el.tag) == "is"), None)
        return _rich_text(inline) if inline is not None else ""
    value = next((node_text(el) for el in cell if local(el.tag) == "v"), "")
    if not value:
        return ""
    if kind == "s":
        index = _int(value)
        if index is None or not 0 <= index < len(shared):
            sink.warn(f"cell {cell.get('r')} refers to a missing shared string {value}")
            return ""
        return shared[index]
    if kind == "b":
        return "TRUE" if value.strip() == "1" else "FALSE"
    if kind == "n":
        date = styles.kind(cell.get("s"))
        if date is not None:
            return serial_to_text(value, date, date1904)
    return value


def _comments(package: OoxmlPackage, sheet_part: str) -> list[str]:
    lines: list[str] = []
    for target in package.related(sheet_part, "comments"):
        root = package.xml(target)
        if root is None:
            continue
        for comment in root.iter():
            if local(comment.tag) != "comment":
                continue
            text_element = next((el for el in comment if local(el.tag) == "text"), None)
            text = _rich_text(text_element) if text_element is not None else ""
            reference = attribute(comment, "ref") or ""
            if text:
                lines.append(f"Comment {reference}: {text}".replace("\n", " ").strip())
    return lines


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
