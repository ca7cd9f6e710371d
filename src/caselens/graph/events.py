"""Links as they are read, in flat arrays, and their grouping into edges with numpy.

Each link (one e-mail to one recipient, one message, one call, one ownership, two nodes
in one item) is a row of six columns; ten million links take about 300 MB here, where a
Python object per link took kilobytes. ``group`` sorts them once and cuts the runs that
share two nodes and a kind into edges.
"""

from __future__ import annotations

from array import array
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from caselens.graph.records import DIRECTED_KINDS, EDGE_KINDS, EVIDENCE_CAP
from caselens.graph.tables import TIME_DTYPE, EdgeTable

KIND_CODES = {kind: code for code, kind in enumerate(EDGE_KINDS)}
_UNDIRECTED_CODES = [KIND_CODES[kind] for kind in EDGE_KINDS if kind not in DIRECTED_KINDS]
_NO_TIME = bytes(TIME_DTYPE.itemsize)


class Links:
    """Links between provisional node numbers; items are provisional numbers too."""

    def __init__(self) -> None:
        self.source = array("q")
        self.target = array("q")
        self.kind = array("B")
        self.item = array("q")
        self.roles = array("B")
        self.times = bytearray()  # TIME_DTYPE.itemsize bytes a link, all zero: undated
        self.self_links = 0

    def add(
        self, source: int, target: int, kind: int, item: int, when: str | None, roles: int = 0
    ) -> None:
        if source == target:
            self.self_links += 1
            return
        self.source.append(source)
        self.target.append(target)
        self.kind.append(kind)
        self.item.append(item)
        self.roles.append(roles)
        self.times += when.encode().ljust(TIME_DTYPE.itemsize, b"\0") if when else _NO_TIME

    def __len__(self) -> int:
        return len(self.source)


@dataclass(frozen=True, slots=True)
class Grouped:
    edges: EdgeTable
    pair_start: npt.NDArray[np.int64]
    pair_nodes: npt.NDArray[np.uint64]
    pair_counts: npt.NDArray[np.float64]


def _as_array(values: array[int], dtype: type[np.generic]) -> npt.NDArray[np.int64]:
    return (
        np.frombuffer(values, dtype=dtype).astype(np.int64)
        if len(values)
        else np.zeros(0, np.int64)
    )


def group(
    links: Links,
    node_order: npt.NDArray[np.int64],
    item_order: npt.NDArray[np.int64],
    items: list[str],
) -> Grouped:
    """Edges from links; ``node_order`` and ``item_order`` map provisional numbers to the
    final ones (sorted by key), so that edges and evidence sort as their keys do."""
    source = node_order[_as_array(links.source, np.int64)]
    target = node_order[_as_array(links.target, np.int64)]
    kind = _as_array(links.kind, np.uint8)
    item = item_order[_as_array(links.item, np.int64)]
    roles = _as_array(links.roles, np.uint8)
    times = np.frombuffer(bytes(links.times), dtype=TIME_DTYPE)
    # Appearing together has no direction: its lower node is its source.
    undirected = np.isin(kind, _UNDIRECTED_CODES)
    swap = undirected & (source > target)
    source, target = np.where(swap, target, source), np.where(swap, source, target)
    low, high = np.minimum(source, target), np.maximum(source, target)
    # Pair, kind, direction, then time: an edge's links are one run, its times sorted
    # (undated ones, all zero bytes, first).
    order = np.lexsort((times, target, source, kind, high, low))
    source, target, kind, item, roles, times = (
        column[order] for column in (source, target, kind, item, roles, times)
    )
    low, high = low[order], high[order]
    new_edge = changes(low, high, kind, source)
    starts = np.nonzero(new_edge)[0]
    edge_of = np.cumsum(new_edge) - 1
    edges = len(starts)
    dated = times != np.bytes_(b"")
    time_counts = np.bincount(edge_of[dated], minlength=edges)
    # Distinct items per edge, ascending (item numbers follow item ids).
    evidence_keys = np.unique(edge_of * max(len(items), 1) + item)
    evidence_edge = evidence_keys // max(len(items), 1)
    evidence_count = np.bincount(evidence_edge, minlength=edges)
    first_of_edge = np.searchsorted(evidence_edge, evidence_edge, "left")
    kept = (np.arange(len(evidence_keys)) - first_of_edge) < EVIDENCE_CAP
    table = EdgeTable(
        source=source[starts].astype(np.int32),
        target=target[starts].astype(np.int32),
        kind=kind[starts].astype(np.uint8),
        count=np.diff(np.append(starts, len(source))).astype(np.int64),
        roles=(
            np.bitwise_or.reduceat(roles, starts).astype(np.uint8)
            if edges
            else np.zeros(0, np.uint8)
        ),
        time_offsets=_offsets(time_counts),
        times=times[dated],
        evidence_offsets=_offsets(np.bincount(evidence_edge[kept], minlength=edges)),
        evidence=(evidence_keys[kept] % max(len(items), 1)).astype(np.int32),
        evidence_count=evidence_count.astype(np.int64),
        items=items,
    )
    edge_low, edge_high = low[starts], high[starts]
    pair_start = np.nonzero(changes(edge_low, edge_high))[0]
    pair_counts = (
        np.add.reduceat(table.count, pair_start).astype(np.float64)
        if edges
        else np.zeros(0, np.float64)
    )
    pair_nodes = np.stack([edge_low[pair_start], edge_high[pair_start]], axis=1).astype(np.uint64)
    return Grouped(table, np.append(pair_start, edges).astype(np.int64), pair_nodes, pair_counts)


def changes(*columns: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    """True where any of the (sorted together) columns differs from the row before."""
    change = np.zeros(len(columns[0]), dtype=bool)
    if len(change):
        change[0] = True
    for column in columns:
        change[1:] |= column[1:] != column[:-1]
    return change


def _offsets(counts: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    offsets = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return offsets
