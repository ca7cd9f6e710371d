"""Identity resolution quality on the name lists in ../shared/corpus/ftm.

True matches: every pair of the spellings of Vladimir Putin in
``nomenklatura/putin_names.txt`` (Latin, Cyrillic, Arabic, Greek, Hebrew, Korean,
Japanese… with titles, initials, patronymics). Non-matches: each of those spellings
against every name of the other people in the FollowTheMoney files of the corpus
(``yente/*/entities.ftm.json``; ``nomenklatura/donations.ijson`` holds the same donors as
``parteispenden`` and is left out so that no person counts as two), and the names of
different people among themselves (aliases of one entity are not paired).

Two figures at the proposal threshold (``caselens.resolve.score.THRESHOLD``):
- pair scoring: precision / recall / F1 of ``score_pair`` over all those pairs;
- end to end: the same, for the pairs that candidate generation (blocking) proposes,
  so recall lost to blocking shows.

    python benchmarks/resolution.py [--out benchmarks/results/resolution.json]
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from caselens.resolve.candidates import candidates  # noqa: E402
from caselens.resolve.records import Record  # noqa: E402
from caselens.resolve.score import THRESHOLD, score_pair  # noqa: E402

FTM = (ROOT / ".." / "shared" / "corpus" / "ftm").resolve()
OTHER_FILES = (
    "yente/parteispenden/entities.ftm.json",
    "yente/zala/entities.ftm.json",
    "yente/t1/entities.ftm.json",
)  # nomenklatura/donations.ijson is the parteispenden data again: the same people twice


def putin_records() -> list[Record]:
    lines = (FTM / "nomenklatura" / "putin_names.txt").read_text(encoding="utf-8").splitlines()
    return [
        Record(f"putin-{n}", "Person", [name.strip()])
        for n, name in enumerate(lines)
        if name.strip()
    ]


def other_people() -> dict[str, list[str]]:
    """Entity id → its names, for every Person in the other files (deduplicated by id)."""
    people: dict[str, list[str]] = {}
    for name in OTHER_FILES:
        for line in (FTM / name).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            entity = json.loads(line)
            if entity.get("schema") != "Person":
                continue
            names = entity.get("properties", {}).get("name", [])
            if names and "putin" not in " ".join(names).lower():
                people.setdefault(entity["id"], [])
                people[entity["id"]] += [n for n in names if n not in people[entity["id"]]]
    return people


def counts(predicted: set[tuple[str, str]], truth: set[tuple[str, str]]) -> dict[str, Any]:
    tp = len(predicted & truth)
    precision = tp / len(predicted) if predicted else 1.0
    recall = tp / len(truth) if truth else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "true_positives": tp,
        "false_positives": len(predicted - truth),
        "false_negatives": len(truth - predicted),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if not FTM.is_dir():
        print(f"corpus not found at {FTM}", file=sys.stderr)
        return 2
    putin = putin_records()
    # Each alias of another person is its own record, so pairs are name against name.
    others = [
        Record(f"{entity}#{n}", "Person", [name])
        for entity, names in other_people().items()
        for n, name in enumerate(names)
    ]
    person_of = {r.entity_id: r.entity_id.split("#")[0] for r in others}
    truth = {(a.entity_id, b.entity_id) for a, b in itertools.combinations(putin, 2)}
    negatives = {(p.entity_id, o.entity_id) for p in putin for o in others}
    negatives |= {
        (a.entity_id, b.entity_id)
        for a, b in itertools.combinations(others, 2)
        if person_of[a.entity_id] != person_of[b.entity_id]
    }
    records = {r.entity_id: r for r in putin + others}
    started = time.perf_counter()
    scores = {
        pair: score_pair(records[pair[0]], records[pair[1]]).score for pair in truth | negatives
    }
    scoring_seconds = time.perf_counter() - started
    predicted = {pair for pair, score in scores.items() if score >= THRESHOLD}
    scored = counts(predicted, truth)
    started = time.perf_counter()
    proposed = {tuple(sorted(c.pair)) for c in candidates(records, min_score=THRESHOLD)}
    blocking_seconds = time.perf_counter() - started
    ordered_truth = {tuple(sorted(p)) for p in truth}
    # Aliases of one other person are not judged here: they are neither true nor false.
    same_other = {
        tuple(sorted((a.entity_id, b.entity_id)))
        for a, b in itertools.combinations(others, 2)
        if person_of[a.entity_id] == person_of[b.entity_id]
    }
    end_to_end = counts(proposed - same_other, ordered_truth)  # type: ignore[arg-type]
    missed = sorted(
        {records[a].names[0] for a, b in truth if scores[(a, b)] < THRESHOLD}
        | {records[b].names[0] for a, b in truth if scores[(a, b)] < THRESHOLD},
    )
    false_positives = sorted(
        (scores[p], records[p[0]].names[0], records[p[1]].names[0]) for p in predicted - truth
    )[-10:]
    result = {
        "threshold": THRESHOLD,
        "putin_spellings": len(putin),
        "other_names": len(others),
        "true_pairs": len(truth),
        "negative_pairs": len(negatives),
        "pair_scoring": scored,
        "end_to_end": end_to_end,
        "scoring_pairs_per_second": round(len(scores) / scoring_seconds),
        "blocking_seconds": round(blocking_seconds, 3),
        "false_positives_sample": false_positives,
    }
    print(
        f"{len(putin)} spellings of one name ({len(truth):,} true pairs), {len(others)} other "
        f"names ({len(negatives):,} negative pairs), threshold {THRESHOLD}"
    )
    for label, figures in (("pair scoring", scored), ("end to end", end_to_end)):
        print(
            f"  {label:13s} precision {figures['precision']:.3f}  recall {figures['recall']:.3f}"
            f"  F1 {figures['f1']:.3f}  (TP {figures['true_positives']:,}, FP "
            f"{figures['false_positives']:,}, FN {figures['false_negatives']:,})"
        )
    rate = result["scoring_pairs_per_second"]
    print(f"  scoring {rate:,} pairs/s; blocking {blocking_seconds:.2f} s")
    print(f"  spellings in some missed pair: {len(missed)}")
    for score, a, b in false_positives:
        print(f"  false positive {score:.2f}: {a!r} ~ {b!r}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
