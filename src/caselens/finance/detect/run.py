"""Running detectors on a dataset's Parquet file, in DuckDB (default) or Spark.

Spark writes each detector's findings as Parquet into a scratch directory and they are
read back from there: the transactions stay in Spark's plans, and only the findings —
a few rows per alert — ever reach this process.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow.parquet as pq

from caselens.finance.detect import Plan
from caselens.finance.detect.base import DUCKDB, FINDING_COLUMNS, SPARK, Detector, Finding
from caselens.finance.engines import duckdb_connection, register_duckdb, register_spark

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def detect_duckdb(
    path: Path, chosen: Plan, *, connection: duckdb.DuckDBPyConnection | None = None
) -> list[Finding]:
    """Every finding of the ``chosen`` detectors on the Parquet file at ``path``."""
    connection = connection or duckdb_connection()
    register_duckdb(connection, path)
    findings: list[Finding] = []
    for detector, values in chosen:
        result = connection.execute(detector.query(values, DUCKDB))
        names = [column[0] for column in result.description or ()]
        records = [dict(zip(names, values_, strict=True)) for values_ in result.fetchall()]
        findings.extend(_findings(detector, values, records))
    return findings


def detect_spark(spark: SparkSession, path: Path, chosen: Plan, scratch: Path) -> list[Finding]:
    """The same on Spark: ``path`` may be any URL Spark reads (a local file, HDFS, S3);
    ``scratch`` is a local directory for the findings."""
    register_spark(spark, path)
    findings: list[Finding] = []
    work = Path(tempfile.mkdtemp(prefix="detect-", dir=scratch))
    try:
        for detector, values in chosen:
            out = work / detector.name
            frame = spark.sql(detector.query(values, SPARK)).select(*FINDING_COLUMNS)
            frame.coalesce(1).write.mode("overwrite").parquet(str(out))
            table = pq.read_table(out).select(list(FINDING_COLUMNS))
            findings.extend(_findings(detector, values, table.to_pylist()))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return findings


def _findings(
    detector: Detector, values: Mapping[str, Any], records: Iterable[Mapping[str, Any]]
) -> Iterable[Finding]:
    for record in records:
        anchor = str(record["anchor"])
        others = [str(a) for a in record["accounts"] or () if a is not None and str(a) != anchor]
        finding = Finding(
            typology=detector.name,
            detector_version=detector.version,
            anchor=anchor,
            accounts=(anchor, *dict.fromkeys(others)),
            rows=tuple(sorted({int(row) for row in record["rows"]})),
            window_start=int(record["window_start"]),
            window_end=int(record["window_end"]),
            tx_count=int(record["tx_count"]),
            # Sums of floating amounts may differ in the last digit between engines.
            amount=round(float(record["amount"]), 2),
            measure=round(float(record["measure"]), 6),
            second_measure=round(float(record["second_measure"] or 0.0), 6),
            score=round(min(max(float(record["score"]), 0.0), 1.0), 6),
            parameters=dict(values),
        )
        yield replace(finding, explanation=detector.explain(finding))
