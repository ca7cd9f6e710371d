"""Search as an investigator uses it: ingest, query, facets, snippets, audit, rebuild."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from caselens.actor import Actor
from caselens.errors import AccessDenied, InvalidInput
from caselens.search.facets import FacetColumns, current_token
from caselens.services import Caselens
from caselens.services.access import case_row
from tests.conftest import ADMIN, new_installation
from tests.formats.test_pdf import PdfSpec, build_pdf

MAIL = """\
From: Alice Moreau <alice@blueharbor.test>
To: Bob <bob@example.com>
Subject: Release fee for your withdrawal
Date: Mon, 14 May 2001 16:39:00 -0700
Message-ID: <1@blueharbor.test>

Dear Bob, the release fee of 12% must be paid by wire transfer to
GB29 NWBK 6016 1331 9268 19 before we can release your funds.
"""


def build_case(tmp_path: Path, database_url: str | None) -> Caselens:
    app = new_installation(tmp_path / "home", database_url, workers=1, batch_seconds=0.2)
    app.cases.create(ADMIN, "UK-1", "fraud", jurisdiction="GB-ENG", default_purpose="testing")
    source = tmp_path / "evidence"
    source.mkdir()
    (source / "note.txt").write_text("Call Sophie on 020 7946 0958 about the wire.\n")
    (source / "müller.txt").write_text("Herr MÜLLER sent €9,500 by wire on Friday.\n")
    (source / "fee.eml").write_text(MAIL)
    (source / "meeting.txt").write_text(
        "Notes of the meeting: Vladimir Putin met the board of directors in Moscow to discuss "
        "the new contract.\n"
    )
    pages: list[str | None] = [
        "Prospectus. Guaranteed monthly return.",
        "Nothing about fees here.",
        "Terms: a release fee of 12% applies\nto withdrawals.",
        "Contact +44 20 7946 0958.",
    ]
    (source / "prospectus.pdf").write_bytes(build_pdf(PdfSpec(pages=pages)))
    app.ingest.ingest(ADMIN, "UK-1", [str(source)])
    return app


def facet_copy_and_state(app: Caselens, reference: str) -> tuple[FacetColumns | None, str, int]:
    """The case's facet copy on disk, its index's token and how many documents it has."""
    with app.runtime.transaction() as connection:
        case_id = case_row(connection, reference).id
        token = current_token(connection, case_id)
        documents = connection.execute(
            text("SELECT count(*) FROM search_docs WHERE case_id = :case"), {"case": case_id}
        ).scalar_one()
    return FacetColumns.load(app.settings.facet_cache_dir / f"{case_id}.npz"), token, documents


def names(answer: dict[str, object]) -> list[str]:
    return sorted(Path(str(r["path"])).name for r in answer["results"])  # type: ignore[attr-defined]


def test_search_finds_ranks_highlights_and_counts(tmp_path: Path, database_url: str | None) -> None:
    app = build_case(tmp_path, database_url)
    search = app.search.search

    assert names(search(ADMIN, "UK-1", "wire")) == ["fee.eml", "müller.txt", "note.txt"]
    assert names(search(ADMIN, "UK-1", "muller")) == ["müller.txt"]
    assert names(search(ADMIN, "UK-1", '"release fee"')) == ["fee.eml", "prospectus.pdf"]
    assert names(search(ADMIN, "UK-1", '"release fee" -from:alice')) == ["prospectus.pdf"]
    assert names(search(ADMIN, "UK-1", "subject:withdrawal")) == ["fee.eml"]
    assert names(search(ADMIN, "UK-1", "type:pdf OR type:email")) == ["fee.eml", "prospectus.pdf"]
    assert names(search(ADMIN, "UK-1", "date:2001-05-14..2001-05-14")) == ["fee.eml"]
    assert names(search(ADMIN, "UK-1", "has:iban")) == ["fee.eml"]
    # Every spelling of one number: national in a UK case, international, in a PDF.
    by_phone = search(ADMIN, "UK-1", 'phone:"+44 (0)20 7946 0958"')
    assert names(by_phone) == ["note.txt", "prospectus.pdf"]
    assert names(search(ADMIN, "UK-1", "iban:gb29nwbk60161331926819")) == ["fee.eml"]
    # Names meet across scripts through their fingerprints (with the names extra).
    assert names(search(ADMIN, "UK-1", 'name:"Владимир Путин"')) == ["meeting.txt"]
    assert names(search(ADMIN, "UK-1", "lang:de meeting")) == []
    assert names(search(ADMIN, "UK-1", "lang:English moscow")) == ["meeting.txt"]

    # The snippet shows the page of the hit inside the PDF, with the words highlighted.
    pdf = search(ADMIN, "UK-1", '"release fee" type:pdf')["results"][0]
    snippet = pdf["snippet"]
    assert snippet["page"] == 3 and snippet["pages"] == [3]
    assert snippet["text"] == "Terms: a release fee of 12% applies to withdrawals."
    assert [snippet["text"][a:b] for a, b in snippet["highlights"]] == ["release fee"]

    mail = search(ADMIN, "UK-1", "from:alice", facets=True)
    assert mail["total"] == 1
    result = mail["results"][0]
    assert (result["type"], result["title"], result["sender"], result["date"]) == (
        "email",
        "Release fee for your withdrawal",
        "alice@blueharbor.test",
        "2001-05-14T23:39:00",  # the sending time in UTC
    )
    facets = search(ADMIN, "UK-1", "wire OR fee", facets=True)["facets"]
    assert facets["type"] == [
        {"value": "plaintext", "count": 2},
        {"value": "email", "count": 1},
        {"value": "pages", "count": 1},
    ]
    assert facets["sender"] == [{"value": "alice@blueharbor.test", "count": 1}]
    assert facets["month"] == [{"value": "2001-05", "count": 1}]
    kinds = {f["value"]: f["count"] for f in facets["kind"]}
    assert (kinds["iban"], kinds["phone"]) == (1, 2)
    app.close()


def test_every_search_is_audited_with_its_purpose(tmp_path: Path, database_url: str | None) -> None:
    app = build_case(tmp_path, database_url)
    asking = Actor(user="admin", purpose="op blue harbor: trace the fee", os_user="admin")
    app.search.search(asking, "UK-1", "release fee", page=1)
    record = app.audit.case_log(ADMIN, "UK-1", action="search.query")[-1]
    assert record["actor"] == "admin"
    assert record["details"] == {
        "query": "release fee",
        "page": 1,
        "total": 2,
        "purpose": "op blue harbor: trace the fee",
        "os_user": "admin",
    }

    app.users.add(ADMIN, "eve")
    with pytest.raises(AccessDenied):
        app.search.search(Actor("eve", "curious", "eve"), "UK-1", "fee")
    with pytest.raises(InvalidInput, match="unclosed quote at position 1"):
        app.search.search(ADMIN, "UK-1", '"release fee')
    with pytest.raises(InvalidInput, match="not a phone number"):
        app.search.search(ADMIN, "UK-1", "phone:12")
    app.close()


def test_index_is_rebuilt_from_the_store_and_follows_reprocessing(
    tmp_path: Path, database_url: str | None
) -> None:
    app = build_case(tmp_path, database_url)
    queries = ["wire", '"release fee"', "has:phone", "from:alice", "date:2001", "NOT wire"]

    def answers() -> list[list[tuple[str, str | None]]]:
        out = []
        for query in queries:
            found = app.search.search(ADMIN, "UK-1", query, size=100)["results"]
            out.append(sorted((r["item_id"], r["date"]) for r in found))
        return out

    before = answers()
    counts = app.search.rebuild(ADMIN, "UK-1")
    assert counts == {"removed": 5, "indexed": 5}
    copy, token, documents = facet_copy_and_state(app, "UK-1")
    assert copy is not None and copy.token == token and len(copy.ids) == documents == 5
    assert answers() == before
    # Re-processing replaces each item's document rather than adding a second one.
    app.ingest.reprocess(ADMIN, "UK-1")
    assert answers() == before
    assert app.search.search(ADMIN, "UK-1", "wire")["total"] == 3
    # Another case's items never show.
    assert app.search.search(ADMIN, "C", "wire")["total"] == 0
    app.close()


def test_an_ingest_leaves_the_facet_copy_up_to_date(
    tmp_path: Path, database_url: str | None
) -> None:
    """The run brings the case's facet copy up to date, so the first faceted search after
    it reads the copy from disk instead of building it; a second run adds its documents."""
    app = build_case(tmp_path, database_url)
    copy, token, documents = facet_copy_and_state(app, "UK-1")
    assert copy is not None and copy.token == token and len(copy.ids) == documents == 5
    more = tmp_path / "more"
    more.mkdir()
    (more / "late.txt").write_text("A late note about the wire.\n")
    app.ingest.ingest(ADMIN, "UK-1", [str(more)])
    copy, token, documents = facet_copy_and_state(app, "UK-1")
    assert copy is not None and copy.token == token and len(copy.ids) == documents == 6
    facets = app.search.search(ADMIN, "UK-1", "wire", facets=True)["facets"]
    assert sum(pair["count"] for pair in facets["type"]) == 4  # wire: three, and the late note
    app.close()
