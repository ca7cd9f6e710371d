"""Dormant accounts turning active: silence for months, then a burst of payments — an
account bought or taken over for laundering."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from caselens.finance.detect.base import (
    DAY,
    HOUR,
    Detector,
    Dialect,
    Finding,
    Parameter,
    ParameterValue,
    count_score,
    duration,
)


class Dormant(Detector):
    name = "dormant"
    version = "1"
    title = "Dormant account turning active"
    parameters: ClassVar[Mapping[str, Parameter]] = {
        "dormant_days": Parameter(90, "days without any payment in or out", minimum=1),
        "burst_hours": Parameter(168, "the burst after waking up, hours", minimum=1),
        "min_payments": Parameter(3, "payments in the burst, the waking one included", 1),
        "min_amount": Parameter(0.0, "total of the burst needed"),
    }

    def query(self, values: Mapping[str, ParameterValue], dialect: Dialect) -> str:
        silent = int(values["dormant_days"]) * DAY
        burst = int(values["burst_hours"]) * HOUR
        return f"""
WITH ev AS (
    SELECT payer AS acct, payee AS other, rn, ts, amount FROM tx
    UNION ALL SELECT payee AS acct, payer AS other, rn, ts, amount_received AS amount FROM tx
        WHERE payer <> payee
),
seq AS (
    SELECT acct, rn, ts,
        LAG(ts) OVER (PARTITION BY acct ORDER BY ts, rn) AS prev_ts,
        LAG(rn) OVER (PARTITION BY acct ORDER BY ts, rn) AS prev_rn
    FROM ev
),
wake AS (SELECT acct, rn, ts, prev_ts, prev_rn FROM seq WHERE ts - prev_ts >= {silent}),
member AS (
    SELECT w.acct, w.rn AS wake_rn, w.ts AS wake_ts, w.prev_ts, w.prev_rn, v.rn, v.ts, v.other,
        v.amount
    FROM wake w JOIN ev v ON v.acct = w.acct AND v.ts <= w.ts + {burst}
        AND (v.ts > w.ts OR (v.ts = w.ts AND v.rn >= w.rn))
),
found AS (
    SELECT acct AS anchor,
        array_sort(array_distinct(array_agg(other))) AS accounts,
        array_sort(array_agg(rn)) AS rows,
        MIN(prev_ts) AS window_start, MAX(ts) AS last_ts, COUNT(*) AS tx_count,
        SUM(amount) AS amount, CAST(MIN(wake_ts) - MIN(prev_ts) AS DOUBLE) AS silence,
        MIN(prev_rn) AS prev_rn
    FROM member GROUP BY acct, wake_rn
    HAVING COUNT(*) >= {int(values["min_payments"])}
        AND SUM(amount) >= {float(values["min_amount"])!r}
)
SELECT anchor, accounts, array_append(rows, prev_rn) AS rows, window_start,
    last_ts AS window_end, tx_count, amount, silence / {DAY}.0 AS measure,
    CAST(0 AS DOUBLE) AS second_measure,
    {count_score("silence", str(silent))} AS score
FROM found
"""

    def explain(self, finding: Finding) -> str:
        burst = duration(int(finding.parameters["burst_hours"]) * HOUR)
        return (
            f"{finding.anchor} made or received no payment for {finding.measure:.0f} days "
            f"(at least {finding.parameters['dormant_days']} needed), then "
            f"{finding.tx_count} payments within {burst} of waking, {finding.amount:,.2f} in all"
        )
