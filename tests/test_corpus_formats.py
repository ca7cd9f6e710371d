"""The format ingestors over the real corpus: every file accounted for, text where promised.

Runs on SQLite only (corpus scale). Prints a table of format → state (reason), the figure
the formats issue asks for: of the files in formats caselens reads that the corpus index
does not mark as broken or encrypted, at least 98% must yield text (themselves or through
the items found inside them); every encrypted one must be reported as encrypted and open
with its known password; nothing may crash a parser; the parsers' peak memory stays
under 2 GiB.
"""

from __future__ import annotations

import csv
import os
import resource
import shutil
import subprocess
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from caselens.config import Settings
from caselens.db.schema import item_texts, items
from caselens.services import Caselens
from tests.conftest import ADMIN, CORPUS, needs_corpus, sqlite_only
from tests.formats.test_pdf import UNICODE_PASSWORD
from tests.test_corpus import _entries

pytestmark = [needs_corpus, sqlite_only, pytest.mark.corpus]

# Index categories of the formats this issue names; images, SQLite and iWork come later.
NAMED = {
    "pdf", "docx", "doc", "xlsx", "xls", "xlsm", "pptx", "pptm", "ppt", "odt", "ods", "odp",
    "rtf", "html", "xml", "txt", "csv", "epub", "ics", "vcs", "msg", "eml", "rfc822", "emlx",
    "mbox", "pst", "zip", "tar", "tgz", "gz", "bz2", "7z", "rar",
}  # fmt: skip
# Known passwords from the corpus manifest (tika-index.csv and pypdf's encryption set).
# The five beyond the manifest come from the pypdf and Tika test suites.
PASSWORDS = [
    "tika",
    "Tika",
    "ApacheTika",
    "    ",
    "asdfzxcv",
    "foo",
    "openpassword",
    "test",
    "password",
    "user",
    UNICODE_PASSWORD,
]
# Encrypted by rights management, or with a password the corpus does not give.
NO_KNOWN_PASSWORD = {"testWORD_protected_drm.doc", "testMicrosoftIRMServices.pdf"}
# pypdf's encryption set: these need a user password (the owner-only ones open without).
PYPDF_USER_PASSWORD = {
    f"{name}.pdf"
    for name in (
        "r2-user-password",
        "r3-user-password",
        "r4-user-password",
        "r4-aes-user-password",
        "r5-user-password",
        "r6-user-password",
        "r6-both-passwords",
    )
}


# Files with no text for any parser to find, each for a reason checked below or by hand:
# PDFs whose pages are only images or drawings (pdftotext finds no text either; they need
# the OCR of the images issue), documents that are empty, archives of binary members,
# quines, one volume of a split archive, a WordPerfect file named .doc.
PDFS_WITHOUT_TEXT_LAYER = {
    "box.pdf",
    "git.pdf",
    "imagemagick-ASCII85Decode.pdf",
    "imagemagick-CCITTFaxDecode.pdf",
    "imagemagick-lzw.pdf",
    "issue-3850-1bit-indexed-flate.pdf",
    "testOCR.pdf",
    "testPDF_AdobeIllustrator.pdf",
    "testPDF_Version.11.x.PDFA-1b.pdf",
    "testPDF_Version.4.x.pdf",
    "testPDF_jpeg2000.pdf",
    "testPDF_twoAuthors.pdf",
}
NOTHING_TO_READ = {
    "testWORD_multi_authors.docx": "empty body, metadata only",
    "testWORD_multi_authors.doc": "empty body, metadata only",
    "testZip_with_DataDescriptor.zip": "five 4-byte binary members",
    "quine.gz": "a gzip that decompresses to itself",
    "test-documents-spanned.zip": "volume 2 of a split archive without the others",
    "testWordPerfect_42.doc": "WordPerfect 4.2 named .doc: not a format this issue names",
}
WITHOUT_TEXT = PDFS_WITHOUT_TEXT_LAYER | set(NOTHING_TO_READ)
# Encrypted with Excel's built-in default password: readable with no password supplied,
# and read, with a warning saying so.
OPENS_WITHOUT_USER_PASSWORD = {"protectedFile.xlsx"}


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Corpus scale: names (spaCy, ~50,000 characters/s) would take most of the CI budget;
    # the name extractor is tested on its own and through ingest on small evidence. OCR
    # (tesseract, seconds a page) likewise: tests/media/test_ocr.py reads corpus scans.
    return settings.model_copy(update={"names": False, "ocr": False})


def _index() -> dict[str, dict[str, str]]:
    with (CORPUS / "documents" / "tika-index.csv").open(newline="") as handle:
        return {row["file"]: row for row in csv.DictReader(handle)}


def _tree(app: Caselens) -> tuple[dict[bytes, Any], dict[str, list[str]], set[str]]:
    with app.runtime.transaction() as connection:
        rows = connection.execute(select(items)).all()
        with_text = set(
            connection.execute(
                select(item_texts.c.item_id)
                .where(item_texts.c.superseded.is_(False), item_texts.c.text != "")
                .distinct()
            ).scalars()
        )
    top = {row.path_bytes: row for row in rows if row.parent_id is None}
    children: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row.parent_id:
            children[row.parent_id].append(row.id)
    _states.clear()
    _states.update({row.id: row for row in rows})
    return top, children, with_text


_states: dict[str, Any] = {}


def _descendants(item_id: str, children: dict[str, list[str]]) -> list[Any]:
    found, stack = [], [item_id]
    while stack:
        current = stack.pop()
        found.append(_states[current])
        stack.extend(children.get(current, []))
    return found


def _yields_text(item_id: str, children: dict[str, list[str]], with_text: set[str]) -> bool:
    stack = [item_id]
    while stack:
        current = stack.pop()
        if current in with_text:
            return True
        stack.extend(children.get(current, []))
    return False


def test_formats_over_the_corpus(app: Caselens, case: str, tmp_path: Path) -> None:
    roots = [CORPUS / "documents", CORPUS / "mail"]
    summary = app.ingest.ingest(ADMIN, case, [str(r) for r in roots])
    top, children, with_text = _tree(app)
    # Every file accounted for: an item each, none left pending, every failure explained.
    on_disk = set().union(*(_entries(r) for r in roots))
    assert set(top) == on_disk
    assert summary.files_seen == len(on_disk)
    assert all(row.state != "pending" for row in _states.values())
    assert all(row.error for row in _states.values() if row.state == "failed")
    index = _index()

    def category(path: bytes) -> str:
        name = Path(path.decode("utf-8", "surrogateescape")).name
        if name in index:
            return index[name]["category"]
        return "pdf" if name.endswith(".pdf") else Path(name).suffix.lstrip(".") or "mail"

    table: Counter[tuple[str, str, str]] = Counter()
    promised = yielded = all_named = all_yielded = 0
    missing = []
    for path, row in top.items():
        name = Path(path.decode("utf-8", "surrogateescape")).name
        notes = index.get(name, {}).get("notes", "")
        kind = category(path)
        table[(kind, row.state, (row.error or "")[:60])] += 1  # type: ignore[attr-defined]
        marked = any(word in notes for word in ("broken", "encrypt", "password"))
        pypdf_encrypted = "pypdf" in path.decode("utf-8", "replace") and (
            "password" in name or "encrypted" in name
        )
        textless = name in WITHOUT_TEXT
        if kind in NAMED and not marked and not pypdf_encrypted and name != "tika-index.csv":
            all_named += 1
            all_yielded += _yields_text(row.id, children, with_text)  # type: ignore[attr-defined]
        if (
            kind in NAMED
            and not marked
            and not pypdf_encrypted
            and not textless
            and name != "tika-index.csv"
        ):
            promised += 1
            if _yields_text(row.id, children, with_text):  # type: ignore[attr-defined]
                yielded += 1
            else:
                missing.append(f"{name} ({row.state}: {row.error})")  # type: ignore[attr-defined]
    report = ["format     state        items  reason"]
    for (kind, state, reason), count in sorted(table.items()):
        report.append(f"{kind:10} {state:12} {count:5}  {reason}")
    share = yielded / promised
    report.append(
        f"text from {all_yielded} of {all_named} files in named formats not marked broken or "
        f"encrypted; {len(WITHOUT_TEXT)} of them hold no text (listed in the test)"
    )
    report.append(f"text from {yielded} of {promised} files that hold text ({share:.1%})")
    report.extend(f"  no text: {entry}" for entry in missing)
    print("\n" + "\n".join(report))

    assert share >= 0.98, "\n".join(report)
    untrue = []
    for name in WITHOUT_TEXT:  # the exemptions are still true of the files
        path = next(p for p in top if p.endswith(os.fsencode(name)))
        if _yields_text(top[path].id, children, with_text):  # type: ignore[attr-defined]
            untrue.append(name)
    assert untrue == [], f"these files do yield text now: {sorted(untrue)}"
    if shutil.which("pdftotext"):
        for name in PDFS_WITHOUT_TEXT_LAYER:
            path = next(p for p in top if p.endswith(os.fsencode(name)))
            shown = subprocess.run(
                ["pdftotext", "-q", path, "-"], capture_output=True, check=False
            ).stdout
            assert not shown.strip(), f"pdftotext finds text in {name}"
    with app.runtime.transaction() as connection:
        crashes = connection.execute(
            select(items.c.path, items.c.error).where(items.c.error.like("%parser error%"))
        ).all()
    assert crashes == [], crashes
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    assert peak_mib < 2048, f"a parser process peaked at {peak_mib:.0f} MiB"

    # Encrypted files: reported as such, then opened by a re-run with the passwords.
    encrypted = {
        name
        for name, row in index.items()
        if any(word in row["notes"] for word in ("encrypted", "password"))
        and row["category"] in NAMED
        and "attachment" not in row["notes"]
        and "permissions" not in row["notes"]
        and row["known_password"] != "(empty user password)"
    } | PYPDF_USER_PASSWORD
    by_name = {Path(p.decode()).name: r for p, r in top.items()}
    # Encrypted is reported on the file, or on the part inside it that is encrypted (the
    # IRM PDF is a readable wrapper page around an encrypted payload).
    not_reported = sorted(
        n
        for n in encrypted - OPENS_WITHOUT_USER_PASSWORD
        if not any(d.state == "encrypted" for d in _descendants(by_name[n].id, children))
    )
    assert not_reported == [], f"encrypted files not reported as encrypted: {not_reported}"
    for name in OPENS_WITHOUT_USER_PASSWORD:
        assert any("password" in w for w in by_name[name].warnings or []), name

    app.ingest.reprocess(ADMIN, case, failed_only=True, passwords=PASSWORDS)
    top, children, with_text = _tree(app)
    state_of = {Path(p.decode()).name: r.state for p, r in top.items()}
    openable = PYPDF_USER_PASSWORD | {
        n for n in encrypted - PYPDF_USER_PASSWORD if index[n]["known_password"]
    }
    openable -= NO_KNOWN_PASSWORD | OPENS_WITHOUT_USER_PASSWORD
    still_closed = sorted(n for n in openable if state_of.get(n) == "encrypted")
    assert still_closed == [], f"not opened with their known passwords: {still_closed}"
    assert app.verify.verify(ADMIN, case).ok
