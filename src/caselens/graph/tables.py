"""Nodes and edges as columns: numbers in numpy arrays, text in plain lists.

A million ``Node`` objects and ten million ``Edge`` objects would take gigabytes and
most of a minute to make; columns take a fraction of that, and the few records a query
returns are made from them when asked for.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

import numpy as np
import numpy.typing as npt

from caselens.graph.adjacency import segments
from caselens.graph.records import CATEGORIES, DIRECTED_KINDS, EDGE_KINDS, ROLES, Edge, Node

TIME_DTYPE = np.dtype("S19")  # ISO 8601 to the second, ASCII: compares as the strings do
_DIRECTED = tuple(kind in DIRECTED_KINDS for kind in EDGE_KINDS)
_ROLE_NAMES = [[ROLES[i] for i in range(len(ROLES)) if bits >> i & 1] for bits in range(8)]


@dataclass(frozen=True, slots=True)
class NodeTable:
    """Node ``i``: ``keys[i]`` (in sorted order), its label, category, kind, identifiers
    and, for the node of a canonical entity, the entity ids merged into it."""

    keys: list[str]
    labels: list[str]
    categories: npt.NDArray[np.uint8]  # into CATEGORIES
    kinds: npt.NDArray[np.int32]  # into kind_names
    kind_names: tuple[str, ...]
    identifiers: dict[int, list[str]]  # only nodes that have any
    merged: dict[int, list[str]]  # only nodes that stand for more than one entity

    def __len__(self) -> int:
        return len(self.keys)

    def __getitem__(self, index: int) -> Node:
        return Node(
            self.keys[index],
            CATEGORIES[self.categories[index]],
            self.kind_names[self.kinds[index]],
            self.labels[index],
            list(self.identifiers.get(index, ())),
            list(self.merged.get(index, ())),
        )

    def __iter__(self) -> Iterator[Node]:
        return (self[index] for index in range(len(self.keys)))

    def dicts(self, numbers: list[int]) -> list[dict[str, Any]]:
        """``Node.as_dict`` of many nodes, reading each column once."""
        categories = self.categories[numbers].tolist()
        kinds = self.kinds[numbers].tolist()
        return [
            {
                "id": self.keys[n],
                "category": CATEGORIES[category],
                "kind": self.kind_names[kind],
                "label": self.labels[n],
                "identifiers": list(self.identifiers.get(n, ())),
                "merged": list(self.merged.get(n, ())),
            }
            for n, category, kind in zip(numbers, categories, kinds, strict=True)
        ]


@dataclass(frozen=True, slots=True)
class EdgeTable:
    """Edge ``i``: its two nodes, kind (into EDGE_KINDS), events, roles (bits of ROLES);
    its sorted times are ``times[time_offsets[i]:time_offsets[i + 1]]`` and its first
    EVIDENCE_CAP items ``evidence[evidence_offsets[i]:...]`` (numbers into ``items``)."""

    source: npt.NDArray[np.int32]
    target: npt.NDArray[np.int32]
    kind: npt.NDArray[np.uint8]
    count: npt.NDArray[np.int64]
    roles: npt.NDArray[np.uint8]
    time_offsets: npt.NDArray[np.int64]
    times: npt.NDArray[np.bytes_]
    evidence_offsets: npt.NDArray[np.int64]
    evidence: npt.NDArray[np.int32]
    evidence_count: npt.NDArray[np.int64]
    items: list[str]  # item ids in sorted order

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> Edge:
        kind = int(self.kind[index])
        return Edge(
            int(self.source[index]),
            int(self.target[index]),
            EDGE_KINDS[kind],
            _DIRECTED[kind],
            int(self.count[index]),
            self.times_of(index),
            self.evidence_of(index),
            int(self.evidence_count[index]),
            list(_ROLE_NAMES[self.roles[index]]),
        )

    def __iter__(self) -> Iterator[Edge]:
        return (self[index] for index in range(len(self.source)))

    def times_of(self, index: int) -> list[str]:
        low, high = self.time_offsets[index], self.time_offsets[index + 1]
        return [value.decode() for value in self.times[low:high].tolist()]

    def evidence_of(self, index: int) -> list[str]:
        low, high = self.evidence_offsets[index], self.evidence_offsets[index + 1]
        return [self.items[n] for n in self.evidence[low:high].tolist()]

    def first_event(
        self, index: int, after: str | None, since: str | None, until_end: str | None
    ) -> str | None:
        """The first event time strictly after ``after`` and inside [since, until_end]."""
        low, high = int(self.time_offsets[index]), int(self.time_offsets[index + 1])
        times = self.times[low:high]
        position = int(np.searchsorted(times, after.encode(), "right")) if after else 0
        if since:
            position = max(position, int(np.searchsorted(times, since.encode(), "left")))
        if position >= len(times):
            return None
        found = bytes(times[position]).decode()
        return None if until_end and found > until_end else found

    def records(self, ids: list[int], keys: list[str]) -> list[dict[str, Any]]:
        """``CaseGraph.edge_dict`` of many edges, reading each column once."""
        picked = np.asarray(ids, dtype=np.int64)
        # All the edges' evidence in one gather, then cut per edge.
        flat, _ = segments(self.evidence_offsets, picked)
        names = iter([self.items[n] for n in self.evidence[flat].tolist()])
        shown = (self.evidence_offsets[picked + 1] - self.evidence_offsets[picked]).tolist()
        starts = self.time_offsets[picked]
        ends = self.time_offsets[picked + 1]
        dated = ends > starts
        firsts = np.where(dated, starts, 0)
        lasts = np.where(dated, ends - 1, 0)
        if len(self.times):
            first_times, last_times = self.times[firsts].tolist(), self.times[lasts].tolist()
        else:  # no edge has a time
            first_times = last_times = [b""] * len(ids)
        columns = zip(
            self.source[picked].tolist(),
            self.target[picked].tolist(),
            self.kind[picked].tolist(),
            self.count[picked].tolist(),
            dated.tolist(),
            first_times,
            last_times,
            shown,
            self.evidence_count[picked].tolist(),
            self.roles[picked].tolist(),
            strict=True,
        )
        return [
            {
                "source": keys[source],
                "target": keys[target],
                "kind": EDGE_KINDS[kind],
                "directed": _DIRECTED[kind],
                "count": count,
                "first": first.decode() if has_time else None,
                "last": last.decode() if has_time else None,
                "evidence": list(islice(names, listed)),
                "evidence_count": items,
                "roles": list(_ROLE_NAMES[roles]),
            }
            for source, target, kind, count, has_time, first, last, listed, items, roles in columns
        ]
