"""Fan-in and fan-out: one account paid by (or paying) many distinct accounts in a short
window, the collection and distribution stages of a laundering network.

Payments to and from accounts with more than ``hub_limit`` counterparties (shops,
payroll) are left out (see ``base.payments``), and a window with more counterparties
than ``max_counterparties`` is not counted: that is ordinary business, not a mule.
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
    count_score,
    duration,
    payments,
)
from caselens.finance.detect.episodes import EpisodeQuery

STAR_PARAMETERS: Mapping[str, Parameter] = {
    "window_hours": Parameter(168, "length of the sliding window, hours", minimum=1),
    "min_counterparties": Parameter(5, "distinct counterparties a window needs", minimum=2),
    "max_counterparties": Parameter(
        50, "windows with more counterparties are ordinary business, not counted", minimum=2
    ),
    "min_amount": Parameter(0.0, "payments below this amount are left out"),
    "hub_limit": HUB_LIMIT,
}


class _Star(Detector):
    parameters: ClassVar[Mapping[str, Parameter]] = STAR_PARAMETERS
    incoming: ClassVar[bool]

    def check(self, values: Mapping[str, ParameterValue]) -> None:
        if int(values["max_counterparties"]) < int(values["min_counterparties"]):
            raise InvalidInput(f"{self.name}: max_counterparties is below min_counterparties")

    def query(self, values: Mapping[str, ParameterValue], dialect: Dialect) -> str:
        hub, other = ("payee", "payer") if self.incoming else ("payer", "payee")
        amount = "amount_received" if self.incoming else "amount"
        least = int(values["min_counterparties"])
        events = (
            f"SELECT {hub} AS hub, {other} AS other, rn, ts, {amount} AS amount, "
            f"'{'in' if self.incoming else 'out'}' AS side FROM pay "
            f"WHERE {amount} >= {float(values['min_amount'])!r}"
        )
        return EpisodeQuery(
            events=events,
            window=int(values["window_hours"]) * HOUR,
            counts={"others": "COUNT(DISTINCT b.other)"},
            fires=f"others >= {least} AND others <= {int(values['max_counterparties'])}",
            measure="others",
            score=count_score("measure", str(least)),
            candidates=f"COUNT(DISTINCT other) >= {least}",
            prelude=payments(int(values["hub_limit"])),
        ).sql()

    def explain(self, finding: Finding) -> str:
        window = duration(int(finding.parameters["window_hours"]) * HOUR)
        verb = "received from" if self.incoming else "paid"
        return (
            f"{finding.anchor} {verb} {int(finding.measure)} distinct accounts within "
            f"{window} (at least {finding.parameters['min_counterparties']} needed): "
            f"{finding.tx_count} payments, {finding.amount:,.2f} in all"
        )


class FanIn(_Star):
    name = "fan_in"
    version = "1"
    title = "Fan-in: many accounts pay one"
    incoming = True


class FanOut(_Star):
    name = "fan_out"
    version = "1"
    title = "Fan-out: one account pays many"
    incoming = False
