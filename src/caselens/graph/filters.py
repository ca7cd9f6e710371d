"""Which edges a query walks: kinds, a time window and a minimum weight."""

from __future__ import annotations

from dataclasses import dataclass

import rustworkx as rx

from caselens.graph.model import EDGE_KINDS, TIMELESS_KINDS, CaseGraph, Edge


@dataclass(frozen=True, slots=True)
class EdgeFilter:
    """``since``/``until`` are ISO dates or times (UTC); with a window, an edge weighs its
    events inside it and undated edges drop out, except ownership, which is timeless."""

    kinds: frozenset[str] | None = None
    since: str | None = None
    until: str | None = None
    min_weight: int = 1

    @property
    def trivial(self) -> bool:
        return self.kinds is None and not self.since and not self.until and self.min_weight <= 1

    def weight(self, edge: Edge) -> int:
        """The edge's weight under this filter; 0 when the edge does not pass."""
        if self.kinds is not None and edge.kind not in self.kinds:
            return 0
        if (self.since or self.until) and edge.kind not in TIMELESS_KINDS:
            weight = edge.events_between(self.since, self.until)
        else:
            weight = edge.count
        return weight if weight >= max(1, self.min_weight) else 0


def check_kinds(kinds: list[str] | None) -> frozenset[str] | None:
    if not kinds:
        return None
    unknown = sorted(set(kinds) - set(EDGE_KINDS))
    if unknown:
        raise ValueError(f"unknown edge kind {', '.join(unknown)}: use {', '.join(EDGE_KINDS)}")
    return frozenset(kinds)


def pair_weights(graph: CaseGraph, flt: EdgeFilter, ids: list[int]) -> tuple[int, list[int]]:
    """Total weight of a pair's passing edges, and their ids."""
    total, kept = 0, []
    for edge_id in ids:
        weight = flt.weight(graph.edges[edge_id])
        if weight:
            total += weight
            kept.append(edge_id)
    return total, kept


def filtered(graph: CaseGraph, flt: EdgeFilter) -> rx.PyGraph:
    """The traversal graph with the pairs that have no passing edge removed (same node
    indices; payload: the pair's weight under the filter)."""
    copy = graph.graph.copy()
    dropped = []
    for index, (_, _, ids) in copy.edge_index_map().items():
        weight, _ = pair_weights(graph, flt, ids)
        if weight:
            copy.update_edge_by_index(index, weight)
        else:
            dropped.append(index)
    for index in dropped:
        copy.remove_edge_from_index(index)
    return copy


NO_FILTER = EdgeFilter()
