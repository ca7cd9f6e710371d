"""Rows of a CSV or XLSX file as text columns, with the line (or sheet row) of each.

CSV is read by Python's ``csv`` module, which handles quoting and line breaks inside
quoted values exactly and tells the line each record starts on; only the mapped columns
are kept. XLSX is read by openpyxl in read-only mode. Typed cells are written as the
mapping says text looks (numbers with its decimal separator, dates in its time format),
so one set of checks reads both.
"""

from __future__ import annotations

import csv
import gzip
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa

from caselens.errors import InvalidInput
from caselens.finance.importers.mapping import Mapping
from caselens.finance.transactions import ImportReport

XLSX_MAGIC = b"PK\x03\x04"
csv.field_size_limit(1 << 24)  # one long remittance field must not stop the import


@dataclass(frozen=True, slots=True)
class TextColumns:
    """The mapped columns of the data rows that have the header's number of fields."""

    columns: dict[str, pa.Array]  # field of the layout -> text (null for empty cells)
    lines: np.ndarray  # line (CSV) or sheet row (XLSX) of each row, 1-based
    rows: np.ndarray  # position of each row among the data rows, refused ones included
    data_rows: int


def read_text_columns(path: Path, mapping: Mapping, report: ImportReport) -> TextColumns:
    with path.open("rb") as handle:
        head = handle.read(4)
    if head == XLSX_MAGIC:
        return _collect(_xlsx_records(path, mapping), mapping, report, path, strict=False)
    return _collect(_csv_records(path, mapping, head), mapping, report, path, strict=True)


def _csv_records(path: Path, mapping: Mapping, head: bytes) -> Iterator[tuple[int, list[str]]]:
    opener: Any = gzip.open if head[:2] == b"\x1f\x8b" else open
    try:
        with opener(path, "rt", encoding=mapping.encoding, newline="") as raw:
            stream: IO[str] = raw
            for _ in range(mapping.skip_rows):
                stream.readline()
            reader = csv.reader(stream, delimiter=mapping.delimiter, quotechar=mapping.quote)
            start = mapping.skip_rows + 1
            for record in reader:
                yield start, record
                start = mapping.skip_rows + reader.line_num + 1
    except UnicodeDecodeError as err:
        raise InvalidInput(
            f"{path}: not text in {mapping.encoding} (byte {err.start}); "
            "set encoding in the mapping"
        ) from err
    except (OSError, csv.Error, LookupError) as err:
        raise InvalidInput(f"{path}: cannot be read as CSV: {err}") from err


def _xlsx_records(path: Path, mapping: Mapping) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook  # only XLSX imports pay for it

    try:
        workbook = load_workbook(path, read_only=True, data_only=True)
    except (OSError, KeyError, ValueError, zipfile.BadZipFile) as err:
        raise InvalidInput(f"{path}: cannot be read as XLSX: {err}") from err
    try:
        if mapping.sheet is not None and mapping.sheet not in workbook.sheetnames:
            raise InvalidInput(
                f"{path}: no sheet {mapping.sheet!r}; sheets: {', '.join(workbook.sheetnames)}"
            )
        sheet = workbook[mapping.sheet] if mapping.sheet else workbook.worksheets[0]
        rows = sheet.iter_rows(min_row=mapping.skip_rows + 1, values_only=True)
        for number, values in enumerate(rows, start=mapping.skip_rows + 1):
            yield number, [_cell_text(value, mapping) for value in values]
    finally:
        workbook.close()


def _cell_text(value: object, mapping: Mapping) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime | date):
        moment = value if isinstance(value, datetime) else datetime.combine(value, time())
        return moment.strftime(mapping.time_format.replace("%z", "").strip())
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return repr(value).replace(".", mapping.decimal)
    return str(value)


def _collect(
    records: Iterator[tuple[int, list[str]]],
    mapping: Mapping,
    report: ImportReport,
    path: Path,
    *,
    strict: bool,
) -> TextColumns:
    """The mapped columns; ``strict``: every row has exactly the header's fields (CSV; a
    spreadsheet leaves empty trailing cells out, so there only mapped cells must exist)."""
    header_line, header = _header(records, path)
    names = [name.strip().lstrip("\ufeff") for name in header]
    wanted = mapping.columns.used()
    missing = sorted(column for column in wanted.values() if column not in names)
    if missing:
        raise InvalidInput(
            f"{path}: no column {', '.join(repr(m) for m in missing)} (header on line "
            f"{header_line}: {', '.join(names)[:300]})"
        )
    positions = {field: names.index(column) for field, column in wanted.items()}
    values: dict[str, list[str | None]] = {field: [] for field in positions}
    lines: list[int] = []
    rows: list[int] = []
    data_rows = 0
    for line, record in records:
        if not any(cell.strip() for cell in record):
            continue  # blank lines (and empty sheet rows) are not data rows
        data_rows += 1
        if (strict and len(record) != len(names)) or not _has_cells(record, positions):
            report.refuse(line, f"expected {len(names)} fields, found {len(record)}")
            continue
        lines.append(line)
        rows.append(data_rows - 1)
        for field, position in positions.items():
            values[field].append(record[position].strip() or None)
    return TextColumns(
        columns={field: pa.array(cells, pa.string()) for field, cells in values.items()},
        lines=np.asarray(lines, dtype=np.int64),
        rows=np.asarray(rows, dtype=np.int64),
        data_rows=data_rows,
    )


def _header(records: Iterator[tuple[int, list[str]]], path: Path) -> tuple[int, list[str]]:
    for line, record in records:
        if any(cell.strip() for cell in record):
            return line, record
    raise InvalidInput(f"{path}: no header row: the file is empty")


def _has_cells(record: list[str], positions: dict[str, int]) -> bool:
    return all(position < len(record) for position in positions.values())
