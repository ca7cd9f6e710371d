"""Scatter-gather: one account pays several intermediaries, which each pass the money on
to the same destination soon after — a source and a sink joined by parallel mule paths."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from caselens.finance.detect.base import (
    HOUR,
    HUB_LIMIT,
    Detector,
    Dialect,
    Finding,
    Parameter,
    ParameterValue,
    after,
    count_score,
    duration,
    payments,
)


class ScatterGather(Detector):
    name = "scatter_gather"
    version = "1"
    title = "Scatter-gather: parallel paths through intermediaries to one destination"
    parameters: ClassVar[Mapping[str, Parameter]] = {
        "hub_limit": HUB_LIMIT,
        "window_hours": Parameter(72, "longest time from a first leg to its second, hours", 1),
        "min_intermediaries": Parameter(3, "distinct intermediaries needed", minimum=2),
    }

    def query(self, values: Mapping[str, ParameterValue], dialect: Dialect) -> str:
        window = int(values["window_hours"]) * HOUR
        least = int(values["min_intermediaries"])
        return f"""
WITH {payments(int(values["hub_limit"]))},
e AS (SELECT * FROM pay),
leg AS (
    SELECT a.payer AS src, b.payee AS dst, a.payee AS mid, a.rn AS r1, b.rn AS r2,
        a.ts AS t1, b.ts AS t2, a.amount AS a1, b.amount_received AS a2
    FROM e a JOIN e b ON b.payer = a.payee AND {after("b", "a")} AND b.ts <= a.ts + {window}
    WHERE b.payee <> a.payer
),
pair AS (SELECT src, dst FROM leg GROUP BY src, dst HAVING COUNT(DISTINCT mid) >= {least}),
opened AS (
    SELECT leg.*,
        CASE WHEN LAG(leg.t1) OVER (PARTITION BY leg.src, leg.dst ORDER BY leg.t1, leg.r1, leg.r2)
            >= leg.t1 - {window} THEN 0 ELSE 1 END AS opens
    FROM leg JOIN pair ON pair.src = leg.src AND pair.dst = leg.dst
),
episode AS (
    SELECT opened.*, SUM(opens) OVER (PARTITION BY src, dst ORDER BY t1, r1, r2
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS episode
    FROM opened
),
kept AS (
    SELECT src, dst, episode, COUNT(DISTINCT mid) AS mids FROM episode
    GROUP BY src, dst, episode HAVING COUNT(DISTINCT mid) >= {least}
),
member AS (
    SELECT DISTINCT p.src, p.dst, p.episode, p.r1 AS rn, p.t1 AS ts, p.mid AS other,
        p.a1 AS scattered
    FROM episode p JOIN kept k ON k.src = p.src AND k.dst = p.dst AND k.episode = p.episode
    UNION
    SELECT DISTINCT p.src, p.dst, p.episode, p.r2 AS rn, p.t2 AS ts, p.dst AS other,
        0.0 AS scattered
    FROM episode p JOIN kept k ON k.src = p.src AND k.dst = p.dst AND k.episode = p.episode
),
found AS (
    SELECT m.src AS anchor,
        array_sort(array_distinct(array_agg(m.other))) AS accounts,
        array_sort(array_agg(m.rn)) AS rows,
        MIN(m.ts) AS window_start, MAX(m.ts) AS window_end, COUNT(*) AS tx_count,
        SUM(m.scattered) AS amount, CAST(MAX(k.mids) AS DOUBLE) AS measure,
        CAST(0 AS DOUBLE) AS second_measure
    FROM member m JOIN kept k ON k.src = m.src AND k.dst = m.dst AND k.episode = m.episode
    GROUP BY m.src, m.dst, m.episode
)
SELECT found.*, {count_score("measure", str(least))} AS score FROM found
"""

    def explain(self, finding: Finding) -> str:
        window = duration(int(finding.parameters["window_hours"]) * HOUR)
        return (
            f"{finding.anchor} paid {int(finding.measure)} intermediaries that each passed "
            f"money on to the same account within {window} of receiving it (at least "
            f"{finding.parameters['min_intermediaries']} needed): {finding.tx_count} payments, "
            f"{finding.amount:,.2f} scattered"
        )
