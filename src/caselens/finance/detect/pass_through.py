"""Rapid pass-through: an account that receives money and, within hours, sends about the
same amount on to others — in one payment or split over several — as money mules move
stolen funds. A payment in is *passed on* when the payments out that follow it, added up
in time order, reach its amount within the tolerance; those are the payments the alert
names. Passes no more than ``episode_hours`` apart make one alert."""

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


class PassThrough(Detector):
    name = "pass_through"
    version = "2"
    title = "Rapid pass-through: in and out again within hours (mule account)"
    parameters: ClassVar[Mapping[str, Parameter]] = {
        "hub_limit": HUB_LIMIT,
        "hours": Parameter(24, "longest time between receiving and passing on, hours", 1),
        "tolerance": Parameter(0.1, "total passed on within this fraction of amount received"),
        "min_passes": Parameter(2, "payments received and passed on that an episode needs", 1),
        "episode_hours": Parameter(168, "passes at most this far apart are one alert", 1),
        "min_amount": Parameter(0.0, "payments received below this amount are left out"),
    }

    def query(self, values: Mapping[str, ParameterValue], dialect: Dialect) -> str:
        window = int(values["hours"]) * HOUR
        gap = int(values["episode_hours"]) * HOUR
        tolerance = float(values["tolerance"])
        least = int(values["min_passes"])
        return f"""
WITH {payments(int(values["hub_limit"]))},
e AS (SELECT * FROM pay),
onward AS (
    SELECT a.payee AS hub, a.payer AS source, b.payee AS dest, a.rn AS r_in, b.rn AS r_out,
        a.ts AS t_in, b.ts AS t_out, a.amount_received AS a_in,
        SUM(b.amount) OVER (PARTITION BY a.rn ORDER BY b.ts, b.rn
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS so_far,
        ROW_NUMBER() OVER (PARTITION BY a.rn ORDER BY b.ts, b.rn) AS k
    FROM e a JOIN e b ON b.payer = a.payee AND {after("b", "a")} AND b.ts <= a.ts + {window}
    WHERE b.payee <> a.payer AND b.currency = a.currency_received
        AND a.amount_received >= {float(values["min_amount"])!r}
),
reached AS (
    SELECT r_in, MIN(k) AS k FROM onward WHERE so_far >= a_in * {1 - tolerance!r} GROUP BY r_in
),
passed AS (
    SELECT o.r_in, o.k FROM onward o JOIN reached r ON r.r_in = o.r_in AND r.k = o.k
    WHERE o.so_far <= o.a_in * {1 + tolerance!r}
),
pass AS (SELECT o.* FROM onward o JOIN passed p ON p.r_in = o.r_in AND o.k <= p.k),
opened AS (
    SELECT pass.*,
        CASE WHEN LAG(t_in) OVER (PARTITION BY hub ORDER BY t_in, r_in, r_out)
            >= t_in - {gap} THEN 0 ELSE 1 END AS opens
    FROM pass
),
episode AS (
    SELECT opened.*, SUM(opens) OVER (PARTITION BY hub ORDER BY t_in, r_in, r_out
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS episode
    FROM opened
),
kept AS (
    SELECT hub, episode, COUNT(DISTINCT r_in) AS passes, MIN(t_out - t_in) AS fastest
    FROM episode GROUP BY hub, episode HAVING COUNT(DISTINCT r_in) >= {least}
),
member AS (
    SELECT DISTINCT p.hub, p.episode, p.r_in AS rn, p.t_in AS ts, p.source AS other,
        p.a_in AS received
    FROM episode p JOIN kept k ON k.hub = p.hub AND k.episode = p.episode
    UNION
    SELECT DISTINCT p.hub, p.episode, p.r_out AS rn, p.t_out AS ts, p.dest AS other,
        0.0 AS received
    FROM episode p JOIN kept k ON k.hub = p.hub AND k.episode = p.episode
),
found AS (
    SELECT m.hub AS anchor,
        array_sort(array_distinct(array_agg(m.other))) AS accounts,
        array_sort(array_agg(m.rn)) AS rows,
        MIN(m.ts) AS window_start, MAX(m.ts) AS window_end, COUNT(*) AS tx_count,
        SUM(m.received) AS amount, CAST(MAX(k.passes) AS DOUBLE) AS measure,
        CAST(MIN(k.fastest) AS DOUBLE) AS second_measure
    FROM member m JOIN kept k ON k.hub = m.hub AND k.episode = m.episode
    GROUP BY m.hub, m.episode
)
SELECT found.*, {count_score("measure", str(least))} AS score FROM found
"""

    def explain(self, finding: Finding) -> str:
        hours = duration(int(finding.parameters["hours"]) * HOUR)
        fastest = duration(max(int(finding.second_measure) // 60, 1) * 60)
        return (
            f"{finding.anchor} passed on {int(finding.measure)} payments it received "
            f"({finding.amount:,.2f} in all) to other accounts within {hours} of receiving "
            f"it, each time within {float(finding.parameters['tolerance']):.0%} of the amount "
            f"received; the fastest in about {fastest}"
        )
