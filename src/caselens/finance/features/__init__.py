"""Causal per-transaction risk features, defined once in SQL for DuckDB and Spark.

A transaction's features use only payments up to and including it in (time, file order):
appending later rows never changes them. Windows are frames over one integer key,
``ts * 10**9 + rn`` — seconds, then the file position — so a frame of "the day before"
(``RANGE BETWEEN 86400 * 10**9 PRECEDING AND CURRENT ROW``) never takes in a payment of
the same second that comes later in the file, and reads the same on both engines.

Per transaction: its amount and shape (currency change, bank change, channel, hour), and
for each side (payer, payee) and each window (6 hours, 1 day, 7 days) the account's
payments out and in — how many, how much, the largest — plus, over its history so far, its
number of payments (all and outgoing), its distinct payees and payers (fan-out and fan-in:
a merchant pays no one, a mule pays on), the mean and spread of its amounts over 7 days and
the time since its previous payment. Between the two accounts: how often the payer has
paid this payee, the time since the last such payment, and how often the payee has paid
the payer (a two-hop cycle). And the amount as a share of what the payer received and
paid, and the payee received, in the day before (pass-through in one number).

This is the temporal degree, fan and vertex-statistics part of IBM's Graph Feature
Preprocessor; its longer cycle and scatter-gather counts are left to the typology
detectors. Nothing here measures absolute time or an account's age, which would only
tell a model trained on earlier months that later months are different.
"""

from __future__ import annotations

from caselens.finance.features.definitions import FEATURES, feature_sql

__all__ = ["FEATURES", "feature_sql"]
