"""The score of a candidate pair, with the evidence behind it in words.

Each piece of evidence is a probability-like strength in [0, 1]: the best name
comparison of the two entities (``names.compare_names``), and each identifier they
share — an e-mail address (0.95), an IBAN (0.9), a phone number (0.8: phones are shared
within families and firms). Pieces are combined as independent evidence,
``1 - Π(1 - e)``, so two weak signals together outweigh one.
"""

from __future__ import annotations

from dataclasses import dataclass

from caselens.resolve.names import NameComparison, compare_tokens, tokens
from caselens.resolve.records import Record

IDENTIFIER_WEIGHTS = {"email": 0.95, "iban": 0.9, "phone": 0.8}
NAME_FLOOR = 0.5  # weaker name likeness is not evidence
THRESHOLD = 0.7  # the score at which a pair is proposed as probably the same


@dataclass(frozen=True, slots=True)
class Evidence:
    kind: str  # name | email | iban | phone
    strength: float
    detail: str


@dataclass(frozen=True, slots=True)
class PairScore:
    score: float
    evidence: tuple[Evidence, ...]

    def explain(self) -> str:
        return "; ".join(f"{e.kind} {e.strength:.2f}: {e.detail}" for e in self.evidence)


def best_names(left: Record, right: Record) -> tuple[str, str, NameComparison] | None:
    best: tuple[str, str, NameComparison] | None = None
    for a in left.names:
        for b in right.names:
            found = compare_tokens(tokens(a), tokens(b))
            if best is None or found.score > best[2].score:
                best = (a, b, found)
    return best


def score_pair(left: Record, right: Record) -> PairScore:
    evidence: list[Evidence] = []
    named = best_names(left, right)
    if named is not None and named[2].score >= NAME_FLOOR:
        a, b, comparison = named
        evidence.append(
            Evidence("name", comparison.score, f"{a!r} ~ {b!r} ({comparison.explain()})")
        )
    for kind, value in sorted(left.identifiers & right.identifiers):
        weight = IDENTIFIER_WEIGHTS.get(kind, 0.7)
        evidence.append(Evidence(kind, weight, f"both hold {value}"))
    remaining = 1.0
    for piece in evidence:
        remaining *= 1.0 - piece.strength
    return PairScore(round(1.0 - remaining, 4), tuple(evidence))
