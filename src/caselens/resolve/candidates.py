"""Candidate pairs: entities that share an identifier or a name key, scored, best first.

Comparing every pair would be quadratic; entities are grouped ("blocked") by each
identifier they hold and by keys of their name words (consonant skeleton, metaphone,
first four letters), and only entities sharing a block are compared. A block holding
more than ``MAX_BLOCK`` entities (a name word everyone has) is not used: its pairs would
swamp the list and the word says little by itself.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from caselens.resolve.names import blocking_keys
from caselens.resolve.records import Record, compatible
from caselens.resolve.score import PairScore, score_pair

MAX_BLOCK = 200
MIN_SCORE = 0.5


@dataclass(frozen=True, slots=True)
class Candidate:
    left: Record
    right: Record
    result: PairScore

    @property
    def pair(self) -> tuple[str, str]:
        return (self.left.entity_id, self.right.entity_id)


def ordered(a: str, b: str) -> tuple[str, str]:
    """A pair is stored and compared with the smaller entity id first."""
    return (a, b) if a <= b else (b, a)


def blocks(records: Iterable[Record]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = defaultdict(list)
    for record in records:
        keys = {f"id:{kind}:{value}" for kind, value in record.identifiers}
        for name in record.names:
            keys |= blocking_keys(name)
        for key in keys:
            found[key].append(record.entity_id)
    return found


def candidates(records: dict[str, Record], min_score: float = MIN_SCORE) -> list[Candidate]:
    """Scored pairs at or above ``min_score``, best first (ties in id order)."""
    pairs: set[tuple[str, str]] = set()
    for members in blocks(records.values()).values():
        if len(members) > MAX_BLOCK:
            continue
        ids = sorted(set(members))
        for i, a in enumerate(ids):
            for b in ids[i + 1 :]:
                pairs.add((a, b))
    found = []
    for a, b in sorted(pairs):
        left, right = records[a], records[b]
        if not compatible(left, right):
            continue
        result = score_pair(left, right)
        if result.score >= min_score:
            found.append(Candidate(left, right, result))
    found.sort(key=lambda c: (-c.result.score, c.pair))
    return found
