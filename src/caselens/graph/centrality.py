"""Key players (degree, betweenness, PageRank) and communities (Louvain, Leiden).

Degree and exact betweenness come from rustworkx; PageRank (weighted by the number of
events), sampled betweenness for large graphs, and the Louvain (PLM) and Leiden
community methods from networkit (MIT). Both are compiled: nothing here walks the whole
graph in Python.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import rustworkx as rx

from caselens.graph.filters import NO_FILTER, EdgeFilter, all_pair_weights
from caselens.graph.model import CaseGraph

EXACT_BETWEENNESS_LIMIT = 5000  # nodes; above this betweenness is estimated from samples
BETWEENNESS_SAMPLES = 256
COMMUNITY_METHODS = ("louvain", "leiden")


@dataclass(frozen=True, slots=True)
class Weighted:
    """The graph as arrays: pairs of nodes and their weights under a filter."""

    nodes: int
    pairs: npt.NDArray[np.uint64]  # shape (edges, 2)
    weights: npt.NDArray[np.float64]

    def degrees(self) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
        """Distinct neighbours and events of every node."""
        degree = np.bincount(self.pairs.ravel().astype(np.int64), minlength=self.nodes)
        strength = np.zeros(self.nodes, dtype=np.float64)
        for column in (0, 1):
            strength += np.bincount(
                self.pairs[:, column].astype(np.int64), self.weights, minlength=self.nodes
            )
        return degree, strength

    def rustworkx(self) -> rx.PyGraph:
        walk = rx.PyGraph(multigraph=False)
        walk.add_nodes_from(range(self.nodes))
        walk.add_edges_from_no_data([(int(a), int(b)) for a, b in self.pairs])
        return walk

    def networkit(self) -> Any:
        import networkit as nk  # type: ignore[import-untyped]

        return nk.GraphFromCoo(
            (self.weights, (self.pairs[:, 0], self.pairs[:, 1])),
            n=self.nodes,
            weighted=True,
            directed=False,
        )


def network_of(graph: CaseGraph, arrays: Weighted, flt: EdgeFilter) -> Any:
    """The networkit graph of ``arrays``; the unfiltered one is built once per graph
    (on ten million edges building it takes about as long as Louvain itself)."""
    if not flt.trivial:
        return arrays.networkit()
    built = graph.derived.get("networkit")
    if built is None:
        built = graph.derived["networkit"] = arrays.networkit()
    return built


def weighted(graph: CaseGraph, flt: EdgeFilter = NO_FILTER) -> Weighted:
    if flt.trivial:
        return Weighted(len(graph.nodes), graph.pair_nodes, graph.pair_counts)
    weights = all_pair_weights(graph, flt)
    kept = weights > 0
    return Weighted(len(graph.nodes), graph.pair_nodes[kept], weights[kept].astype(np.float64))


MEASURES = ("degree", "weighted_degree", "betweenness", "pagerank")


def key_players(
    graph: CaseGraph,
    *,
    flt: EdgeFilter = NO_FILTER,
    limit: int = 20,
    order_by: str = "pagerank",
    seed: int = 1,
) -> list[dict[str, Any]]:
    """Nodes ranked by ``order_by`` (degree, weighted_degree, betweenness or pagerank),
    each with all four measures and whether betweenness was sampled."""
    import networkit as nk

    if order_by not in MEASURES:
        raise ValueError(f"unknown measure {order_by!r}: use {', '.join(MEASURES)}")
    arrays = weighted(graph, flt)
    if len(arrays.weights) == 0:
        return []
    nk.engineering.setSeed(seed, False)
    network = network_of(graph, arrays, flt)
    pagerank = nk.centrality.PageRank(network, damp=0.85, tol=1e-9)
    pagerank.run()
    sampled = arrays.nodes > EXACT_BETWEENNESS_LIMIT
    if sampled:
        estimate = nk.centrality.EstimateBetweenness(
            network, BETWEENNESS_SAMPLES, normalized=True, parallel=True
        )
        estimate.run()
        between = np.asarray(estimate.scores(), dtype=np.float64)
    else:
        exact = rx.graph_betweenness_centrality(arrays.rustworkx(), normalized=True)
        # CentralityMapping has no get(); nodes it leaves out have no betweenness.
        between = np.zeros(arrays.nodes, dtype=np.float64)
        for node, value in exact.items():
            between[node] = value
    degree, strength = arrays.degrees()
    scores = {
        "degree": degree.astype(np.float64),
        "weighted_degree": strength,
        "betweenness": between,
        "pagerank": np.asarray(pagerank.scores(), dtype=np.float64),
    }
    ranked = scores[order_by].copy()
    ranked[degree == 0] = -1.0  # isolated nodes are nobody's key player
    top = np.argsort(-ranked, kind="stable")[:limit]
    shown = [int(n) for n in top if degree[n] > 0]
    rows: list[dict[str, Any]] = [
        {
            "node": node,
            "degree": int(degree[n]),
            "weighted_degree": int(strength[n]),
            "betweenness": round(float(between[n]), 9),
            "pagerank": round(float(scores["pagerank"][n]), 9),
            "betweenness_sampled": sampled,
        }
        for n, node in zip(shown, graph.nodes.dicts(shown), strict=True)
    ]
    rows.sort(key=lambda row: (-float(row[order_by]), str(row["node"]["id"])))
    return rows


def communities(
    graph: CaseGraph,
    *,
    flt: EdgeFilter = NO_FILTER,
    method: str = "louvain",
    limit: int = 50,
    members_shown: int = 50,
    seed: int = 1,
) -> dict[str, Any]:
    """Communities of linked nodes (isolated nodes left out), largest first, with their
    modularity; members ordered by weighted degree, at most ``members_shown`` each."""
    import networkit as nk

    if method not in COMMUNITY_METHODS:
        raise ValueError(f"unknown method {method!r}: use {', '.join(COMMUNITY_METHODS)}")
    arrays = weighted(graph, flt)
    if len(arrays.weights) == 0:
        return {"method": method, "modularity": 0.0, "communities": [], "truncated": False}
    nk.engineering.setSeed(seed, False)
    nk.engineering.setNumberOfThreads(1)  # same case, same communities
    network = network_of(graph, arrays, flt)
    if method == "louvain":
        finder: Any = nk.community.PLM(network, refine=True)
    else:
        finder = nk.community.ParallelLeiden(network, randomize=False)
    finder.run()
    partition = finder.getPartition()
    modularity = nk.community.Modularity().getQuality(partition, network)
    degree, strength = arrays.degrees()
    subsets = np.asarray(partition.getVector(), dtype=np.int64)
    linked = np.nonzero(degree > 0)[0]
    sizes = np.bincount(subsets[linked])
    # Largest first; among equals the one holding the lowest node comes first.
    lowest = np.full(len(sizes), np.iinfo(np.int64).max)
    np.minimum.at(lowest, subsets[linked], linked)
    order = [int(c) for c in np.lexsort((lowest, -sizes)) if sizes[c] > 0]
    rows: list[dict[str, Any]] = []
    for number, subset in enumerate(order[:limit], start=1):
        members = linked[subsets[linked] == subset]
        members = members[np.lexsort((members, -strength[members]))][:members_shown]
        rows.append(
            {
                "community": number,
                "size": int(sizes[subset]),
                "members": graph.nodes.dicts([int(n) for n in members]),
            }
        )
    return {
        "method": method,
        "modularity": round(float(modularity), 6),
        "communities": rows,
        "truncated": len(order) > limit,
    }
