"""Re-processing: new results become current, earlier ones stay, superseded and logged."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from caselens.custody import chain
from caselens.db.schema import entities, item_texts, items, log_records
from tests.conftest import ADMIN, new_installation
from tests.plugins.misbehaving import BUNDLE_PLUGIN


def test_reprocess_supersedes_earlier_output_and_logs_it(
    tmp_path: Path, database_url: str | None
) -> None:
    app = new_installation(tmp_path / "home", database_url, workers=1, batch_seconds=0.2)
    source = tmp_path / "src"
    source.mkdir()
    (source / "note.txt").write_text("meet at the harbour at nine")
    app.ingest.ingest(ADMIN, "C", [str(source)])

    summary = app.ingest.reprocess(ADMIN, "C", mime_type="text/*")
    assert dict(summary.states) == {"ingested": 1}

    with app.runtime.transaction() as connection:
        item = connection.execute(select(items)).one()
        texts = connection.execute(
            select(item_texts.c.generation, item_texts.c.superseded, item_texts.c.text).order_by(
                item_texts.c.generation
            )
        ).all()
        entity_rows = connection.execute(
            select(entities.c.generation, entities.c.superseded).order_by(entities.c.generation)
        ).all()
        actions = [
            (row.action, json.loads(row.record)["body"].get("details", {}))
            for row in connection.execute(
                select(log_records)
                .where(log_records.c.chain == chain.custody_chain(item.case_id))
                .order_by(log_records.c.seq)
            )
        ]
    assert item.generation == 2
    assert [tuple(t) for t in texts] == [
        (1, True, "meet at the harbour at nine"),
        (2, False, "meet at the harbour at nine"),
    ]
    assert [tuple(e) for e in entity_rows] == [(1, True), (2, False)]
    assert [a for a, _ in actions] == ["acquired", "ingested", "reprocessed"]
    assert actions[2][1]["generation"] == 2 and actions[2][1]["supersedes"] == 1
    assert app.verify.verify(ADMIN, "C").ok

    shown = app.items.show(ADMIN, "C", item.id)
    assert [p["text"] for p in shown.pages] == ["meet at the harbour at nine"]


def test_reprocess_filters_and_keeps_existing_children(
    tmp_path: Path, database_url: str | None
) -> None:
    app = new_installation(
        tmp_path / "home",
        database_url,
        workers=1,
        batch_seconds=0.2,
        ingestor_plugins=[BUNDLE_PLUGIN],
    )
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.bundle").write_bytes(b"one.txt: first\ntwo.txt: second")
    (source / "b.txt").write_text("plain")
    app.ingest.ingest(ADMIN, "C", [str(source)])

    # Only the bundle: its children exist already and are neither reset nor duplicated.
    summary = app.ingest.reprocess(ADMIN, "C", format_name="test-bundle")
    assert summary.processed == 1
    with app.runtime.transaction() as connection:
        rows = {r.path: r for r in connection.execute(select(items)).all()}
        current_texts = connection.execute(
            select(item_texts.c.item_id).where(item_texts.c.superseded.is_(False))
        ).all()
    assert rows[str(source / "a.bundle")].generation == 2
    assert rows["inside/one.txt"].generation == 1
    assert rows[str(source / "b.txt")].generation == 1
    assert len(rows) == 4
    assert len(current_texts) == len({t.item_id for t in current_texts})
    assert app.verify.verify(ADMIN, "C").ok
    assert app.ingest.reprocess(ADMIN, "C", failed_only=True).processed == 0
