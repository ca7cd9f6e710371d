"""Judgements applied: the latest judgement of each pair wins, and the pairs judged the
same join into canonical groups (union-find), so a later "different" undoes a merge."""

from __future__ import annotations

from collections.abc import Iterable


def latest(judged: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str], str]:
    """``(left, right, judgement)`` rows in the order they were made → the standing one."""
    standing: dict[tuple[str, str], str] = {}
    for left, right, judgement in judged:
        standing[(left, right)] = judgement
    return standing


def canonical_groups(standing: dict[tuple[str, str], str]) -> dict[str, list[str]]:
    """Canonical id (the smallest member id) → members, for groups of two or more."""
    parent: dict[str, str] = {}

    def find(node: str) -> str:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for (left, right), judgement in sorted(standing.items()):
        if judgement != "same":
            continue
        a, b = find(left), find(right)
        if a != b:
            parent[max(a, b)] = min(a, b)
    members: dict[str, list[str]] = {}
    for node in parent:
        members.setdefault(find(node), []).append(node)
    return {root: sorted(group) for root, group in members.items() if len(group) > 1}


def merges(groups: dict[str, list[str]]) -> dict[str, str]:
    """Entity id → canonical id, for every member that is not itself canonical."""
    return {member: root for root, group in groups.items() for member in group if member != root}
