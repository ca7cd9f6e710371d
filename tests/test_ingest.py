"""The ingest pipeline end to end on a tree the tests build."""

from __future__ import annotations

import fcntl
import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from caselens.config import Settings
from caselens.db.schema import blobs, entities, exhibits, item_texts, items, log_records
from caselens.errors import CaseBusy, StorageError
from caselens.ingest import worker_loop
from caselens.services import Caselens
from caselens.services.ingest import Acquisition
from tests.conftest import ADMIN, new_installation
from tests.evidence_tree import LATIN1_TEXT, ODD_NAME, build_tree
from tests.plugins.misbehaving import PLUGINS


def _count(app: Caselens, table: object, *where: object) -> int:
    with app.runtime.transaction() as connection:
        query = select(func.count()).select_from(table)  # type: ignore[arg-type]
        for clause in where:
            query = query.where(clause)  # type: ignore[arg-type]
        return int(connection.execute(query).scalar_one())


def _item(app: Caselens, **where: object) -> dict[str, object]:
    with app.runtime.transaction() as connection:
        query = select(items)
        for name, value in where.items():
            query = query.where(items.c[name] == value)
        return dict(connection.execute(query).one()._mapping)


def test_tree_is_ingested_with_every_entry_accounted_for(
    app: Caselens, case: str, tmp_path: Path
) -> None:
    files = build_tree(tmp_path / "src")
    acquisition = Acquisition(exhibit="EX/1", seized_by="DC Sandhu", seized_from="suspect's desk")
    summary = app.ingest.ingest(ADMIN, case, [str(tmp_path / "src")], acquisition)
    assert summary.files_seen == 12
    assert dict(summary.states) == {"ingested": 8, "skipped": 4}

    status = app.items.status(ADMIN, case)
    assert status.by_state == {"ingested": 8, "skipped": 4}
    assert status.by_format["text"] == {"ingested": 7}
    reasons = {Path(f["path"]).name: f["reason"] for f in status.failures}
    assert reasons == {
        "a-fifo": "special file (fifo); not read",
        "a-socket": "special file (socket); not read",
        "broken-link": "symbolic link to 'no-such-target', target missing; not followed",
        "good-link": "symbolic link to 'note.txt'; not followed",
    }

    memo = _item(app, path=str(files["latin1"]))
    raw = LATIN1_TEXT.encode("latin-1")
    assert memo["state"] == "ingested"
    assert memo["mime_type"] == "text/plain"
    assert memo["format"] == "text" and memo["format_version"] == "2"
    assert memo["sha256"] == hashlib.sha256(raw).hexdigest()
    assert memo["sha1"] == hashlib.sha1(raw).hexdigest()
    assert memo["md5"] == hashlib.md5(raw).hexdigest()
    assert memo["size"] == len(raw) and memo["depth"] == 0 and memo["parent_id"] is None
    assert memo["warnings"] == ["character set guessed as cp1252"]
    metadata = memo["source_metadata"]
    assert isinstance(metadata, dict) and metadata["size"] == len(raw)
    detail = app.items.show(ADMIN, case, str(memo["id"]))
    assert detail.pages == [{"page": 1, "text": LATIN1_TEXT}]
    assert detail.exhibit is not None and detail.exhibit["seized_by"] == "DC Sandhu"
    assert [c["action"] for c in detail.custody] == ["acquired", "ingested"]
    (document,) = detail.entities
    assert document["schema"] == "PlainText"
    assert document["properties"]["fileName"] == ["memo.txt"]
    assert document["properties"]["encoding"] == ["cp1252"]
    assert document["properties"]["contentHash"] == [memo["sha1"]]

    page = _item(app, name="page.html")
    page_detail = app.items.show(ADMIN, case, str(page["id"]))
    assert page_detail.pages[0]["text"] == "Profits\n\nYour balance: £19,086"
    assert page_detail.entities[0]["properties"]["title"] == ["BlueHarbor"]

    # The picture's compressed data is damaged: read as far as it goes, with the reason.
    png = _item(app, name="pixel.png")
    assert (png["state"], png["mime_type"], png["format"]) == ("ingested", "image/png", "image")
    assert any("pixel data cannot be decoded" in warning for warning in png["warnings"])


def test_odd_file_names_are_kept_byte_for_byte(app: Caselens, case: str, tmp_path: Path) -> None:
    build_tree(tmp_path / "src")
    app.ingest.ingest(ADMIN, case, [str(tmp_path / "src")])
    raw_path = os.path.join(os.fsencode(tmp_path / "src"), ODD_NAME)
    with app.runtime.transaction() as connection:
        row = connection.execute(select(items).where(items.c.path_bytes == raw_path)).one()
    assert row.path.endswith("caf\\xe9 \\xff notes.txt")
    assert row.state == "ingested"


def test_same_content_twice_is_two_items_over_one_blob(
    app: Caselens, case: str, tmp_path: Path
) -> None:
    files = build_tree(tmp_path / "src")
    app.ingest.ingest(ADMIN, case, [str(tmp_path / "src")])
    sha = hashlib.sha256(files["text"].read_bytes()).hexdigest()
    assert _count(app, items, items.c.sha256 == sha) == 2
    assert _count(app, blobs, blobs.c.sha256 == sha) == 1
    assert sum(1 for p in app.settings.blob_root.rglob(sha)) == 1


def test_second_ingest_adds_nothing(app: Caselens, case: str, tmp_path: Path) -> None:
    build_tree(tmp_path / "src")
    app.ingest.ingest(ADMIN, case, [str(tmp_path / "src")])
    counts = [_count(app, t) for t in (items, blobs, item_texts, entities)]
    custody = _count(app, log_records, log_records.c.chain.like("custody:%"))
    again = app.ingest.ingest(ADMIN, case, [str(tmp_path / "src")])
    assert again.already_present == 12 and again.processed == 0
    assert [_count(app, t) for t in (items, blobs, item_texts, entities)] == counts
    assert _count(app, log_records, log_records.c.chain.like("custody:%")) == custody
    assert app.verify.verify(ADMIN, case).ok


def test_workers_commit_when_nothing_more_is_coming(
    settings: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Workers are forked, so they see this: without the coordinator's flush a worker
    # would wait a minute for tasks that never come before it commits its last batch.
    monkeypatch.setattr(worker_loop, "IDLE_COMMIT_SECONDS", 60.0)
    patient = settings.model_copy(update={"batch_seconds": 60.0, "batch_size": 10_000})
    app = Caselens(patient)
    try:
        app.users.init(ADMIN)
        app.cases.create(ADMIN, "FLUSH", "Flush", default_purpose="testing")
        build_tree(tmp_path / "src")
        summary = app.ingest.ingest(ADMIN, "FLUSH", [str(tmp_path / "src")], workers=2)
        assert summary.processed == 12 and summary.seconds < 60
        assert _count(app, items, items.c.state == "pending") == 0
    finally:
        app.close()


def test_exhibits_are_separate_occurrences(app: Caselens, case: str, tmp_path: Path) -> None:
    files = build_tree(tmp_path / "src")
    app.ingest.ingest(ADMIN, case, [str(files["text"])], Acquisition(exhibit="A/1"))
    app.ingest.ingest(ADMIN, case, [str(files["text"])], Acquisition(exhibit="B/1"))
    assert _count(app, items) == 2 and _count(app, exhibits) == 2


def test_misbehaving_parsers_are_contained(tmp_path: Path, database_url: str | None) -> None:
    app = new_installation(
        tmp_path / "home",
        database_url,
        "misbehaving parsers",
        workers=2,
        item_timeout=2,
        kill_grace=1,
        # What a parser may add to the worker, however large the forked process already is.
        item_memory_mb=2048,
        batch_seconds=0.2,
        ingestor_plugins=PLUGINS,
    )
    source = tmp_path / "src"
    source.mkdir()
    for name in ("a.sleep", "b.stuck", "c.crash", "d.greedy", "e.raise"):
        (source / name).write_bytes(b"x")
    for index in range(20):
        (source / f"ok-{index:02}.txt").write_text(f"fine {index}")
    summary = app.ingest.ingest(ADMIN, "C", [str(source)])
    assert summary.states["ingested"] == 20
    assert summary.states["failed"] == 5
    reasons = dict((Path(p).name, r) for p, r in summary.failures)
    assert reasons["a.sleep"] == "time limit of 2 s exceeded"
    assert reasons["b.stuck"] == "time limit of 2 s exceeded; parser killed"
    assert reasons["c.crash"] == "parser process died (SIGSEGV); the item could not be read"
    assert reasons["d.greedy"] == "memory limit exceeded while parsing"
    assert reasons["e.raise"] == "test-raise parser error: KeyError: 'parser bug'"
    assert summary.workers_replaced == 2
    assert app.verify.verify(ADMIN, "C").ok
    app.close()


def test_concurrent_ingest_into_the_same_case_is_refused(
    app: Caselens, case: str, tmp_path: Path
) -> None:
    build_tree(tmp_path / "src")
    case_id = app.cases.show(ADMIN, case).id
    app.settings.locks_dir.mkdir(parents=True, exist_ok=True)
    with open(app.settings.locks_dir / f"ingest-{case_id}.lock", "a+") as held:
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        held.write("4242")
        held.flush()
        with pytest.raises(CaseBusy, match="another ingest into case CASE-1 is running"):
            app.ingest.ingest(ADMIN, case, [str(tmp_path / "src")])
    assert app.ingest.ingest(ADMIN, case, [str(tmp_path / "src")]).processed == 12


def _install_failing_trigger(app: Caselens) -> None:
    with app.runtime.transaction() as connection:
        if connection.dialect.name == "sqlite":
            connection.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON items WHEN NEW.name = 'poison.txt' "
                    "BEGIN SELECT RAISE(ABORT, 'simulated database failure'); END"
                )
            )
        else:
            connection.execute(
                text(
                    "CREATE FUNCTION poison() RETURNS trigger AS $$ BEGIN "
                    "IF NEW.name = 'poison.txt' THEN "
                    "RAISE EXCEPTION 'simulated database failure'; END IF; "
                    "RETURN NEW; END $$ LANGUAGE plpgsql"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER poison BEFORE INSERT ON items "
                    "FOR EACH ROW EXECUTE FUNCTION poison()"
                )
            )


def test_database_error_rolls_back_and_the_run_resumes(
    tmp_path: Path, database_url: str | None
) -> None:
    app = new_installation(
        tmp_path / "home", database_url, "database failure", workers=1, batch_size=5
    )
    source = tmp_path / "src"
    source.mkdir()
    for index in range(40):
        (source / f"f{index:02}.txt").write_text(f"file {index}")
    (source / "poison.txt").write_text("the database refuses this one")
    _install_failing_trigger(app)
    with pytest.raises(StorageError, match="simulated database failure"):
        app.ingest.ingest(ADMIN, "C", [str(source)])
    saved = _count(app, items)
    assert saved < 41
    # Every saved item has its two custody records: nothing half-written.
    assert _count(app, log_records, log_records.c.chain.like("custody:%")) == 2 * saved
    with app.runtime.transaction() as connection:
        connection.execute(
            text(
                "DROP TRIGGER poison" + ("" if connection.dialect.name == "sqlite" else " ON items")
            )
        )
    summary = app.ingest.ingest(ADMIN, "C", [str(source)])
    assert summary.already_present == saved and summary.processed == 41 - saved
    assert _count(app, items) == 41
    assert app.verify.verify(ADMIN, "C").ok
    app.close()
