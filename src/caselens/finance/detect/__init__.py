"""Typology detectors: each one registered module, each defined once in SQL that DuckDB and
Spark SQL both run (see :mod:`caselens.finance.detect.base`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from caselens.errors import InvalidInput
from caselens.finance.detect.base import Detector, Finding, ParameterValue
from caselens.finance.detect.cycles import Cycles
from caselens.finance.detect.dormant import Dormant
from caselens.finance.detect.fan import FanIn, FanOut
from caselens.finance.detect.gather_scatter import GatherScatter
from caselens.finance.detect.layers import Bipartite, Stack
from caselens.finance.detect.pass_through import PassThrough
from caselens.finance.detect.scatter_gather import ScatterGather
from caselens.finance.detect.structuring import Structuring

__all__ = ["DETECTORS", "Detector", "Finding", "Plan", "plan"]

DETECTORS: dict[str, Detector] = {
    detector.name: detector
    for detector in (
        FanIn(),
        FanOut(),
        GatherScatter(),
        ScatterGather(),
        Cycles(),
        Bipartite(),
        Stack(),
        Structuring(),
        PassThrough(),
        Dormant(),
    )
}

Plan = list[tuple[Detector, dict[str, ParameterValue]]]


def plan(
    only: Sequence[str] = (), parameters: Mapping[str, Mapping[str, Any]] | None = None
) -> Plan:
    """The detectors to run (``only``, or all) with their parameters resolved from the
    defaults and ``parameters`` (typology -> name -> value)."""
    unknown = sorted(set(only) - set(DETECTORS)) + sorted(set(parameters or {}) - set(DETECTORS))
    if unknown:
        raise InvalidInput(f"no detector {', '.join(unknown)} (there are: {', '.join(DETECTORS)})")
    names = list(only) if only else list(DETECTORS)
    return [
        (DETECTORS[name], DETECTORS[name].resolve((parameters or {}).get(name)))
        for name in dict.fromkeys(names)
    ]
