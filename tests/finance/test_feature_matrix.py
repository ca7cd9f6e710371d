"""The feature matrix DuckDB fills for scoring holds what the feature query says."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from caselens.errors import InvalidInput
from caselens.finance.engines import duckdb_connection, register_duckdb
from caselens.finance.features import FEATURES, feature_sql
from caselens.finance.features.engines import feature_matrix
from caselens.finance.model import as_parquet
from tests.finance.test_aml_model import START, labelled_lines
from tests.finance.test_import_amlworld import write_amlworld


def transactions(tmp_path: Path) -> Path:
    """Labelled payments plus self-payments, some in the same minute as others."""
    lines = labelled_lines(1500, seed=11)
    for index in range(0, 1500, 100):
        moment = lines[index].split(",", 1)[0]
        lines.insert(index + 1, f"{moment},1,A7,1,A7,50.00,US Dollar,50.00,US Dollar,ACH,0")
    assert lines[0].startswith(f"{START:%Y/%m/%d}")
    return as_parquet(write_amlworld(tmp_path / "t.csv", lines), tmp_path)


def by_query(path: Path) -> dict[str, np.ndarray]:  # type: ignore[type-arg]
    connection = duckdb_connection()
    register_duckdb(connection, path)
    return dict(connection.execute(f"SELECT * FROM ({feature_sql('tx')}) ORDER BY rn").fetchnumpy())


def assert_same(path: Path) -> None:
    computed, expected = feature_matrix(path), by_query(path)
    np.testing.assert_array_equal(computed.rows, expected["rn"])
    for index, name in enumerate(FEATURES):
        np.testing.assert_array_equal(
            computed.matrix[:, index], np.asarray(expected[name], dtype=np.float64), name
        )


def test_the_matrix_holds_what_the_query_gives(tmp_path: Path) -> None:
    assert_same(transactions(tmp_path))


def test_rows_with_gaps_are_placed_by_their_number(tmp_path: Path) -> None:
    table = pq.read_table(transactions(tmp_path))
    kept = table.filter(pc.not_equal(pc.bit_wise_and(table["row"], 7), 3))
    assert kept.num_rows < table.num_rows
    gapped = tmp_path / "gapped.parquet"
    pq.write_table(kept, gapped)
    assert_same(gapped)


def test_a_repeated_row_number_is_refused(tmp_path: Path) -> None:
    table = pq.read_table(transactions(tmp_path))
    repeated = tmp_path / "repeated.parquet"
    pq.write_table(pa.concat_tables([table, table.slice(5, 1)]), repeated)
    with pytest.raises(InvalidInput, match="same row number"):
        feature_matrix(repeated)


def test_an_empty_file_gives_an_empty_matrix(tmp_path: Path) -> None:
    table = pq.read_table(transactions(tmp_path))
    empty = tmp_path / "empty.parquet"
    pq.write_table(table.slice(0, 0), empty)
    computed = feature_matrix(empty)
    assert computed.matrix.shape == (0, len(FEATURES))
