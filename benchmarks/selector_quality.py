"""Precision and recall of identifier extraction on gold sets, per kind.

(Issue 4 calls this benchmarks/selectors.py; a script of that name would shadow Python's
own ``selectors`` module for every script in this folder, subprocess included.)

Gold sets are JSON Lines in benchmarks/gold/: ``{"text": ..., "expected": [{"kind", "value"}]}``,
optionally with ``"default_region"`` (the case's region for nationally written numbers).
The sets written by the project (identifiers_written*.jsonl: valid, invalid and tricky
cases for kinds the corpora lack) are fictional data. A found mention counts as true when
a gold entry on the same line has its kind and normalized value; targets are precision
>= 0.98 and recall >= 0.95 for each kind.

    python benchmarks/selector_quality.py [--gold benchmarks/gold/identifiers_written.jsonl ...]
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from caselens.extract.base import ExtractionContext
from caselens.extract.identifiers import extract_identifiers

GOLD = Path(__file__).resolve().parent / "gold"


def score(paths: list[Path], region: str | None) -> dict[str, dict[str, float]]:
    true_positive: Counter[str] = Counter()
    found_count: Counter[str] = Counter()
    gold_count: Counter[str] = Counter()
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            case = json.loads(line)
            expected = Counter((e["kind"], e["value"]) for e in case["expected"])
            # A line may name the case's default region (for nationally written numbers).
            context = ExtractionContext(default_region=case.get("default_region", region))
            found = Counter((m.kind, m.value) for m in extract_identifiers(case["text"], context))
            for (kind, _), count in expected.items():
                gold_count[kind] += count
            for key, count in found.items():
                found_count[key[0]] += count
                true_positive[key[0]] += min(count, expected.get(key, 0))
    report = {}
    for kind in sorted(set(gold_count) | set(found_count)):
        precision = true_positive[kind] / found_count[kind] if found_count[kind] else 1.0
        recall = true_positive[kind] / gold_count[kind] if gold_count[kind] else 1.0
        report[kind] = {
            "gold": gold_count[kind],
            "found": found_count[kind],
            "precision": round(precision, 3),
            "recall": round(recall, 3),
        }
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--gold", type=Path, nargs="*", default=None)
    parser.add_argument(
        "--region", default=None, help="default phone region for lines that name none"
    )
    options = parser.parse_args()
    paths = options.gold or sorted(GOLD.glob("*.jsonl"))
    report = score(paths, options.region)
    print(f"gold sets: {', '.join(p.name for p in paths)}")
    for kind, row in report.items():
        verdict = "ok" if row["precision"] >= 0.98 and row["recall"] >= 0.95 else "BELOW TARGET"
        print(
            f"{kind:8} gold {row['gold']:4} found {row['found']:4} precision "
            f"{row['precision']:.3f} recall {row['recall']:.3f}  {verdict}"
        )


if __name__ == "__main__":
    main()
