"""Computing the features of a Parquet file of transactions on DuckDB or Spark."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import pyarrow as pa

from caselens.finance.engines import duckdb_connection, register_duckdb, register_spark
from caselens.finance.features.definitions import FEATURES, feature_sql
from caselens.finance.transactions import ROW

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession


def features_duckdb(
    path: Path, *, threads: int | None = None, connection: duckdb.DuckDBPyConnection | None = None
) -> dict[str, Any]:
    """Columns ``row``, ``label`` and every feature as NumPy arrays, in (time, row) order."""
    connection = connection or duckdb_connection(threads=threads)
    register_duckdb(connection, path)
    query = (
        f"SELECT f.rn AS {ROW}, tx.label, tx.ts, {', '.join('f.' + n for n in FEATURES)} "
        f"FROM ({feature_sql('tx')}) f JOIN tx ON tx.rn = f.rn ORDER BY tx.ts, f.rn"
    )
    return dict(connection.execute(query).fetchnumpy())


def feature_batches(
    path: Path,
    *,
    scratch: Path,
    threads: int | None = None,
    memory_limit: str | None = None,
    batch_rows: int = 262_144,
) -> Iterator[pa.RecordBatch]:
    """Columns ``row`` and every feature in batches of about ``batch_rows``, in no set
    order: for scoring files larger than memory, DuckDB spills its window state to
    ``scratch`` rather than holding it, and no batch is kept after it is read."""
    connection = duckdb_connection(threads=threads, memory_limit=memory_limit)
    connection.execute("SET temp_directory = ?", [str(scratch)])
    connection.execute("SET preserve_insertion_order = false")  # order is not needed
    register_duckdb(connection, path)
    query = f"SELECT rn AS {ROW}, {', '.join(FEATURES)} FROM ({feature_sql('tx')})"
    try:
        reader: pa.RecordBatchReader = connection.sql(query).to_arrow_reader(batch_rows)
        yield from reader
    finally:
        connection.close()


def features_spark(spark: SparkSession, path: str | Path) -> DataFrame:
    """The same as a Spark DataFrame (``row`` and the features), never collected here."""
    register_spark(spark, path)
    return spark.sql(feature_sql("tx")).withColumnRenamed("rn", ROW)
