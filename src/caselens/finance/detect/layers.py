"""Bipartite and stack (layering): groups of accounts that move money between the same
sets of accounts in the same stretch of time.

*Bipartite*: several sources each pay the very same set of destinations. *Stack*: several
middle accounts are each paid by the same set of accounts and each pay the same set on,
two layers stacked through a third. Accounts with more counterparties than
``hub_limit`` over the dataset (shops, payroll) are left out before sets are compared,
so that buying groceries does not hide a source (see :func:`base.payments`). An
account's payments are taken in bursts (no gap longer than the window); sets are compared per burst.
"""

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
    count_score,
    duration,
    payments,
)


def _bursts(source: str, partition: str, window: int) -> str:
    """CTEs numbering the rows of ``source`` into bursts per ``partition``: a new burst
    when the gap since the account's previous payment exceeds ``window``."""
    return f"""
opened AS (
    SELECT s.*, CASE WHEN LAG(ts) OVER (PARTITION BY {partition} ORDER BY ts, rn)
        >= ts - {window} THEN 0 ELSE 1 END AS opens
    FROM {source} s
),
burst AS (
    SELECT opened.*, SUM(opens) OVER (PARTITION BY {partition} ORDER BY ts, rn
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS burst
    FROM opened
)"""


def _clusters(groups: str, key: str, member: str, window: int) -> str:
    """CTE ``cluster``: rows of ``groups`` with the same ``key`` whose first payments are
    no more than ``window`` apart (chained) share a cluster number."""
    return f"""
grouped AS (
    SELECT g.*, CASE WHEN LAG(t_first) OVER (PARTITION BY {key} ORDER BY t_first, {member})
        >= t_first - {window} THEN 0 ELSE 1 END AS opens2
    FROM {groups} g
),
cluster AS (
    SELECT grouped.*, SUM(opens2) OVER (PARTITION BY {key} ORDER BY t_first, {member}
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS cluster
    FROM grouped
)"""


class Bipartite(Detector):
    name = "bipartite"
    version = "1"
    title = "Bipartite: several sources each pay the same destinations"
    parameters: ClassVar[Mapping[str, Parameter]] = {
        "window_hours": Parameter(72, "longest gap inside a burst, and between sources", 1),
        "min_sources": Parameter(3, "sources paying the same destinations", minimum=2),
        "min_destinations": Parameter(3, "destinations each source pays", minimum=2),
        "hub_limit": HUB_LIMIT,
    }

    def query(self, values: Mapping[str, ParameterValue], dialect: Dialect) -> str:
        window = int(values["window_hours"]) * HOUR
        sources = int(values["min_sources"])
        targets = int(values["min_destinations"])
        return f"""
WITH {payments(int(values["hub_limit"]))},
src AS (SELECT payer AS acct, payee AS other, rn, ts, amount FROM pay),
{_bursts("src", "acct", window)},
sets AS (
    SELECT acct, burst, {dialect.join("array_sort(array_distinct(array_agg(other)))")} AS targets,
        MIN(ts) AS t_first
    FROM burst GROUP BY acct, burst HAVING COUNT(DISTINCT other) >= {targets}
),
{_clusters("sets", "targets", "acct", window)},
kept AS (
    SELECT targets, cluster, COUNT(DISTINCT acct) AS sources FROM cluster
    GROUP BY targets, cluster HAVING COUNT(DISTINCT acct) >= {sources}
),
member AS (
    SELECT c.targets, c.cluster, b.acct, b.other, b.rn, b.ts, b.amount, k.sources
    FROM cluster c JOIN kept k ON k.targets = c.targets AND k.cluster = c.cluster
    JOIN burst b ON b.acct = c.acct AND b.burst = c.burst
),
found AS (
    SELECT MIN(acct) AS anchor,
        array_sort(array_distinct(array_agg(acct))) AS source_accounts,
        array_sort(array_distinct(array_agg(other))) AS target_accounts,
        array_sort(array_agg(rn)) AS rows, MIN(ts) AS window_start, MAX(ts) AS window_end,
        COUNT(*) AS tx_count, SUM(amount) AS amount, CAST(MAX(sources) AS DOUBLE) AS measure,
        CAST(COUNT(DISTINCT other) AS DOUBLE) AS second_measure
    FROM member GROUP BY targets, cluster
)
SELECT anchor, concat(source_accounts, target_accounts) AS accounts, rows, window_start,
    window_end, tx_count, amount, measure, second_measure,
    {count_score("measure", str(sources))} AS score
FROM found
"""

    def explain(self, finding: Finding) -> str:
        window = duration(int(finding.parameters["window_hours"]) * HOUR)
        return (
            f"{int(finding.measure)} accounts each paid the same {int(finding.second_measure)} "
            f"accounts within {window} of each other (at least "
            f"{finding.parameters['min_sources']} sources and "
            f"{finding.parameters['min_destinations']} destinations needed): "
            f"{finding.tx_count} payments, {finding.amount:,.2f} in all"
        )


class Stack(Detector):
    name = "stack"
    version = "1"
    title = "Stack: layers of accounts passing money between the same sets"
    parameters: ClassVar[Mapping[str, Parameter]] = {
        "window_hours": Parameter(168, "longest gap inside a burst, and between accounts", 1),
        "min_width": Parameter(2, "accounts in each of the three layers", minimum=2),
        "hub_limit": HUB_LIMIT,
    }

    def query(self, values: Mapping[str, ParameterValue], dialect: Dialect) -> str:
        window = int(values["window_hours"]) * HOUR
        width = int(values["min_width"])
        inner = "array_sort(array_distinct(array_agg(other) FILTER (WHERE side = '{0}')))"
        return f"""
WITH {payments(int(values["hub_limit"]))},
mid AS (
    SELECT payee AS acct, payer AS other, rn, ts, amount_received AS amount, 'in' AS side FROM pay
    UNION ALL SELECT payer AS acct, payee AS other, rn, ts, 0.0 AS amount, 'out' AS side FROM pay
),
{_bursts("mid", "acct", window)},
sets AS (
    SELECT acct, burst, {dialect.join(inner.format("in"))} AS payers,
        {dialect.join(inner.format("out"))} AS payees, MIN(ts) AS t_first
    FROM burst GROUP BY acct, burst
    HAVING COUNT(DISTINCT other) FILTER (WHERE side = 'in') >= {width}
        AND COUNT(DISTINCT other) FILTER (WHERE side = 'out') >= {width}
        AND MIN(ts) FILTER (WHERE side = 'in') < MAX(ts) FILTER (WHERE side = 'out')
),
keyed AS (SELECT sets.*, concat(payers, chr(30), payees) AS layers FROM sets),
{_clusters("keyed", "layers", "acct", window)},
kept AS (
    SELECT layers, cluster, COUNT(DISTINCT acct) AS middles FROM cluster
    GROUP BY layers, cluster HAVING COUNT(DISTINCT acct) >= {width}
),
member AS (
    SELECT c.layers, c.cluster, b.acct, b.other, b.rn, b.ts, b.amount, k.middles
    FROM cluster c JOIN kept k ON k.layers = c.layers AND k.cluster = c.cluster
    JOIN burst b ON b.acct = c.acct AND b.burst = c.burst
),
found AS (
    SELECT MIN(acct) AS anchor,
        array_sort(array_distinct(array_agg(acct))) AS middle_accounts,
        array_sort(array_distinct(array_agg(other))) AS outer_accounts,
        array_sort(array_distinct(array_agg(rn))) AS rows, MIN(ts) AS window_start,
        MAX(ts) AS window_end, COUNT(DISTINCT rn) AS tx_count, SUM(amount) AS amount,
        CAST(MAX(middles) AS DOUBLE) AS measure,
        CAST(COUNT(DISTINCT other) AS DOUBLE) AS second_measure
    FROM member GROUP BY layers, cluster
)
SELECT anchor, concat(middle_accounts, outer_accounts) AS accounts, rows, window_start,
    window_end, tx_count, amount, measure, second_measure,
    {count_score("measure", str(width))} AS score
FROM found
"""

    def explain(self, finding: Finding) -> str:
        window = duration(int(finding.parameters["window_hours"]) * HOUR)
        return (
            f"{int(finding.measure)} accounts were each paid by the same accounts and each paid "
            f"the same accounts on, within {window} ({int(finding.second_measure)} accounts in "
            f"the outer layers; at least {finding.parameters['min_width']} per layer needed): "
            f"{finding.tx_count} payments, {finding.amount:,.2f} passed through"
        )
