"""Temporal cycles: money that leaves an account and comes back to it through other
accounts, each payment after the one before and of about the same amount.

Paths are grown one hop at a time as a chain of joins (Spark SQL has no recursive common
table expression), from every payment as a possible first hop; a cycle is found once,
from its earliest payment, because each later hop must come after the one before.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from caselens.errors import InvalidInput
from caselens.finance.detect.base import (
    HOUR,
    HUB_LIMIT,
    Detector,
    Dialect,
    Finding,
    Parameter,
    ParameterValue,
    after,
    duration,
    payments,
)

MAX_HOPS = 10


class Cycles(Detector):
    name = "cycle"
    version = "1"
    title = "Cycle: money returns to where it started"
    parameters: ClassVar[Mapping[str, Parameter]] = {
        "hub_limit": HUB_LIMIT,
        "max_hops": Parameter(MAX_HOPS, f"longest cycle, payments (2 to {MAX_HOPS})", minimum=2),
        "min_hops": Parameter(
            3, "shortest cycle, payments (2 would count every A->B->A refund)", minimum=2
        ),
        "window_hours": Parameter(168, "longest time from the first payment to the last", 1),
        "tolerance": Parameter(
            0.2, "each payment within this fraction of the amount received before it"
        ),
        "min_amount": Parameter(0.0, "first payments below this amount are not followed"),
    }

    def check(self, values: Mapping[str, ParameterValue]) -> None:
        if int(values["max_hops"]) > MAX_HOPS:
            raise InvalidInput(f"cycle: max_hops is at most {MAX_HOPS}")
        if int(values["min_hops"]) > int(values["max_hops"]):
            raise InvalidInput("cycle: min_hops is above max_hops")

    def query(self, values: Mapping[str, ParameterValue], dialect: Dialect) -> str:
        window = int(values["window_hours"]) * HOUR
        tolerance = float(values["tolerance"])
        hops = int(values["max_hops"])
        steps = [
            f"""p1 AS (
    SELECT rn AS r0, ts AS t0, payer AS origin, payee AS last, ts, rn,
        amount_received AS first_amount, amount_received AS carried, currency_received AS cur,
        {dialect.make_list("payer", "payee")} AS path, {dialect.make_list("rn")} AS rows, 1 AS hops
    FROM e WHERE amount >= {float(values["min_amount"])!r} AND payer IN (SELECT payee FROM e)
)"""
        ]
        for hop in range(2, hops + 1):
            steps.append(
                f"""p{hop} AS (
    SELECT p.r0, p.t0, p.origin, e.payee AS last, e.ts, e.rn, p.first_amount,
        e.amount_received AS carried, e.currency_received AS cur,
        array_append(p.path, e.payee) AS path, array_append(p.rows, e.rn) AS rows,
        p.hops + 1 AS hops
    FROM p{hop - 1} p JOIN e ON e.payer = p.last
        AND {after("e", "p")} AND e.ts <= p.t0 + {window}
        AND e.currency = p.cur
        AND e.amount >= p.carried * {1 - tolerance!r} AND e.amount <= p.carried * {1 + tolerance!r}
    WHERE p.last <> p.origin AND (e.payee = p.origin OR NOT array_contains(p.path, e.payee))
)"""
            )
        closed = " UNION ALL ".join(
            f"SELECT * FROM p{hop} WHERE last = origin"
            for hop in range(int(values["min_hops"]), hops + 1)
        )
        chain = ",\n".join(steps)
        return f"""
WITH {payments(int(values["hub_limit"]))},
e AS (SELECT * FROM pay),
{chain},
closed AS ({closed})
SELECT origin AS anchor, path AS accounts, rows, t0 AS window_start, ts AS window_end,
    CAST(hops AS BIGINT) AS tx_count, first_amount AS amount, CAST(hops AS DOUBLE) AS measure,
    carried AS second_measure,
    0.5 + 0.5 * LEAST(carried / first_amount, 1.0) AS score
FROM closed
"""

    def explain(self, finding: Finding) -> str:
        window = duration(int(finding.parameters["window_hours"]) * HOUR)
        route = " -> ".join((*finding.accounts, finding.anchor))
        return (
            f"{finding.amount:,.2f} left {finding.anchor} and {finding.second_measure:,.2f} "
            f"came back through {int(finding.measure)} payments within {window}, each within "
            f"{float(finding.parameters['tolerance']):.0%} of the one before: {route}"
        )
