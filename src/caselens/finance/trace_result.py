"""What a trace found: the flow table and the graph of accounts and payments behind it."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Carried:
    """Traced money carried by one payment: ``amount`` in the payment's own currency
    (what the payer paid) and ``share``, the part of the payment it is."""

    row: int
    tx_id: str
    time: datetime
    payer: str
    payee: str
    amount: float
    currency: str
    share: float

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "tx_id": self.tx_id,
            "time": self.time.isoformat(),
            "from": self.payer,
            "to": self.payee,
            "amount": self.amount,
            "currency": self.currency,
            "share": self.share,
        }


@dataclass(frozen=True, slots=True)
class Flow(Carried):
    """What one payment carries at one hop for one origin: the ``row`` of the starting
    payment whose money this is (forward) or which this money went on to fund (backward)."""

    hop: int
    origin: int

    def as_dict(self) -> dict[str, Any]:
        return {"hop": self.hop, **Carried.as_dict(self), "origin": self.origin}


@dataclass(slots=True)
class TraceNode:
    """An account the traced money passed: what of it came in and went out, in the
    account's own units; ``unexplained`` is what a backward trace found paid from an
    opening balance the data does not show."""

    account: str
    first_hop: int
    traced_in: float = 0.0
    traced_out: float = 0.0
    unexplained: float = 0.0
    currency: str = ""
    followed: bool = False  # its history was read (not cut by the hop or account limit)

    def as_dict(self) -> dict[str, Any]:
        return {
            "account": self.account,
            "first_hop": self.first_hop,
            "traced_in": self.traced_in,
            "traced_out": self.traced_out,
            "unexplained": self.unexplained,
            "currency": self.currency,
            "followed": self.followed,
        }


@dataclass(frozen=True, slots=True)
class TraceEdge(Carried):
    """One payment that carried traced money, all its hops and origins together."""

    hops: tuple[int, ...]

    def as_dict(self) -> dict[str, Any]:
        return {**Carried.as_dict(self), "hops": list(self.hops)}


@dataclass(slots=True)
class TraceResult:
    parameters: dict[str, Any]
    seeds: list[int]
    flows: list[Flow] = field(default_factory=list)
    nodes: dict[str, TraceNode] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def accounts(self) -> list[str]:
        return sorted(self.nodes)

    @property
    def rows(self) -> list[int]:
        return sorted({flow.row for flow in self.flows})

    def edges(self) -> list[TraceEdge]:
        grouped: dict[int, list[Flow]] = {}
        for flow in self.flows:
            grouped.setdefault(flow.row, []).append(flow)
        found = []
        for row in sorted(grouped, key=lambda r: (grouped[r][0].time, r)):
            flows = grouped[row]
            first = flows[0]
            payment = {name.name: getattr(first, name.name) for name in fields(Carried)}
            payment["amount"] = sum(flow.amount for flow in flows)
            payment["share"] = sum(flow.share for flow in flows)
            found.append(
                TraceEdge(
                    **payment,
                    hops=tuple(sorted({flow.hop for flow in flows})),
                )
            )
        return found

    def as_dict(self) -> dict[str, Any]:
        return {
            "parameters": self.parameters,
            "seeds": self.seeds,
            "flows": [flow.as_dict() for flow in self.flows],
            "nodes": [self.nodes[key].as_dict() for key in sorted(self.nodes)],
            "edges": [edge.as_dict() for edge in self.edges()],
            "stats": self.stats,
        }
