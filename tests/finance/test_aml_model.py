"""Risk scoring: causal features, training with a temporal split, scoring, the CLI."""

from __future__ import annotations

import csv
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from caselens.cli.app import main
from caselens.db.schema import log_records
from caselens.errors import InvalidInput
from caselens.finance.features import FEATURES
from caselens.finance.features.engines import features_duckdb
from caselens.finance.model import as_parquet, best_threshold, card_path, score, train
from caselens.services import Caselens
from tests.conftest import ADMIN
from tests.finance.test_import_amlworld import write_amlworld

START = datetime(2024, 1, 1, tzinfo=UTC)


def labelled_lines(count: int, seed: int = 7) -> list[str]:
    """Ordinary payments among 300 accounts, with mules that receive and pass money on
    within the hour (labelled laundering) spread through the whole period."""
    rng = random.Random(seed)
    payments: list[tuple[float, str, str, float, str, int]] = []
    for _ in range(count):
        payer, payee = rng.sample(range(300), 2)
        minutes = rng.uniform(0, 60 * 24 * 60)
        payments.append(
            (minutes, f"A{payer}", f"A{payee}", round(rng.uniform(10, 900), 2), "ACH", 0)
        )
    for mule in range(count // 40):
        minutes = rng.uniform(0, 60 * 24 * 60 - 120)
        amount = round(rng.uniform(2000, 9000), 2)
        name = f"M{mule}"
        payments.append((minutes, f"V{mule}", name, amount, "Wire", 1))
        payments.append(
            (minutes + rng.uniform(5, 50), name, f"X{mule}", round(amount * 0.97, 2), "Wire", 1)
        )
    payments.sort(key=lambda payment: payment[0])
    lines = []
    for minutes, payer, payee, amount, channel, label in payments:
        moment = START + timedelta(minutes=int(minutes))
        lines.append(
            f"{moment:%Y/%m/%d %H:%M},1,{payer},2,{payee},{amount:.2f},US Dollar,"
            f"{amount:.2f},US Dollar,{channel},{label}"
        )
    return lines


@pytest.fixture
def labelled(tmp_path: Path) -> Path:
    return write_amlworld(tmp_path / "labelled.csv", labelled_lines(4000))


def test_features_are_causal(tmp_path: Path) -> None:
    lines = labelled_lines(3000)
    whole = as_parquet(write_amlworld(tmp_path / "whole.csv", lines), tmp_path)
    whole_features = features_duckdb(whole)
    (tmp_path / "part").mkdir()
    part = as_parquet(write_amlworld(tmp_path / "part.csv", lines[:2000]), tmp_path / "part")
    part_features = features_duckdb(part)
    # The first 2,000 rows have the same features whether or not later rows follow.
    kept = np.isin(whole_features["row"], part_features["row"])
    assert kept.sum() == 2000
    for name in FEATURES:
        np.testing.assert_allclose(
            np.asarray(whole_features[name])[kept], np.asarray(part_features[name]), err_msg=name
        )


def test_a_payment_at_the_same_second_later_in_the_file_is_not_seen(tmp_path: Path) -> None:
    lines = [
        "2024/01/01 10:00,1,A,2,B,100.00,US Dollar,100.00,US Dollar,ACH,0",
        "2024/01/01 10:00,1,A,2,C,200.00,US Dollar,200.00,US Dollar,ACH,0",
    ]
    columns = features_duckdb(as_parquet(write_amlworld(tmp_path / "t.csv", lines), tmp_path))
    by_row = dict(zip(columns["row"].tolist(), columns["payer_n_out_1d"].tolist(), strict=True))
    assert by_row == {0: 1, 1: 2}
    sums = dict(zip(columns["row"].tolist(), columns["payer_sum_out_1d"].tolist(), strict=True))
    assert sums == {0: pytest.approx(100.0), 1: pytest.approx(300.0)}


def test_threshold_is_the_best_f1() -> None:
    truth = np.array([1, 0, 1, 0, 0], dtype=bool)
    scores = np.array([0.9, 0.8, 0.7, 0.2, 0.1])
    assert best_threshold(truth, scores) == pytest.approx(0.7)


def test_train_and_score_through_the_service(
    app: Caselens, case: str, labelled: Path, tmp_path: Path
) -> None:
    model = tmp_path / "model.txt"
    card = app.aml_models.train(ADMIN, labelled, model, seed=1)
    stored = json.loads(card_path(model).read_text())
    assert stored == card
    assert (
        card["split"]["train_rows"] + card["split"]["validation_rows"] + card["split"]["test_rows"]
        == card["input"]["rows"]
    )
    assert len(card["input"]["sha256"]) == 64 and card["features"] == list(FEATURES)
    assert {"f1", "precision", "recall"} <= set(card["test"])
    assert card["versions"]["lightgbm"] and 0 < card["threshold"] < 1
    # The planted mules are easy: the model must do far better than chance.
    assert card["test"]["f1"] > 0.8

    predictions = tmp_path / "predictions.csv"
    summary = app.aml_models.score(ADMIN, labelled, model, predictions, explain=3)
    with predictions.open() as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == ["row", "score", "pred", "top_features"]
    assert [int(row["row"]) for row in rows] == list(range(summary["rows"]))
    truth = [line.rsplit(",", 1)[1] for line in labelled.read_text().splitlines()[1:]]
    agreed = sum(row["pred"] == label for row, label in zip(rows, truth, strict=True))
    assert agreed / len(rows) > 0.98
    assert rows[0]["top_features"].count("=") == 3

    with app.runtime.transaction() as connection:
        actions = (
            connection.execute(
                select(log_records.c.action).where(log_records.c.action.like("aml.%"))
            )
            .scalars()
            .all()
        )
    assert actions == ["aml.train", "aml.score"]


def test_scores_do_not_depend_on_the_chunks(labelled: Path, tmp_path: Path) -> None:
    model = tmp_path / "model.txt"
    train(labelled, model, seed=2, rounds=50)
    whole, batched = tmp_path / "whole.csv", tmp_path / "batched.csv"
    score(labelled, model, whole)
    score(labelled, model, batched, chunk_rows=257, memory_limit="256MB")
    assert whole.read_bytes() == batched.read_bytes()
    assert len(whole.read_text().splitlines()) == 4000 + 100 * 2 + 1


def test_bad_inputs_get_clear_errors(app: Caselens, case: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInput, match="no such file"):
        app.aml_models.train(ADMIN, tmp_path / "missing.csv", tmp_path / "m.txt")
    few = write_amlworld(tmp_path / "few.csv", labelled_lines(40)[:50])
    with pytest.raises(InvalidInput, match="too few"):
        app.aml_models.train(ADMIN, few, tmp_path / "m.txt")
    with pytest.raises(InvalidInput, match="no model"):
        app.aml_models.score(ADMIN, few, tmp_path / "none.txt", tmp_path / "p.csv")


def test_commands(
    case: str, labelled: Path, tmp_path: Path, cli_env: dict[str, str], capsys
) -> None:  # type: ignore[no-untyped-def]
    model, predictions = tmp_path / "m.txt", tmp_path / "p.csv"
    base = ["--as", ADMIN.user]
    assert main([*base, "aml", "train", str(labelled), "--out", str(model), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["test"]["f1"] > 0.8
    code = main(
        [*base, "aml", "score", str(labelled), "--model", str(model), "--out", str(predictions)]
    )
    assert code == 0 and "transactions scored" in capsys.readouterr().out
    assert predictions.read_text().startswith("row,score,pred\n0,")
