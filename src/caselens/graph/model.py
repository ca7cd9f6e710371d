"""The graph of one case: nodes (people, organisations, accounts, selectors) and edges
(communications, ownership, appearing together) with the items behind each edge."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import rustworkx as rx

# Edge kinds. Communications and ownership have a direction; appearing together has none.
EMAIL, MESSAGE, CALL, OWNS, TOGETHER = "email", "message", "call", "owns", "together"
EDGE_KINDS = (EMAIL, MESSAGE, CALL, OWNS, TOGETHER)
DIRECTED_KINDS = frozenset({EMAIL, MESSAGE, CALL, OWNS})
# Ownership is a standing fact, not an event: a time window does not drop it.
TIMELESS_KINDS = frozenset({OWNS})

EVIDENCE_CAP = 20  # item ids listed per edge; ``evidence_count`` gives the full number


@dataclass(slots=True)
class Node:
    """An entity of the case, or a selector (``kind:value``) that no entity holds."""

    key: str  # entity id, or "phone:+447700900123" for a selector node
    category: str  # person | organisation | account | device
    kind: str  # the FollowTheMoney schema, or the selector's kind
    label: str
    identifiers: list[str] = field(default_factory=list)  # "email:a@b", "phone:+44..."

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.key,
            "category": self.category,
            "kind": self.kind,
            "label": self.label,
            "identifiers": list(self.identifiers),
        }


@dataclass(slots=True)
class Edge:
    """All links of one kind between two nodes: the events, their times and the items."""

    source: int
    target: int
    kind: str
    directed: bool
    count: int  # events (e-mails, messages, calls) or, for ``together``, items
    times: list[str]  # sorted ISO 8601 UTC times of the dated events
    evidence: list[str]  # the first EVIDENCE_CAP item ids, sorted
    evidence_count: int
    roles: list[str] = field(default_factory=list)  # e-mail: to / cc / bcc

    @property
    def first(self) -> str | None:
        return self.times[0] if self.times else None

    @property
    def last(self) -> str | None:
        return self.times[-1] if self.times else None

    def events_between(self, since: str | None, until: str | None) -> int:
        """Dated events inside [since, until]; ``until`` as a date includes that whole day."""
        low = bisect_left(self.times, since) if since else 0
        high = bisect_right(self.times, _day_end(until)) if until else len(self.times)
        return max(0, high - low)

    def first_event(
        self, after: str | None, since: str | None = None, until: str | None = None
    ) -> str | None:
        """The first event strictly after ``after`` and inside [since, until], or None."""
        position = bisect_right(self.times, after) if after is not None else 0
        if since:
            position = max(position, bisect_left(self.times, since))
        if position >= len(self.times):
            return None
        found = self.times[position]
        return None if until and found > _day_end(until) else found


def _day_end(until: str) -> str:
    # "2024-01-31" must include events on that day: times sort as strings.
    return until + "T23:59:59" if len(until) == 10 else until


@dataclass(slots=True)
class CaseGraph:
    """Nodes and edges, with an undirected rustworkx graph over them for traversal.

    Node ``i`` of ``nodes`` is node ``i`` of ``graph``; each graph edge joins a pair of
    nodes once and holds the ids (indices into ``edges``) of every edge between them.
    """

    nodes: list[Node]
    edges: list[Edge]
    graph: rx.PyGraph
    index: dict[str, int]  # node key -> node
    selectors: dict[tuple[str, str], int]  # (kind, normalized value) -> node
    stats: dict[str, int]
    # Graph edge i joins pair_nodes[i] with pair_counts[i] events: the unfiltered
    # weighted graph, handed to networkit without a walk in Python.
    pair_nodes: npt.NDArray[np.uint64]
    pair_counts: npt.NDArray[np.float64]

    def edge_ids(self, first: int, second: int) -> list[int]:
        found = (
            self.graph.get_edge_data(first, second) if self.graph.has_edge(first, second) else None
        )
        return list(found) if found else []

    def edge_dict(self, edge_id: int) -> dict[str, Any]:
        edge = self.edges[edge_id]
        return {
            "source": self.nodes[edge.source].key,
            "target": self.nodes[edge.target].key,
            "kind": edge.kind,
            "directed": edge.directed,
            "count": edge.count,
            "first": edge.first,
            "last": edge.last,
            "evidence": list(edge.evidence),
            "evidence_count": edge.evidence_count,
            "roles": list(edge.roles),
        }
