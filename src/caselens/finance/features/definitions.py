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
        # ``side`` breaks the tie of a self-payment's two events, the same on both engines.
        "OVER (PARTITION BY acct ORDER BY okey, side "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
    )
    week = (
        f"OVER (PARTITION BY acct ORDER BY okey "
        f"RANGE BETWEEN {7 * DAY * TICKS} PRECEDING AND CURRENT ROW)"
    )
    columns += [
        ("n_total", f"COUNT(*) {everything}"),
        ("n_out_total", f"SUM(CASE WHEN side = 0 THEN 1 ELSE 0 END) {everything}"),
        # Fan-out and fan-in so far: distinct payees and payers (a merchant pays no one).
        ("n_payees", f"SUM(CASE WHEN side = 0 THEN first_contact ELSE 0 END) {everything}"),
        ("n_payers", f"SUM(CASE WHEN side = 1 THEN first_contact ELSE 0 END) {everything}"),
        ("mean_7d", f"AVG(value) {week}"),
        ("spread_7d", f"coalesce(STDDEV_POP(value) {week}, 0.0)"),
        (
            "since_previous",
            "coalesce(ts - LAG(ts) OVER (PARTITION BY acct ORDER BY okey, side), -1)",
        ),
    ]
    return columns


ACCOUNT_COLUMNS = _account_columns()

_EVER = "ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW"
# Between the two accounts of the transaction, up to and including it.
_PAIR = [
    ("pair_count", f"COUNT(*) OVER (PARTITION BY payer, payee ORDER BY okey {_EVER})"),
    (
        "pair_since_previous",
        "coalesce(ts - LAG(ts) OVER (PARTITION BY payer, payee ORDER BY okey), -1)",
    ),
]
# Payments the other way (payee to payer) before this one: a cycle of two hops.
_REVERSE = (
    "SUM(CASE WHEN reverse = 1 THEN 1 ELSE 0 END) "
    f"OVER (PARTITION BY source, target ORDER BY okey, reverse {_EVER})"
)
# The amount against what the accounts moved in the day before: pass-through in one number.
_RATIOS = [
    ("share_of_payer_in_1d", "base.amount / (1.0 + po.sum_in_1d)"),
    ("share_of_payer_out_1d", "base.amount / (1.0 + po.sum_out_1d)"),
    ("share_of_payee_in_1d", "base.amount_received / (1.0 + pi.sum_in_1d)"),
]

FEATURES: tuple[str, ...] = tuple(
    [name for name, _ in _TRANSACTION]
    + [f"{side}_{name}" for side in ("payer", "payee") for name, _ in ACCOUNT_COLUMNS]
    + [name for name, _ in _PAIR]
    + ["reverse_count"]
    + [name for name, _ in _RATIOS]
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
    pair = ",\n        ".join(f"{expression} AS {name}" for name, expression in _PAIR)
    ratios = ",\n    ".join(f"{expression} AS {name}" for name, expression in _RATIOS)
    return f"""
WITH base AS (SELECT *, ts * {TICKS} + rn AS okey FROM {source}),
events AS (
    SELECT rn, ts, okey, payer AS acct, payee AS other, 0 AS side, amount AS value FROM base
    UNION ALL SELECT rn, ts, okey, payee, payer, 1, amount_received FROM base
),
contacts AS (
    SELECT *, CASE WHEN LAG(okey) OVER (PARTITION BY acct, other, side ORDER BY okey) IS NULL
        THEN 1 ELSE 0 END AS first_contact
    FROM events
),
windows AS (
    SELECT rn, side,
        {account}
    FROM contacts
),
pairs AS (
    SELECT rn,
        {pair}
    FROM base
),
directed AS (
    SELECT rn, okey, payer AS source, payee AS target, 0 AS reverse FROM base
    UNION ALL SELECT rn, okey, payee, payer, 1 FROM base
),
reverses AS (SELECT rn, reverse, {_REVERSE} AS reverse_count FROM directed)
SELECT base.rn,
    {shape},
    {sides},
    {", ".join("pairs." + name for name, _ in _PAIR)},
    reverses.reverse_count,
    {ratios}
FROM base
JOIN windows po ON po.rn = base.rn AND po.side = 0
JOIN windows pi ON pi.rn = base.rn AND pi.side = 1
JOIN pairs ON pairs.rn = base.rn
JOIN reverses ON reverses.rn = base.rn AND reverses.reverse = 0
"""
