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

# One pass over each (account, counterparty) stream, both directions in it: for the
# payer's event of a payment, the payments out are its history with this payee and the
# payments in are the payee's payments to the payer (a cycle of two hops).
_STREAM = "OVER (PARTITION BY acct, other ORDER BY okey, side"
_PAIR = [
    (
        "out_so_far",
        f"SUM(1 - side) {_STREAM} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)",
    ),
    ("in_so_far", f"SUM(side) {_STREAM} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"),
    (
        "previous_out",
        f"MAX(CASE WHEN side = 0 THEN ts END) {_STREAM} "
        "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)",
    ),
]
# Read from the payer's event of a payment (``value`` is the amount it paid) or the
# payee's (``value`` is the amount received): the pair's history, and the amount against
# what the account moved in the day before — pass-through in one number.
_EVENT_DERIVED = [
    ("pair_count", "out_so_far"),
    ("pair_since_previous", "coalesce(ts - previous_out, -1)"),
    ("reverse_count", "in_so_far"),
    ("share_in_1d", "value / (1.0 + sum_in_1d)"),
    ("share_out_1d", "value / (1.0 + sum_out_1d)"),
]
EVENT_COLUMNS: tuple[str, ...] = tuple(
    [name for name, _ in ACCOUNT_COLUMNS] + [name for name, _ in _EVENT_DERIVED]
)
PAYER, PAYEE = 0, 1  # the ``side`` of an account event

# Where each feature comes from: (side, event column), or (None, transaction column).
_PLACES: list[tuple[str, int | None, str]] = [(name, None, name) for name, _ in _TRANSACTION]
_PLACES += [
    (f"{label}_{name}", side, name)
    for label, side in (("payer", PAYER), ("payee", PAYEE))
    for name, _ in ACCOUNT_COLUMNS
]
_PLACES += [
    ("pair_count", PAYER, "pair_count"),
    ("pair_since_previous", PAYER, "pair_since_previous"),
    ("reverse_count", PAYER, "reverse_count"),
    ("share_of_payer_in_1d", PAYER, "share_in_1d"),
    ("share_of_payer_out_1d", PAYER, "share_out_1d"),
    ("share_of_payee_in_1d", PAYEE, "share_in_1d"),
]
FEATURES: tuple[str, ...] = tuple(name for name, _, _ in _PLACES)
TRANSACTION_PLACES: tuple[tuple[str, str], ...] = tuple(
    (feature, column) for feature, side, column in _PLACES if side is None
)
EVENT_PLACES: tuple[tuple[str, int, str], ...] = tuple(
    (feature, side, column) for feature, side, column in _PLACES if side is not None
)


def transaction_sql(source: str = "tx") -> str:
    """``rn`` and the features of the payment alone, one row per transaction."""
    shape = ",\n    ".join(
        f"CAST({expression} AS DOUBLE) AS {name}" for name, expression in _TRANSACTION
    )
    return f"SELECT rn,\n    {shape}\nFROM {source}"


def _event_ctes(source: str) -> str:
    """The common table expressions ending in ``account_events``: ``rn``, ``side`` and
    :data:`EVENT_COLUMNS` per account event."""
    account = ",\n        ".join(f"{expression} AS {name}" for name, expression in ACCOUNT_COLUMNS)
    stream = ",\n        ".join(f"{expression} AS {name}" for name, expression in _PAIR)
    derived = ",\n        ".join(
        f"CAST({expression} AS DOUBLE) AS {name}" for name, expression in _EVENT_DERIVED
    )
    return f"""
base AS (SELECT *, ts * {TICKS} + rn AS okey FROM {source}),
events AS (
    SELECT rn, ts, okey, payer AS acct, payee AS other, 0 AS side, amount AS value FROM base
    UNION ALL SELECT rn, ts, okey, payee, payer, 1, amount_received FROM base
),
streams AS (
    SELECT *,
        {stream}
    FROM events
),
windows AS (
    SELECT rn, side, ts, value, out_so_far, in_so_far, previous_out,
        {account}
    FROM (
        SELECT *, CASE WHEN (side = 0 AND out_so_far = 1) OR (side = 1 AND in_so_far = 1)
            THEN 1 ELSE 0 END AS first_contact
        FROM streams
    ) contacts
),
account_events AS (
    SELECT rn, side,
        {", ".join(f"CAST({name} AS DOUBLE) AS {name}" for name, _ in ACCOUNT_COLUMNS)},
        {derived}
    FROM windows
)"""


def event_sql(source: str = "tx") -> str:
    """``rn``, ``side`` and :data:`EVENT_COLUMNS`, one row per account event: two per
    transaction, the payer's (side 0) and the payee's (side 1)."""
    return f"WITH {_event_ctes(source)}\nSELECT * FROM account_events"


def feature_sql(source: str = "tx") -> str:
    """SQL over ``source`` (``finance.transactions`` columns, ``row`` as ``rn``) returning
    ``rn`` and :data:`FEATURES`, one row per transaction: the events of
    :func:`event_sql` joined back to their transaction."""
    columns = ",\n    ".join(f"t.{column} AS {feature}" for feature, column in TRANSACTION_PLACES)
    sided = ",\n    ".join(
        f"{'po' if side == PAYER else 'pi'}.{column} AS {feature}"
        for feature, side, column in EVENT_PLACES
    )
    return f"""
WITH {_event_ctes(source)},
t AS ({transaction_sql(source)})
SELECT t.rn,
    {columns},
    {sided}
FROM t
JOIN account_events po ON po.rn = t.rn AND po.side = {PAYER}
JOIN account_events pi ON pi.rn = t.rn AND pi.side = {PAYEE}
"""
