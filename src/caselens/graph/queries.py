"""Neighbourhoods, paths (optionally time-respecting) and common contacts."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import rustworkx as rx

from caselens.graph.filters import NO_FILTER, EdgeFilter, filtered, pair_weights
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
    frontier = list(dict.fromkeys(starts))
    truncated = False
    for depth in range(1, hops + 1):
        found: dict[int, int] = {}
        for node in frontier:
            for neighbour, ids in graph.graph.adj(node).items():
                if neighbour in depth_of:
                    continue
                weight = _weight(graph, flt, ids)
                if weight > found.get(neighbour, 0):
                    found[neighbour] = weight
        room = max(0, max_nodes - len(depth_of))
        if len(found) > room:
            truncated = True
        ranked = sorted(found, key=lambda n: (-found[n], graph.nodes[n].key))[:room]
        for node in ranked:
            depth_of[node] = depth
        frontier = ranked
        if not frontier:
            break
    return Subgraph(
        [graph.nodes[n].as_dict() for n in sorted(depth_of, key=lambda n: (depth_of[n], n))],
        _edges_among(graph, flt, depth_of),
        truncated,
        {graph.nodes[n].key: depth for n, depth in depth_of.items()},
    )


def _weight(graph: CaseGraph, flt: EdgeFilter, ids: list[int]) -> int:
    if flt.trivial:
        return sum(graph.edges[i].count for i in ids)
    return pair_weights(graph, flt, ids)[0]


def _edges_among(
    graph: CaseGraph, flt: EdgeFilter, members: dict[int, int]
) -> list[dict[str, Any]]:
    # rustworkx's subgraph renumbers nodes, but its payloads are our edge ids.
    found: list[int] = []
    for ids in graph.graph.subgraph(list(members)).edges():
        found.extend(ids if flt.trivial else pair_weights(graph, flt, ids)[1])
    return [graph.edge_dict(i) for i in sorted(found)]


def common_contacts(
    graph: CaseGraph,
    members: list[int],
    *,
    flt: EdgeFilter = NO_FILTER,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Nodes linked directly to every one of ``members``, strongest first, with the edges."""
    member_set = set(members)
    per_member: dict[int, dict[int, list[int]]] = {}
    for member in members:
        linked: dict[int, list[int]] = {}
        for neighbour, ids in graph.graph.adj(member).items():
            kept = pair_weights(graph, flt, ids)[1]
            if kept and neighbour not in member_set:
                linked[neighbour] = kept
        per_member[member] = linked
    common = set.intersection(*(set(linked) for linked in per_member.values()))
    rows: list[dict[str, Any]] = []
    for node in common:
        edges = [graph.edge_dict(i) for member in members for i in per_member[member][node]]
        weight = sum(int(edge["count"]) for edge in edges)
        rows.append({"node": graph.nodes[node].as_dict(), "weight": weight, "edges": edges})
    rows.sort(key=lambda row: (-int(row["weight"]), str(row["node"]["id"])))
    return rows[:limit]


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
    walk = graph.graph if flt.trivial else filtered(graph, flt)
    result = PathResult(graph.nodes[source].key, graph.nodes[target].key, None, [], False, False)
    if source == target:
        return result
    if extra_hops == 0 and max_paths == 1:
        route = _bidirectional(walk, source, target, max_hops)
        if route is not None:
            result.shortest = len(route) - 1
            result.paths = [_hops(graph, flt, route)]
        return result
    to_target = _distances(walk, target, max_hops)
    if source not in to_target:
        return result
    shortest = to_target[source]
    limit = min(max_hops, shortest + extra_hops)
    routes: list[list[int]] = []
    budget = [MAX_EXPANSIONS]
    # Length by length, so that a cut at max_paths never drops a shorter path.
    for hops in range(shortest, limit + 1):
        wanted = max_paths + 1 - len(routes)
        routes.extend(_routes_of_length(walk, source, target, hops, to_target, wanted, budget))
        if len(routes) > max_paths or budget[0] <= 0:
            break
    result.shortest = shortest
    result.truncated = len(routes) > max_paths or budget[0] <= 0
    result.paths = [_hops(graph, flt, route) for route in routes[:max_paths]]
    return result


def _bidirectional(walk: rx.PyGraph, source: int, target: int, max_hops: int) -> list[int] | None:
    """One shortest path by breadth-first search from both ends, always growing the
    smaller side: on small-world graphs it meets after a few thousand nodes, where a
    search from one end visits most of the graph."""
    sides: tuple[dict[int, tuple[int, int]], dict[int, tuple[int, int]]] = (
        {source: (source, 0)},
        {target: (target, 0)},
    )
    frontiers = ([source], [target])
    for _ in range(max_hops):
        grow = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
        mine, other = sides[grow], sides[1 - grow]
        following: list[int] = []
        best: tuple[int, int, int] | None = None  # (length, node, parent)
        for node in frontiers[grow]:
            depth = mine[node][1] + 1
            for neighbour in walk.neighbors(node):
                if neighbour in mine:
                    continue
                if neighbour in other:
                    length = depth + other[neighbour][1]
                    if best is None or (length, neighbour) < best[:2]:
                        best = (length, neighbour, node)
                    continue
                mine[neighbour] = (node, depth)
                following.append(neighbour)
        if best is not None:
            length, meeting, parent = best
            if length > max_hops:
                return None
            mine[meeting] = (parent, mine[parent][1] + 1)
            half = _walk_back(mine, meeting)
            rest = _walk_back(other, meeting)
            route = half[::-1] + rest[1:]
            return route if grow == 0 else route[::-1]
        if not following:
            return None
        frontiers = (following, frontiers[1]) if grow == 0 else (frontiers[0], following)
    return None


def _walk_back(parents: dict[int, tuple[int, int]], node: int) -> list[int]:
    route = [node]
    while parents[node][0] != node:
        node = parents[node][0]
        route.append(node)
    return route


def _routes_of_length(
    walk: rx.PyGraph,
    source: int,
    target: int,
    hops: int,
    to_target: dict[int, int],
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
        for neighbour in sorted(walk.neighbors(node), reverse=True):
            distance = to_target.get(neighbour)
            if distance is not None and distance <= left - 1 and neighbour not in route:
                stack.append([*route, neighbour])
    return found


def _distances(walk: rx.PyGraph, start: int, max_hops: int) -> dict[int, int]:
    distances: dict[int, int] = {}
    for depth, layer in enumerate(rx.graph_bfs_layers(walk, [start])):
        if depth > max_hops:
            break
        for node in layer:
            distances[node] = depth
    return distances


def _hops(graph: CaseGraph, flt: EdgeFilter, route: list[int]) -> list[dict[str, Any]]:
    hops = []
    for first, second in itertools.pairwise(route):
        kept = pair_weights(graph, flt, graph.edge_ids(first, second))[1]
        hops.append(
            {
                "from": graph.nodes[first].as_dict(),
                "to": graph.nodes[second].as_dict(),
                "edges": [graph.edge_dict(i) for i in kept],
            }
        )
    return hops
