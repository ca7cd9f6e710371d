"""Precision and recall of identifier extraction on two gold sets, per kind.

(Issue 4 calls this benchmarks/selectors.py; a script of that name would shadow Python's
own ``selectors`` module for every script in this folder, subprocess included.)

(a) ``gold/identifiers_corpus.jsonl``: hand labels on real text of the shared corpus, kept as
    stand-off labels only (corpus path, tar member, file SHA-256, labelled byte range, byte
    offsets, kind, normalized value; no corpus text). Each labelled region is re-read from the
    corpus, its SHA-256 checked, decoded (UTF-8, or Latin-1 when the file is not valid UTF-8)
    and run through the extractors with the region's default phone region. A found mention is
    true when a label of its kind and normalized value overlaps it; mentions outside the
    labelled regions are never seen. The labelling guideline is gold/README.md.
(b) ``gold/identifiers_written*.jsonl``: cases the project wrote for kinds the corpora lack
    (valid, invalid and tricky), one text per line:
    ``{"text": ..., "expected": [{"kind", "value"}], "default_region"?: ...}``; a found mention
    is true when an expected entry of the same line has its kind and value.

Targets: precision >= 0.98 and recall >= 0.95 for each kind and overall. Misses and false hits
are listed for mending (``--quiet`` leaves them out).

    python benchmarks/selector_quality.py [--set corpus|written|both] [--quiet]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tarfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from caselens.extract.base import ExtractionContext, Mention
from caselens.extract.identifiers import extract_identifiers

ROOT = Path(__file__).resolve().parents[1]
GOLD = ROOT / "benchmarks" / "gold"
CORPUS = (ROOT / ".." / "shared" / "corpus").resolve()
CORPUS_GOLD = GOLD / "identifiers_corpus.jsonl"
PRECISION_TARGET = 0.98
RECALL_TARGET = 0.95


class CorpusChanged(RuntimeError):
    """A labelled corpus file is missing or no longer has the bytes that were labelled."""


@dataclass
class Tally:
    gold: Counter[str] = field(default_factory=Counter)
    found: Counter[str] = field(default_factory=Counter)
    true: Counter[str] = field(default_factory=Counter)
    misses: list[str] = field(default_factory=list)
    false_hits: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, int, int, float, float]]:
        kinds = sorted(set(self.gold) | set(self.found))
        rows = [(kind, *self._figures(kind)) for kind in kinds]
        total = Tally(Counter({"all": self.gold.total()}), Counter({"all": self.found.total()}))
        total.true["all"] = self.true.total()
        rows.append(("all", *total._figures("all")))
        return rows

    def _figures(self, kind: str) -> tuple[int, int, float, float]:
        found, gold, true = self.found[kind], self.gold[kind], self.true[kind]
        precision = true / found if found else 1.0
        recall = true / gold if gold else 1.0
        return gold, found, precision, recall


# (a) stand-off labels on the corpus


def decode(data: bytes) -> tuple[str, str]:
    """The labelling rule: UTF-8 when the whole file is valid UTF-8, else Latin-1."""
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def read_sources(
    labels: list[dict[str, object]], corpus: Path
) -> dict[tuple[str, str | None], bytes]:
    """The bytes of every labelled file or tar member, each archive read in one pass."""
    wanted: dict[str, set[str | None]] = defaultdict(set)
    for label in labels:
        wanted[str(label["corpus"])].add(label["member"])  # type: ignore[arg-type]
    sources: dict[tuple[str, str | None], bytes] = {}
    for name, members in wanted.items():
        path = corpus / name
        if not path.is_file():
            raise CorpusChanged(f"{path} is missing (the corpus gold set needs it)")
        if members == {None}:
            sources[(name, None)] = path.read_bytes()
            continue
        with tarfile.open(path) as archive:
            for info in archive:
                if info.name in members and info.isfile():
                    extracted = archive.extractfile(info)
                    assert extracted is not None
                    sources[(name, info.name)] = extracted.read()
        for member in members - {m for (n, m) in sources if n == name}:
            raise CorpusChanged(f"{path} has no member {member}")
    return sources


def byte_offsets(text: str, encoding: str) -> list[int]:
    """Byte offset of each character of ``text`` (and of its end) in ``encoding``."""
    offsets = [0]
    for char in text:
        offsets.append(offsets[-1] + len(char.encode(encoding)))
    return offsets


def score_corpus(path: Path = CORPUS_GOLD, corpus: Path = CORPUS) -> Tally:
    labels = [json.loads(line) for line in path.read_text("utf-8").splitlines() if line.strip()]
    sources = read_sources(labels, corpus)
    regions: dict[tuple[str, str | None, int, int], list[dict[str, object]]] = defaultdict(list)
    for label in labels:
        key = (label["corpus"], label["member"], *label["range"])
        regions[key].append(label)
    tally = Tally()
    for (name, member, start, end), region_labels in regions.items():
        data = sources[(name, member)]
        digest = hashlib.sha256(data).hexdigest()
        if any(label["sha256"] != digest for label in region_labels):
            raise CorpusChanged(f"{name} {member or ''}: SHA-256 {digest} is not the labelled one")
        _, encoding = decode(data)
        text = data[start:end].decode(encoding)
        where = f"{name}{':' + member if member else ''} [{start},{end}]"
        default_region = region_labels[0].get("region")
        context = ExtractionContext(default_region=str(default_region) if default_region else None)
        found = extract_identifiers(text, context)
        gold = [label for label in region_labels if label["kind"]]
        _match_region(tally, where, gold, found, byte_offsets(text, encoding), start)
    return tally


def _match_region(
    tally: Tally,
    where: str,
    gold: list[dict[str, object]],
    found: list[Mention],
    offsets: list[int],
    base: int,
) -> None:
    unmatched = list(gold)
    for label in gold:
        tally.gold[str(label["kind"])] += 1
    for mention in found:
        tally.found[mention.kind] += 1
        start, end = base + offsets[mention.start], base + offsets[mention.end]
        hit = next(
            (
                label
                for label in unmatched
                if label["kind"] == mention.kind
                and label["value"] == mention.value
                and int(label["start"]) < end  # type: ignore[call-overload]
                and start < int(label["end"])  # type: ignore[call-overload]
            ),
            None,
        )
        if hit is None:
            tally.false_hits.append(
                f"{mention.kind:6} {mention.value!r} raw {mention.raw!r} at {start} in {where}"
            )
        else:
            unmatched.remove(hit)
            tally.true[mention.kind] += 1
    for label in unmatched:
        tally.misses.append(
            f"{label['kind']:6} {label['value']!r} at {label['start']}-{label['end']} in {where}"
        )


# (b) the set the project wrote


def score_written(paths: list[Path]) -> Tally:
    tally = Tally()
    for path in paths:
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if not line.strip():
                continue
            case = json.loads(line)
            expected = Counter((e["kind"], e["value"]) for e in case["expected"])
            context = ExtractionContext(default_region=case.get("default_region"))
            found = Counter((m.kind, m.value) for m in extract_identifiers(case["text"], context))
            where = f"{path.name}:{number}"
            for (kind, value), count in expected.items():
                tally.gold[kind] += count
                true = min(count, found.get((kind, value), 0))
                tally.misses.extend([f"{kind:6} {value!r} in {where}"] * (count - true))
            for (kind, value), count in found.items():
                tally.found[kind] += count
                true = min(count, expected.get((kind, value), 0))
                tally.true[kind] += true
                tally.false_hits.extend([f"{kind:6} {value!r} in {where}"] * (count - true))
    return tally


def report(title: str, tally: Tally, quiet: bool) -> bool:
    print(f"\n{title}")
    met = True
    for kind, gold, found, precision, recall in tally.rows():
        ok = precision >= PRECISION_TARGET and recall >= RECALL_TARGET
        met = met and ok
        print(
            f"  {kind:8} gold {gold:4} found {found:4} precision {precision:.3f} "
            f"recall {recall:.3f}  {'ok' if ok else 'BELOW TARGET'}"
        )
    if not quiet:
        for heading, lines in (("misses", tally.misses), ("false hits", tally.false_hits)):
            if lines:
                print(f"  {heading} ({len(lines)}):")
                for entry in lines:
                    print(f"    {entry}")
    return met


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--set", choices=("corpus", "written", "both"), default="both")
    parser.add_argument("--corpus", type=Path, default=CORPUS, help="the shared corpus folder")
    parser.add_argument("--quiet", action="store_true", help="figures only, no lists")
    options = parser.parse_args()
    met = True
    print(f"targets: precision >= {PRECISION_TARGET}, recall >= {RECALL_TARGET}")
    if options.set in ("corpus", "both"):
        tally = score_corpus(CORPUS_GOLD, options.corpus)
        met = report("(a) hand labels on corpus text: " + CORPUS_GOLD.name, tally, options.quiet)
    if options.set in ("written", "both"):
        paths = sorted(GOLD.glob("identifiers_written*.jsonl"))
        names = ", ".join(p.name for p in paths)
        met = report(f"(b) written set: {names}", score_written(paths), options.quiet) and met
    print("\nall targets met" if met else "\nsome targets missed")


if __name__ == "__main__":
    main()
