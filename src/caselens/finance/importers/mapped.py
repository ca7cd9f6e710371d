"""Generic CSV or XLSX transactions with a YAML mapping (format name ``csv``).

The mapping (:mod:`~caselens.finance.importers.mapping`) names the columns; the file is
read into text columns (:mod:`~caselens.finance.importers.tabular`) and every check then
runs on whole columns: amounts with the mapping's separators, ISO 4217 currencies, times
in its format and zone (impossible dates and local times that never happened refused).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from caselens.errors import InvalidInput
from caselens.finance.importers.base import Imported
from caselens.finance.importers.checks import refuse_failing
from caselens.finance.importers.mapping import Mapping, load_mapping
from caselens.finance.importers.tabular import TextColumns, read_text_columns
from caselens.finance.importers.times import parse_times
from caselens.finance.importers.values import currency_column, parse_amount_column
from caselens.finance.transactions import COLUMNS, ROW, SCHEMA, ImportReport

FORMAT = "csv"


def read(path: Path, mapping: Path | None = None) -> Imported:
    if mapping is None:
        raise InvalidInput(
            "the csv format needs --mapping: a YAML file naming the payer, payee, amount, "
            "currency and time columns (see docs/examples/transactions-mapping.yaml)"
        )
    rules, record = load_mapping(mapping)
    report = ImportReport(format=FORMAT)
    text = read_text_columns(path, rules, report)
    table = _table(text, rules, report)
    report.rows = table.num_rows
    return Imported(table=table, report=report, source_rows=text.data_rows, options=record)


def _table(text: TextColumns, rules: Mapping, report: ImportReport) -> pa.Table:
    size = len(text.lines)
    columns = text.columns
    nulls = pa.nulls(size, pa.string())

    def column(name: str) -> pa.Array:
        return columns.get(name, nulls)

    def currencies(name: str) -> tuple[pa.Array, np.ndarray]:
        if name in columns:
            return currency_column(columns[name])
        return pa.array([rules.currency] * size, pa.string()), np.zeros(size, dtype=bool)

    def amounts(name: str) -> tuple[pa.Array, np.ndarray, np.ndarray]:
        values, bad = parse_amount_column(
            pc.fill_null(columns[name], ""),
            decimal=rules.decimal,
            thousands=rules.thousands,
            signed=True,
        )
        negative = np.asarray(pc.less(values, 0), dtype=bool) & ~bad
        return values, bad, negative

    amount, amount_bad, amount_negative = amounts("amount")
    currency, currency_bad = currencies("currency")
    received, received_bad, received_negative = (
        amounts("amount_received")
        if "amount_received" in columns
        else (amount, amount_bad, amount_negative)
    )
    currency_received, received_currency_bad = (
        currencies("currency_received")
        if "currency_received" in columns
        else (currency, currency_bad)
    )
    ts, time_bad, ambiguous = parse_times(
        pc.fill_null(columns["time"], ""), rules.time_format, rules.timezone
    )
    if ambiguous.any():
        report.warnings.append(
            f"{int(ambiguous.sum())} times fall in the hour {rules.timezone} clocks repeat "
            "when set back; read as the first of the two"
        )
    payer, payee = column("payer"), column("payee")
    missing = np.asarray(pc.or_(pc.is_null(payer), pc.is_null(payee)), dtype=bool)

    def describe(index: int) -> str:
        return ", ".join(
            f"{name}={value}" for name, array in columns.items() if (value := array[index].as_py())
        )

    keep = refuse_failing(
        report,
        [
            (missing, "missing account"),
            (amount_bad, f"unparseable amount (decimal separator {rules.decimal!r})"),
            (amount_negative, "negative amount: payer and payee give the direction"),
            (received_bad | received_negative, "unparseable or negative amount received"),
            (currency_bad, "unknown ISO 4217 currency"),
            (received_currency_bad, "unknown ISO 4217 currency received"),
            (time_bad, f"impossible or unreadable time (format {rules.time_format!r})"),
        ],
        text.lines,
        describe,
    )
    rows = pa.array(text.rows)
    tx_id = pc.coalesce(column("tx_id"), pc.cast(rows, pa.string()))
    values = {
        ROW: rows,
        "line": pa.array(text.lines),
        "tx_id": tx_id,
        "time": pc.cast(pc.multiply(ts, 1_000_000), pa.timestamp("us", tz="UTC")),
        "ts": ts,
        "payer": payer,
        "payer_bank": column("payer_bank"),
        "payer_name": column("payer_name"),
        "payee": payee,
        "payee_bank": column("payee_bank"),
        "payee_name": column("payee_name"),
        "amount": amount,
        "currency": currency,
        "amount_received": received,
        "currency_received": currency_received,
        "channel": column("channel"),
        "reference": column("reference"),
        "label": pa.nulls(size, pa.int8()),
    }
    table = pa.table([values[name] for name in COLUMNS], names=list(COLUMNS))
    return table.filter(pa.array(keep)).cast(SCHEMA)
