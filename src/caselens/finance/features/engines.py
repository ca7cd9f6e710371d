"""Computing the features of a Parquet file of transactions on DuckDB or Spark."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

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


def features_spark(spark: SparkSession, path: str | Path) -> DataFrame:
    """The same as a Spark DataFrame (``row`` and the features), never collected here."""
    register_spark(spark, path)
    return spark.sql(feature_sql("tx")).withColumnRenamed("rn", ROW)
