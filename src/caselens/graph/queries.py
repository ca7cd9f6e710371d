"""Neighbourhoods, paths (optionally time-respecting) and common contacts.

Each query walks the graph's adjacency arrays a whole frontier at a time and makes
records only for what it returns.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from caselens.graph.adjacency import Mask, segments
from caselens.graph.events import changes
from caselens.graph.filters import (
    NO_FILTER,
    EdgeFilter,
    edge_weights,
    pair_weights,
    passing_edges,
    passing_pairs,
)
from caselens.graph.model import CaseGraph

DEFAULT_MAX_NODES = 200
DEFAULT_MAX_PATHS = 20
MAX_EXPANSIONS = 200_000  # partial routes looked at by one path query


@dataclass
class Subgraph:
    nodes: list[dict[str, Any]]
    edges: list[dict[str, Any]]
    truncated: bool
    hops: dict[str, int] = field(default_factory=dict)  # node id -> hops from the start


@dataclass
class PathResult:
    """Paths as lists of hops; each hop names its two nodes and the edges between them."""

    source: str
    target: str
    shortest: int | None  # hops of the shortest path found; None: not connected
    paths: list[list[dict[str, Any]]]
    truncated: bool
    time_respecting: bool


def neighbourhood(
    graph: CaseGraph,
    starts: list[int],
    *,
    hops: int = 1,
    flt: EdgeFilter = NO_FILTER,
    max_nodes: int = DEFAULT_MAX_NODES,
) -> Subgraph:
    """Nodes within ``hops`` of the starts, strongest links first, at most ``max_nodes``
    (``truncated`` says some were left out), and the passing edges among them."""
    depth_of = {start: 0 for start in starts}
    frontier = np.array(list(depth_of), dtype=np.int64)
    truncated = False
    for depth in range(1, hops + 1):
        found, pairs, _ = graph.adjacency.around(frontier)
        weights = pair_weights(graph, flt, pairs)
        fresh = (weights > 0) & ~np.isin(found, np.fromiter(depth_of, np.int64, len(depth_of)))
        found, weights = found[fresh], weights[fresh]
        # Each new node once, with its strongest link to the frontier.
        order = np.lexsort((-weights, found))
        found, weights = found[order], weights[order]
        first = changes(found)
        found, weights = found[first], weights[first]
        room = max(0, max_nodes - len(depth_of))
        if len(found) > room:
            truncated = True
            # Strongest first; among equals the lower node, which is the lower key.
            found = found[np.lexsort((found, -weights))[:room]]
        for node in found.tolist():
            depth_of[node] = depth
        frontier = found
        if not len(frontier):
            break
    ordered = sorted(depth_of, key=lambda n: (depth_of[n], n))
    keys = graph.nodes.keys
    return Subgraph(
        graph.nodes.dicts(ordered),
        graph.edge_dicts(_edges_among(graph, flt, np.array(sorted(depth_of), dtype=np.int64))),
        truncated,
        {keys[n]: depth for n, depth in depth_of.items()},
    )


def _edges_among(graph: CaseGraph, flt: EdgeFilter, members: npt.NDArray[np.int64]) -> list[int]:
    """Ids of the passing edges between ``members`` (sorted node numbers), ascending."""
    found, pairs, owners = graph.adjacency.around(members)
    inside = (members[owners] < found) & np.isin(found, members)
    edges, _ = segments(graph.pair_start, pairs[inside])
    if not flt.trivial:
        edges = edges[edge_weights(graph.edges, flt, edges) > 0]
    return [int(i) for i in np.sort(edges).tolist()]


def common_contacts(
    graph: CaseGraph,
    members: list[int],
    *,
    flt: EdgeFilter = NO_FILTER,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Nodes linked directly to every one of ``members``, strongest first, with the edges."""
    member_set = set(members)
    per_member: list[dict[int, int]] = []  # per member: neighbour -> pair
    for member in members:
        found, pairs, _ = graph.adjacency.around(np.array([member], dtype=np.int64))
        kept = pair_weights(graph, flt, pairs) > 0
        per_member.append(
            {
                n: p
                for n, p in zip(found[kept].tolist(), pairs[kept].tolist(), strict=True)
                if n not in member_set
            }
        )
    common = set.intersection(*(set(linked) for linked in per_member))
    ranked: list[tuple[int, int, list[int]]] = []
    for node in common:
        ids = [i for linked in per_member for i in passing_edges(graph, flt, linked[node])]
        ranked.append((-int(graph.edges.count[ids].sum()), node, ids))
    ranked.sort()  # strongest first, then by node, which is by key
    nodes = graph.nodes.dicts([node for _, node, _ in ranked[:limit]])
    return [
        {"node": node, "weight": -weight, "edges": graph.edge_dicts(ids)}
        for node, (weight, _, ids) in zip(nodes, ranked[:limit], strict=True)
    ]


def paths(
    graph: CaseGraph,
    source: int,
    target: int,
    *,
    flt: EdgeFilter = NO_FILTER,
    extra_hops: int = 0,
    max_paths: int = DEFAULT_MAX_PATHS,
    max_hops: int = 6,
) -> PathResult:
    """The shortest paths and, with ``extra_hops``, those up to that many hops longer."""
    keys = graph.nodes.keys
    result = PathResult(keys[source], keys[target], None, [], False, False)
    if source == target:
        return result
    passing = passing_pairs(graph, flt)
    if extra_hops == 0 and max_paths == 1:
        route = graph.adjacency.shortest_route(source, target, max_hops, passing)
        if route is not None:
            result.shortest = len(route) - 1
            result.paths = [_hops(graph, flt, route)]
        return result
    to_target = graph.adjacency.distances(target, max_hops, passing)
    if to_target[source] < 0:
        return result
    shortest = int(to_target[source])
    limit = min(max_hops, shortest + extra_hops)
    routes: list[list[int]] = []
    budget = [MAX_EXPANSIONS]
    # Length by length, so that a cut at max_paths never drops a shorter path.
    for hops in range(shortest, limit + 1):
        wanted = max_paths + 1 - len(routes)
        routes.extend(
            _routes_of_length(graph, passing, source, target, hops, to_target, wanted, budget)
        )
        if len(routes) > max_paths or budget[0] <= 0:
            break
    result.shortest = shortest
    result.truncated = len(routes) > max_paths or budget[0] <= 0
    result.paths = [_hops(graph, flt, route) for route in routes[:max_paths]]
    return result


def _routes_of_length(
    graph: CaseGraph,
    passing: Mask | None,
    source: int,
    target: int,
    hops: int,
    to_target: npt.NDArray[np.int16],
    wanted: int,
    budget: list[int],
) -> list[list[int]]:
    """Simple paths of exactly ``hops`` hops, found depth first; a node is only entered
    when the target is still within reach of the hops left. ``budget`` bounds the routes
    looked at over all lengths (dense graphs have very many longer paths)."""
    found: list[list[int]] = []
    stack: list[list[int]] = [[source]]
    while stack and len(found) < wanted and budget[0] > 0:
        budget[0] -= 1
        route = stack.pop()
        node = route[-1]
        left = hops - (len(route) - 1)
        if node == target:
            if left == 0:
                found.append(route)
            continue
        for neighbour in reversed(graph.adjacency.neighbours_of(node, passing)):
            distance = int(to_target[neighbour])
            if 0 <= distance <= left - 1 and neighbour not in route:
                stack.append([*route, neighbour])
    return found


def _hops(graph: CaseGraph, flt: EdgeFilter, route: list[int]) -> list[dict[str, Any]]:
    nodes = graph.nodes.dicts(route)
    hops = []
    for (first, second), ends in zip(
        itertools.pairwise(route), itertools.pairwise(nodes), strict=True
    ):
        pair = graph.pair_of(first, second)
        kept = passing_edges(graph, flt, pair) if pair is not None else []
        hops.append({"from": ends[0], "to": dict(ends[1]), "edges": graph.edge_dicts(kept)})
    return hops
