"""Typology alerts of a case: detection over its transaction datasets, listing, review.

Detection reads the dataset's hash-checked Parquet file in DuckDB (or Spark) outside any
database transaction, then records what it found in one transaction: an alert per
finding not seen before (the fingerprint of its typology and transactions), so running
it again adds only what is new and keeps every earlier review. Every call is audited.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Row, func, select, update

from caselens.actor import Actor
from caselens.db.bulk import bulk_insert
from caselens.db.schema import alerts
from caselens.db.types import utcnow
from caselens.errors import InvalidInput, NotFound
from caselens.finance.datasets import open_dataset
from caselens.finance.detect import Plan, plan
from caselens.finance.detect.base import Finding
from caselens.finance.detect.run import detect_duckdb, detect_spark
from caselens.finance.engines import duckdb_connection, spark_session
from caselens.services.access import WRITER_ROLES, purpose_for, require_member, require_open
from caselens.services.base import Service
from caselens.services.case_payments import bring_payments
from caselens.services.transactions import dataset_row

ENGINES = ("duckdb", "spark")
REVIEW_STATES = ("new", "confirmed", "dismissed")


@dataclass(slots=True)
class Alert:
    id: int
    dataset_id: str
    typology: str
    detector_version: str
    score: float
    accounts: list[str]
    transactions: list[int]
    window_start: datetime
    window_end: datetime
    parameters: dict[str, Any]
    explanation: str
    state: str
    reviewed_by: str | None
    reviewed_at: datetime | None
    review_note: str | None
    created_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "dataset_id": self.dataset_id,
            "typology": self.typology,
            "detector_version": self.detector_version,
            "score": self.score,
            "accounts": self.accounts,
            "transactions": self.transactions,
            "window_start": self.window_start.isoformat(),
            "window_end": self.window_end.isoformat(),
            "parameters": self.parameters,
            "explanation": self.explanation,
            "state": self.state,
            "reviewed_by": self.reviewed_by,
            "reviewed_at": self.reviewed_at.isoformat() if self.reviewed_at else None,
            "review_note": self.review_note,
            "created_at": self.created_at.isoformat(),
        }


@dataclass(slots=True)
class Detection:
    """What one detection run found, per typology: findings and how many were new."""

    dataset_id: str
    engine: str
    found: Counter[str] = field(default_factory=Counter)
    new: Counter[str] = field(default_factory=Counter)
    parameters: dict[str, dict[str, Any]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "dataset_id": self.dataset_id,
            "engine": self.engine,
            "typologies": {
                name: {"found": self.found[name], "new": self.new[name]} for name in self.parameters
            },
            "parameters": self.parameters,
        }


class AlertService(Service):
    def detect(
        self,
        actor: Actor,
        reference: str,
        *,
        dataset: str | None = None,
        only: Sequence[str] = (),
        parameters: Mapping[str, Mapping[str, Any]] | None = None,
        engine: str = "duckdb",
        master: str = "local[*]",
    ) -> Detection:
        """Run the typology detectors (``only``, or all) over one dataset of the case;
        ``parameters`` override the installation's (``aml_detectors``) per typology."""
        if engine not in ENGINES:
            raise InvalidInput(f"engine must be one of: {', '.join(ENGINES)}")
        merged: dict[str, dict[str, Any]] = {
            name: dict(values) for name, values in self.runtime.settings.aml_detectors.items()
        }
        for name, values in (parameters or {}).items():
            merged.setdefault(name, {}).update(values)
        chosen = plan(only, merged)

        def access(connection: Connection, case: Row[Any]) -> Row[Any]:
            require_member(connection, actor, case, WRITER_ROLES)
            require_open(case)
            return dataset_row(connection, case.id, dataset)

        chosen_row = self._in_case(actor, "aml.detect", reference, access)
        path = open_dataset(self.runtime, chosen_row)
        findings = self._run(path, chosen, engine, master)
        result = Detection(
            dataset_id=str(chosen_row.id),
            engine=engine,
            parameters={detector.name: dict(values) for detector, values in chosen},
        )
        result.found.update(finding.typology for finding in findings)

        def record(connection: Connection, case: Row[Any]) -> Detection:
            require_member(connection, actor, case, WRITER_ROLES)
            require_open(case)
            known = set(
                connection.execute(
                    select(alerts.c.fingerprint).where(
                        alerts.c.case_id == case.id, alerts.c.dataset_id == chosen_row.id
                    )
                ).scalars()
            )
            now = utcnow()
            fresh = {f.fingerprint: f for f in findings if f.fingerprint not in known}
            rows = [_alert_row(case.id, str(chosen_row.id), f, now) for f in fresh.values()]
            if rows:
                bulk_insert(
                    connection,
                    alerts,
                    rows,
                    conflict=("case_id", "dataset_id", "fingerprint"),
                )
            result.new.update(finding.typology for finding in fresh.values())
            self._audit(
                connection,
                actor,
                "aml.detect",
                case=case,
                purpose=purpose_for(actor, case),
                target=str(chosen_row.id),
                details=result.as_dict(),
            )
            return result

        return self._in_case(actor, "aml.detect", reference, record)

    def _run(self, path: Any, chosen: Plan, engine: str, master: str) -> list[Finding]:
        if engine == "duckdb":
            return detect_duckdb(path, chosen, connection=duckdb_connection())
        scratch = self.runtime.settings.work_dir
        scratch.mkdir(parents=True, exist_ok=True)
        return detect_spark(spark_session(master), path, chosen, scratch)

    def list_alerts(
        self,
        actor: Actor,
        reference: str,
        *,
        state: str | None = None,
        typology: str | None = None,
        dataset: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> tuple[int, list[Alert]]:
        """Alerts best first (score, then newest), with the total that match."""
        if state is not None and state not in REVIEW_STATES:
            raise InvalidInput(f"state must be one of: {', '.join(REVIEW_STATES)}")
        if limit < 1 or offset < 0:
            raise InvalidInput("limit must be positive and offset not negative")

        def body(connection: Connection, case: Row[Any]) -> tuple[int, list[Alert]]:
            require_member(connection, actor, case)
            conditions = [alerts.c.case_id == case.id]
            if state is not None:
                conditions.append(alerts.c.state == state)
            if typology is not None:
                conditions.append(alerts.c.typology == typology)
            if dataset is not None:
                conditions.append(alerts.c.dataset_id.startswith(dataset, autoescape=True))
            total = connection.execute(
                select(func.count()).select_from(alerts).where(*conditions)
            ).scalar_one()
            found = connection.execute(
                select(alerts)
                .where(*conditions)
                .order_by(alerts.c.score.desc(), alerts.c.id.desc())
                .limit(limit)
                .offset(offset)
            ).all()
            self._audit(
                connection,
                actor,
                "alerts.list",
                case=case,
                purpose=purpose_for(actor, case),
                details={
                    "state": state,
                    "typology": typology,
                    "dataset": dataset,
                    "shown": len(found),
                    "total": total,
                },
            )
            return int(total), [_alert(row) for row in found]

        return self._in_case(actor, "alerts.list", reference, body)

    def show(self, actor: Actor, reference: str, alert_id: int) -> Alert:
        def body(connection: Connection, case: Row[Any]) -> Alert:
            require_member(connection, actor, case)
            row = _alert_row_of(connection, case.id, alert_id)
            self._audit(
                connection,
                actor,
                "alerts.show",
                case=case,
                purpose=purpose_for(actor, case),
                target=str(alert_id),
            )
            return _alert(row)

        return self._in_case(actor, "alerts.show", reference, body)

    def bring_into_case(self, actor: Actor, reference: str, alert_id: int) -> dict[str, int]:
        """Make the alert's accounts and payments BankAccount and Payment entities of the
        case (of the dataset's item), so that they join its graph; counts of what is new."""

        def body(connection: Connection, case: Row[Any]) -> dict[str, int]:
            require_member(connection, actor, case, WRITER_ROLES)
            require_open(case)
            alert = _alert_row_of(connection, case.id, alert_id)
            dataset = dataset_row(connection, case.id, str(alert.dataset_id))
            counts = bring_payments(self.runtime, connection, case.id, dataset, alert.transactions)
            self._audit(
                connection,
                actor,
                "alerts.bring",
                case=case,
                purpose=purpose_for(actor, case),
                target=str(alert_id),
                details=counts,
            )
            return counts

        return self._in_case(actor, "alerts.bring", reference, body)

    def review(
        self, actor: Actor, reference: str, alert_id: int, state: str, note: str | None = None
    ) -> Alert:
        """Set an alert's review state (new, confirmed, dismissed), with who and when."""
        if state not in REVIEW_STATES:
            raise InvalidInput(f"state must be one of: {', '.join(REVIEW_STATES)}")

        def body(connection: Connection, case: Row[Any]) -> Alert:
            require_member(connection, actor, case)
            require_open(case)
            before = _alert_row_of(connection, case.id, alert_id)
            connection.execute(
                update(alerts)
                .where(alerts.c.id == before.id)
                .values(state=state, reviewed_by=actor.user, reviewed_at=utcnow(), review_note=note)
            )
            self._audit(
                connection,
                actor,
                "alerts.review",
                case=case,
                purpose=purpose_for(actor, case),
                target=str(alert_id),
                details={"from": before.state, "to": state, "note": note},
            )
            return _alert(_alert_row_of(connection, case.id, alert_id))

        return self._in_case(actor, "alerts.review", reference, body)


def _alert_row_of(connection: Connection, case_id: str, alert_id: int) -> Row[Any]:
    row = connection.execute(
        select(alerts).where(alerts.c.case_id == case_id, alerts.c.id == alert_id)
    ).first()
    if row is None:
        raise NotFound(f"no alert {alert_id} in this case", alert=str(alert_id))
    return row


def _moment(ts: int) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _alert_row(case_id: str, dataset_id: str, finding: Finding, now: datetime) -> dict[str, Any]:
    return {
        "case_id": case_id,
        "dataset_id": dataset_id,
        "typology": finding.typology,
        "detector_version": finding.detector_version,
        "fingerprint": finding.fingerprint,
        "score": finding.score,
        "accounts": list(finding.accounts),
        "transactions": list(finding.rows),
        "window_start": _moment(finding.window_start),
        "window_end": _moment(finding.window_end),
        "parameters": dict(finding.parameters),
        "explanation": finding.explanation,
        "state": "new",
        "reviewed_by": None,
        "reviewed_at": None,
        "review_note": None,
        "created_at": now,
    }


def _alert(row: Row[Any]) -> Alert:
    return Alert(
        id=int(row.id),
        dataset_id=str(row.dataset_id),
        typology=str(row.typology),
        detector_version=str(row.detector_version),
        score=float(row.score),
        accounts=list(row.accounts),
        transactions=[int(value) for value in row.transactions],
        window_start=row.window_start,
        window_end=row.window_end,
        parameters=dict(row.parameters),
        explanation=str(row.explanation),
        state=str(row.state),
        reviewed_by=row.reviewed_by,
        reviewed_at=row.reviewed_at,
        review_note=row.review_note,
        created_at=row.created_at,
    )
