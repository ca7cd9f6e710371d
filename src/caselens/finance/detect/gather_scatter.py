"""Gather-scatter: an account collects from many payers and soon pays many payees, the
hub of a layering network (fan-in followed by fan-out through one account)."""

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
from caselens.finance.detect.episodes import EpisodeQuery


class GatherScatter(Detector):
    name = "gather_scatter"
    version = "1"
    title = "Gather-scatter: many pay one, which pays many"
    parameters: ClassVar[Mapping[str, Parameter]] = {
        "window_hours": Parameter(72, "incoming and outgoing payments within this, hours", 1),
        "min_payers": Parameter(3, "distinct payers the hub needs in the window", minimum=2),
        "min_payees": Parameter(3, "distinct payees the hub needs in the window", minimum=2),
        "max_counterparties": Parameter(
            50, "windows with more payers or payees are ordinary business", minimum=2
        ),
        "hub_limit": HUB_LIMIT,
    }

    def query(self, values: Mapping[str, ParameterValue], dialect: Dialect) -> str:
        payers, payees = int(values["min_payers"]), int(values["min_payees"])
        most = int(values["max_counterparties"])
        events = (
            "SELECT payee AS hub, payer AS other, rn, ts, amount_received AS amount, "
            "'in' AS side FROM pay "
            "UNION ALL SELECT payer AS hub, payee AS other, rn, ts, amount AS amount, "
            "'out' AS side FROM pay"
        )
        return EpisodeQuery(
            events=events,
            window=int(values["window_hours"]) * HOUR,
            counts={
                "payers": "COUNT(DISTINCT CASE WHEN b.side = 'in' THEN b.other END)",
                "payees": "COUNT(DISTINCT CASE WHEN b.side = 'out' THEN b.other END)",
            },
            # Windows end at an outgoing payment, so money came in before it went out.
            ends="a.side = 'out'",
            fires=(
                f"payers >= {payers} AND payees >= {payees} "
                f"AND payers <= {most} AND payees <= {most}"
            ),
            measure="payers",
            second="payees",
            score=count_score("measure", str(payers)),
            candidates=(
                f"COUNT(DISTINCT CASE WHEN side = 'in' THEN other END) >= {payers} "
                f"AND COUNT(DISTINCT CASE WHEN side = 'out' THEN other END) >= {payees}"
            ),
            prelude=payments(int(values["hub_limit"])),
        ).sql()

    def explain(self, finding: Finding) -> str:
        window = duration(int(finding.parameters["window_hours"]) * HOUR)
        return (
            f"{finding.anchor} was paid by {int(finding.measure)} distinct accounts and paid "
            f"{int(finding.second_measure)} within {window} (at least "
            f"{finding.parameters['min_payers']} payers and "
            f"{finding.parameters['min_payees']} payees needed): "
            f"{finding.tx_count} payments, {finding.amount:,.2f} in all"
        )
