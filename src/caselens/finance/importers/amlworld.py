"""The IBM AMLworld CSV layout (Altman et al., NeurIPS 2023) into the columnar layout.

``Timestamp, From Bank, Account, To Bank, Account, Amount Received, Receiving Currency,
Amount Paid, Payment Currency, Payment Format, Is Laundering`` (plain or ``.csv.gz``).

pyarrow's parallel CSV reader splits the lines into columns and every check runs on
columns, so millions of rows take seconds. Lines are split on commas without quote
handling: the AMLworld generators never quote, and a quoted field holding a comma shows up
as a line with the wrong number of fields. When any line is blank or has the wrong number
of fields, the file is read again as whole lines, so that each such line is refused with
its line number like any other bad row. A refused row keeps its
``row`` position so that scores line up with the file; blank lines are not data rows.
The ``*_Patterns.txt`` file beside it, when present, gives the labelled attempts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from caselens.errors import InvalidInput
from caselens.finance.importers.amlworld_patterns import patterns_beside, read_patterns
from caselens.finance.importers.base import Imported, LaunderingAttempt
from caselens.finance.importers.checks import refuse_failing
from caselens.finance.importers.times import parse_times
from caselens.finance.importers.values import currency_column, parse_amount_column
from caselens.finance.transactions import COLUMNS, ROW, SCHEMA, ImportReport

FORMAT = "amlworld"
HEADER = (
    "Timestamp",
    "From Bank",
    "Account",
    "To Bank",
    "Account",
    "Amount Received",
    "Receiving Currency",
    "Amount Paid",
    "Payment Currency",
    "Payment Format",
    "Is Laundering",
)
TIME_FORMAT = "%Y/%m/%d %H:%M"

# The currency names the AMLworld generator writes, as ISO 4217 (XBT for bitcoin, the
# code exchanges use; ISO has none). Codes themselves are accepted too.
CURRENCIES = {
    "US Dollar": "USD",
    "Euro": "EUR",
    "UK Pound": "GBP",
    "Yen": "JPY",
    "Yuan": "CNY",
    "Rupee": "INR",
    "Ruble": "RUB",
    "Canadian Dollar": "CAD",
    "Australian Dollar": "AUD",
    "Swiss Franc": "CHF",
    "Mexican Peso": "MXN",
    "Brazil Real": "BRL",
    "Shekel": "ILS",
    "Saudi Riyal": "SAR",
    "Bitcoin": "XBT",
}
# A character no AMLworld line holds, so that pyarrow reads each line as one field.
_NO_DELIMITER = "\x1f"


def read(path: Path, mapping: Path | None = None) -> Imported:
    """The reader of the registry: an AMLworld file and the patterns file beside it."""
    if mapping is not None:
        raise InvalidInput("the amlworld format has a fixed layout and takes no --mapping")
    return read_amlworld(path)


def companions(path: Path) -> tuple[Path, ...]:
    patterns = patterns_beside(path)
    return () if patterns is None else (patterns,)


def read_amlworld(path: Path | str) -> Imported:
    """Read an AMLworld CSV file (``.csv`` or ``.csv.gz``); bad rows go to the report."""
    path = Path(path)
    report = ImportReport(format=FORMAT)
    patterns = patterns_beside(path)
    columns = _read_columns(path)
    if columns is not None:
        # Every line well formed: its fields as columns, its row its position.
        header, fields = columns
        _check_header(header, path)
        count = len(fields[0])
        line_numbers = np.arange(2, count + 2, dtype=np.int64)
        rows = np.arange(count, dtype=np.int64)

        def describe(index: int) -> str:
            return ",".join(str(field[index].as_py()) for field in fields)

        table = _parse_fields(fields, line_numbers, rows, report, describe)
        body = None if patterns is None else pc.binary_join_element_wise(*fields, ",")
    else:
        lines = _read_lines(path)
        if len(lines) == 0:
            raise InvalidInput(f"{path}: empty file, not an AMLworld CSV", path=str(path))
        _check_header(lines[0].as_py() or "", path)
        body = lines.slice(1)
        line_numbers = np.arange(2, len(body) + 2, dtype=np.int64)
        keep = ~np.asarray(pc.equal(pc.utf8_length(body), 0), dtype=bool)
        rows = np.cumsum(keep, dtype=np.int64) - 1
        body, line_numbers, rows = body.filter(pa.array(keep)), line_numbers[keep], rows[keep]
        table = _parse_lines(body, line_numbers, rows, report)
        count = int(keep.sum())
    report.rows = table.num_rows
    companions: tuple[Path, ...] = ()
    attempts: tuple[LaunderingAttempt, ...] = ()
    if patterns is not None and body is not None:
        attempts = read_patterns(patterns, body, rows, report)
        companions = (patterns,)
    return Imported(
        table=table,
        report=report,
        source_rows=count,
        companions=companions,
        attempts=attempts,
    )


def _read_columns(path: Path) -> tuple[str, list[pa.ChunkedArray]] | None:
    """The header line and the eleven fields of every data line as columns, read by
    pyarrow's parallel CSV reader; None when any line is blank or has another number of
    fields (or the file is not readable so), for :func:`_read_lines` to say which."""
    compression = "gzip" if _is_gzip(path) else None
    malformed: list[object] = []

    def on_malformed(row: object) -> str:
        malformed.append(row)
        return "skip"

    names = [f"f{position}" for position in range(len(HEADER))]
    try:
        with pa.input_stream(str(path), compression=compression) as stream:
            # The header is the first line; an AMLworld one is well under 64 KiB.
            header = stream.read(1 << 16).split(b"\n", 1)[0].decode("utf-8").rstrip("\r")
        with pa.input_stream(str(path), compression=compression) as stream:
            table = pacsv.read_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=names, skip_rows=1, block_size=1 << 24),
                parse_options=pacsv.ParseOptions(
                    quote_char=False, ignore_empty_lines=False, invalid_row_handler=on_malformed
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={name: pa.string() for name in names}, strings_can_be_null=False
                ),
            )
    except (pa.ArrowInvalid, OSError, UnicodeDecodeError):
        return None
    if malformed or table.num_rows == 0:
        return None
    fields = [table.column(name) for name in names]  # chunked: copying them costs seconds
    # A blank line reads as a row of empty fields, like a line of ten commas: the line
    # reader tells them apart.
    empty = np.asarray(pc.equal(pc.utf8_length(fields[0]), 0), dtype=bool)
    for field in fields[1:]:
        if not empty.any():
            break
        empty &= np.asarray(pc.equal(pc.utf8_length(field), 0), dtype=bool)
    return None if empty.any() else (header, fields)


def _read_lines(path: Path) -> pa.StringArray:
    compression = "gzip" if _is_gzip(path) else None
    try:
        with pa.input_stream(str(path), compression=compression) as stream:
            table = pacsv.read_csv(
                stream,
                read_options=pacsv.ReadOptions(column_names=["line"], block_size=1 << 24),
                parse_options=pacsv.ParseOptions(
                    delimiter=_NO_DELIMITER, quote_char=False, ignore_empty_lines=False
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types={"line": pa.string()}, strings_can_be_null=False
                ),
            )
    except pa.ArrowInvalid as err:
        if "Empty CSV" in str(err):
            raise InvalidInput(f"{path}: empty file, not an AMLworld CSV", path=str(path)) from err
        raise InvalidInput(f"{path}: cannot be read as text lines: {err}", path=str(path)) from err
    except OSError as err:
        raise InvalidInput(f"{path}: cannot be read as text lines: {err}", path=str(path)) from err
    column = table.column("line").combine_chunks()
    if len(column) and str(column[0]).endswith("\r"):  # Windows line ends
        column = pc.utf8_rtrim(column, characters="\r")
    return column


def _is_gzip(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            return handle.read(2) == b"\x1f\x8b"
    except OSError as err:
        raise InvalidInput(f"{path}: cannot be read: {err.strerror or err}") from err


def _check_header(first_line: str, path: Path) -> None:
    names = tuple(name.strip() for name in first_line.lstrip("\ufeff").split(","))
    if names != HEADER:
        raise InvalidInput(
            f"{path}: not the AMLworld layout; header is {first_line[:200]!r}",
            path=str(path),
            expected=",".join(HEADER),
        )


def _parse_lines(
    body: pa.Array, line_numbers: np.ndarray, rows: np.ndarray, report: ImportReport
) -> pa.Table:
    """Columns from the data lines; refused lines go to ``report``, the rest is returned."""
    fields = pc.split_pattern(body, ",")
    counts = np.asarray(pc.list_value_length(fields), dtype=np.int64)
    right_count = counts == len(HEADER)

    def describe(index: int) -> str:
        return str(body[index].as_py())

    # Lines with the wrong number of fields are refused first: their columns do not exist.
    kept = refuse_failing(
        report, [(~right_count, f"expected {len(HEADER)} fields")], line_numbers, describe
    )
    if not kept.all():
        mask = pa.array(kept)
        body, fields = body.filter(mask), fields.filter(mask)
        line_numbers, rows = line_numbers[kept], rows[kept]
    columns = [pc.list_element(fields, position) for position in range(len(HEADER))]

    def describe_kept(index: int) -> str:
        return str(body[index].as_py())

    return _parse_fields(columns, line_numbers, rows, report, describe_kept)


def _parse_fields(
    fields: Sequence[pa.Array | pa.ChunkedArray],
    line_numbers: np.ndarray,
    rows: np.ndarray,
    report: ImportReport,
    describe: Callable[[int], str],
) -> pa.Table:
    """Columns from the eleven fields of each line; refused lines go to ``report``."""

    def field(position: int) -> pa.Array:
        return pc.utf8_trim_whitespace(fields[position])

    ts, time_bad, _ = parse_times(field(0), TIME_FORMAT)
    paid, paid_bad = parse_amount_column(field(7))
    received, received_bad = parse_amount_column(field(5))
    currency, currency_bad = currency_column(field(8), CURRENCIES)
    currency_received, received_currency_bad = currency_column(field(6), CURRENCIES)
    label_text = field(10)
    label_bad = ~np.asarray(pc.is_in(label_text, pa.array(["0", "1"])), dtype=bool)
    from_account, to_account = field(2), field(4)
    account_bad = np.asarray(
        pc.or_(pc.equal(from_account, ""), pc.equal(to_account, "")), dtype=bool
    )
    keep = refuse_failing(
        report,
        [
            (time_bad, "impossible or unreadable timestamp"),
            (paid_bad, "unparseable Amount Paid"),
            (received_bad, "unparseable Amount Received"),
            (currency_bad, "unknown Payment Currency"),
            (received_currency_bad, "unknown Receiving Currency"),
            (label_bad, "Is Laundering is not 0 or 1"),
            (account_bad, "missing account"),
        ],
        line_numbers,
        describe,
    )
    payer_bank, payee_bank = field(1), field(3)
    nulls = pa.nulls(len(fields[0]), pa.string())
    columns = {
        ROW: pa.array(rows),
        "line": pa.array(line_numbers),
        "tx_id": pc.cast(pa.array(rows), pa.string()),
        "time": pc.cast(pc.multiply(ts, 1_000_000), pa.timestamp("us", tz="UTC")),
        "ts": ts,
        "payer": pc.binary_join_element_wise(payer_bank, from_account, ":"),
        "payer_bank": payer_bank,
        "payer_name": nulls,
        "payee": pc.binary_join_element_wise(payee_bank, to_account, ":"),
        "payee_bank": payee_bank,
        "payee_name": nulls,
        "amount": paid,
        "currency": currency,
        "amount_received": received,
        "currency_received": currency_received,
        "channel": field(9),
        "reference": nulls,
        "label": pc.cast(pc.if_else(pa.array(label_bad), "0", label_text), pa.int8()),
    }
    table = pa.table([columns[name] for name in COLUMNS], names=list(COLUMNS))
    if not keep.all():  # filtering copies every column, even with nothing to drop
        table = table.filter(pa.array(keep))
    return table.cast(SCHEMA)
