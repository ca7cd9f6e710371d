"""Which edges a query walks: kinds, a time window and a minimum weight.

Weights are computed for arrays of edges or pairs at once, over the graph's columns, so
a filter costs a few numpy calls for the part of the graph a query looks at.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from caselens.graph.adjacency import Mask, segments
from caselens.graph.model import EDGE_KINDS, TIMELESS_KINDS, CaseGraph, day_end
from caselens.graph.tables import EdgeTable

_TIMELESS_CODES = [code for code, kind in enumerate(EDGE_KINDS) if kind in TIMELESS_KINDS]
Ids = npt.NDArray[np.int64]


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

    @property
    def until_end(self) -> str | None:
        return day_end(self.until) if self.until else None


def check_kinds(kinds: list[str] | None) -> frozenset[str] | None:
    if not kinds:
        return None
    unknown = sorted(set(kinds) - set(EDGE_KINDS))
    if unknown:
        raise ValueError(f"unknown edge kind {', '.join(unknown)}: use {', '.join(EDGE_KINDS)}")
    return frozenset(kinds)


def edge_weights(edges: EdgeTable, flt: EdgeFilter, ids: Ids) -> Ids:
    """Each edge's weight under the filter; 0 for an edge that does not pass."""
    weights = edges.count[ids].copy()
    kinds = edges.kind[ids]
    if flt.since or flt.until:
        timed = ~np.isin(kinds, _TIMELESS_CODES)
        flat, owners = segments(edges.time_offsets, ids[timed])
        times = edges.times[flat]
        inside = np.ones(len(flat), dtype=bool)
        if flt.since:
            inside &= times >= np.bytes_(flt.since.encode())
        if flt.until_end:
            inside &= times <= np.bytes_(flt.until_end.encode())
        weights[timed] = np.bincount(owners[inside], minlength=int(timed.sum()))
    if flt.kinds is not None:
        wanted = [code for code, kind in enumerate(EDGE_KINDS) if kind in flt.kinds]
        weights[~np.isin(kinds, wanted)] = 0
    weights[weights < max(1, flt.min_weight)] = 0
    return weights


def pair_weights(graph: CaseGraph, flt: EdgeFilter, pairs: Ids) -> Ids:
    """Total weight of each pair's passing edges."""
    if flt.trivial:
        return graph.pair_counts[pairs].astype(np.int64)
    flat, owners = segments(graph.pair_start, pairs)
    weights = edge_weights(graph.edges, flt, flat)
    return np.bincount(owners, weights=weights, minlength=len(pairs)).astype(np.int64)


def passing_edges(graph: CaseGraph, flt: EdgeFilter, pair: int) -> list[int]:
    """Ids of the pair's edges that pass the filter."""
    ids = np.arange(graph.pair_start[pair], graph.pair_start[pair + 1], dtype=np.int64)
    if flt.trivial:
        return [int(i) for i in ids.tolist()]
    return [int(i) for i in ids[edge_weights(graph.edges, flt, ids) > 0].tolist()]


def all_pair_weights(graph: CaseGraph, flt: EdgeFilter) -> Ids:
    return pair_weights(graph, flt, np.arange(len(graph.pair_counts), dtype=np.int64))


def passing_pairs(graph: CaseGraph, flt: EdgeFilter) -> Mask | None:
    """Which pairs a walk may use; None when every pair may be used."""
    return None if flt.trivial else all_pair_weights(graph, flt) > 0


NO_FILTER = EdgeFilter()
