"""An alert's (or a trace's) payments as FollowTheMoney entities of the case.

Bulk transactions stay in the dataset's Parquet file; what an analyst brings into the
case becomes ``BankAccount`` and ``Payment`` entities there, so that the accounts join
the case's graph (payments are its money edges), its timeline and its cross-case hits.
Entity ids come from the case and a natural key — the account key, or the dataset and
the row — so bringing the same payment twice, or from two alerts, makes one entity.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from followthemoney import model

from caselens.finance.engines import duckdb_connection
from caselens.finance.transactions import ROW
from caselens.identity import entity_id

_COLUMNS = (
    f'"{ROW}", tx_id, epoch_us(time), payer, payer_bank, payer_name, payee, payee_bank, '
    "payee_name, amount, currency, channel, reference"
)


def payment_rows(path: Path, rows: Iterable[int]) -> list[dict[str, Any]]:
    """The dataset's payments with these ``row`` numbers, in time order."""
    wanted = sorted(set(rows))
    connection = duckdb_connection()
    try:
        found = connection.execute(
            f"SELECT {_COLUMNS} FROM read_parquet(?) "  # noqa: S608
            f'WHERE "{ROW}" IN (SELECT unnest(?::BIGINT[])) ORDER BY ts, "{ROW}"',
            [str(path), wanted],
        ).fetchall()
    finally:
        connection.close()
    names = [
        "row", "tx_id", "time_us", "payer", "payer_bank", "payer_name", "payee", "payee_bank",
        "payee_name", "amount", "currency", "channel", "reference",
    ]  # fmt: skip
    return [dict(zip(names, values, strict=True)) for values in found]


def account_entity(case_id: str, key: str, bank: str | None, holder: str | None) -> dict[str, Any]:
    entity = model.make_entity("BankAccount")
    entity.id = entity_id(case_id, "bank-account", key)
    entity.add("name", key)  # how the graph and the analyst name it
    entity.add("accountNumber", key)
    compact = key.replace(" ", "")
    if len(compact) >= 15 and compact[:2].isalpha() and compact[2:4].isdigit():
        entity.add("iban", compact, quiet=True)
    if bank:
        entity.add("bankName", bank)
    if holder:
        entity.add("summary", f"holder named in the transactions: {holder}")
    return entity.to_dict()


def payment_entity(
    case_id: str, dataset_id: str, payment: dict[str, Any], accounts: dict[str, str]
) -> dict[str, Any]:
    entity = model.make_entity("Payment")
    entity.id = entity_id(case_id, "payment", dataset_id, str(payment["row"]))
    entity.add("payerAccount", accounts[payment["payer"]])
    entity.add("beneficiaryAccount", accounts[payment["payee"]])
    entity.add("amount", f"{payment['amount']:.2f}")
    entity.add("currency", payment["currency"], quiet=True)
    moment = datetime.fromtimestamp(payment["time_us"] / 1_000_000, UTC)
    entity.add("date", moment.isoformat(timespec="seconds"))
    entity.add("transactionNumber", payment["tx_id"])
    if payment["reference"]:
        entity.add("purpose", payment["reference"])
    if payment["channel"]:
        entity.add("programme", payment["channel"], quiet=True)
    return entity.to_dict()


def case_entities(
    case_id: str, dataset_id: str, payments: list[dict[str, Any]]
) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(entity, context) for every account and payment among ``payments``."""
    out: list[tuple[dict[str, Any], dict[str, Any]]] = []
    accounts: dict[str, str] = {}
    for payment in payments:
        for side in ("payer", "payee"):
            key = str(payment[side])
            if key not in accounts:
                entity = account_entity(
                    case_id, key, payment[f"{side}_bank"], payment[f"{side}_name"]
                )
                accounts[key] = entity["id"]
                out.append((entity, {"dataset": dataset_id, "account": key}))
    for payment in payments:
        entity = payment_entity(case_id, dataset_id, payment, accounts)
        out.append((entity, {"dataset": dataset_id, "row": payment["row"]}))
    return out
