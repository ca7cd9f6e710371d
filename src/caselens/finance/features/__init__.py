"""Causal per-transaction risk features, defined once in SQL for DuckDB and Spark.

A transaction's features use only payments up to and including it in (time, file order):
appending later rows never changes them. Windows are frames over one integer key,
``ts * 10**9 + rn`` — seconds, then the file position — so a frame of "the day before"
(``RANGE BETWEEN 86400 * 10**9 PRECEDING AND CURRENT ROW``) never takes in a payment of
the same second that comes later in the file, and reads the same on both engines.

Per transaction: its amount and shape (currency change, bank change, channel, hour), and
for each side (payer, payee) and each window (6 hours, 1 day, 7 days) the account's
payments out and in — how many and how much — plus the time since the account's
previous payment and the account's number of payments so far. This is the temporal
degree and volume part of IBM's Graph Feature Preprocessor; its cycle and scatter-gather
counts are not computed here (the typology detectors find those shapes).
"""

from __future__ import annotations

from caselens.finance.features.definitions import FEATURES, feature_sql

__all__ = ["FEATURES", "feature_sql"]
