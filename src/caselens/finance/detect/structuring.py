"""Structuring (smurfing): repeated payments just under a reporting threshold, so that
none of them is reported; the threshold, the band under it and the currencies are
parameters because they differ by country."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from caselens.errors import InvalidInput
from caselens.finance.detect.base import (
    HOUR,
    Detector,
    Dialect,
    Finding,
    Parameter,
    ParameterValue,
    count_score,
    duration,
    sql_text,
)
from caselens.finance.detect.episodes import EpisodeQuery


class Structuring(Detector):
    name = "structuring"
    version = "1"
    title = "Structuring: repeated amounts just under a reporting threshold"
    parameters: ClassVar[Mapping[str, Parameter]] = {
        "threshold": Parameter(10_000.0, "the reporting threshold", minimum=0.01),
        "margin": Parameter(0.1, "band under the threshold, as a fraction of it", minimum=0.001),
        "min_payments": Parameter(3, "payments in the band a window needs", minimum=2),
        "window_hours": Parameter(168, "length of the sliding window, hours", minimum=1),
        "currencies": Parameter("", "comma-separated ISO 4217 codes; empty: every currency"),
    }

    def check(self, values: Mapping[str, ParameterValue]) -> None:
        if float(values["margin"]) >= 1:
            raise InvalidInput("structuring: margin must be below 1 (a fraction of threshold)")

    def query(self, values: Mapping[str, ParameterValue], dialect: Dialect) -> str:
        threshold = float(values["threshold"])
        floor = threshold * (1 - float(values["margin"]))
        least = int(values["min_payments"])
        codes = [code.strip().upper() for code in str(values["currencies"]).split(",")]
        codes = [code for code in codes if code]
        in_currency = (
            f" AND currency IN ({', '.join(sql_text(code) for code in codes)})" if codes else ""
        )
        events = (
            "SELECT payer AS hub, payee AS other, rn, ts, amount, 'out' AS side FROM tx "
            f"WHERE amount >= {floor!r} AND amount < {threshold!r}{in_currency}"
        )
        return EpisodeQuery(
            events=events,
            window=int(values["window_hours"]) * HOUR,
            counts={"payments": "COUNT(*)"},
            fires=f"payments >= {least}",
            measure="payments",
            score=count_score("measure", str(least)),
            candidates=f"COUNT(*) >= {least}",
        ).sql()

    def explain(self, finding: Finding) -> str:
        window = duration(int(finding.parameters["window_hours"]) * HOUR)
        threshold = float(finding.parameters["threshold"])
        floor = threshold * (1 - float(finding.parameters["margin"]))
        return (
            f"{finding.anchor} made {int(finding.measure)} payments between {floor:,.2f} and "
            f"{threshold:,.2f} (just under the threshold) within {window}: "
            f"{finding.tx_count} such payments, {finding.amount:,.2f} in all"
        )
