"""Precision, recall and F1 of name extraction on the WNUT-17 test set, per kind.

The set (``../shared/corpus/ner/wnut17/emerging.test.annotated``, CC-BY-4.0, Derczynski et
al. 2017) is 1,287 English tweets, Reddit, YouTube and Stack Overflow comments in CoNLL
form, labelled person, corporation, location, group, product and creative-work. Each text
is rebuilt by joining its tokens with single spaces and read by ``NameExtractor().find``,
the code path of the pipeline (language detection, chunking and the junk filter included).

Label mapping:
  person → person; location → location; corporation → organization;
  group → organization: WNUT's "group" is bands, sports teams, parties and other
    non-corporate organisations, which OntoNotes (the model's training data) and
    FollowTheMoney (Organization) both count as organisations. The "corporation only"
    line scores organizations against corporation alone, ignoring predictions that fall
    on a group span, for comparison.
  product, creative-work: not names of our kinds. A prediction on such a span is a false
    positive like any other (an "iPhone" taken for an organisation is an error); how many
    there are is printed.

Matching: exact (same kind, same character span) and lenient (same kind, spans overlap;
each gold name matched at most once). Writes nothing.

    python benchmarks/ner.py
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from caselens.extract.base import ExtractionContext
from caselens.extract.names import NameExtractor

ROOT = Path(__file__).resolve().parents[1]
TEST_SET = (
    ROOT / ".." / "shared" / "corpus" / "ner" / "wnut17" / "emerging.test.annotated"
).resolve()
MAPPING = {
    "person": "person",
    "location": "location",
    "corporation": "organization",
    "group": "organization",
}
KINDS = ("person", "organization", "location")

Span = tuple[int, int, str]  # start, end, label


@dataclass(frozen=True)
class Text:
    text: str
    gold: list[Span]  # WNUT labels, unmapped


def read_conll(path: Path) -> list[Text]:
    texts: list[Text] = []
    tokens: list[tuple[str, str]] = []
    for line in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        if line.strip():
            token, _, tag = line.rpartition("\t")
            tokens.append((token, tag.strip()))
        elif tokens:
            texts.append(_build(tokens))
            tokens = []
    return texts


def _build(tokens: list[tuple[str, str]]) -> Text:
    parts: list[str] = []
    gold: list[Span] = []
    offset = 0
    current: list[int | str] | None = None  # start, end, label of the open entity
    for token, tag in tokens:
        start, end = offset, offset + len(token)
        if tag.startswith("I-") and current is not None and current[2] == tag[2:]:
            current[1] = end
        else:
            if current is not None:
                gold.append((int(current[0]), int(current[1]), str(current[2])))
            current = [start, end, tag[2:]] if tag[:2] in ("B-", "I-") else None
        parts.append(token)
        offset = end + 1
    if current is not None:
        gold.append((int(current[0]), int(current[1]), str(current[2])))
    return Text(" ".join(parts), gold)


@dataclass
class Score:
    gold: Counter[str]
    found: Counter[str]
    true_precision: Counter[str]  # predictions matched
    true_recall: Counter[str]  # gold names matched

    def row(self, kind: str) -> tuple[int, int, float, float, float]:
        precision = self.true_precision[kind] / self.found[kind] if self.found[kind] else 0.0
        recall = self.true_recall[kind] / self.gold[kind] if self.gold[kind] else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        return self.gold[kind], self.found[kind], precision, recall, f1


def score(
    texts: list[Text],
    predictions: list[list[Span]],
    mapping: dict[str, str],
    ignored_labels: frozenset[str],
    *,
    lenient: bool,
) -> Score:
    result = Score(Counter(), Counter(), Counter(), Counter())
    for text, predicted in zip(texts, predictions, strict=True):
        gold = [(s, e, mapping[label]) for s, e, label in text.gold if label in mapping]
        ignored = [(s, e) for s, e, label in text.gold if label in ignored_labels]
        kept = [p for p in predicted if not any(_overlaps(p, (s, e, "")) for s, e in ignored)]
        result.gold.update(kind for *_, kind in gold)
        result.found.update(kind for *_, kind in kept)
        matched: set[int] = set()
        for prediction in kept:
            for index, name in enumerate(gold):
                if index in matched or name[2] != prediction[2]:
                    continue
                if name == prediction or (lenient and _overlaps(name, prediction)):
                    matched.add(index)
                    result.true_precision[prediction[2]] += 1
                    result.true_recall[name[2]] += 1
                    break
    return result


def _overlaps(a: Span, b: Span) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def main() -> None:
    texts = read_conll(TEST_SET)
    extractor = NameExtractor()
    context = ExtractionContext()
    list(extractor.find("Warm-up: Angela Merkel visited Paris.", context))  # load the model
    began = time.perf_counter()
    predictions = [
        [(m.start, m.end, m.kind) for m in extractor.find(t.text, context)] for t in texts
    ]
    seconds = time.perf_counter() - began
    characters = sum(len(t.text) for t in texts)

    on_other = sum(
        1
        for text, predicted in zip(texts, predictions, strict=True)
        for p in predicted
        if any(_overlaps(p, g) for g in text.gold if g[2] in ("product", "creative-work"))
    )
    print(f"WNUT-17 test: {len(texts)} texts, {sum(len(t.gold) for t in texts)} gold names")
    print("mapping: person, location; corporation + group -> organization;")
    print("         product, creative-work unscored (predictions on them count as false)")
    header = f"{'kind':<22}{'gold':>6}{'found':>7}{'P':>8}{'R':>8}{'F1':>8}"
    for lenient in (False, True):
        print(f"\n{'lenient (overlap)' if lenient else 'exact span'} match")
        print(header)
        main_score = score(texts, predictions, MAPPING, frozenset(), lenient=lenient)
        totals = Score(Counter(), Counter(), Counter(), Counter())
        for kind in KINDS:
            print(_line(kind, main_score.row(kind)))
            for field in ("gold", "found", "true_precision", "true_recall"):
                getattr(totals, field)["all"] += getattr(main_score, field)[kind]
        print(_line("all", totals.row("all")))
        corporation_only = {k: v for k, v in MAPPING.items() if k != "group"}
        variant = score(texts, predictions, corporation_only, frozenset({"group"}), lenient=lenient)
        print(_line("organization (corp.)", variant.row("organization")))
    print(f"\npredictions on product / creative-work spans: {on_other}")
    print(
        f"speed: {len(texts) / seconds:.0f} texts/s, {characters / seconds:,.0f} characters/s "
        f"({len(texts)} texts, {characters:,} characters, {seconds:.2f} s, one process)"
    )


def _line(label: str, row: tuple[int, int, float, float, float]) -> str:
    gold, found, precision, recall, f1 = row
    return f"{label:<22}{gold:>6}{found:>7}{precision:>8.3f}{recall:>8.3f}{f1:>8.3f}"


if __name__ == "__main__":
    main()
