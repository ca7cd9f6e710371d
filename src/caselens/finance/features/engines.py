"""Computing the features of a Parquet file of transactions on DuckDB or Spark."""

from __future__ import annotations

import contextlib
import mmap
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import numpy as np
import pyarrow as pa

from caselens.errors import InvalidInput
from caselens.finance.engines import duckdb_connection, register_duckdb, register_spark
from caselens.finance.features.definitions import (
    EVENT_PLACES,
    FEATURES,
    TRANSACTION_PLACES,
    event_sql,
    feature_sql,
    transaction_sql,
)
from caselens.finance.transactions import ROW

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

_BATCH_ROWS = 262_144
_COLUMN = {name: index for index, name in enumerate(FEATURES)}


@dataclass(frozen=True)
class FeatureMatrix:
    """Every transaction's features: ``matrix[i]`` belongs to the transaction whose
    ``row`` is ``rows[i]``; ``rows`` ascend (file order)."""

    rows: np.ndarray[Any, np.dtype[np.int64]]
    matrix: np.ndarray[Any, np.dtype[np.float64]]


def feature_matrix(
    path: Path,
    *,
    threads: int | None = None,
    memory_limit: str | None = None,
    scratch: Path | None = None,
    connection: duckdb.DuckDBPyConnection | None = None,
) -> FeatureMatrix:
    """The features of every transaction in ``path``, computed by DuckDB.

    The account events stream out of DuckDB in whatever order its windows finish and
    are written straight into their rows of the matrix, so the engine never joins the
    two events of a payment back together (on millions of rows that join cost more than
    the windows) and nothing but the matrix is held here."""
    connection = connection or duckdb_connection(threads=threads, memory_limit=memory_limit)
    if scratch is not None:
        connection.execute("SET temp_directory = ?", [str(scratch)])
    connection.execute("SET preserve_insertion_order = false")  # rows are placed by rn
    register_duckdb(connection, path)
    rows = np.asarray(
        connection.execute("SELECT rn FROM tx ORDER BY rn").fetchnumpy()["rn"], dtype=np.int64
    )
    if len(rows) > 1 and bool(np.any(rows[1:] == rows[:-1])):
        raise InvalidInput(f"{path}: the same row number occurs twice")
    dense = len(rows) == 0 or (rows[0] == 0 and rows[-1] == len(rows) - 1)

    def place(numbers: pa.Array | pa.ChunkedArray) -> np.ndarray[Any, Any]:
        values: np.ndarray[Any, Any] = numbers.to_numpy(zero_copy_only=False)
        return values if dense else np.searchsorted(rows, values)

    matrix = _column_major(len(rows), len(FEATURES))
    for batch in _batches(connection, transaction_sql("tx")):
        at = place(batch.column("rn"))
        for feature, column in TRANSACTION_PLACES:
            matrix[:, _COLUMN[feature]][at] = batch.column(column).to_numpy(zero_copy_only=False)
    for batch in _batches(connection, event_sql("tx")):
        sides = batch.column("side").to_numpy(zero_copy_only=False)
        at = place(batch.column("rn"))
        for side in (0, 1):
            chosen = sides == side
            at_side = at[chosen]
            for feature, event_side, column in EVENT_PLACES:
                if event_side == side:
                    values = batch.column(column).to_numpy(zero_copy_only=False)
                    # Through a 1-D view: NumPy writes that far faster than matrix[at, j].
                    matrix[:, _COLUMN[feature]][at_side] = values[chosen]
    return FeatureMatrix(rows=rows, matrix=matrix)


def _column_major(rows: int, columns: int) -> np.ndarray[Any, np.dtype[np.float64]]:
    """An uninitialised float matrix stored column by column (each feature is filled as
    one contiguous column), in memory asked for as transparent huge pages where the
    system offers them: on virtual machines that back memory lazily, touching gigabytes
    page by page can cost more than computing the features."""
    size = rows * columns * 8
    if size == 0:
        return np.empty((rows, columns), dtype=np.float64, order="F")
    memory = mmap.mmap(-1, size)
    advice = getattr(mmap, "MADV_HUGEPAGE", None)
    if advice is not None:
        with contextlib.suppress(OSError):  # no THP in this kernel: ordinary pages
            memory.madvise(advice)
    flat = np.frombuffer(memory, dtype=np.float64)  # keeps ``memory`` alive
    return flat.reshape((columns, rows)).T


def _batches(connection: duckdb.DuckDBPyConnection, query: str) -> Any:
    reader: pa.RecordBatchReader = connection.sql(query).to_arrow_reader(_BATCH_ROWS)
    return iter(reader)


def features_duckdb(
    path: Path, *, threads: int | None = None, connection: duckdb.DuckDBPyConnection | None = None
) -> dict[str, Any]:
    """Columns ``row``, ``label``, ``ts`` and every feature as NumPy arrays, in (time,
    row) order."""
    connection = connection or duckdb_connection(threads=threads)
    computed = feature_matrix(path, connection=connection)
    known = connection.execute(
        "SELECT rn, coalesce(label, -1) AS label, ts FROM tx ORDER BY rn"
    ).fetchnumpy()
    order = np.lexsort((computed.rows, np.asarray(known["ts"])))
    columns: dict[str, Any] = {
        ROW: computed.rows[order],
        "label": np.asarray(known["label"])[order],
        "ts": np.asarray(known["ts"])[order],
    }
    ordered = _column_major(len(order), len(FEATURES))  # fresh pages are dear: see there
    for index, name in enumerate(FEATURES):
        np.take(computed.matrix[:, index], order, out=ordered[:, index])
        columns[name] = ordered[:, index]
    return columns


def features_spark(spark: SparkSession, path: str | Path) -> DataFrame:
    """The same as a Spark DataFrame (``row`` and the features), never collected here."""
    register_spark(spark, path)
    return spark.sql(feature_sql("tx")).withColumnRenamed("rn", ROW)
