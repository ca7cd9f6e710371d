"""Ingest throughput against a floor measured in the same run.

Ingests the unpacked Enron maildir (many small files) and the document folder (larger
files) of ../shared/corpus into fresh installations, with 1 and 2 workers, and compares
files/s and MB/s with the floor: reading and SHA-256-hashing the same files with no
database (``sha256sum`` run by ``xargs -P`` with as many processes as workers).
Medians of --repeat runs are reported, with their ratio to the floor.

Modes: "intake" runs only the plain-text ingestor (and the fallback), no analysis and no
search index, so it measures acquisition itself: hashing, storing, detection, custody and
the rows, as the foundation issue defines it; "full" runs every format parser (e-mail,
PDF, Office...), the identifier extractors, language detection and the search index;
"names" is "full" with the spaCy name extractor as well (slow: run it with --repeat 1).

    python benchmarks/ingest.py [--repeat 3] [--workers 1,2] [--modes intake,full,names]
                                [--data enron,documents]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = (ROOT / ".." / "shared" / "corpus").resolve()
CASELENS = [sys.executable, "-m", "caselens"]


def count_files(root: Path) -> tuple[int, int]:
    files = size = 0
    for folder, _, names in os.walk(root):
        for name in names:
            path = os.path.join(folder, name)
            if os.path.isfile(path) and not os.path.islink(path):
                files += 1
                size += os.path.getsize(path)
    return files, size


def floor_seconds(root: Path, workers: int, files: int) -> float:
    """Read and SHA-256-hash every file, no database: the least any ingest must do."""
    per_process = str(max(1, -(-files // workers)))  # the files split evenly over processes
    started = time.perf_counter()
    find = subprocess.Popen(["find", str(root), "-type", "f", "-print0"], stdout=subprocess.PIPE)
    subprocess.run(
        ["xargs", "-0", "-P", str(workers), "-n", per_process, "sha256sum"],
        stdin=find.stdout,
        stdout=subprocess.DEVNULL,
        check=True,
    )
    find.wait()
    return time.perf_counter() - started


FULL = {"CASELENS_INGESTORS": "[]", "CASELENS_ANALYZE": "true", "CASELENS_INDEX_TEXT": "true"}
MODES = {
    "intake": {
        "CASELENS_INGESTORS": '["text"]',
        "CASELENS_ANALYZE": "false",
        "CASELENS_INDEX_TEXT": "false",
    },
    "full": {**FULL, "CASELENS_NAMES": "false"},
    "names": {**FULL, "CASELENS_NAMES": "true"},
}


def ingest_seconds(root: Path, workers: int, scratch: Path, mode: str) -> dict[str, float]:
    home = Path(tempfile.mkdtemp(dir=scratch, prefix="home-"))
    env = {**os.environ, "CASELENS_HOME": str(home), **MODES[mode]}
    env.pop("CASELENS_DATABASE_URL", None)
    run = lambda *args: subprocess.run(  # noqa: E731
        [*CASELENS, *args], env=env, check=True, capture_output=True, text=True
    )
    run("init")
    run("case", "create", "BENCH", "--title", "benchmark", "--default-purpose", "benchmark")
    started = time.perf_counter()
    out = run("ingest", "BENCH", str(root), "--workers", str(workers), "--json").stdout
    wall = time.perf_counter() - started
    summary = json.loads(out)
    # Homes are removed only at the end: ext4 skips recently freed inodes when it
    # allocates new ones, so deleting 20,000 files just before a run slows that run.
    return {"seconds": summary["seconds"], "wall": wall, "processed": summary["processed"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--workers", default="1,2")
    parser.add_argument("--modes", default="intake,full")
    parser.add_argument("--data", default="enron,documents", help="data sets: enron,documents")
    parser.add_argument(
        "--scratch", type=Path, default=None, help="where the installations go (default: TMPDIR)"
    )
    options = parser.parse_args()
    if not CORPUS.is_dir():
        sys.exit(f"corpus not found at {CORPUS}")
    worker_counts = [int(w) for w in options.workers.split(",")]
    modes = options.modes.split(",")
    scratch = Path(tempfile.mkdtemp(prefix="caselens-bench-", dir=options.scratch))
    data_sets: dict[str, Path] = {}
    chosen = options.data.split(",")
    if "enron" in chosen:
        enron = scratch / "enron"
        with tarfile.open(CORPUS / "mail" / "enron-maildir-a.tar.gz") as archive:
            archive.extractall(enron, filter="data")
        data_sets["enron maildir"] = enron
    if "documents" in chosen:
        data_sets["documents"] = CORPUS / "documents"
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    )
    results = []
    for label, root in data_sets.items():
        files, size = count_files(root)
        floor_seconds(root, 1, files)  # warm the page cache for both sides
        for mode in modes:
            for workers in worker_counts:
                floors = [floor_seconds(root, workers, files) for _ in range(options.repeat)]
                runs = [ingest_seconds(root, workers, scratch, mode) for _ in range(options.repeat)]
                seconds = statistics.median(r["seconds"] for r in runs)
                floor = statistics.median(floors)
                row = {
                    "data": label,
                    "mode": mode,
                    "files": files,
                    "megabytes": round(size / 1e6, 1),
                    "workers": workers,
                    "files_per_s": round(files / seconds, 1),
                    "mb_per_s": round(size / 1e6 / seconds, 2),
                    "floor_files_per_s": round(files / floor, 1),
                    "floor_mb_per_s": round(size / 1e6 / floor, 2),
                    "floor_ratio": round(seconds / floor, 2),
                    "runs_seconds": [round(r["seconds"], 2) for r in runs],
                }
                results.append(row)
                print(
                    f"{label:14} {mode:6} workers={workers}: {row['files_per_s']:8,.0f} files/s "
                    f"{row['mb_per_s']:7.2f} MB/s | floor {row['floor_files_per_s']:9,.0f} "
                    f"files/s {row['floor_mb_per_s']:7.1f} MB/s | {row['floor_ratio']}x the "
                    f"floor's time (runs {row['runs_seconds']})",
                    flush=True,
                )
    for label in data_sets:
        for mode in modes:
            by_workers = {
                r["workers"]: r for r in results if r["data"] == label and r["mode"] == mode
            }
            if 1 in by_workers and 2 in by_workers:
                speedup = by_workers[2]["files_per_s"] / by_workers[1]["files_per_s"]
                print(f"{label} ({mode}): speed-up from 1 to 2 workers {speedup:.2f}x")
    out = ROOT / "benchmarks" / "results"
    out.mkdir(exist_ok=True)
    (out / "ingest.json").write_text(json.dumps(results, indent=2))
    subprocess.run(["rm", "-rf", str(scratch)], check=True)


if __name__ == "__main__":
    main()
