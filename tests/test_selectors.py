"""Identifiers found at ingest: stored as mentions with provenance, ranked, drilled into."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from caselens.db.schema import entities, mentions
from caselens.extract.base import NAME_KINDS
from tests.conftest import ADMIN, new_installation

NOTE = (
    "Call Sophie on 020 7946 0958 or +44 20 7946 0958.\n"
    "Pay GB29 NWBK 6016 1331 9268 19 before Friday; questions to s.lang@blueharbor.test\n"
)


def test_ingest_finds_ranks_and_locates_selectors(tmp_path: Path, database_url: str | None) -> None:
    app = new_installation(tmp_path / "home", database_url, workers=1, batch_seconds=0.2)
    app.cases.create(ADMIN, "UK-1", "uk case", jurisdiction="GB-ENG", default_purpose="testing")
    source = tmp_path / "src"
    source.mkdir()
    (source / "note.txt").write_text(NOTE)
    (source / "other.txt").write_text("Sophie's number again: +442079460958")
    app.ingest.ingest(ADMIN, "UK-1", [str(source)])

    ranked = app.selectors.ranked(ADMIN, "UK-1")
    assert ranked == [
        {"kind": "phone", "value": "+442079460958", "items": 2, "mentions": 3},
        {"kind": "email", "value": "s.lang@blueharbor.test", "items": 1, "mentions": 1},
        {"kind": "iban", "value": "GB29NWBK60161331926819", "items": 1, "mentions": 1},
    ]
    where = app.selectors.items(ADMIN, "UK-1", "phone", "+442079460958")
    assert [(Path(w["path"]).name, w["page"], w["raw"]) for w in where] == [
        ("note.txt", 1, "020 7946 0958"),
        ("note.txt", 1, "+44 20 7946 0958"),
        ("other.txt", 1, "+442079460958"),
    ]
    assert NOTE[where[0]["start"] : where[0]["end"]] == "020 7946 0958"

    with app.runtime.transaction() as connection:
        row = connection.execute(select(mentions).where(mentions.c.kind == "iban")).one()
        document = connection.execute(
            select(entities.c.properties).where(entities.c.schema == "PlainText")
        ).all()
    assert (row.extractor, row.extractor_version, row.raw) == (
        "iban",
        "1",
        "GB29 NWBK 6016 1331 9268 19",
    )
    mentioned = [p for (p,) in document if "ibanMentioned" in p]
    assert mentioned[0]["ibanMentioned"] == ["GB29NWBK60161331926819"]
    assert mentioned[0]["phoneMentioned"] == ["+442079460958"]

    # Re-processing replaces the output of the extractors, keeping the old rows superseded.
    app.ingest.reprocess(ADMIN, "UK-1")
    assert app.selectors.ranked(ADMIN, "UK-1", kind="phone")[0]["mentions"] == 3
    with app.runtime.transaction() as connection:
        superseded = connection.execute(
            select(mentions.c.kind).where(mentions.c.superseded.is_(True))
        ).all()
    assert len([kind for (kind,) in superseded if kind not in NAME_KINDS]) == 5


def test_analysis_can_be_switched_off(tmp_path: Path, database_url: str | None) -> None:
    app = new_installation(tmp_path / "home", database_url, workers=1, analyze=False)
    source = tmp_path / "src"
    source.mkdir()
    (source / "note.txt").write_text(NOTE)
    app.ingest.ingest(ADMIN, "C", [str(source)])
    assert app.selectors.ranked(ADMIN, "C") == []


def test_an_analyzer_bug_is_a_warning_not_a_lost_item(
    tmp_path: Path, database_url: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: object, pages: object) -> None:
        raise RuntimeError("extractor bug")

    monkeypatch.setattr("caselens.extract.analyze.Analyzer.analyze", broken)
    app = new_installation(tmp_path / "home", database_url, workers=1)
    source = tmp_path / "src"
    source.mkdir()
    (source / "note.txt").write_text(NOTE)
    app.ingest.ingest(ADMIN, "C", [str(source)])
    (listed,) = [i for i in app.items.list(ADMIN, "C") if i["name"] == "note.txt"]
    item = app.items.show(ADMIN, "C", listed["id"]).item
    assert item["state"] == "ingested"
    assert item["warnings"] == ["analysis failed: RuntimeError: extractor bug"]
    assert app.selectors.ranked(ADMIN, "C") == []
    assert app.search.search(ADMIN, "C", "sophie")["total"] == 1  # still searchable
