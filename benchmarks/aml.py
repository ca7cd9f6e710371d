"""Risk scoring on the labelled AMLworld-layout file, against IBM's Graph Feature
Preprocessor (snapml) with the same learner, split and threshold rule.

One run, on ``../shared/corpus/aml/GENTEX-A_Trans.csv.gz`` (1.6M transactions):

- our causal features (``caselens.finance.features``, DuckDB at ``--threads``), timed;
- the peer's: snapml's ``GraphFeaturePreprocessor`` configured as in the AMLworld paper
  (1-day windows for fan, degree and cycles, 6 hours for scatter-gather, simple cycles up
  to 10 hops, vertex statistics), edges streamed in batches of 2,048, timed at the same
  threads; its input is (edge id, source, target, time, amount paid, amount received,
  payment and receiving currency, channel), and its output, the raw columns included,
  is what LightGBM learns from;
- for each of ``--seeds`` seeds, LightGBM on each feature set with the temporal 60/20/20
  split by (time, row), the threshold tuned on the validation part, F1 / precision /
  recall of the laundering class on the last 20%; medians compared;
- ``--scale`` transactions (5,000,000: the file repeated with times shifted past its end)
  scored end to end by ``caselens.finance.model.score`` from Parquet, in a child process
  whose wall time and peak memory are reported.

snapml is proprietary: install it for benchmarks only (``pip install 'caselens[bench]'``).

    python benchmarks/aml.py [--data FILE] [--threads 2] [--seeds 3] [--scale 5000000] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from caselens.finance import model  # noqa: E402
from caselens.finance.datasets import sorted_for_storage  # noqa: E402
from caselens.finance.features import FEATURES  # noqa: E402
from caselens.finance.features.engines import features_duckdb  # noqa: E402
from caselens.finance.importers.amlworld import TIME_FORMAT, read_amlworld  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus" / "aml" / "GENTEX-A_Trans.csv.gz"
DAY, HOUR = 86_400, 3_600
BATCH = 2_048


def peer_input(table: pa.Table) -> np.ndarray[Any, Any]:
    """(edge id, source, target, time, raw features...) as GFP reads them, time-ordered."""
    accounts = pc.unique(
        pa.concat_arrays([table["payer"].combine_chunks(), table["payee"].combine_chunks()])
    )

    def codes(column: str) -> np.ndarray[Any, Any]:
        return pc.index_in(table[column], value_set=accounts).to_numpy(zero_copy_only=False)

    def category(column: str) -> np.ndarray[Any, Any]:
        values = table[column].combine_chunks().dictionary_encode()
        return values.indices.to_numpy(zero_copy_only=False)

    return np.column_stack(
        [
            np.arange(table.num_rows, dtype=np.float64),
            codes("payer"),
            codes("payee"),
            table["ts"].to_numpy(),
            table["amount"].to_numpy(),
            table["amount_received"].to_numpy(),
            category("currency"),
            category("currency_received"),
            category("channel"),
        ]
    ).astype(np.float64)


def peer_features(edges: np.ndarray[Any, Any], threads: int) -> tuple[np.ndarray[Any, Any], float]:
    from snapml import GraphFeaturePreprocessor

    bins = list(range(2, 31))
    preprocessor = GraphFeaturePreprocessor()
    preprocessor.set_params(
        {
            "num_threads": threads,
            "time_window": DAY,
            "vertex_stats": True,
            "vertex_stats_cols": [4, 5],
            "vertex_stats_feats": [0, 1, 2, 3, 4, 8, 9, 10],
            "vertex_stats_tw": DAY,
            "fan": True,
            "fan_tw": DAY,
            "fan_bins": bins,
            "degree": True,
            "degree_tw": DAY,
            "degree_bins": bins,
            "scatter-gather": True,
            "scatter-gather_tw": 6 * HOUR,
            "scatter-gather_bins": bins,
            "temp-cycle": True,
            "temp-cycle_tw": DAY,
            "temp-cycle_bins": bins,
            "lc-cycle": True,
            "lc-cycle_tw": DAY,
            "lc-cycle_len": 10,
            "lc-cycle_bins": list(range(2, 11)),
        }
    )
    started = time.perf_counter()
    parts = [preprocessor.transform(edges[i : i + BATCH]) for i in range(0, len(edges), BATCH)]
    seconds = time.perf_counter() - started
    enriched = np.vstack(parts)
    return enriched[:, 4:], seconds  # without edge id, accounts and time


def scaled(table: pa.Table, rows: int) -> pa.Table:
    """The table repeated with times shifted past its end until it has ``rows`` rows."""
    span = int(pc.max(table["ts"]).as_py()) - int(pc.min(table["ts"]).as_py()) + DAY
    copies, offset = [], 0
    while sum(c.num_rows for c in copies) < rows:
        shifted = table.set_column(
            table.schema.get_field_index("ts"), "ts", pc.add(table["ts"], offset)
        )
        seconds = pa.array(np.asarray(shifted["ts"]) * 1_000_000, pa.int64()).cast(
            pa.timestamp("us", tz="UTC")
        )
        shifted = shifted.set_column(shifted.schema.get_field_index("time"), "time", seconds)
        copies.append(shifted)
        offset += span
    joined = pa.concat_tables(copies).slice(0, rows)
    return joined.set_column(0, "row", pa.array(np.arange(rows, dtype=np.int64)))


def scaled_csv(source: Path, table: pa.Table, rows: int, out: Path) -> None:
    """The AMLworld file ``source`` repeated like :func:`scaled`, as an AMLworld CSV:
    each copy's lines with their timestamps moved on and the rest of each line as it was
    (``table`` is ``source`` read, for the times)."""
    with pa.input_stream(str(source), compression="gzip") as stream:
        lines = pacsv.read_csv(
            stream,
            read_options=pacsv.ReadOptions(column_names=["line"], block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter="\x1f", quote_char=False),
            convert_options=pacsv.ConvertOptions(column_types={"line": pa.string()}),
        )["line"].combine_chunks()
    header, body = lines[0].as_py(), lines.slice(1)
    if len(body) != table.num_rows:
        raise SystemExit(f"{source}: {len(body) - table.num_rows} lines were refused")
    by_row = np.asarray(table["ts"])[np.argsort(np.asarray(table["row"]), kind="stable")]
    rest = pc.list_element(pc.split_pattern(body, ",", max_splits=1), 1)
    span = int(by_row.max()) - int(by_row.min()) + DAY
    with out.open("wb") as sink:
        sink.write((header + "\n").encode())
        written, offset = 0, 0
        while written < rows:
            take = min(len(body), rows - written)
            moments = pa.array((by_row[:take] + offset) * 1_000_000, pa.timestamp("us"))
            text = pc.binary_join_element_wise(
                pc.strftime(moments, format=TIME_FORMAT), rest.slice(0, take), ","
            )
            sink.write(("\n".join(text.to_pylist()) + "\n").encode())
            written, offset = written + take, offset + span


def score_in_child(parquet: Path, model_path: Path, out: Path, threads: int) -> dict[str, Any]:
    code = (
        "import json, resource, sys, time; from pathlib import Path; "
        f"sys.path.insert(0, {str(ROOT / 'src')!r}); from caselens.finance.model import score; "
        "t = time.perf_counter(); "
        f"s = score(Path({str(parquet)!r}), Path({str(model_path)!r}), Path({str(out)!r}), "
        f"threads={threads}); "
        "s['seconds'] = time.perf_counter() - t; "
        # VmHWM, not ru_maxrss: Linux carries ru_maxrss across fork and exec, so it
        # would report this (large) parent's memory as the child's.
        "s['peak_mib'] = int(next(l.split()[1] for l in open('/proc/self/status') "
        "if l.startswith('VmHWM'))) / 1024; "
        "print(json.dumps(s))"
    )
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures["wall_seconds"] = time.perf_counter() - started
    return dict(figures)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=CORPUS)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--scale", type=int, default=5_000_000)
    parser.add_argument("--no-peer", action="store_true", help="skip snapml")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results: dict[str, Any] = {"threads": args.threads}

    table = sorted_for_storage(read_amlworld(args.data).table)
    rows = table.num_rows
    with tempfile.TemporaryDirectory() as scratch_name:
        scratch = Path(scratch_name)
        parquet = scratch / "transactions.parquet"
        pq.write_table(table, parquet, compression="zstd", row_group_size=128 * 1024)

        started = time.perf_counter()
        columns = features_duckdb(parquet, threads=args.threads)
        ours_seconds = time.perf_counter() - started
        truth = np.asarray(columns["label"]) == 1
        ours = np.column_stack([np.asarray(columns[n], dtype=np.float64) for n in FEATURES])
        results["ours"] = {
            "feature_seconds": round(ours_seconds, 2),
            "tx_per_s": round(rows / ours_seconds),
        }
        print(
            f"ours: {rows:,} transactions' features in {ours_seconds:.1f} s "
            f"({rows / ours_seconds:,.0f}/s)",
            flush=True,
        )

        peer = None
        if not args.no_peer:
            edges = peer_input(table)  # same (time, row) order as ours
            peer, peer_seconds = peer_features(edges, args.threads)
            results["peer"] = {
                "feature_seconds": round(peer_seconds, 2),
                "tx_per_s": round(rows / peer_seconds),
            }
            print(
                f"peer: GFP features in {peer_seconds:.1f} s ({rows / peer_seconds:,.0f}/s)",
                flush=True,
            )

        for name, matrix in (("ours", ours), ("peer", peer)):
            if matrix is None:
                continue
            runs = []
            for seed in range(args.seeds):
                fitted = model.fit_temporal(matrix, truth, seed=seed, threads=args.threads)
                runs.append(fitted.test)
                print(f"{name} seed {seed}: test {fitted.test}", flush=True)
            results[name]["runs"] = runs
            results[name]["median_f1"] = statistics.median(r["f1"] for r in runs)
        if peer is not None:
            gain = results["ours"]["median_f1"] - results["peer"]["median_f1"]
            ratio = results["ours"]["tx_per_s"] / results["peer"]["tx_per_s"]
            print(
                f"median F1 ours {results['ours']['median_f1']:.4f} "
                f"peer {results['peer']['median_f1']:.4f} "
                f"({gain * 100:+.1f} points); feature throughput {ratio:.2f}x the peer's"
            )

        model_path = scratch / "model.txt"
        started = time.perf_counter()
        model.train(parquet, model_path, seed=0, threads=args.threads)
        results["train_seconds"] = round(time.perf_counter() - started, 1)
        big = scratch / "scaled.parquet"
        pq.write_table(
            scaled(table, args.scale), big, compression="zstd", row_group_size=128 * 1024
        )
        text = scratch / "scaled.csv"
        scaled_csv(args.data, table, args.scale, text)
        for key, label, data in (("scale", "Parquet", big), ("scale_csv", "AMLworld CSV", text)):
            scored = score_in_child(data, model_path, scratch / "scores.csv", args.threads)
            results[key] = {
                "rows": args.scale,
                **{k: scored[k] for k in ("seconds", "wall_seconds", "peak_mib", "flagged")},
            }
            print(
                f"scored {args.scale:,} transactions end to end in "
                f"{scored['wall_seconds']:.1f} s, peak {scored['peak_mib']:,.0f} MiB ({label})",
                flush=True,
            )
    results["peak_mib_benchmark"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
