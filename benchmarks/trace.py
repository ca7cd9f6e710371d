"""Fund tracing on the labelled AMLworld-layout file: how long a trace takes and how much
of the Parquet file it reads.

One run, on ``../shared/corpus/aml/GENTEX-A_Trans.csv.gz`` (1.6M transactions) written
once as a Parquet dataset (as ``caselens tx import`` stores it):

- ``--traces`` forward traces of ``--hops`` hops, each starting from one laundering
  transaction (the first ``--traces`` labelled ones in time order), for each allocation
  method (FIFO, LIFO, pro rata), and the same number of backward traces from the
  accounts those transactions paid;
- per method and direction: wall time p50 / p95 / max, rows read p50 / max, flows p50,
  and how many traces reached a bound;
- the floor beside it: one full scan of the file in the same DuckDB (what a trace that
  read everything would at least cost), so a trace's time reads as a ratio of a scan.

    python benchmarks/trace.py [--data FILE] [--traces 50] [--hops 5] [--json OUT]
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

import pyarrow.compute as pc
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from caselens.finance.datasets import sorted_for_storage  # noqa: E402
from caselens.finance.engines import duckdb_connection  # noqa: E402
from caselens.finance.importers.amlworld import read_amlworld  # noqa: E402
from caselens.finance.trace import Direction, TraceRequest, trace  # noqa: E402
from caselens.finance.trace_ledger import Method  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "aml" / "GENTEX-A_Trans.csv.gz"


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def full_scan_seconds(parquet: Path) -> float:
    connection = duckdb_connection(threads=2)
    timings = []
    for _ in range(3):
        started = time.perf_counter()
        connection.execute(
            "SELECT count(*), sum(amount) FROM read_parquet(?)", [str(parquet)]
        ).fetchall()
        timings.append(time.perf_counter() - started)
    connection.close()
    return statistics.median(timings)


def run(parquet: Path, requests: list[TraceRequest]) -> dict[str, Any]:
    seconds, rows_read, flows, bounded = [], [], [], 0
    for request in requests:
        started = time.perf_counter()
        result = trace(parquet, request)
        seconds.append(time.perf_counter() - started)
        rows_read.append(float(result.stats["rows_read"]))
        flows.append(float(len(result.flows)))
        bounded += int(bool(result.stats.get("truncated")))
    return {
        "traces": len(requests),
        "p50_s": round(percentile(seconds, 0.5), 3),
        "p95_s": round(percentile(seconds, 0.95), 3),
        "max_s": round(max(seconds), 3),
        "rows_read_p50": int(percentile(rows_read, 0.5)),
        "rows_read_max": int(max(rows_read)),
        "flows_p50": int(percentile(flows, 0.5)),
        "reached_a_bound": bounded,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=CORPUS)
    parser.add_argument("--traces", type=int, default=50)
    parser.add_argument("--hops", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()

    table = sorted_for_storage(read_amlworld(args.data).table)
    laundering = table.filter(pc.equal(table["label"], 1)).slice(0, args.traces)
    seeds = laundering["row"].to_pylist()
    payees = laundering["payee"].to_pylist()
    results: dict[str, Any] = {"rows": table.num_rows, "hops": args.hops}
    with tempfile.TemporaryDirectory() as scratch:
        parquet = Path(scratch) / "transactions.parquet"
        pq.write_table(table, parquet, compression="zstd", row_group_size=128 * 1024)
        results["full_scan_s"] = round(full_scan_seconds(parquet), 3)
        print(f"floor: one full scan of {table.num_rows:,} rows in {results['full_scan_s']} s")
        for method in Method:
            for direction, requests in (
                (
                    Direction.FORWARD,
                    [TraceRequest(row=row, hops=args.hops, method=method) for row in seeds],
                ),
                (
                    Direction.BACKWARD,
                    [
                        TraceRequest(
                            account=payee, direction=Direction.BACKWARD, hops=args.hops,
                            method=method,
                        )
                        for payee in payees
                    ],
                ),
            ):  # fmt: skip
                figures = run(parquet, requests)
                figures["p50_over_full_scan"] = round(figures["p50_s"] / results["full_scan_s"], 2)
                results[f"{direction.value}_{method.value}"] = figures
                print(f"{direction.value} {method.value}: {figures}", flush=True)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
