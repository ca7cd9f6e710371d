"""The feature query (see the package docstring for what each feature means)."""

from __future__ import annotations

from caselens.finance.detect.base import DAY, HOUR

TICKS = 1_000_000_000  # order key units per second: ts * TICKS + rn
WINDOWS = {"6h": 6 * HOUR, "1d": DAY, "7d": 7 * DAY}
CHANNELS = ("ACH", "Wire", "Cheque", "Credit Card", "Cash", "Bitcoin", "Reinvestment", "Card")

_TRANSACTION = [
    ("log_amount", "ln(1.0 + amount)"),
    ("log_amount_received", "ln(1.0 + amount_received)"),
    ("currency_changes", "CASE WHEN currency <> currency_received THEN 1 ELSE 0 END"),
    (
        "bank_changes",
        "CASE WHEN coalesce(payer_bank, '') <> coalesce(payee_bank, '') THEN 1 ELSE 0 END",
    ),
    ("self_payment", "CASE WHEN payer = payee THEN 1 ELSE 0 END"),
    ("hour_of_day", f"CAST(floor((ts % {DAY}) / {HOUR}) AS INT)"),
    ("round_amount", "CASE WHEN amount = floor(amount) AND amount % 100 = 0 THEN 1 ELSE 0 END"),
    (
        "channel_code",
        "CASE "
        + " ".join(f"WHEN channel = '{name}' THEN {code}" for code, name in enumerate(CHANNELS))
        + f" ELSE {len(CHANNELS)} END",
    ),
]


def _account_columns() -> list[tuple[str, str]]:
    """(name, window aggregate over the account's events ``v``) for one side."""
    columns: list[tuple[str, str]] = []
    for label, seconds in WINDOWS.items():
        frame = (
            f"OVER (PARTITION BY acct ORDER BY okey "
            f"RANGE BETWEEN {seconds * TICKS} PRECEDING AND CURRENT ROW)"
        )
        for direction, flag in (("out", 0), ("in", 1)):
            columns.append(
                (
                    f"n_{direction}_{label}",
                    f"SUM(CASE WHEN side = {flag} THEN 1 ELSE 0 END) {frame}",
                )
            )
            columns.append(
                (
                    f"sum_{direction}_{label}",
                    f"SUM(CASE WHEN side = {flag} THEN value ELSE 0.0 END) {frame}",
                )
            )
            columns.append(
                (
                    f"max_{direction}_{label}",
                    f"MAX(CASE WHEN side = {flag} THEN value ELSE 0.0 END) {frame}",
                )
            )
    everything = (
        "OVER (PARTITION BY acct ORDER BY okey ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    )
    columns.append(("n_total", f"COUNT(*) {everything}"))
    columns.append(
        (
            "since_previous",
            "coalesce(ts - LAG(ts) OVER (PARTITION BY acct ORDER BY okey), -1)",
        )
    )
    return columns


ACCOUNT_COLUMNS = _account_columns()
FEATURES: tuple[str, ...] = tuple(
    [name for name, _ in _TRANSACTION]
    + [f"{side}_{name}" for side in ("payer", "payee") for name, _ in ACCOUNT_COLUMNS]
)


def feature_sql(source: str = "tx") -> str:
    """SQL over ``source`` (``finance.transactions`` columns, ``row`` as ``rn``) returning
    ``rn`` and :data:`FEATURES`, one row per transaction."""
    account = ",\n        ".join(f"{expression} AS {name}" for name, expression in ACCOUNT_COLUMNS)
    sides = ",\n    ".join(
        f"{alias}.{name} AS {side}_{name}"
        for side, alias in (("payer", "po"), ("payee", "pi"))
        for name, _ in ACCOUNT_COLUMNS
    )
    shape = ",\n    ".join(f"{expression} AS {name}" for name, expression in _TRANSACTION)
    return f"""
WITH base AS (SELECT *, ts * {TICKS} + rn AS okey FROM {source}),
events AS (
    SELECT rn, ts, okey, payer AS acct, 0 AS side, amount AS value FROM base
    UNION ALL SELECT rn, ts, okey, payee AS acct, 1 AS side, amount_received AS value FROM base
),
windows AS (
    SELECT rn, side,
        {account}
    FROM events
)
SELECT base.rn,
    {shape},
    {sides}
FROM base
JOIN windows po ON po.rn = base.rn AND po.side = 0
JOIN windows pi ON pi.rn = base.rn AND pi.side = 1
"""
