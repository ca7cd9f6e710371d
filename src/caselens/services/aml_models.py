"""Training and scoring risk models on files outside any case.

The files are not evidence of a case (a bank's own export, a benchmark set), so these
calls check only that the actor is a user of the installation, and write what was read
and what came out — file hashes, split, figures — to the installation audit log.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from caselens.actor import Actor
from caselens.errors import InvalidInput
from caselens.finance import model
from caselens.services.access import user_row
from caselens.services.base import Service


class AmlModelService(Service):
    def train(
        self, actor: Actor, data: Path, out: Path, *, seed: int = 0, threads: int | None = None
    ) -> dict[str, Any]:
        """Train a model on ``data`` and write it to ``out`` with its card; the card."""
        self._require_user(actor)
        if out.exists() and out.is_dir():
            raise InvalidInput(f"{out} is a directory; give the model's file name")
        trained = model.train(data, out, seed=seed, threads=threads)
        with self._transaction() as connection:
            self._audit(
                connection,
                actor,
                "aml.train",
                purpose=actor.purpose,
                target=str(out),
                details={
                    "input": trained.card["input"],
                    "split": trained.card["split"],
                    "threshold": trained.card["threshold"],
                    "validation": trained.card["validation"],
                    "test": trained.card["test"],
                    "model_sha256": model.file_sha256(out),
                },
            )
        return trained.card

    def score(
        self,
        actor: Actor,
        data: Path,
        model_path: Path,
        out: Path,
        *,
        explain: int = 0,
        threads: int | None = None,
        memory_limit: str | None = None,
    ) -> dict[str, Any]:
        """Score every transaction of ``data``; write ``row,score,pred`` to ``out``.
        ``memory_limit`` (DuckDB's, e.g. ``"6GB"``) bounds the feature engine, which
        spills to disk past it."""
        self._require_user(actor)
        if explain < 0:
            raise InvalidInput("--explain takes a number of features, 0 or more")
        summary = model.score(
            data, model_path, out, explain=explain, threads=threads, memory_limit=memory_limit
        )
        with self._transaction() as connection:
            self._audit(
                connection,
                actor,
                "aml.score",
                purpose=actor.purpose,
                target=str(out),
                details={"input": data.name, **summary},
            )
        return summary

    def _require_user(self, actor: Actor) -> None:
        with self._transaction() as connection:
            user_row(connection, actor.user)
