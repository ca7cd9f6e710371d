"""Time-respecting paths: each hop uses an event strictly after the one of the hop before.

A breadth-first search by hops that keeps, per node, the earliest time it can be reached:
a later arrival over more hops can never lead anywhere an earlier one cannot, so it is
dropped. The path returned has the fewest hops, and among those the earliest arrival.
Events are read from each edge's sorted times; undated events cannot be placed and are
not used.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from caselens.graph.filters import NO_FILTER, EdgeFilter, edge_weights
from caselens.graph.model import DIRECTED_KINDS, EDGE_KINDS, CaseGraph

_DIRECTED_CODES = frozenset(code for code, kind in enumerate(EDGE_KINDS) if kind in DIRECTED_KINDS)


@dataclass(frozen=True, slots=True)
class TimedHop:
    source: int
    target: int
    edge_id: int
    time: str  # the event used for this hop


def time_respecting_path(
    graph: CaseGraph,
    source: int,
    target: int,
    *,
    flt: EdgeFilter = NO_FILTER,
    max_hops: int = 6,
    follow_direction: bool = False,
) -> list[TimedHop] | None:
    """The fewest-hop path from ``source`` to ``target`` whose event times increase, or
    None. With ``follow_direction`` a directed edge is only walked from sender to receiver."""
    arrival: dict[int, str] = {}
    layers: list[dict[int, TimedHop]] = []
    frontier: dict[int, str | None] = {source: None}
    for _ in range(max_hops):
        reached: dict[int, TimedHop] = {}
        for node, at in frontier.items():
            found, pairs, _ = graph.adjacency.around(np.array([node], dtype=np.int64))
            for neighbour, pair in zip(found.tolist(), pairs.tolist(), strict=True):
                if neighbour == source:
                    continue
                hop = _earliest_hop(graph, flt, node, neighbour, pair, at, follow_direction)
                if hop is None:
                    continue
                best = arrival.get(neighbour)
                if best is not None and hop.time >= best:
                    continue  # dominated by an arrival as early over no more hops
                current = reached.get(neighbour)
                if current is None or hop.time < current.time:
                    reached[neighbour] = hop
        if not reached:
            return None
        layers.append(reached)
        for node, hop in reached.items():
            arrival[node] = hop.time
        if target in reached:
            return _route(layers, target)
        frontier = {node: hop.time for node, hop in reached.items()}
    return None


def _earliest_hop(
    graph: CaseGraph,
    flt: EdgeFilter,
    node: int,
    neighbour: int,
    pair: int,
    after: str | None,
    follow_direction: bool,
) -> TimedHop | None:
    edges = graph.edges
    ids = np.arange(graph.pair_start[pair], graph.pair_start[pair + 1], dtype=np.int64)
    best: TimedHop | None = None
    for edge_id in ids[edge_weights(edges, flt, ids) > 0].tolist():
        directed = int(edges.kind[edge_id]) in _DIRECTED_CODES
        if follow_direction and directed and int(edges.source[edge_id]) != node:
            continue
        found = edges.first_event(edge_id, after, flt.since, flt.until_end)
        if found is not None and (best is None or found < best.time):
            best = TimedHop(node, neighbour, edge_id, found)
    return best


def _route(layers: list[dict[int, TimedHop]], target: int) -> list[TimedHop]:
    # The hop into a node of layer h comes from a node of layer h - 1.
    hops: list[TimedHop] = []
    node = target
    for layer in reversed(layers):
        hop = layer[node]
        hops.append(hop)
        node = hop.source
    hops.reverse()
    return hops
