"""Pulling only what a trace needs out of a transactions Parquet file, with DuckDB.

A trace never loads the dataset: it asks for its starting payments, then, hop by hop,
for the whole history of the accounts the traced money reached (a lot's place in a FIFO
queue or its share of a balance depends on every earlier payment of that account). Each
pull is one scan of the file's columns joined against the new accounts, so millions of
rows cost a few scans, not a Python loop.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import duckdb

from caselens.errors import InvalidInput
from caselens.finance.engines import duckdb_connection
from caselens.finance.trace_ledger import Payment
from caselens.finance.transactions import ROW

# Times are read as microseconds since the epoch: DuckDB hands a TIMESTAMPTZ to Python
# only through pytz, which is not a dependency.
_COLUMNS = (
    f"{ROW}, tx_id, ts, epoch_us(time) AS time_us, payer, payee, amount, currency, "
    "amount_received, currency_received"
)
_NEEDED = {ROW, "tx_id", "ts", "time", "payer", "payee", "amount", "currency"}
_NEEDED |= {"amount_received", "currency_received"}


def _payment(values: tuple[Any, ...]) -> Payment:
    row, tx_id, ts, time_us, payer, payee, amount, currency, received, received_in = values
    return Payment(
        row=int(row),
        tx_id=str(tx_id),
        ts=int(ts),
        time_us=int(time_us),
        payer=str(payer),
        payee=str(payee),
        amount=float(amount),
        currency=str(currency),
        amount_received=float(received),
        currency_received=str(received_in),
    )


class TransactionSource:
    """The payments of one Parquet file in ``caselens.finance.transactions.SCHEMA``."""

    def __init__(self, path: Path, connection: duckdb.DuckDBPyConnection | None = None) -> None:
        self.connection = connection or duckdb_connection()
        try:
            relation = self.connection.read_parquet(str(path))
        except duckdb.Error as err:
            raise InvalidInput(f"cannot read transactions from {path}: {err}") from err
        missing = _NEEDED - set(relation.columns)
        if missing:
            raise InvalidInput(
                f"{path} is not in the transactions layout: no {', '.join(sorted(missing))}"
            )
        relation.create_view("trace_tx", replace=True)
        self.rows_read = 0

    def _fetch(self, sql: str, parameters: list[Any]) -> list[Payment]:
        found = [_payment(values) for values in self.connection.execute(sql, parameters).fetchall()]
        self.rows_read += len(found)
        return found

    def payment(self, row: int) -> Payment | None:
        found = self._fetch(f"SELECT {_COLUMNS} FROM trace_tx WHERE {ROW} = ?", [row])  # noqa: S608
        return found[0] if found else None

    def knows_account(self, account: str) -> bool:
        sql = "SELECT 1 FROM trace_tx WHERE payer = ? OR payee = ? LIMIT 1"
        return self.connection.execute(sql, [account, account]).fetchone() is not None

    def payments_of(
        self,
        account: str,
        *,
        outgoing: bool,
        since: int | None,
        until: int | None,
        min_amount: float,
    ) -> list[Payment]:
        """The account's payments out (or in) inside [since, until], in time order."""
        side = "payer" if outgoing else "payee"
        sql = f"SELECT {_COLUMNS} FROM trace_tx WHERE {side} = ? AND amount >= ?"  # noqa: S608
        parameters: list[Any] = [account, min_amount]
        if since is not None:
            sql += " AND ts >= ?"
            parameters.append(since)
        if until is not None:
            sql += " AND ts <= ?"
            parameters.append(until)
        return self._fetch(sql + f" ORDER BY ts, {ROW}", parameters)

    def histories(self, accounts: Iterable[str], until: int | None) -> dict[str, list[Payment]]:
        """Every payment to or from each account up to ``until``, in (ts, row) order."""
        wanted = sorted(set(accounts))
        histories: dict[str, list[Payment]] = defaultdict(list)
        if not wanted:
            return {}
        for account in wanted:
            histories[account] = []
        # The accounts go in as one list parameter, unnested into a set to join against.
        sql = (
            f"WITH wanted AS (SELECT unnest(?::VARCHAR[]) AS account) SELECT {_COLUMNS} "  # noqa: S608
            "FROM trace_tx WHERE (payer IN (SELECT account FROM wanted) "
            "OR payee IN (SELECT account FROM wanted))"
        )
        parameters: list[Any] = [wanted]
        if until is not None:
            sql += " AND ts <= ?"
            parameters.append(until)
        rows = self._fetch(sql + f" ORDER BY ts, {ROW}", parameters)
        chosen = set(wanted)
        for payment in rows:
            if payment.payer in chosen:
                histories[payment.payer].append(payment)
            if payment.payee in chosen and payment.payee != payment.payer:
                histories[payment.payee].append(payment)
        return dict(histories)
