"""TransactionService: the file as evidence, the Parquet dataset, custody, audit, access."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
from sqlalchemy import func, select

from caselens.actor import Actor
from caselens.db.schema import blobs, items, log_records, tx_datasets
from caselens.errors import AccessDenied, IntegrityError, InvalidInput
from caselens.finance.datasets import laundering_attempts, open_dataset
from caselens.services import Caselens
from tests.conftest import ADMIN
from tests.finance.test_import_amlworld import BAD, GOOD, write_amlworld


def _source(tmp_path: Path) -> Path:
    source = write_amlworld(tmp_path / "Small_Trans.csv", [GOOD[1], BAD[0][0], GOOD[0], GOOD[2]])
    (tmp_path / "Small_Patterns.txt").write_text(
        f"BEGIN LAUNDERING ATTEMPT - STACK\n{GOOD[2]}\nEND LAUNDERING ATTEMPT - STACK\n"
    )
    return source


def _dataset_row(app: Caselens):  # type: ignore[no-untyped-def]
    with app.runtime.transaction() as connection:
        return connection.execute(select(tx_datasets)).one()


def _actions(app: Caselens, item: str) -> list[str]:
    with app.runtime.transaction() as connection:
        return list(
            connection.execute(
                select(log_records.c.action)
                .where(log_records.c.item_id == item, log_records.c.chain.like("custody:%"))
                .order_by(log_records.c.id)
            ).scalars()
        )


def test_import_stores_item_parquet_custody_and_audit(
    app: Caselens, case: str, tmp_path: Path
) -> None:
    source = _source(tmp_path)
    dataset = app.transactions.import_file(ADMIN, case, source, "amlworld", exhibit="EX-1")
    assert (dataset.rows, dataset.bad_rows, dataset.attempts, dataset.already) == (3, 1, 1, False)
    assert dataset.refused[0].line == 3 and "impossible" in dataset.refused[0].reason
    assert (
        dataset.first_time is not None
        and dataset.first_time.isoformat() == "2022-09-01T00:00:00+00:00"
    )

    row = _dataset_row(app)
    path = open_dataset(app.runtime, row)
    # Stored sorted by time (ties in file order), every column of the layout.
    stored = pq.read_table(path)
    assert stored.column("row").to_pylist() == [3, 0, 2]
    assert pq.ParquetFile(path).metadata.row_group(0).column(0).compression == "ZSTD"
    assert duckdb.sql(f"select sum(label) from read_parquet('{path}')").fetchall() == [(1,)]
    assert [attempt.rows for attempt in laundering_attempts(row)] == [(3,)]

    with app.runtime.transaction() as connection:
        source_items = connection.execute(select(items).order_by(items.c.name)).all()
        parquet_blob = connection.execute(
            select(blobs).where(blobs.c.sha256 == row.parquet_sha256)
        ).one()
    # The source and its patterns file are both items, with the exhibit, as ingest makes them.
    assert [(i.name, i.state, i.format) for i in source_items] == [
        ("Small_Patterns.txt", "ingested", "tx.amlworld"),
        ("Small_Trans.csv", "ingested", "tx.amlworld"),
    ]
    main = source_items[1]
    assert row.item_id == main.id and main.exhibit_id is not None
    assert parquet_blob.size == os.path.getsize(path)
    assert _actions(app, main.id) == ["acquired", "ingested", "derived"]
    log = app.audit.case_log(ADMIN, case)
    assert any(record["action"] == "tx.import" for record in log)
    assert app.verify.verify(ADMIN, case).ok

    listed = app.transactions.datasets(ADMIN, case)
    assert [(d.id, d.name, d.rows) for d in listed] == [(dataset.id, "Small_Trans.csv", 3)]


def test_reimport_is_idempotent(app: Caselens, case: str, tmp_path: Path) -> None:
    source = _source(tmp_path)
    first = app.transactions.import_file(ADMIN, case, source, "amlworld")
    again = app.transactions.import_file(ADMIN, case, source, "amlworld")
    assert again.already and again.id == first.id and again.parquet_sha256 == first.parquet_sha256
    with app.runtime.transaction() as connection:
        assert connection.execute(select(func.count()).select_from(tx_datasets)).scalar() == 1
        assert connection.execute(select(func.count()).select_from(items)).scalar() == 2
    assert _actions(app, first.item_id) == ["acquired", "ingested", "derived"]
    # The same path with other content is not silently the same evidence.
    write_amlworld(source, [GOOD[0]])
    with pytest.raises(InvalidInput, match="content has changed"):
        app.transactions.import_file(ADMIN, case, source, "amlworld")


def test_wrong_format_is_recorded_on_the_item(app: Caselens, case: str, tmp_path: Path) -> None:
    other = tmp_path / "statement.csv"
    other.write_text("date,amount\n2022-01-01,1\n")
    with pytest.raises(InvalidInput, match="not the AMLworld layout"):
        app.transactions.import_file(ADMIN, case, other, "amlworld")
    with app.runtime.transaction() as connection:
        item = connection.execute(select(items)).one()
        assert connection.execute(select(func.count()).select_from(tx_datasets)).scalar() == 0
    assert item.state == "failed" and "not the AMLworld layout" in item.error
    assert any(r["action"] == "tx.import.failed" for r in app.audit.case_log(ADMIN, case))
    with pytest.raises(InvalidInput, match="unknown transaction format"):
        app.transactions.import_file(ADMIN, case, other, "qif")


def test_non_member_is_refused_and_audited(app: Caselens, case: str, tmp_path: Path) -> None:
    app.users.add(ADMIN, "mallory")
    mallory = Actor(user="mallory", purpose="curiosity")
    with pytest.raises(AccessDenied):
        app.transactions.import_file(mallory, case, _source(tmp_path), "amlworld")
    with pytest.raises(AccessDenied):
        app.transactions.datasets(mallory, case)
    denied = [r for r in app.audit.case_log(ADMIN, case) if r["action"] == "access.denied"]
    assert len(denied) == 2
    with app.runtime.transaction() as connection:
        assert connection.execute(select(func.count()).select_from(items)).scalar() == 0


def test_tampered_parquet_is_refused(app: Caselens, case: str, tmp_path: Path) -> None:
    app.transactions.import_file(ADMIN, case, _source(tmp_path), "amlworld")
    row = _dataset_row(app)
    path = app.runtime.blobs.path_for(row.parquet_sha256)
    os.chmod(path, 0o644)
    with path.open("r+b") as handle:
        handle.seek(10)
        handle.write(b"X")
    with pytest.raises(IntegrityError, match="has changed"):
        open_dataset(app.runtime, row)
