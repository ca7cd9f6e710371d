"""A table built one record at a time, for formats read by a parser (MT940, ISO 20022).

Statements and payment messages hold thousands of entries, not millions, and their
parsers give one entry at a time; each is checked here the same way (amount, ISO 4217
currency, accounts) and either kept or refused with its line, keeping its ``row``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

import pyarrow as pa

from caselens.finance.importers.values import amount_problem, is_currency
from caselens.finance.transactions import COLUMNS, ROW, SCHEMA, ImportReport


@dataclass(slots=True)
class Record:
    """One payment as a reader found it; checked by :meth:`TableBuilder.add`."""

    line: int
    time: datetime | None  # aware; None when the source's date was unreadable
    payer: str | None
    payee: str | None
    amount: Decimal | None
    currency: str | None
    tx_id: str | None = None
    payer_bank: str | None = None
    payer_name: str | None = None
    payee_bank: str | None = None
    payee_name: str | None = None
    channel: str | None = None
    reference: str | None = None


class TableBuilder:
    def __init__(self, report: ImportReport) -> None:
        self.report = report
        self.data_rows = 0
        self._kept: dict[str, list[object]] = {name: [] for name in COLUMNS}

    def refuse(self, line: int, reason: str) -> None:
        """A data row that could not even be parsed: it still takes a ``row`` position."""
        self.data_rows += 1
        self.report.refuse(line, reason)

    def add(self, record: Record) -> None:
        row = self.data_rows
        self.data_rows += 1
        problem = _problem(record)
        if problem is not None:
            self.report.refuse(record.line, problem)
            return
        assert record.time is not None and record.amount is not None  # checked above
        amount = float(record.amount)
        values = {
            ROW: row,
            "line": record.line,
            "tx_id": record.tx_id or str(row),
            "time": record.time.astimezone(UTC),
            "ts": int(record.time.timestamp() // 1),
            "payer": record.payer,
            "payer_bank": record.payer_bank,
            "payer_name": record.payer_name,
            "payee": record.payee,
            "payee_bank": record.payee_bank,
            "payee_name": record.payee_name,
            "amount": amount,
            "currency": record.currency,
            "amount_received": amount,
            "currency_received": record.currency,
            "channel": record.channel,
            "reference": record.reference,
            "label": None,
        }
        for name in COLUMNS:
            self._kept[name].append(values[name])

    def table(self) -> pa.Table:
        self.report.rows = len(self._kept[ROW])
        return pa.table({name: self._kept[name] for name in COLUMNS}, schema=SCHEMA)


def _problem(record: Record) -> str | None:
    if record.time is None:
        return "impossible or unreadable date"
    if not record.payer or not record.payee:
        return "missing account"
    if record.currency is None:
        return "no currency given"
    if not is_currency(record.currency):
        return f"unknown ISO 4217 currency {record.currency!r}"
    problem = amount_problem(record.amount)
    if problem is not None:
        return problem
    return None
