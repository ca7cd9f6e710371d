"""Typology detectors on the labelled AMLworld-layout file: speed and what they catch.

Reads ``../shared/corpus/aml/GENTEX-A_Trans.csv.gz`` (1.6M transactions) with the
AMLworld importer, writes it as the Parquet layout every dataset has, and runs each
detector ``--repeat`` times in DuckDB at ``--threads`` threads. Reported per detector:
the median wall time, the alerts, the share of alerts holding at least one labelled
laundering transaction, and how many of the file's labelled laundering attempts of the
same typology (from ``GENTEX-A_Patterns.txt``) share a transaction with an alert.

The detectors are explainable rules with their default parameters, not a trained model:
AMLGentex also generates *ordinary* fan-ins, fan-outs and forwarding chains, which the
rules flag as well. Risk scoring (``aml train``/``aml score``) is what ranks them.

    python benchmarks/aml_detect.py [--data FILE] [--threads 2] [--repeat 3] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from caselens.finance.datasets import sorted_for_storage  # noqa: E402
from caselens.finance.detect import DETECTORS, plan  # noqa: E402
from caselens.finance.detect.run import detect_duckdb  # noqa: E402
from caselens.finance.engines import duckdb_connection  # noqa: E402
from caselens.finance.importers.amlworld import read_amlworld  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "aml" / "GENTEX-A_Trans.csv.gz"
# The Patterns file's names of the typologies that have a detector of their own.
PATTERN_NAMES = {
    "fan_in": "FAN-IN",
    "fan_out": "FAN-OUT",
    "gather_scatter": "GATHER-SCATTER",
    "scatter_gather": "SCATTER-GATHER",
    "cycle": "CYCLE",
    "bipartite": "BIPARTITE",
    "stack": "STACK",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=CORPUS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not args.data.exists():
        sys.exit(f"no data file at {args.data}")

    started = time.perf_counter()
    imported = read_amlworld(args.data)
    read_seconds = time.perf_counter() - started
    table = sorted_for_storage(imported.table)
    labels = dict(zip(table["row"].to_pylist(), table["label"].to_pylist(), strict=True))
    print(
        f"read {table.num_rows:,} rows in {read_seconds:.1f} s; "
        f"{len(imported.attempts)} labelled attempts"
    )
    results: dict[str, Any] = {"rows": table.num_rows, "threads": args.threads, "detectors": {}}
    with tempfile.TemporaryDirectory() as scratch:
        path = Path(scratch) / "transactions.parquet"
        pq.write_table(table, path, compression="zstd", row_group_size=128 * 1024)
        for name in DETECTORS:
            times: list[float] = []
            for _ in range(args.repeat):
                connection = duckdb_connection(threads=args.threads)
                started = time.perf_counter()
                found = detect_duckdb(path, plan([name]), connection=connection)
                times.append(time.perf_counter() - started)
                connection.close()
            with_laundering = sum(1 for f in found if any(labels[r] == 1 for r in f.rows))
            covered = {row for finding in found for row in finding.rows}
            own = [
                attempt
                for attempt in imported.attempts
                if attempt.typology.startswith(PATTERN_NAMES.get(name, "\0"))
            ]
            caught = sum(1 for attempt in own if covered.intersection(attempt.rows))
            figures = {
                "median_seconds": round(statistics.median(times), 3),
                "alerts": len(found),
                "alerts_with_laundering": with_laundering,
                "own_attempts": len(own),
                "own_attempts_caught": caught,
            }
            results["detectors"][name] = figures
            share = with_laundering / len(found) if found else 0.0
            own_text = f"{caught}/{len(own)} of its attempts" if own else "no labelled attempts"
            print(
                f"{name:15} {figures['median_seconds']:7.2f} s  {len(found):6} alerts, "
                f"{share:5.1%} with laundering, {own_text}",
                flush=True,
            )
    total = sum(d["median_seconds"] for d in results["detectors"].values())
    results["total_median_seconds"] = round(total, 2)
    print(f"all detectors: {total:.1f} s ({table.num_rows / total:,.0f} transactions/s)")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
