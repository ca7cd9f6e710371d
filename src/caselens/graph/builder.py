"""Numbering nodes and items as they are met, collecting links, and turning both into a
``CaseGraph`` whose node numbers follow the order of node keys."""

from __future__ import annotations

from array import array
from collections import Counter

import numpy as np
import numpy.typing as npt

from caselens.graph.adjacency import Adjacency
from caselens.graph.events import KIND_CODES, Links, group
from caselens.graph.model import CATEGORIES, ROLES, CaseGraph
from caselens.graph.tables import NodeTable

_CATEGORY_CODES = {category: code for code, category in enumerate(CATEGORIES)}
ROLE_BITS = {role: 1 << bit for bit, role in enumerate(ROLES)}


class GraphBuilder:
    """``aliases`` maps entity ids judged the same as another to their canonical id:
    their links, identifiers and evidence go to the canonical entity's node."""

    def __init__(self, aliases: dict[str, str] | None = None) -> None:
        self.aliases = dict(aliases or {})
        self.sources: dict[int, list[str]] = {}  # node -> merged entity ids, canonical first
        self.keys: list[str] = []
        self.labels: list[str] = []
        self.categories = array("B")
        self.kinds = array("i")
        self.kind_codes: dict[str, int] = {}
        self.identifiers: dict[int, list[str]] = {}
        self.index: dict[str, int] = {}  # key -> provisional number
        self.selectors: dict[tuple[str, str], int] = {}
        self.items: dict[str, int] = {}
        self.links = Links()
        self.stats: Counter[str] = Counter()

    def node(self, key: str, category: str, kind: str, label: str) -> int:
        """The number of the node ``key``, made with these values when it is new."""
        canonical = self.aliases.get(key)
        if canonical is not None:
            number = self.node(canonical, category, kind, label)
            merged = self.sources.setdefault(number, [canonical])
            if key not in merged:
                merged.append(key)
            return number
        found = self.index.get(key)
        if found is None:
            found = self.index[key] = len(self.keys)
            self.keys.append(key)
            self.labels.append(label)
            self.categories.append(_CATEGORY_CODES[category])
            code = self.kind_codes.get(kind)
            if code is None:
                code = self.kind_codes[kind] = len(self.kind_codes)
            self.kinds.append(code)
        return found

    def selector_node(self, kind: str, value: str, category: str) -> int:
        found = self.selectors.get((kind, value))
        if found is None:
            found = self.node(f"{kind}:{value}", category, kind, value)
            self.selectors[(kind, value)] = found
            self.identifiers.setdefault(found, []).append(f"{kind}:{value}")
        return found

    def link(
        self, source: int, target: int, kind: str, item_id: str, when: str | None, role: str = ""
    ) -> None:
        item = self.items.get(item_id)
        if item is None:
            item = self.items[item_id] = len(self.items)
        self.links.add(source, target, KIND_CODES[kind], item, when, ROLE_BITS.get(role, 0))

    def finish(self) -> CaseGraph:
        node_order, keys = _sorted_numbers(self.keys)
        item_order, items = _sorted_numbers(list(self.items))
        grouped = group(self.links, node_order, item_order, items)
        back = np.argsort(node_order)  # final number -> provisional
        labels = [self.labels[n] for n in back.tolist()]
        nodes = NodeTable(
            keys,
            labels,
            np.frombuffer(self.categories, dtype=np.uint8)[back].copy(),
            np.frombuffer(self.kinds, dtype=np.int32)[back].copy(),
            tuple(self.kind_codes),
            {int(node_order[n]): values for n, values in self.identifiers.items()},
            {int(node_order[n]): sorted(ids) for n, ids in self.sources.items()},
        )
        self.stats["nodes"] = len(keys)
        self.stats["edges"] = len(grouped.edges)
        if self.links.self_links:
            self.stats["self_links_skipped"] = self.links.self_links
        if self.sources:
            self.stats["entities_merged"] = sum(len(ids) - 1 for ids in self.sources.values())
        index = {key: number for number, key in enumerate(keys)}
        # A merged entity's own id still finds the node it became part of.
        for alias, canonical in self.aliases.items():
            if canonical in index and alias not in index:
                index[alias] = index[canonical]
        return CaseGraph(
            nodes,
            grouped.edges,
            index,
            {selector: int(node_order[n]) for selector, n in self.selectors.items()},
            dict(self.stats),
            grouped.pair_start,
            grouped.pair_nodes,
            grouped.pair_counts,
            Adjacency.from_pairs(len(keys), grouped.pair_nodes),
        )


def _sorted_numbers(keys: list[str]) -> tuple[npt.NDArray[np.int64], list[str]]:
    """For each key its rank in sorted order, and the keys sorted."""
    order = sorted(range(len(keys)), key=keys.__getitem__)
    rank = np.empty(len(keys), dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(len(keys), dtype=np.int64)
    return rank, [keys[n] for n in order]
