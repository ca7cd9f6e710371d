"""Real third-party data from ../shared/corpus: every file accounted for, nothing crashes."""

from __future__ import annotations

import os
import tarfile
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from caselens.db.schema import items
from caselens.services import Caselens
from tests.conftest import ADMIN, CORPUS, needs_corpus, sqlite_only

pytestmark = [needs_corpus, sqlite_only, pytest.mark.corpus]


def _entries(root: Path) -> set[bytes]:
    found = set()
    for folder, dirs, files in os.walk(os.fsencode(root)):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            found.add(os.path.join(folder, name))
    return found


def _account(app: Caselens, roots: list[Path]) -> dict[bytes, tuple[str, str | None, str | None]]:
    with app.runtime.transaction() as connection:
        rows = connection.execute(
            select(items.c.path_bytes, items.c.state, items.c.error, items.c.mime_type)
        ).all()
    return {row.path_bytes: (row.state, row.error, row.mime_type) for row in rows}


def test_mail_and_documents_are_all_accounted_for(app: Caselens, case: str) -> None:
    roots = [CORPUS / "mail", CORPUS / "documents"]
    summary = app.ingest.ingest(ADMIN, case, [str(r) for r in roots])
    expected = set().union(*(_entries(r) for r in roots))
    recorded = _account(app, roots)
    assert set(recorded) == expected
    assert summary.files_seen == len(expected)
    table = Counter((mime or "-", state) for state, _, mime in recorded.values())
    print("\nMIME type → state (count)")
    for (mime, state), count in sorted(table.items()):
        print(f"  {mime:70} {state:12} {count}")
    assert all(state != "pending" for state, _, _ in recorded.values())
    assert all(error for state, error, _ in recorded.values() if state == "failed")
    assert app.verify.verify(ADMIN, case).ok


def test_enron_maildir_ingests_completely(app: Caselens, case: str, tmp_path: Path) -> None:
    with tarfile.open(CORPUS / "mail" / "enron-maildir-a.tar.gz") as archive:
        archive.extractall(tmp_path / "enron", filter="data")
    summary = app.ingest.ingest(ADMIN, case, [str(tmp_path / "enron")])
    expected = _entries(tmp_path / "enron")
    assert len(expected) >= 22_000
    assert summary.processed == len(expected)
    assert summary.states["failed"] == 0
    status = app.items.status(ADMIN, case)
    assert status.by_mime_type.get("message/rfc822", 0) > 0.95 * len(expected)
