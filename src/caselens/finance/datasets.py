"""Transaction datasets as Parquet files in the evidence store.

An imported table is written once as Parquet (zstd, sorted by time so that each row group
covers one stretch of time and its statistics let engines skip the rest) and stored as a
*derived* blob: content-addressed like the source file it came from, so DuckDB and Spark
read the same verified bytes wherever the store is mounted. The ``tx_datasets`` row names
the blob; :func:`open_dataset` is how detection, scoring and tracing reach it.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from caselens.errors import IntegrityError
from caselens.finance.importers.base import Imported, LaunderingAttempt
from caselens.finance.transactions import ROW, SCHEMA
from caselens.runtime import Runtime
from caselens.store.blobs import StoredBlob

ROW_GROUP_ROWS = 128 * 1024
# Parquet key-value metadata saying what the file is, for anyone who finds it on disk.
METADATA_KEY = b"caselens.dataset"


def sorted_for_storage(table: pa.Table) -> pa.Table:
    """Rows in time order; ties keep file order, so the layout is deterministic."""
    return table.sort_by([("ts", "ascending"), (ROW, "ascending")])


def store_table(runtime: Runtime, table: pa.Table, description: Mapping[str, Any]) -> StoredBlob:
    """Write ``table`` as Parquet into the blob store; return the stored blob."""
    if table.schema != SCHEMA:
        table = table.cast(SCHEMA)
    metadata = {METADATA_KEY: json.dumps(dict(description), sort_keys=True).encode()}
    table = sorted_for_storage(table).replace_schema_metadata(metadata)
    work = runtime.settings.work_dir
    work.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix="dataset-", suffix=".parquet", dir=work)
    os.close(handle)
    try:
        pq.write_table(
            table,
            name,
            compression="zstd",
            row_group_size=ROW_GROUP_ROWS,
            write_statistics=True,
        )
        with open(name, "rb") as stream:
            return runtime.blobs.put_stream(stream)
    finally:
        os.unlink(name)


def open_dataset(runtime: Runtime, dataset_row: Any) -> Path:
    """The path of a dataset's Parquet file, after re-checking its hash.

    ``dataset_row`` is a row of ``tx_datasets``. The file is read-only evidence: engines
    read it in place (``read_parquet`` in DuckDB, ``spark.read.parquet``) and never write.
    """
    sha256 = str(dataset_row.parquet_sha256)
    problem = runtime.blobs.check(sha256)
    if problem:
        raise IntegrityError(
            f"transaction dataset {dataset_row.id}: {problem}", dataset=str(dataset_row.id)
        )
    return runtime.blobs.path_for(sha256)


def report_document(imported: Imported) -> dict[str, Any]:
    """The ``report`` JSON of a dataset: refused rows, warnings, attempts, options."""
    report = imported.report
    return {
        "format": report.format,
        "rows": report.rows,
        "bad_rows": report.bad_rows,
        "source_rows": imported.source_rows,
        "refused": [{"line": bad.line, "reason": bad.reason} for bad in report.listed],
        "warnings": list(report.warnings),
        "attempts": [attempt.as_dict() for attempt in imported.attempts],
        "options": imported.options,
    }


def laundering_attempts(dataset_row: Any) -> list[LaunderingAttempt]:
    """The labelled laundering attempts read with a dataset (empty when it had none)."""
    report = dataset_row.report or {}
    return [LaunderingAttempt.from_dict(item) for item in report.get("attempts", [])]
