"""Who is next to whom, as compressed sparse rows, and breadth-first walks over it.

Node ``n``'s neighbours are ``neighbours[offsets[n]:offsets[n + 1]]`` (ascending), each
with the pair (``pairs``) that joins them. A walk expands a whole frontier with a few
numpy calls instead of a Python loop per neighbour, so a hub of 10,000 contacts costs
about what a node of ten does.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

Mask = npt.NDArray[np.bool_]


def segments(
    offsets: npt.NDArray[np.int64], rows: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    """Positions of the rows' entries in a CSR layout, and which row each came from."""
    starts = offsets[rows]
    lengths = offsets[rows + 1] - starts
    owners = np.repeat(np.arange(len(rows), dtype=np.int64), lengths)
    shift = starts - (np.cumsum(lengths) - lengths)
    return np.arange(int(lengths.sum()), dtype=np.int64) + shift[owners], owners


@dataclass(frozen=True, slots=True)
class Adjacency:
    offsets: npt.NDArray[np.int64]
    neighbours: npt.NDArray[np.int32]
    pairs: npt.NDArray[np.int64]

    @classmethod
    def from_pairs(cls, nodes: int, pair_nodes: npt.NDArray[np.uint64]) -> Adjacency:
        first = pair_nodes[:, 0].astype(np.int64)
        second = pair_nodes[:, 1].astype(np.int64)
        ends = np.concatenate([first, second])
        others = np.concatenate([second, first])
        numbers = np.arange(len(first), dtype=np.int64)
        order = np.argsort(ends * max(nodes, 1) + others, kind="stable")
        offsets = np.zeros(nodes + 1, dtype=np.int64)
        np.cumsum(np.bincount(ends, minlength=nodes), out=offsets[1:])
        return cls(
            offsets,
            others[order].astype(np.int32),
            np.concatenate([numbers, numbers])[order],
        )

    @property
    def nodes(self) -> int:
        return len(self.offsets) - 1

    def pair(self, first: int, second: int) -> int | None:
        low, high = int(self.offsets[first]), int(self.offsets[first + 1])
        position = low + int(np.searchsorted(self.neighbours[low:high], second))
        if position < high and self.neighbours[position] == second:
            return int(self.pairs[position])
        return None

    def around(
        self, nodes: npt.NDArray[np.int64], passing: Mask | None = None
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """Neighbours of ``nodes`` over passing pairs: (neighbour, pair, index into nodes)."""
        flat, owners = segments(self.offsets, nodes)
        neighbours = self.neighbours[flat].astype(np.int64)
        pairs = self.pairs[flat]
        if passing is not None:
            kept = passing[pairs]
            return neighbours[kept], pairs[kept], owners[kept]
        return neighbours, pairs, owners

    def neighbours_of(self, node: int, passing: Mask | None = None) -> list[int]:
        found, _, _ = self.around(np.array([node], dtype=np.int64), passing)
        return [int(n) for n in found.tolist()]

    def distances(
        self, start: int, max_hops: int, passing: Mask | None = None
    ) -> npt.NDArray[np.int16]:
        """Hops from ``start`` to every node within ``max_hops``; -1 beyond."""
        distance = np.full(self.nodes, -1, dtype=np.int16)
        distance[start] = 0
        frontier = np.array([start], dtype=np.int64)
        for depth in range(1, max_hops + 1):
            found, _, _ = self.around(frontier, passing)
            found = np.unique(found[distance[found] < 0])
            if not len(found):
                break
            distance[found] = depth
            frontier = found
        return distance

    def shortest_route(
        self, source: int, target: int, max_hops: int, passing: Mask | None = None
    ) -> list[int] | None:
        """One shortest path by breadth-first search from both ends, always growing the
        smaller frontier: on small-world graphs the two meet after a few thousand nodes,
        where a search from one end visits most of the graph."""
        parents = (np.full(self.nodes, -1, np.int64), np.full(self.nodes, -1, np.int64))
        depths = (np.full(self.nodes, -1, np.int16), np.full(self.nodes, -1, np.int16))
        frontiers = [np.array([source], np.int64), np.array([target], np.int64)]
        for side, node in enumerate((source, target)):
            parents[side][node], depths[side][node] = node, 0
        level = [0, 0]
        while level[0] + level[1] < max_hops:
            grow = 0 if len(frontiers[0]) <= len(frontiers[1]) else 1
            mine, other = grow, 1 - grow
            found, _, owners = self.around(frontiers[grow], passing)
            came_from = frontiers[grow][owners]
            meets = depths[other][found] >= 0
            if meets.any():
                # Every meeting in this layer is tried: the shortest, then the lowest nodes.
                length = level[grow] + 1 + depths[other][found[meets]].astype(np.int64)
                best = np.lexsort((came_from[meets], found[meets], length))[0]
                if int(length[best]) > max_hops:
                    return None
                meeting, parent = int(found[meets][best]), int(came_from[meets][best])
                half = [meeting, *_walk_back(parents[mine], parent)]
                rest = _walk_back(parents[other], meeting)[1:]
                route = half[::-1] + rest
                return route if grow == 0 else route[::-1]
            fresh = depths[mine][found] < 0
            new, first = np.unique(found[fresh], return_index=True)
            if not len(new):
                return None
            parents[mine][new] = came_from[fresh][first]
            level[grow] += 1
            depths[mine][new] = level[grow]
            frontiers[grow] = new
        return None


def _walk_back(parents: npt.NDArray[np.int64], node: int) -> list[int]:
    route = [node]
    while int(parents[node]) != node:
        node = int(parents[node])
        route.append(node)
    return route
