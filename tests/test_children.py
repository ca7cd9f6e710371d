"""Files found inside other files: derived items with their parent, path and custody."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from caselens.db.schema import items
from tests.conftest import ADMIN, new_installation
from tests.plugins.misbehaving import BUNDLE_PLUGIN


def test_children_become_items_with_parent_and_derived_custody(
    tmp_path: Path, database_url: str | None
) -> None:
    app = new_installation(
        tmp_path / "home",
        database_url,
        "children",
        workers=2,
        batch_seconds=0.2,
        ingestor_plugins=[BUNDLE_PLUGIN],
    )
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.bundle").write_bytes(b"one.txt: first\ntwo.txt: second\nsame.txt: first")
    summary = app.ingest.ingest(ADMIN, "C", [str(source)])
    assert dict(summary.states) == {"ingested": 4}

    with app.runtime.transaction() as connection:
        rows = {r.path: r for r in connection.execute(select(items)).all()}
    parent = rows[str(source / "a.bundle")]
    assert (parent.format, parent.depth, parent.parent_id) == ("test-bundle", 0, None)
    children = {p: r for p, r in rows.items() if r.parent_id == parent.id}
    assert set(children) == {"inside/one.txt", "inside/two.txt", "inside/same.txt"}
    one = children["inside/one.txt"]
    assert (one.depth, one.name, one.state, one.format) == (1, "one.txt", "ingested", "text")
    assert one.sha256 == children["inside/same.txt"].sha256  # one blob, two items

    detail = app.items.show(ADMIN, "C", one.id)
    assert detail.pages == [{"page": 1, "text": "first\n"}]
    assert [c["action"] for c in detail.custody] == ["derived", "ingested"]
    parent_detail = app.items.show(ADMIN, "C", parent.id)
    assert sorted(c["path"] for c in parent_detail.children) == sorted(children)

    again = app.ingest.ingest(ADMIN, "C", [str(source)])
    assert again.processed == 0
    assert app.verify.verify(ADMIN, "C").ok
    app.close()
