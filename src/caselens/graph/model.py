"""The graph of one case: nodes (people, organisations, accounts, selectors) and edges
(communications, ownership, appearing together) with the items behind each edge.

The graph is held as arrays (``tables``, ``adjacency``) so that a case of ten million
edges fits in memory and a query touches only what it returns; ``Node`` and ``Edge``
are the readable records made from them on demand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from caselens.graph.adjacency import Adjacency
from caselens.graph.records import (
    CALL,
    CATEGORIES,
    DIRECTED_KINDS,
    EDGE_KINDS,
    EMAIL,
    EVIDENCE_CAP,
    MESSAGE,
    OWNS,
    PAYMENT,
    ROLES,
    TIMELESS_KINDS,
    TOGETHER,
    Edge,
    Node,
    day_end,
)
from caselens.graph.tables import EdgeTable, NodeTable

__all__ = [
    "CALL",
    "CATEGORIES",
    "DIRECTED_KINDS",
    "EDGE_KINDS",
    "EMAIL",
    "EVIDENCE_CAP",
    "MESSAGE",
    "OWNS",
    "PAYMENT",
    "ROLES",
    "TIMELESS_KINDS",
    "TOGETHER",
    "CaseGraph",
    "Edge",
    "Node",
    "day_end",
]


@dataclass(slots=True)
class CaseGraph:
    """Nodes and edges of a case, with the adjacency that queries walk.

    Node numbers follow the order of node keys, so "strongest first, then by key" is an
    order on numbers. The edges of one pair of nodes are contiguous: pair ``p`` joins
    ``pair_nodes[p]`` and holds edges ``pair_start[p]`` to ``pair_start[p + 1]``, with
    ``pair_counts[p]`` events in all (the unfiltered weight handed to networkit).
    """

    nodes: NodeTable
    edges: EdgeTable
    index: dict[str, int]  # node key -> node
    selectors: dict[tuple[str, str], int]  # (kind, normalized value) -> node
    stats: dict[str, int]
    pair_start: npt.NDArray[np.int64]
    pair_nodes: npt.NDArray[np.uint64]
    pair_counts: npt.NDArray[np.float64]
    adjacency: Adjacency
    # What whole-graph methods build from the arrays once (the networkit graph), kept
    # with the graph so that repeated calls, like the graph itself, are cached.
    derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def pair_of(self, first: int, second: int) -> int | None:
        return self.adjacency.pair(first, second)

    def edge_ids(self, first: int, second: int) -> list[int]:
        pair = self.pair_of(first, second)
        if pair is None:
            return []
        return list(range(int(self.pair_start[pair]), int(self.pair_start[pair + 1])))

    def edge_dict(self, edge_id: int) -> dict[str, Any]:
        return self.edge_dicts([edge_id])[0]

    def edge_dicts(self, edge_ids: list[int]) -> list[dict[str, Any]]:
        """The records of many edges at once (columns are read once, not per edge)."""
        return self.edges.records(edge_ids, self.nodes.keys)
