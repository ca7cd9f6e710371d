"""Names of a case ranked by items, spellings counted together, drilled into, audited."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from caselens.actor import Actor
from caselens.db.schema import cases, items, log_records, mentions
from caselens.errors import AccessDenied, InvalidInput
from caselens.extract.base import ExtractionContext, Mention
from caselens.extract.names import NameExtractor, names_available
from caselens.services import Caselens
from caselens.services.names import NameService
from tests.conftest import ADMIN, new_installation

TEXTS = {
    "a.txt": "Vladimir Putin called. Putin's aide called again.",
    "b.txt": "Владимир Путин прилетел в Москву.",
    "c.txt": "The memo from Vladimir Putin (PUTIN, Vladimir) went to Deutsche Bank AG in Moscow.",
}


def _case(tmp_path: Path, database_url: str | None) -> tuple[Caselens, NameService]:
    # Names are written below as the analyzer would, so the ranking is known exactly.
    app = new_installation(
        tmp_path / "home", database_url, workers=1, batch_seconds=0.2, names=False
    )
    source = tmp_path / "src"
    source.mkdir()
    for name, text in TEXTS.items():
        (source / name).write_text(text)
    app.ingest.ingest(ADMIN, "C", [str(source)])
    return app, NameService(app.runtime)


def _store(app: Caselens, path: str, found: list[tuple[str, str, str]], **row: Any) -> None:
    """Mention rows as the analyzer writes them: (kind, value, raw) found in ``path``."""
    text = TEXTS[Path(path).name]
    with app.runtime.transaction() as connection:
        item = connection.execute(
            select(items.c.id, items.c.case_id, items.c.generation).where(
                items.c.name == Path(path).name
            )
        ).one()
        for kind, value, raw in found:
            start = text.index(raw)
            connection.execute(
                insert(mentions).values(
                    case_id=item.case_id,
                    item_id=item.id,
                    generation=item.generation,
                    page=1,
                    start=start,
                    end=start + len(raw),
                    kind=kind,
                    value=value,
                    raw=raw,
                    extractor="names",
                    extractor_version="1",
                    superseded=row.get("superseded", False),
                )
            )


def _seed(app: Caselens) -> None:
    putin = "putin vladimir"
    _store(app, "a.txt", [("person", putin, "Vladimir Putin"), ("person", "putin", "Putin")])
    _store(app, "b.txt", [("person", putin, "Владимир Путин"), ("location", "moskvu", "Москву")])
    _store(
        app,
        "c.txt",
        [
            ("person", putin, "PUTIN, Vladimir"),
            ("organization", "ag bank deutsche", "Deutsche Bank AG"),
        ],
    )
    _store(app, "a.txt", [("person", putin, "Vladimir Putin")], superseded=True)


def test_names_are_ranked_with_spellings_counted_together(
    tmp_path: Path, database_url: str | None
) -> None:
    app, names = _case(tmp_path, database_url)
    _seed(app)
    assert names.ranked(ADMIN, "C") == [
        {"kind": "person", "value": "putin vladimir", "name": "PUTIN, Vladimir",
         "spellings": 3, "items": 3, "mentions": 3},
        {"kind": "location", "value": "moskvu", "name": "Москву",
         "spellings": 1, "items": 1, "mentions": 1},
        {"kind": "organization", "value": "ag bank deutsche", "name": "Deutsche Bank AG",
         "spellings": 1, "items": 1, "mentions": 1},
        {"kind": "person", "value": "putin", "name": "Putin",
         "spellings": 1, "items": 1, "mentions": 1},
    ]  # fmt: skip
    assert [r["value"] for r in names.ranked(ADMIN, "C", kind="person")] == [
        "putin vladimir",
        "putin",
    ]
    assert names.ranked(ADMIN, "C", kind="location", limit=1)[0]["name"] == "Москву"
    # Identifiers found at ingest are selectors, not names.
    assert {r["kind"] for r in names.ranked(ADMIN, "C")} <= {"person", "organization", "location"}
    app.close()


def test_the_most_frequent_spelling_names_the_group(
    tmp_path: Path, database_url: str | None
) -> None:
    app, names = _case(tmp_path, database_url)
    _seed(app)
    _store(app, "b.txt", [("person", "putin vladimir", "Владимир Путин")])
    assert names.ranked(ADMIN, "C", kind="person")[0] == {
        "kind": "person",
        "value": "putin vladimir",
        "name": "Владимир Путин",
        "spellings": 3,
        "items": 3,
        "mentions": 4,
    }
    app.close()


def test_drill_down_by_fingerprint_or_by_a_name_as_written(
    tmp_path: Path, database_url: str | None
) -> None:
    app, names = _case(tmp_path, database_url)
    _seed(app)
    by_value = names.items(ADMIN, "C", "person", "putin vladimir")
    assert [(Path(r["path"]).name, r["page"], r["start"], r["raw"]) for r in by_value] == [
        ("a.txt", 1, 0, "Vladimir Putin"),
        ("b.txt", 1, 0, "Владимир Путин"),
        ("c.txt", 1, 30, "PUTIN, Vladimir"),
    ]
    assert names.items(ADMIN, "C", "person", "Vladimir Putin") == by_value
    assert names.items(ADMIN, "C", "person", "Владимир  ПУТИН") == by_value
    assert names.items(ADMIN, "C", "person", "putin vladimir", limit=1) == by_value[:1]
    assert names.items(ADMIN, "C", "location", "putin vladimir") == []
    assert names.items(ADMIN, "C", "person", "---") == []
    app.close()


def test_unknown_kind_is_refused_clearly(tmp_path: Path, database_url: str | None) -> None:
    app, names = _case(tmp_path, database_url)
    with pytest.raises(InvalidInput, match="unknown kind of name 'phone'"):
        names.ranked(ADMIN, "C", kind="phone")
    with pytest.raises(InvalidInput, match="person, organization, location"):
        names.items(ADMIN, "C", "iban", "x")
    app.close()


def test_reads_are_audited_and_need_membership(tmp_path: Path, database_url: str | None) -> None:
    app, names = _case(tmp_path, database_url)
    _seed(app)
    names.ranked(ADMIN, "C", kind="person")
    names.items(ADMIN, "C", "person", "putin vladimir")
    with app.runtime.transaction() as connection:
        actions = [
            a
            for (a,) in connection.execute(
                select(log_records.c.action)
                .where(log_records.c.action.like("names.%"))
                .order_by(log_records.c.id)
            )
        ]
    assert actions == ["names.ranked", "names.items"]
    app.users.add(ADMIN, "mallory")
    stranger = Actor(user="mallory", purpose="curiosity", os_user="mallory")
    with pytest.raises(AccessDenied):
        names.ranked(stranger, "C")
    with pytest.raises(AccessDenied):
        names.items(stranger, "C", "person", "putin vladimir")
    app.close()


@pytest.mark.skipif(not names_available(), reason="the names extra is not installed")
def test_names_found_by_spacy_group_across_scripts(
    tmp_path: Path, database_url: str | None
) -> None:
    app, names = _case(tmp_path, database_url)
    extractor = NameExtractor()
    for name, text in TEXTS.items():
        found: list[Mention] = list(extractor.find(text, ExtractionContext()))
        _store(app, name, [(m.kind, m.value, m.raw) for m in found])
    # The small model reads "PUTIN, Vladimir" as two names; the full name still meets
    # across scripts, and "PUTIN" and "Putin" meet.
    assert names.ranked(ADMIN, "C", kind="person") == [
        {"kind": "person", "value": "putin vladimir", "name": "Vladimir Putin",
         "spellings": 2, "items": 3, "mentions": 3},
        {"kind": "person", "value": "putin", "name": "PUTIN",
         "spellings": 2, "items": 2, "mentions": 2},
        {"kind": "person", "value": "vladimir", "name": "Vladimir",
         "spellings": 1, "items": 1, "mentions": 1},
    ]  # fmt: skip
    with app.runtime.transaction() as connection:
        case_id = connection.execute(select(cases.c.id).where(cases.c.reference == "C")).scalar()
        stored = connection.execute(
            select(func.count())
            .select_from(mentions)
            .where(mentions.c.case_id == case_id, mentions.c.extractor == "names")
        ).scalar()
    assert stored == sum(r["mentions"] for r in names.ranked(ADMIN, "C"))
    app.close()
