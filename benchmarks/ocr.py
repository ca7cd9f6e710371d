"""OCR: character accuracy on the scans with ground truth, against tesseract run directly.

Files (../shared/corpus/ocr, see its README): the UNLV-ISRI magazine pages 8071_093.3B and
8087_054.3B, eurotext (six languages) and phototest from tesseract's tests, and from
OCRmyPDF's tests linn.png and skew.pdf (the same page, scanned askew, inside a PDF without
a text layer) against linn.txt, which is itself OCR output: an approximate reference.

Ours: images through ``OcrReader.read_image`` (caselens' one preprocessing), the PDF
through ``PdfIngestor`` as a worker runs it. Peer, in the same run: ``tesseract FILE
stdout -l LANGS`` on the same file (the PDF page rendered by ``pdftoppm -r 300 -gray``
first, as tesseract reads no PDF). Both with OMP_THREAD_LIMIT=1, as caselens runs it.

Accuracy = 1 - Levenshtein(output, truth) / len(truth), whitespace folded to single
spaces on both sides ("acc"). The UNLV truth is ASCII-only (straight quotes, "--" dashes)
while tesseract writes typographic quotes; "acc_q" also folds quotes, apostrophes and
dashes to ASCII on both sides. The UNLV truth covers only the zones of each page's
``.uzn`` file (headlines and captions outside them are not in it): a second table reads
each zone alone, as the UNLV protocol does. One configuration for every file.

    python benchmarks/ocr.py [--languages eng+deu+fra+ita+spa+por]
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PIL import Image

from caselens.ingest.formats.pdf import PdfIngestor
from caselens.ingest.harness import CASE_ID, source_for
from caselens.ingest.sink import Sink
from caselens.ocr import OcrReader
from caselens.ocr.engine import tool_environment
from caselens.store.blobs import Readable
from caselens.store.hashing import Digests

ROOT = Path(__file__).resolve().parents[1]
OCR = (ROOT / ".." / "shared" / "corpus" / "ocr").resolve()
RESULTS = ROOT / "benchmarks" / "results" / "ocr.json"
# The languages the corpus needs (eurotext: English, German, French, Italian, Spanish,
# Portuguese), used for every file alike.
CORPUS_LANGUAGES = "eng+deu+fra+ita+spa+por"
TARGET = 0.94

# (label, input, ground truth, exact truth?)
FILES = [
    ("phototest", "tesseract/phototest.tif", "tesseract/phototest.txt", True),
    ("eurotext", "tesseract/eurotext.tif", "tesseract/eurotext.txt", True),
    ("8071_093.3B", "tesseract/8071_093.3B.tif", "tesseract/8071_093.3B.txt", True),
    ("8087_054.3B", "tesseract/8087_054.3B.tif", "tesseract/8087_054.3B.txt", True),
    ("linn.png", "ocrmypdf/linn.png", "ocrmypdf/linn.txt", False),
    ("skew.pdf", "ocrmypdf/skew.pdf", "ocrmypdf/linn.txt", False),
]
UNLV = ["8071_093.3B", "8087_054.3B"]
QUOTES = str.maketrans(
    {
        "“": '"',
        "”": '"',
        "„": '"',
        "«": '"',
        "»": '"',
        "‘": "'",
        "’": "'",
        "‚": "'",
        "—": "--",
        "–": "-",
    }
)


def distance(a: str, b: str) -> int:
    """Levenshtein distance: rapidfuzz when installed, else a two-row dynamic programme."""
    try:
        from rapidfuzz.distance import Levenshtein
    except ImportError:
        previous = list(range(len(b) + 1))
        for i, char_a in enumerate(a, 1):
            current = [i]
            for j, char_b in enumerate(b, 1):
                current.append(
                    min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b))
                )
            previous = current
        return previous[-1]
    return int(Levenshtein.distance(a, b))


def fold(text: str) -> str:
    return " ".join(text.split())


def accuracy(output: str, truth: str, quotes: bool = False) -> float:
    if quotes:
        output, truth = output.translate(QUOTES), truth.translate(QUOTES)
    output, truth = fold(output), fold(truth)
    return 1.0 - distance(output, truth) / max(len(truth), 1)


def ours_image(reader: OcrReader, path: Path) -> str:
    with Image.open(path) as image:
        return reader.read_image(image, timeout=600).text


def ours_pdf(languages: tuple[str, ...], path: Path) -> str:
    with tempfile.TemporaryDirectory() as work:
        source, store = source_for(path, Path(work))
        source = dataclasses.replace(source, ocr_languages=languages)

        def store_child(stream: Readable) -> Digests:
            return store.put_stream(stream, head_size=0, keep_limit=0).digests

        sink = Sink(CASE_ID, source.item_id, source.limits, store_child, source.size)
        PdfIngestor().ingest(source, sink)
        return "\n".join(sink.pages[page] for page in sorted(sink.pages))


def peer(languages: str, path: Path) -> str:
    """Tesseract called directly with its defaults (a PDF page rendered by pdftoppm)."""
    command = ["tesseract", str(path), "stdout", "-l", languages]
    image: bytes | None = None
    if path.suffix == ".pdf":
        image = subprocess.run(
            ["pdftoppm", "-r", "300", "-gray", "-png", "-f", "1", "-l", "1", str(path)],
            capture_output=True,
            check=True,
        ).stdout
        command[1] = "stdin"
    done = subprocess.run(
        command, input=image, capture_output=True, check=True, env=tool_environment()
    )
    return done.stdout.decode("utf-8", "replace")


def timed(read: Callable[[], str]) -> tuple[str, float]:
    started = time.perf_counter()
    text = read()
    return text, time.perf_counter() - started


def zones(path: Path) -> list[tuple[int, int, int, int]]:
    boxes = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if len(parts) >= 4:
            x, y, width, height = (int(value) for value in parts[:4])
            boxes.append((x, y, x + width, y + height))
    return boxes


def zone_rows(reader: OcrReader) -> list[dict[str, Any]]:
    """The UNLV pages read zone by zone (the truth's order), with the same configuration."""
    rows: list[dict[str, Any]] = []
    for label in UNLV:
        truth = (OCR / "tesseract" / f"{label}.txt").read_text("utf-8")
        parts = []
        started = time.perf_counter()
        with Image.open(OCR / "tesseract" / f"{label}.tif") as page:
            for box in zones(OCR / "tesseract" / f"{label}.uzn"):
                zone = page.crop(box)
                parts.append(reader.read_image(zone, timeout=600).text)
        seconds = time.perf_counter() - started
        output = "\n".join(parts)
        rows.append(
            {
                "file": label,
                "acc": accuracy(output, truth),
                "acc_q": accuracy(output, truth, quotes=True),
                "seconds": seconds,
            }
        )
    return rows


def summary(values: list[float]) -> str:
    return f"mean {statistics.mean(values):.4f}  median {statistics.median(values):.4f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--languages", default=CORPUS_LANGUAGES, help="tesseract -l value")
    parser.add_argument("--no-zones", action="store_true", help="skip the UNLV zone table")
    options = parser.parse_args()
    if shutil.which("tesseract") is None:
        print("tesseract is not installed (apt-get install tesseract-ocr)", file=sys.stderr)
        return 2
    if not OCR.is_dir():
        print(f"corpus not found: {OCR}", file=sys.stderr)
        return 2
    languages = tuple(options.languages.split("+"))
    reader = OcrReader(languages)
    if reader.skip_reason or reader.notes:
        print(reader.skip_reason or "; ".join(reader.notes), file=sys.stderr)
        return 2

    rows: list[dict[str, Any]] = []
    for label, name, truth_name, exact in FILES:
        path = OCR / name
        truth = (OCR / truth_name).read_text("utf-8")
        if path.suffix == ".pdf":
            ours, ours_seconds = timed(functools.partial(ours_pdf, languages, path))
        else:
            ours, ours_seconds = timed(functools.partial(ours_image, reader, path))
        theirs, peer_seconds = timed(functools.partial(peer, options.languages, path))
        rows.append(
            {
                "file": label,
                "exact_truth": exact,
                "acc": accuracy(ours, truth),
                "acc_q": accuracy(ours, truth, quotes=True),
                "seconds": ours_seconds,
                "peer_acc": accuracy(theirs, truth),
                "peer_acc_q": accuracy(theirs, truth, quotes=True),
                "peer_seconds": peer_seconds,
            }
        )

    print(f"{reader.engine}, -l {options.languages}, one page per file, OMP_THREAD_LIMIT=1")
    print(
        f"{'file':14} {'acc':>7} {'acc_q':>7} {'s/page':>7} │ "
        f"{'peer acc':>8} {'acc_q':>7} {'s/page':>7}"
    )
    for row in rows:
        mark = "" if row["exact_truth"] else "  (approximate truth)"
        print(
            f"{row['file']:14} {row['acc']:7.4f} {row['acc_q']:7.4f} {row['seconds']:7.2f} │ "
            f"{row['peer_acc']:8.4f} {row['peer_acc_q']:7.4f} {row['peer_seconds']:7.2f}{mark}"
        )
    for title, chosen in (
        ("all files", rows),
        ("exact truth only", [row for row in rows if row["exact_truth"]]),
    ):
        print(f"{title}:")
        for key, name in (("acc", "caselens acc  "), ("acc_q", "caselens acc_q")):
            print(f"  {name} {summary([row[key] for row in chosen])}")
        for key, name in (("peer_acc", "tesseract acc "), ("peer_acc_q", "tesseract acc_q")):
            print(f"  {name} {summary([row[key] for row in chosen])}")
    ours_rate = statistics.mean(row["seconds"] for row in rows)
    peer_rate = statistics.mean(row["peer_seconds"] for row in rows)
    print(
        f"seconds per page: caselens {ours_rate:.2f}, tesseract {peer_rate:.2f} "
        f"(ratio {ours_rate / peer_rate:.2f})"
    )
    mean_accuracy = statistics.mean(row["acc"] for row in rows)
    print(
        f"target: mean acc >= {TARGET}: {'met' if mean_accuracy >= TARGET else 'NOT met'} "
        f"({mean_accuracy:.4f})"
    )

    zone_table: list[dict[str, Any]] = []
    if not options.no_zones:
        zone_table = zone_rows(reader)
        print("UNLV pages read zone by zone (the truth's own protocol), same configuration:")
        for row in zone_table:
            print(
                f"  {row['file']:14} acc {row['acc']:.4f}  acc_q {row['acc_q']:.4f}  "
                f"{row['seconds']:.2f} s"
            )

    report = {
        "engine": reader.engine,
        "languages": options.languages,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "files": rows,
        "zones": zone_table,
        "mean_acc": mean_accuracy,
        "median_acc": statistics.median(row["acc"] for row in rows),
        "seconds_per_page": ours_rate,
        "peer_seconds_per_page": peer_rate,
    }
    RESULTS.parent.mkdir(exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
