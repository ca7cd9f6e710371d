"""Cross-case hits: a selector two cases share is shown under need-to-know."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from caselens.actor import Actor
from caselens.db.schema import cross_hits, selector_index
from caselens.errors import AccessDenied
from caselens.services import Caselens
from tests.conftest import ADMIN

ALICE = Actor("alice", "fraud enquiry", "osuser")
BOB = Actor("bob", "trafficking enquiry", "osuser")
CAROL = Actor("carol", "other work", "osuser")
SHARED_PHONE = "+447911123456"
SECRET = "the warehouse on Dock Road"


@pytest.fixture
def two_cases(app: Caselens, tmp_path: Path) -> Caselens:
    """Case A (lead alice) and case B (lead bob) that share a phone number and an IBAN."""
    app.users.init(ADMIN)
    for name in ("alice", "bob", "carol"):
        app.users.add(ADMIN, name)
    app.cases.create(
        ALICE, "A-1", "Romance fraud", jurisdiction="GB", default_purpose="fraud enquiry"
    )
    app.cases.create(BOB, "B-2", "Operation Lighthouse", default_purpose="trafficking")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "note.txt").write_text(
        "Call him on 07911 123456 or mail mule@example.org.\nIBAN GB82 WEST 1234 5698 7654 32\n"
    )
    (b / "ledger.txt").write_text(
        f"Driver phone +44 7911 123456, meet at {SECRET}.\nPay GB82WEST12345698765432\n"
    )
    (b / "other.txt").write_text("Unrelated number +44 20 7946 0958\n")
    app.ingest.ingest(ALICE, "A-1", [str(a)])
    app.ingest.ingest(BOB, "B-2", [str(b)])
    return app


def test_ingest_fills_the_index_and_finds_hits_both_ways(two_cases: Caselens) -> None:
    with two_cases.runtime.transaction() as connection:
        indexed = set(connection.execute(select(selector_index.c.kind, selector_index.c.value)))
        pairs = connection.execute(select(func.count()).select_from(cross_hits)).scalar_one()
    assert ("phone", SHARED_PHONE) in indexed
    assert ("iban", "GB82WEST12345698765432") in indexed
    assert pairs == 4  # phone and IBAN, once for each side


def test_non_member_sees_only_the_notice(two_cases: Caselens) -> None:
    found = two_cases.hits.list(ALICE, "A-1")
    assert {(hit.kind, hit.value) for hit in found} == {
        ("phone", SHARED_PHONE),
        ("iban", "GB82WEST12345698765432"),
    }
    for hit in found:
        assert hit.other is None
        assert hit.notice == "known in another case — contact: bob, case B-2"
        assert hit.items == 1
    shown = json.dumps([hit.as_dict() for hit in found])
    # Nothing of B's content: not its title, its text, its items or its other selectors.
    for leaked in ("Lighthouse", SECRET, "ledger", "7946", '"title"'):
        assert leaked not in shown


def test_member_of_both_sees_the_other_side(two_cases: Caselens) -> None:
    two_cases.cases.add_member(BOB, "B-2", "alice", "analyst")
    found = {hit.kind: hit for hit in two_cases.hits.list(ALICE, "A-1")}
    other = found["phone"].other
    assert other is not None
    assert (other.title, other.items) == ("Operation Lighthouse", 1)
    viewed = two_cases.audit.case_log(BOB, "B-2", action="hits.viewed")
    assert viewed[0]["actor"] == "alice"
    assert viewed[0]["details"]["from_case"] == "A-1"


def test_both_audit_logs_record_the_hit_and_the_notice(two_cases: Caselens) -> None:
    two_cases.hits.list(ALICE, "A-1")
    for actor, reference, other in ((ALICE, "A-1", "B-2"), (BOB, "B-2", "A-1")):
        records = two_cases.audit.case_log(actor, reference, action="hit.found")
        assert len(records) == 1
        details = records[0]["details"]
        assert details["other_case"] == other
        assert {"kind": "phone", "value": SHARED_PHONE} in details["selectors"]
    notices = two_cases.audit.case_log(BOB, "B-2", action="hits.notice")
    assert [(r["actor"], r["details"]["from_case"]) for r in notices] == [("alice", "A-1")]
    assert two_cases.audit.case_log(ALICE, "A-1", action="hits.list")


def test_new_hits_appear_in_status_until_listed(two_cases: Caselens) -> None:
    assert two_cases.items.status(ALICE, "A-1").hits == {"total": 2, "new": 2}
    assert len(two_cases.hits.list(ALICE, "A-1", new_only=True)) == 2
    assert two_cases.items.status(ALICE, "A-1").hits == {"total": 2, "new": 0}
    assert two_cases.hits.list(ALICE, "A-1", new_only=True) == []
    # B's side is still new to B's members.
    assert two_cases.items.status(BOB, "B-2").hits["new"] == 2


def test_a_third_case_gets_its_own_hits_and_announcements_once(
    two_cases: Caselens, tmp_path: Path
) -> None:
    two_cases.cases.create(CAROL, "C-3", "Third", jurisdiction="GB", default_purpose="other work")
    (tmp_path / "c.txt").write_text("ring 07911123456\n")
    two_cases.ingest.ingest(CAROL, "C-3", [str(tmp_path / "c.txt")])
    two_cases.ingest.ingest(CAROL, "C-3", [str(tmp_path / "c.txt")])  # nothing new
    others = {hit.other_case for hit in two_cases.hits.list(CAROL, "C-3")}
    assert others == {"A-1", "B-2"}
    records = two_cases.audit.case_log(ALICE, "A-1", action="hit.found")
    assert [r["details"]["other_case"] for r in records] == ["B-2", "C-3"]


def test_non_member_of_the_case_itself_is_refused(two_cases: Caselens) -> None:
    with pytest.raises(AccessDenied, match="carol is not a member of case A-1"):
        two_cases.hits.list(CAROL, "A-1")


def test_single_word_names_are_not_indexed() -> None:
    from caselens.hits.index import batch_selectors

    found = batch_selectors(
        [
            {"kind": "person", "value": "john"},
            {"kind": "person", "value": "john smith"},
            {"kind": "url", "value": "https://example.org/"},
        ],
        [{"properties": {"email": ["Mule@Example.org"]}}],
    )
    assert found == {("person", "john smith"), ("email", "mule@example.org")}
