"""Real third-party data from ../shared/corpus: every file accounted for, nothing crashes."""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

from caselens.config import Settings
from caselens.services import Caselens
from tests.conftest import ADMIN, CORPUS, needs_corpus, sqlite_only

pytestmark = [needs_corpus, sqlite_only, pytest.mark.corpus]


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Corpus scale: names (spaCy, ~50,000 characters/s) would take most of the CI budget;
    # the name extractor is tested on its own and through ingest on small evidence. OCR
    # (tesseract, seconds a page) likewise: tests/media/test_ocr.py reads corpus scans.
    return settings.model_copy(update={"names": False, "ocr": False})


def _entries(root: Path) -> set[bytes]:
    found = set()
    for folder, dirs, files in os.walk(os.fsencode(root)):
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            found.add(os.path.join(folder, name))
    return found


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
