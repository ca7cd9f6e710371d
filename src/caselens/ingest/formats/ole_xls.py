"""Text of Excel 2–2003 workbooks (BIFF2–BIFF8, in an OLE file or as a bare stream) via xlrd.

One page per sheet, in sheet order: the sheet's name on the first line, then one line per
row with the cells separated by tabs, then the cell comments. Dates are converted with
the workbook's date mode (1900 or 1904) to ISO 8601; whole numbers lose their ".0".
"""

from __future__ import annotations

import datetime
import io
import struct
from collections.abc import Iterator

import xlrd  # type: ignore[import-untyped]

from caselens.ingest.errors import BrokenFile

ENCRYPTED_MESSAGE = "Workbook is encrypted"
# What xlrd raises on damaged input besides its own XLRDError.
XLRD_FAILURES = (
    xlrd.XLRDError,
    xlrd.compdoc.CompDocError,
    AssertionError,
    IndexError,
    KeyError,
    ValueError,
    TypeError,
    OverflowError,
    UnicodeDecodeError,
    ArithmeticError,
    EOFError,
    OSError,
    struct.error,
    RecursionError,
    AttributeError,
)


class WorkbookEncrypted(Exception):
    """xlrd found a FILEPASS record: the workbook needs decrypting first."""


def open_workbook(data: bytes) -> xlrd.book.Book:
    """The workbook, sheets loaded on demand; WorkbookEncrypted or BrokenFile."""
    try:
        return xlrd.open_workbook(
            file_contents=data, on_demand=True, logfile=io.StringIO(), verbosity=0
        )
    except xlrd.XLRDError as err:
        if ENCRYPTED_MESSAGE in str(err):
            raise WorkbookEncrypted(str(err)) from err
        raise BrokenFile(f"the workbook cannot be read: {err}") from err
    except XLRD_FAILURES as err:
        raise BrokenFile(f"the workbook cannot be read: {type(err).__name__}: {err}") from err


def cell_text(cell: xlrd.sheet.Cell, datemode: int) -> str:
    kind = cell.ctype
    value = cell.value
    if kind in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK):
        return ""
    if kind == xlrd.XL_CELL_NUMBER:
        if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
            return str(int(value))
        return repr(value)
    if kind == xlrd.XL_CELL_DATE:
        return _date_text(float(value), datemode)
    if kind == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if value else "FALSE"
    if kind == xlrd.XL_CELL_ERROR:
        return str(xlrd.error_text_from_code.get(value, f"#ERR{value}"))
    return str(value).replace("\t", " ").replace("\r\n", "\n").replace("\n", " ")


def _date_text(value: float, datemode: int) -> str:
    try:
        moment: datetime.datetime = xlrd.xldate.xldate_as_datetime(value, datemode)
    except (xlrd.xldate.XLDateError, ValueError, OverflowError):
        return repr(value)  # not a representable date: keep the stored number
    if value < 1:  # a time of day with no date
        return moment.time().isoformat()
    if moment.hour == moment.minute == moment.second == moment.microsecond == 0:
        return moment.date().isoformat()
    return moment.replace(microsecond=0).isoformat()


def _note_lines(sheet: xlrd.sheet.Sheet) -> list[str]:
    """Cell comments ("notes"), after the rows: "Note B2 (author): text"."""
    lines = []
    for (row, column), note in sorted(sheet.cell_note_map.items()):
        text = str(note.text or "").replace("\r", "\n").strip()
        author = str(note.author or "").strip()
        where = xlrd.cellname(row, column)
        lines.append(f"Note {where} ({author}): {text}" if author else f"Note {where}: {text}")
    return lines


def sheet_pages(book: xlrd.book.Book) -> Iterator[tuple[str, str]]:
    """(sheet name, page text) per sheet; BrokenFile when a sheet cannot be read."""
    for index in range(book.nsheets):
        try:
            sheet = book.sheet_by_index(index)
            lines = [sheet.name]
            for row in range(sheet.nrows):
                cells = [cell_text(cell, book.datemode) for cell in sheet.row(row)]
                lines.append("\t".join(cells).rstrip("\t"))
            lines.extend(_note_lines(sheet))
        except XLRD_FAILURES as err:
            raise BrokenFile(f"sheet {index + 1} cannot be read: {err}") from err
        finally:
            book.unload_sheet(index)  # keep one sheet in memory at a time
        yield sheet.name, "\n".join(lines).rstrip("\n")
