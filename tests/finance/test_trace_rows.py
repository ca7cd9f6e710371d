"""Small transaction files in the canonical layout, written for the tracing tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from caselens.finance.transactions import SCHEMA

START = datetime(2024, 3, 1, 9, 0, tzinfo=UTC)

# (payer, payee, amount, hour) — hand-traced in test_trace_core.py:
#   M already holds 300 from O; pays W 40 before the victim's money arrives;
#   V pays M 100 (row 2, the traced payment); M pays X 250, Y 100, Z 80;
#   Y forwards 100 to Q, Q pays 100 back to V, V pays M 50 (a cycle to the source).
MULE = [
    ("O", "M", 300.0, 0),
    ("M", "W", 40.0, 1),
    ("V", "M", 100.0, 2),
    ("M", "X", 250.0, 3),
    ("M", "Y", 100.0, 4),
    ("M", "Z", 80.0, 5),
    ("Y", "Q", 100.0, 6),
    ("Q", "V", 100.0, 7),
    ("V", "M", 50.0, 8),
]


def write_transactions(
    path: Path,
    payments: list[tuple[str, str, float, float]],
    *,
    received: dict[int, tuple[float, str]] | None = None,
) -> Path:
    """Write ``payments`` (payer, payee, amount in EUR, hours after START) as Parquet;
    ``received`` overrides what the payee of a row got (amount, currency)."""
    received = received or {}
    columns: dict[str, list[object]] = {name: [] for name in SCHEMA.names}
    for row, (payer, payee, amount, hours) in enumerate(payments):
        moment = START + timedelta(hours=hours)
        got, got_in = received.get(row, (amount, "EUR"))
        values = {
            "row": row,
            "line": row + 2,
            "tx_id": f"T{row:04d}",
            "time": moment,
            "ts": int(moment.timestamp()),
            "payer": payer,
            "payer_bank": "BANK",
            "payer_name": None,
            "payee": payee,
            "payee_bank": "BANK",
            "payee_name": None,
            "amount": amount,
            "currency": "EUR",
            "amount_received": got,
            "currency_received": got_in,
            "channel": "Wire",
            "reference": None,
            "label": None,
        }
        for name in SCHEMA.names:
            columns[name].append(values[name])
    pq.write_table(pa.table(columns, schema=SCHEMA), path)
    return path
