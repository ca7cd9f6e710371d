"""Every public service method writes an audit record; this test walks them all."""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from PIL import Image
from sqlalchemy import func, insert, select

from caselens.db.schema import (
    alerts,
    cases,
    items,
    log_records,
    transcript_segments,
    transcripts,
    tx_datasets,
)
from caselens.finance.trace import TraceRequest
from caselens.services import Caselens
from caselens.transcribe.rows import transcript_rows
from tests.conftest import ADMIN
from tests.finance.test_aml_model import labelled_lines
from tests.finance.test_import_amlworld import GOOD as AMLWORLD_ROWS
from tests.finance.test_import_amlworld import write_amlworld

AMLWORLD_ROW = AMLWORLD_ROWS[0]


def _audit_count(app: Caselens) -> int:
    with app.runtime.transaction() as connection:
        return int(
            connection.execute(
                select(func.count())
                .select_from(log_records)
                .where(log_records.c.chain.like("audit:%"))
            ).scalar_one()
        )


def _pretend_transcribed(app: Caselens, item_id: str) -> None:
    """A transcript row for a text item: the services, not Whisper, are under test here."""
    segment = {"number": 1, "start": 0.0, "end": 1.0, "text": "x"}
    context = {"transcript": {"model": "test", "segments": [segment]}}
    with app.runtime.transaction() as connection:
        generation = connection.execute(
            select(items.c.generation).where(items.c.id == item_id)
        ).scalar_one()
        found = transcript_rows(item_id, generation, context)
        assert found is not None
        connection.execute(insert(transcripts), [found[0]])
        connection.execute(insert(transcript_segments), found[1])


def test_every_service_method_writes_an_audit_record(app: Caselens, tmp_path: Path) -> None:
    evidence = tmp_path / "evidence"
    evidence.mkdir()
    (evidence / "note.txt").write_text("meet at the harbour at 9")
    (evidence / "mail.eml").write_text(
        "From: a@example.com\nTo: b@example.com\nSubject: s\n"
        "Date: Mon, 2 Mar 2026 10:00:00 +0000\n\nhello\n"
    )
    Image.new("RGB", (40, 30), (200, 10, 10)).save(evidence / "photo.png")
    hash_list = tmp_path / "alerts.txt"
    hash_list.write_text(hashlib.md5(b"meet at the harbour at 9").hexdigest() + "\n")
    export_dir = tmp_path / "out"
    export_dir.mkdir()
    item_id: dict[str, str] = {}

    def show() -> Any:
        listed = {row["name"]: row["id"] for row in app.items.list(ADMIN, "C1")}
        item_id["id"], item_id["photo"] = listed["note.txt"], listed["photo.png"]
        _pretend_transcribed(app, item_id["id"])
        return app.items.show(ADMIN, "C1", item_id["id"])

    payments = write_amlworld(tmp_path / "payments.csv", [AMLWORLD_ROW])
    planted: dict[str, int] = {}
    labelled = write_amlworld(tmp_path / "labelled.csv", labelled_lines(1000))
    model = tmp_path / "model.txt"
    calls: dict[str, Callable[[], Any]] = {
        "users.init": lambda: app.users.init(ADMIN),
        "users.add": lambda: app.users.add(ADMIN, "alice"),
        "users.list": lambda: app.users.list(ADMIN),
        "cases.create": lambda: app.cases.create(ADMIN, "C1", "One", default_purpose="p"),
        "cases.list": lambda: app.cases.list(ADMIN),
        "cases.show": lambda: app.cases.show(ADMIN, "C1"),
        "cases.add_member": lambda: app.cases.add_member(ADMIN, "C1", "alice", "analyst"),
        "cases.list_members": lambda: app.cases.list_members(ADMIN, "C1"),
        "ingest.ingest": lambda: app.ingest.ingest(ADMIN, "C1", [str(evidence)]),
        "ingest.reprocess": lambda: app.ingest.reprocess(ADMIN, "C1"),
        "mail.threads": lambda: app.mail.threads(ADMIN, "C1"),
        "selectors.ranked": lambda: app.selectors.ranked(ADMIN, "C1"),
        "selectors.items": lambda: app.selectors.items(ADMIN, "C1", "phone", "+447700900123"),
        "names.ranked": lambda: app.names.ranked(ADMIN, "C1"),
        "names.items": lambda: app.names.items(ADMIN, "C1", "person", "jane doe"),
        "search.search": lambda: app.search.search(ADMIN, "C1", "wire"),
        "search.rebuild": lambda: app.search.rebuild(ADMIN, "C1"),
        "items.status": lambda: app.items.status(ADMIN, "C1"),
        "items.list": lambda: app.items.list(ADMIN, "C1"),
        "items.show": show,
        "items.thumbnail": lambda: app.items.thumbnail(ADMIN, "C1", item_id["photo"]),
        "items.export": lambda: app.items.export(ADMIN, "C1", item_id["id"], export_dir),
        "verify.verify": lambda: app.verify.verify(ADMIN, "C1"),
        "audit.case_log": lambda: app.audit.case_log(ADMIN, "C1"),
        "audit.installation_log": lambda: app.audit.installation_log(ADMIN),
        "hashsets.import_set": lambda: app.hashsets.import_set(ADMIN, "alerts", "alert", hash_list),
        "hashsets.list_sets": lambda: app.hashsets.list_sets(ADMIN),
        "hashsets.match": lambda: app.hashsets.match(ADMIN, "C1"),
        "hashsets.near_duplicates": lambda: app.hashsets.near_duplicates(ADMIN, "C1"),
        "transcripts.show": lambda: app.transcripts.show(ADMIN, "C1", item_id["id"]),
        "transcripts.review": lambda: app.transcripts.review(
            ADMIN, "C1", item_id["id"], "reviewed", "checked against the recording"
        ),
        "timeline.events": lambda: app.timeline.events(ADMIN, "C1", entity="+447700900123"),
        "timeline.import_plaso": lambda: app.timeline.import_plaso(ADMIN, "C1", item_id["id"]),
        "graph.neighbours": lambda: app.graph.neighbours(ADMIN, "C1", ["a@example.com"]),
        "graph.path": lambda: app.graph.path(ADMIN, "C1", "a@example.com", "b@example.com"),
        "graph.common": lambda: app.graph.common(ADMIN, "C1", ["a@example.com", "b@example.com"]),
        "graph.key_players": lambda: app.graph.key_players(ADMIN, "C1"),
        "graph.communities": lambda: app.graph.communities(ADMIN, "C1"),
        "graph.export": lambda: app.graph.export(ADMIN, "C1", "gexf"),
        "hits.list": lambda: app.hits.list(ADMIN, "C1"),
        "resolution.candidates": lambda: app.resolution.candidates(ADMIN, "C1"),
        "resolution.groups": lambda: app.resolution.groups(ADMIN, "C1"),
        "resolution.judge": lambda: app.resolution.judge(
            ADMIN, "C1", "a@example.com", "b@example.com", "different"
        ),
        "transactions.import_file": lambda: app.transactions.import_file(
            ADMIN, "C1", payments, "amlworld"
        ),
        "transactions.datasets": lambda: app.transactions.datasets(ADMIN, "C1"),
        "tracing.trace": lambda: app.tracing.trace(ADMIN, "C1", TraceRequest(row=0)),
        "tracing.bring_into_case": lambda: app.tracing.bring_into_case(
            ADMIN, "C1", TraceRequest(row=0)
        ),
        "aml_models.train": lambda: app.aml_models.train(ADMIN, labelled, model),
        "aml_models.score": lambda: app.aml_models.score(
            ADMIN, labelled, model, tmp_path / "scores.csv"
        ),
        "alerts.detect": lambda: app.alerts.detect(ADMIN, "C1"),
        "alerts.list_alerts": lambda: app.alerts.list_alerts(ADMIN, "C1"),
        "alerts.show": lambda: app.alerts.show(
            ADMIN, "C1", planted.setdefault("alert", _planted_alert(app, "C1"))
        ),
        "alerts.bring_into_case": lambda: app.alerts.bring_into_case(ADMIN, "C1", planted["alert"]),
        "alerts.review": lambda: app.alerts.review(
            ADMIN, "C1", planted["alert"], "dismissed", "test"
        ),
        "cases.close": lambda: app.cases.close(ADMIN, "C1"),
    }
    public = {
        f"{name}.{method}"
        for name in (
            "users",
            "cases",
            "items",
            "ingest",
            "mail",
            "selectors",
            "names",
            "search",
            "verify",
            "audit",
            "hashsets",
            "transcripts",
            "timeline",
            "graph",
            "hits",
            "resolution",
            "transactions",
            "tracing",
            "alerts",
            "aml_models",
        )
        for method, member in inspect.getmembers(getattr(app, name), inspect.ismethod)
        if not method.startswith("_")
    }
    assert public == set(calls), "a service method was added without audit coverage here"
    for name, call in calls.items():
        before = _audit_count(app)
        call()
        assert _audit_count(app) > before, f"{name} wrote no audit record"


def _planted_alert(app: Caselens, reference: str) -> int:
    """An alert row as detection writes it (one row is too little for any detector)."""
    moment = datetime(2024, 3, 1, tzinfo=UTC)
    with app.runtime.transaction() as connection:
        case_id = connection.execute(
            select(cases.c.id).where(cases.c.reference == reference)
        ).scalar_one()
        dataset = connection.execute(
            select(tx_datasets.c.id).where(tx_datasets.c.case_id == case_id)
        ).scalar_one()
        connection.execute(
            insert(alerts).values(
                case_id=case_id, dataset_id=dataset, typology="fan_in", detector_version="1",
                fingerprint="0" * 64, score=0.5, accounts=["A"], transactions=[0],
                window_start=moment, window_end=moment, parameters={}, explanation="test",
                state="new", created_at=moment,
            )
        )  # fmt: skip
        return int(connection.execute(select(alerts.c.id)).scalar_one())
