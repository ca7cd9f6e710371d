"""Risk scoring: gradient-boosted trees (LightGBM) over the causal features.

``train`` splits a file by time — the first 60% of transactions to learn from, the next
20% to choose the decision threshold (best F1 of the laundering class), the last 20% to
report on — and writes the model beside a model card. ``score`` gives every transaction
of a file its probability, the decision at the model's threshold and, when asked, the
features that pushed its score most (LightGBM's SHAP contributions).
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

import caselens
from caselens.db.types import utcnow
from caselens.errors import ConfigurationError, InvalidInput
from caselens.finance.datasets import sorted_for_storage
from caselens.finance.features import FEATURES
from caselens.finance.features.engines import feature_matrix, features_duckdb
from caselens.finance.importers.amlworld import read_amlworld

CARD_SUFFIX = ".card.json"
MODEL_FORMAT = "caselens-lightgbm-1"


def card_path(model: Path) -> Path:
    return model.with_name(model.name + CARD_SUFFIX)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for chunk in iter(lambda: stream.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def as_parquet(data: Path, scratch: Path) -> Path:
    """The transactions of ``data`` as a Parquet file in the dataset layout: an
    AMLworld-layout CSV (optionally gzipped) is read and written to ``scratch``."""
    if not data.is_file():
        raise InvalidInput(f"no such file: {data}")
    if data.suffix == ".parquet":
        return data
    import pyarrow.parquet as pq

    imported = read_amlworld(data)
    if imported.report.rows == 0:
        raise InvalidInput(f"{data}: no transactions could be read")
    out = scratch / "transactions.parquet"
    pq.write_table(sorted_for_storage(imported.table), out)
    return out


def _lightgbm() -> Any:
    try:
        import lightgbm
    except ImportError as err:
        raise ConfigurationError(
            "risk scoring needs the aml extra: pip install 'caselens[aml]'"
        ) from err
    return lightgbm


def _matrix(columns: dict[str, Any]) -> np.ndarray[Any, Any]:
    return np.column_stack([np.asarray(columns[name], dtype=np.float64) for name in FEATURES])


def _f1_figures(truth: np.ndarray[Any, Any], predicted: np.ndarray[Any, Any]) -> dict[str, float]:
    hits = float(np.sum(truth & predicted))
    precision = hits / max(float(np.sum(predicted)), 1.0)
    recall = hits / max(float(np.sum(truth)), 1.0)
    f1 = 2 * precision * recall / (precision + recall) if hits else 0.0
    return {"f1": round(f1, 4), "precision": round(precision, 4), "recall": round(recall, 4)}


def best_threshold(truth: np.ndarray[Any, Any], scores: np.ndarray[Any, Any]) -> float:
    """The score threshold with the best F1 of the positive class on ``truth``."""
    order = np.argsort(-scores, kind="stable")
    ranked_truth = truth[order].astype(np.float64)
    caught = np.cumsum(ranked_truth)
    flagged = np.arange(1, len(order) + 1, dtype=np.float64)
    positives = max(float(ranked_truth.sum()), 1.0)
    f1 = 2 * caught / (flagged + positives)
    best = int(np.argmax(f1))
    return float(scores[order][best])


@dataclass(frozen=True, slots=True)
class Fitted:
    booster: Any
    parameters: dict[str, Any]
    threshold: float
    validation: dict[str, float]
    test: dict[str, float]


def fit_temporal(
    features: np.ndarray[Any, Any],
    truth: np.ndarray[Any, Any],
    *,
    seed: int = 0,
    threads: int | None = None,
    rounds: int = 300,
    names: list[str] | None = None,
) -> Fitted:
    """LightGBM on rows already in time order: learn on the first 60%, choose the
    threshold on the next 20%, report on the last 20%."""
    lightgbm = _lightgbm()
    total = len(truth)
    first, second = int(total * 0.6), int(total * 0.8)
    parameters = {
        "objective": "binary",
        "learning_rate": 0.05,
        # Laundering is ~0.2% of rows: larger leaves and L2 keep the trees from learning
        # single examples by heart (63 leaves of 50 rows varied far more between seeds).
        "num_leaves": 31,
        "min_data_in_leaf": 100,
        "lambda_l2": 1.0,
        "feature_fraction": 0.8,
        "bagging_fraction": 0.8,
        "bagging_freq": 1,
        "scale_pos_weight": 5.0,
        "seed": seed,
        "deterministic": True,
        "num_threads": threads or 0,
        "verbosity": -1,
    }
    learn = lightgbm.Dataset(features[:first], truth[:first], feature_name=names or "auto")
    booster = lightgbm.train(parameters, learn, num_boost_round=rounds)
    validation = booster.predict(features[first:second])
    threshold = best_threshold(truth[first:second], validation)
    test = booster.predict(features[second:])
    return Fitted(
        booster=booster,
        parameters=parameters,
        threshold=threshold,
        validation=_f1_figures(truth[first:second], validation >= threshold),
        test=_f1_figures(truth[second:], test >= threshold),
    )


@dataclass(frozen=True, slots=True)
class Trained:
    model: Path
    card: dict[str, Any]


def train(
    data: Path, out: Path, *, seed: int = 0, threads: int | None = None, rounds: int = 300
) -> Trained:
    """Train on ``data`` (labelled), write the model to ``out`` and its card beside it."""
    _lightgbm()  # refuse early, before the features are computed
    with tempfile.TemporaryDirectory(prefix="caselens-train-") as scratch:
        parquet = as_parquet(data, Path(scratch))
        columns = features_duckdb(parquet, threads=threads)
    labels = np.asarray(columns["label"])
    if labels.dtype == object or np.any(labels < 0):
        raise InvalidInput(f"{data}: training needs a label on every transaction")
    truth = labels.astype(np.int8) == 1
    total = len(truth)
    first, second = int(total * 0.6), int(total * 0.8)
    if total < 100 or not truth[:first].any() or not truth[first:second].any():
        raise InvalidInput(
            f"{data}: too few transactions or laundering examples to split by time "
            f"({total} rows, {int(truth.sum())} labelled laundering)"
        )
    fitted = fit_temporal(
        _matrix(columns), truth, seed=seed, threads=threads, rounds=rounds, names=list(FEATURES)
    )
    booster, parameters, threshold = fitted.booster, fitted.parameters, fitted.threshold
    card = {
        "format": MODEL_FORMAT,
        "created_at": utcnow().isoformat(),
        "input": {"file": data.name, "sha256": file_sha256(data), "rows": total},
        "split": {
            "method": "temporal 60/20/20 by (time, row)",
            "train_rows": first,
            "validation_rows": second - first,
            "test_rows": total - second,
            "validation_starts": int(columns["ts"][first]),
            "test_starts": int(columns["ts"][second]),
            "laundering": {
                "train": int(truth[:first].sum()),
                "validation": int(truth[first:second].sum()),
                "test": int(truth[second:].sum()),
            },
        },
        "threshold": threshold,
        "validation": fitted.validation,
        "test": fitted.test,
        "features": list(FEATURES),
        "parameters": {**parameters, "rounds": rounds},
        "versions": {
            "caselens": caselens.__version__,
            "lightgbm": importlib.metadata.version("lightgbm"),
            "duckdb": importlib.metadata.version("duckdb"),
            "numpy": np.__version__,
        },
    }
    _write_atomically(out, booster.model_to_string())
    _write_atomically(card_path(out), json.dumps(card, indent=2) + "\n")
    return Trained(out, card)


def load(model: Path) -> tuple[Any, dict[str, Any]]:
    """The booster and the card of a model written by :func:`train`."""
    lightgbm = _lightgbm()
    card_file = card_path(model)
    if not model.is_file() or not card_file.is_file():
        raise InvalidInput(f"no model at {model} (with its card {card_file.name})")
    card = json.loads(card_file.read_text())
    if card.get("format") != MODEL_FORMAT or card.get("features") != list(FEATURES):
        raise InvalidInput(f"{model} was made for other features; train it again with this version")
    return lightgbm.Booster(model_str=model.read_text()), card


def score(
    data: Path,
    model: Path,
    out: Path,
    *,
    explain: int = 0,
    threads: int | None = None,
    memory_limit: str | None = None,
    chunk_rows: int = 262_144,
) -> dict[str, Any]:
    """Write ``row,score,pred`` (plus ``top_features`` when ``explain``) for every
    transaction of ``data`` to ``out``, in row order; return a summary.

    The features of the whole file are computed first (every transaction needs its whole
    history) into one matrix of 8 bytes per feature and transaction; the model then
    scores it ``chunk_rows`` at a time. ``memory_limit`` caps DuckDB, which spills its
    window state to a scratch directory beyond it."""
    booster, card = load(model)
    threshold = float(card["threshold"])
    tops: list[str] | None = [] if explain else None
    with tempfile.TemporaryDirectory(prefix="caselens-score-") as scratch:
        parquet = as_parquet(data, Path(scratch))
        computed = feature_matrix(
            parquet, threads=threads, memory_limit=memory_limit, scratch=Path(scratch)
        )
    scores = np.empty(len(computed.rows), dtype=np.float64)
    for start in range(0, len(computed.rows), chunk_rows):
        # LightGBM reads rows: one C-ordered chunk of the column-major matrix at a time.
        chunk = np.ascontiguousarray(computed.matrix[start : start + chunk_rows])
        scores[start : start + len(chunk)] = booster.predict(chunk, num_threads=threads or 0)
        if tops is not None:
            contributions = booster.predict(chunk, pred_contrib=True, num_threads=threads or 0)
            tops.extend(_top(c, explain) for c in contributions)
    _write_scores(out, computed.rows, scores, threshold, tops)
    return {
        "rows": len(scores),
        "flagged": int(np.sum(scores >= threshold)),
        "threshold": threshold,
        "input_sha256": file_sha256(data),
        "model_sha256": file_sha256(model),
    }


def _write_scores(
    out: Path,
    rows: np.ndarray[Any, Any],
    scores: np.ndarray[Any, Any],
    threshold: float,
    tops: list[str] | None,
) -> None:
    """The scores CSV, written to a temporary file and renamed into place. Arrow formats
    the millions of lines; a score is printed with six decimals."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pa_csv

    micro = np.rint(np.clip(scores, 0.0, 1.0) * 1_000_000).astype(np.int64)
    fraction = pc.utf8_lpad(pc.cast(pa.array(micro % 1_000_000), pa.string()), 6, "0")
    text = pc.binary_join_element_wise(
        pc.cast(pa.array(micro // 1_000_000), pa.string()), fraction, "."
    )
    columns: dict[str, Any] = {
        "row": pa.array(rows, pa.int64()),
        "score": text,
        "pred": pa.array((scores >= threshold).astype(np.int8)),
    }
    if tops is not None:
        columns["top_features"] = pa.array(tops, pa.string())
    table = pa.table(columns)
    handle, name = tempfile.mkstemp(prefix=".scores-", dir=out.parent)
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write((",".join(table.column_names) + "\n").encode())
            # No value holds a comma, a quote or a line break, so none is quoted.
            options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
            pa_csv.write_csv(table, stream, options)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(name, out)
    except BaseException:
        os.unlink(name)
        raise


def _top(contribution: np.ndarray[Any, Any], count: int) -> str:
    values = contribution[:-1]  # the last column is the expected value
    strongest = np.argsort(-np.abs(values), kind="stable")[:count]
    return "; ".join(f"{FEATURES[i]}={values[i]:+.3f}" for i in strongest)


def _write_atomically(path: Path, text: str) -> None:
    handle, name = tempfile.mkstemp(prefix=".model-", dir=path.parent)
    try:
        with os.fdopen(handle, "w") as stream:
            stream.write(text)
            stream.flush()
            os.fsync(stream.fileno())
        os.replace(name, path)
    except BaseException:
        os.unlink(name)
        raise
