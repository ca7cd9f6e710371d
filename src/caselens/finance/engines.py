"""The two analytics engines over the same Parquet files: DuckDB in-process (the default)
and Apache Spark (``local[*]`` on one machine, a cluster by its master URL).

Both are opened here so that memory, threads and time zone are set in one place: every
definition is written against UTC epoch seconds (``ts``), and both sessions run in UTC so
that a window or a date means the same on each.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from caselens.errors import ConfigurationError, InvalidInput
from caselens.finance.transactions import ROW

if TYPE_CHECKING:
    from pyspark.sql import SparkSession


def duckdb_connection(
    *, threads: int | None = None, memory_limit: str | None = None
) -> duckdb.DuckDBPyConnection:
    """A private in-memory DuckDB database in UTC; ``threads`` defaults to DuckDB's own."""
    connection = duckdb.connect(":memory:")
    connection.execute("SET TimeZone = 'UTC'")
    connection.execute("SET enable_progress_bar = false")  # it would write to the terminal
    if threads is not None:
        connection.execute(f"SET threads = {int(threads)}")
    if memory_limit is not None:
        connection.execute("SET memory_limit = ?", [memory_limit])
    return connection


def spark_session(
    master: str = "local[*]", *, app_name: str = "caselens", config: dict[str, Any] | None = None
) -> SparkSession:
    """A Spark session on ``master`` in UTC; a clear error without pyspark or Java."""
    try:
        from pyspark.sql import SparkSession
    except ImportError as err:
        raise ConfigurationError(
            "Spark needs the spark extra: pip install 'caselens[spark]' (and a Java 17+ runtime)"
        ) from err
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.shuffle.partitions", "8")
    )
    for key, value in (config or {}).items():
        builder = builder.config(key, value)
    try:
        return builder.getOrCreate()
    except Exception as err:  # Spark reports a missing Java as a bare RuntimeError
        raise ConfigurationError(f"Spark could not start on {master!r}: {err}") from err


def register_duckdb(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
    """The Parquet file at ``path`` as the view ``tx`` that detectors and features read,
    with ``row`` renamed ``rn`` (``ROW`` is an SQL keyword)."""
    literal = "'" + str(path).replace("'", "''") + "'"
    try:
        connection.execute(
            f'CREATE OR REPLACE TEMP VIEW tx AS SELECT "{ROW}" AS rn, * EXCLUDE ("{ROW}") '  # noqa: S608
            f"FROM read_parquet({literal})"
        )
    except duckdb.Error as err:
        raise InvalidInput(f"cannot read transactions from {path}: {err}") from err


def register_spark(spark: SparkSession, path: str | Path) -> None:
    """The same view in a Spark session (``path`` may be any URL Spark reads)."""
    spark.read.parquet(str(path)).withColumnRenamed(ROW, "rn").createOrReplaceTempView("tx")
