"""Cross-case hits at scale: a new case's selectors checked against a large index.

The installation gets ``--cases`` cases (1,000) holding ``--selectors`` selectors
(10,000,000) between them in the installation-wide selector index, each case its own
random phone numbers, e-mail addresses and IBAN-shaped values. Then, ``--repeat`` times,
a new case arrives with ``--new`` selectors (100,000), ``--overlap`` of them (2 %) taken
from other cases at random, and is timed through the same code an ingest run uses:

- index: its selectors written into the index (``prepare_index_insert``, as the ingest
  writer does with each batch);
- find: ``find_hits`` (the sweep that records each shared selector for both sides);
- announce: ``announce`` (the hits written into every involved case's audit log).

The target (issue 6) is index + find + announce ≤ 5 s; medians are reported.

    python benchmarks/hits.py [--database-url postgresql+psycopg://…/EMPTY_DB] [--selectors N]

On PostgreSQL give an empty database made for the run (``createdb caselens_bench``): the
tables are created there and left behind with their 10M rows.
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

import numpy as np
from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from caselens.actor import Actor  # noqa: E402
from caselens.config import Settings  # noqa: E402
from caselens.db.bulk import bulk_insert  # noqa: E402
from caselens.db.schema import cases, cross_hits, selector_index  # noqa: E402
from caselens.db.types import utcnow  # noqa: E402
from caselens.hits.found import announce, find_hits  # noqa: E402
from caselens.hits.index import prepare_index_insert  # noqa: E402
from caselens.services import Caselens  # noqa: E402

ADMIN = Actor(user="admin", purpose="benchmark", os_user="admin")
CHUNK = 100_000
KINDS = ("phone", "email", "iban")


def selector(number: int) -> tuple[str, str]:
    """A distinct, realistic-looking selector for each number."""
    kind = KINDS[number % 3]
    if kind == "phone":
        return kind, f"+44{7_000_000_000 + number % 999_999_999:010d}"
    if kind == "email":
        return kind, f"user{number}@example.org"
    return kind, f"GB{number % 97:02d}BANK{number:014d}"


def load_background(app: Caselens, case_ids: list[str], total: int, seed: int) -> np.ndarray:
    """Write ``total`` selectors spread evenly over the cases; return the numbers used."""
    rng = np.random.default_rng(seed)
    per_case = total // len(case_ids)
    numbers = rng.choice(10 * total, size=per_case * len(case_ids), replace=False)
    now = utcnow()
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    for position, number in enumerate(numbers.tolist()):
        kind, value = selector(number)
        case_id = case_ids[position // per_case]
        rows.append({"kind": kind, "value": value, "case_id": case_id, "first_seen": now})
        if len(rows) == CHUNK:
            with app.runtime.transaction() as connection:
                bulk_insert(connection, selector_index, rows)
            rows = []
            done = position + 1
            rate = done / (time.perf_counter() - started)
            print(f"  loaded {done:,} selectors ({rate:,.0f}/s)", end="\r", flush=True)
    if rows:
        with app.runtime.transaction() as connection:
            bulk_insert(connection, selector_index, rows)
    print()
    return numbers


def new_case_selectors(
    background: np.ndarray, count: int, overlap: float, seed: int
) -> set[tuple[str, str]]:
    rng = np.random.default_rng(seed)
    shared = int(count * overlap)
    taken = rng.choice(background, size=shared, replace=False)
    fresh = rng.integers(20 * len(background), 40 * len(background), size=count - shared)
    return {selector(number) for number in np.concatenate([taken, fresh]).tolist()}


def arrival(app: Caselens, case_id: str, found: set[tuple[str, str]]) -> dict[str, float]:
    timings: dict[str, float] = {}
    dialect = app.runtime.engine.dialect.name
    started = time.perf_counter()
    prepared = prepare_index_insert(dialect, case_id, found, utcnow())
    with app.runtime.transaction() as connection:
        prepared.execute(connection)
    timings["index"] = time.perf_counter() - started
    with app.runtime.transaction() as connection:
        started = time.perf_counter()
        new = find_hits(connection, case_id)
        timings["find"] = time.perf_counter() - started
        started = time.perf_counter()
        announced = announce(connection, app.runtime.signer, ADMIN)
        timings["announce"] = time.perf_counter() - started
    timings["total"] = timings["index"] + timings["find"] + timings["announce"]
    timings["hits"] = new
    timings["announced"] = announced
    return timings


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="PostgreSQL URL (default: SQLite in a temp dir)")
    parser.add_argument("--cases", type=int, default=1000)
    parser.add_argument("--selectors", type=int, default=10_000_000)
    parser.add_argument("--new", type=int, default=100_000)
    parser.add_argument("--overlap", type=float, default=0.02)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--out", type=Path, help="write the results as JSON here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="caselens-bench-hits-") as home:
        app = Caselens(Settings(home=Path(home), database_url=args.database_url))
        engine = app.runtime.engine.dialect.name
        app.users.init(ADMIN)
        print(f"{engine}: {args.cases} cases, {args.selectors:,} selectors")
        started = time.perf_counter()
        for number in range(args.cases + args.repeat):
            app.cases.create(ADMIN, f"BG-{number:05d}", "background", default_purpose="bench")
        with app.runtime.transaction() as connection:
            ids = dict(connection.execute(select(cases.c.reference, cases.c.id)).all())
        background_ids = [ids[f"BG-{n:05d}"] for n in range(args.cases)]
        background = load_background(app, background_ids, args.selectors, seed=1)
        load_seconds = time.perf_counter() - started
        print(f"  loaded in {load_seconds:.0f} s")
        runs = []
        for run in range(args.repeat):
            found = new_case_selectors(background, args.new, args.overlap, seed=100 + run)
            timings = arrival(app, ids[f"BG-{args.cases + run:05d}"], found)
            runs.append(timings)
            print(
                f"  run {run + 1}: index {timings['index']:.2f} s, find {timings['find']:.2f} s, "
                f"announce {timings['announce']:.2f} s = {timings['total']:.2f} s "
                f"({timings['hits']:,.0f} hit pairs)"
            )
        with app.runtime.transaction() as connection:
            indexed = connection.execute(select(func.count()).select_from(selector_index))
            total_indexed = int(indexed.scalar_one())
            hit_rows = connection.execute(select(func.count()).select_from(cross_hits))
            total_hits = int(hit_rows.scalar_one())
        app.close()
    median = {key: statistics.median(r[key] for r in runs) for key in runs[0]}
    print(
        f"median: index {median['index']:.2f} s, find {median['find']:.2f} s, announce "
        f"{median['announce']:.2f} s, total {median['total']:.2f} s "
        f"(target ≤ 5 s: {median['total'] / 5:.2f}× of the budget); "
        f"{total_indexed:,} selectors, {total_hits:,} hit rows"
    )
    if args.out:
        result = {
            "engine": engine,
            "cases": args.cases,
            "selectors": args.selectors,
            "new": args.new,
            "overlap": args.overlap,
            "load_seconds": load_seconds,
            "runs": runs,
            "median": median,
        }
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
