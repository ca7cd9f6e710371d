"""DuckDB and Spark give the same alerts from the same detector definitions, on 12,000
generated transactions with every typology planted in ordinary traffic."""

from __future__ import annotations

import random
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from caselens.finance.detect import DETECTORS, plan
from caselens.finance.detect.run import detect_duckdb, detect_spark
from tests.finance.test_trace_rows import write_transactions

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

Payment = tuple[str, str, float, float]
BACKGROUND = 12_000
DAYS = 150


def planted(rng: random.Random) -> list[Payment]:
    """One instance of each typology, at random times, among ordinary payments."""
    payments: list[Payment] = []

    def at() -> float:
        return rng.uniform(0, (DAYS - 10) * 24)

    start = at()
    payments += [(f"FI{i}", "FANIN", rng.uniform(500, 900), start + 9 * i) for i in range(7)]
    start = at()
    payments += [("FANOUT", f"FO{i}", rng.uniform(500, 900), start + 5 * i) for i in range(6)]
    start = at()
    payments += [(f"GS{i}", "GSHUB", 900.0, start + i) for i in range(4)]
    payments += [("GSHUB", f"GD{i}", 850.0, start + 10 + i) for i in range(4)]
    start = at()
    for i in range(4):
        payments += [
            ("SGSRC", f"SGM{i}", 1000.0, start + i),
            (f"SGM{i}", "SGDST", 970.0, start + 8 + i),
        ]
    start = at()
    ring = [f"CY{i}" for i in range(6)]
    payments += [(ring[i], ring[(i + 1) % 6], 3000.0 - 30 * i, start + 6 * i) for i in range(6)]
    start = at()
    payments += [(f"BS{s}", f"BT{t}", 600.0, start + s * 4 + t) for s in range(3) for t in range(4)]
    start = at()
    for first in ("SA1", "SA2"):
        payments += [(first, "SM1", 800.0, start), (first, "SM2", 800.0, start + 1)]
    payments += [(m, z, 790.0, start + 12) for m in ("SM1", "SM2") for z in ("SZ1", "SZ2")]
    start = at()
    payments += [("SMURF", "BANKX", 9_500.0 + 10 * i, start + 20 * i) for i in range(4)]
    start = at()
    for i in range(3):
        payments += [
            (f"VIC{i}", "MULE", 2000.0, start + 5 * i),
            ("MULE", f"CASH{i}", 1900.0, start + 5 * i + 2),
        ]
    payments += [("SLEEPER", "ACC1", 50.0, 1.0)]
    payments += [("SLEEPER", f"ACC{i}", 700.0, (DAYS - 8) * 24 + i) for i in range(2, 6)]
    return payments


def generated(path: Path) -> Path:
    rng = random.Random(20261206)
    accounts = [f"A{i:04d}" for i in range(600)]
    shops = [f"SHOP{i}" for i in range(5)]  # busy accounts the graph typologies leave out
    payments: list[Payment] = []
    for _ in range(BACKGROUND):
        payer = rng.choice(accounts)
        payee = rng.choice(shops) if rng.random() < 0.4 else rng.choice(accounts)
        if payee != payer:
            # Whole minutes, so that payments share seconds and ties must be broken alike.
            hours = round(rng.uniform(0, DAYS * 24) * 60) / 60
            payments.append((payer, payee, round(rng.lognormvariate(5, 1.2), 2), hours))
    payments += planted(rng)
    payments.sort(key=lambda payment: payment[3])
    return write_transactions(path, payments)


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    pytest.importorskip("pyspark")
    if shutil.which("java") is None:
        pytest.skip("Spark needs a Java runtime")
    from caselens.finance.engines import spark_session

    session = spark_session("local[2]", app_name="caselens-tests")
    yield session
    session.stop()


def test_duckdb_and_spark_find_the_same_alerts(spark: SparkSession, tmp_path: Path) -> None:
    path = generated(tmp_path / "generated.parquet")
    # The structuring detector is asked about EUR only, to run its currency filter too.
    chosen = plan(parameters={"structuring": {"currencies": "EUR"}})
    on_duckdb = {f.fingerprint: f for f in detect_duckdb(path, chosen)}
    on_spark = {f.fingerprint: f for f in detect_spark(spark, path, chosen, tmp_path)}
    assert on_duckdb == on_spark
    fired = {finding.typology for finding in on_duckdb.values()}
    assert fired == set(DETECTORS), f"planted typologies not found: {set(DETECTORS) - fired}"
    # The planted instances are found where they were planted.
    anchors = {(f.typology, f.anchor) for f in on_duckdb.values()}
    for expected in [
        ("fan_in", "FANIN"),
        ("fan_out", "FANOUT"),
        ("gather_scatter", "GSHUB"),
        ("scatter_gather", "SGSRC"),
        ("cycle", "CY0"),
        ("stack", "SM1"),
        ("structuring", "SMURF"),
        ("pass_through", "MULE"),
        ("dormant", "SLEEPER"),
        ("bipartite", "BS0"),
    ]:
        assert expected in anchors


def test_duckdb_and_spark_compute_the_same_features(spark: SparkSession, tmp_path: Path) -> None:
    import numpy as np
    import pyarrow.parquet as pq

    from caselens.finance.features import FEATURES
    from caselens.finance.features.engines import features_duckdb, features_spark

    path = generated(tmp_path / "generated.parquet")
    on_duckdb = features_duckdb(path)
    out = tmp_path / "features"
    features_spark(spark, path).write.parquet(str(out))  # written by Spark, not collected
    on_spark = pq.read_table(out).sort_by("row")
    order = np.argsort(on_duckdb["row"], kind="stable")
    assert len(order) >= 10_000
    np.testing.assert_array_equal(np.asarray(on_duckdb["row"])[order], on_spark["row"].to_numpy())
    for name in FEATURES:
        np.testing.assert_allclose(
            np.asarray(on_duckdb[name], dtype=float)[order],
            on_spark[name].to_numpy().astype(float),
            rtol=1e-9,
            err_msg=name,
        )
