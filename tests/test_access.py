"""Need-to-know: members only, roles, auditors, purposes; refusals are themselves audited."""

from __future__ import annotations

from pathlib import Path

import pytest

from caselens.actor import Actor
from caselens.errors import AccessDenied, InvalidInput
from caselens.services import Caselens
from tests.conftest import ADMIN

ALICE = Actor("alice", "check the exhibits", "osuser")
BOB = Actor("bob", "curiosity", "osuser")
AUDREY = Actor("audrey", "annual audit", "osuser")


@pytest.fixture
def people(app: Caselens, case: str) -> str:
    app.users.add(ADMIN, "alice")
    app.users.add(ADMIN, "bob")
    app.users.add(ADMIN, "audrey", "auditor")
    app.cases.add_member(ADMIN, case, "alice", "investigator")
    return case


def test_creator_is_lead_and_members_are_listed(app: Caselens, people: str) -> None:
    members = {m.user: m.role for m in app.cases.list_members(ADMIN, people)}
    assert members == {"admin": "lead", "alice": "investigator"}


def test_non_member_is_refused_with_a_clear_error(app: Caselens, people: str) -> None:
    with pytest.raises(AccessDenied, match="bob is not a member of case CASE-1"):
        app.items.status(BOB, people)
    with pytest.raises(AccessDenied):
        app.items.list(BOB, people)
    with pytest.raises(AccessDenied):
        app.ingest.ingest(BOB, people, [__file__])
    records = app.audit.case_log(ADMIN, people, action="access.denied")
    assert [r["actor"] for r in records] == ["bob", "bob", "bob"]
    assert records[0]["details"]["attempted"] == "case.status"
    assert records[0]["details"]["os_user"] == "osuser"


def test_unknown_user_is_refused(app: Caselens, people: str) -> None:
    with pytest.raises(AccessDenied, match="unknown user 'mallory'"):
        app.items.status(Actor("mallory", "x", "osuser"), people)


def test_reviewer_reads_but_cannot_ingest(app: Caselens, people: str, tmp_path: Path) -> None:
    app.cases.add_member(ADMIN, people, "bob", "reviewer")
    assert app.items.status(BOB, people).items == 0
    (tmp_path / "a.txt").write_text("x")
    with pytest.raises(AccessDenied, match="bob is reviewer"):
        app.ingest.ingest(BOB, people, [str(tmp_path / "a.txt")])


def test_only_the_lead_adds_members_or_closes(app: Caselens, people: str) -> None:
    with pytest.raises(AccessDenied):
        app.cases.add_member(ALICE, people, "bob", "analyst")
    with pytest.raises(AccessDenied):
        app.cases.close(ALICE, people)
    app.cases.close(ADMIN, people)
    with pytest.raises(InvalidInput, match="closed"):
        app.ingest.ingest(ADMIN, people, [__file__])


def test_auditor_reads_audit_logs_but_not_contents(app: Caselens, people: str) -> None:
    records = app.audit.case_log(AUDREY, people)
    assert records and records[0]["action"] == "case.create"
    assert app.verify.verify(AUDREY, people).ok
    with pytest.raises(AccessDenied):
        app.items.list(AUDREY, people)
    with pytest.raises(AccessDenied):
        app.items.status(AUDREY, people)
    with pytest.raises(InvalidInput):
        app.cases.add_member(ADMIN, people, "audrey", "reviewer")


def test_installation_log_is_for_auditors_and_admins(app: Caselens, people: str) -> None:
    actions = [r["action"] for r in app.audit.installation_log(AUDREY)]
    assert actions[:3] == ["installation.init", "case.create", "user.add"]
    with pytest.raises(AccessDenied):
        app.audit.installation_log(ALICE)


def test_purpose_is_required_and_recorded(app: Caselens, tmp_path: Path) -> None:
    app.users.init(ADMIN)
    app.cases.create(ADMIN, "NOPURPOSE", "No default purpose")
    silent = Actor("admin", None, "admin")
    with pytest.raises(AccessDenied, match="purpose of access is required"):
        app.items.status(silent, "NOPURPOSE")
    app.items.status(Actor("admin", "disclosure review", "admin"), "NOPURPOSE")
    last = app.audit.case_log(ADMIN, "NOPURPOSE", action="case.status")[-1]
    assert last["details"]["purpose"] == "disclosure review"


def test_case_default_purpose_applies(app: Caselens, case: str) -> None:
    app.items.status(Actor("admin", None, "admin"), case)
    last = app.audit.case_log(ADMIN, case, action="case.status")[-1]
    assert last["details"]["purpose"] == "testing"


def test_case_list_shows_only_my_cases(app: Caselens, people: str) -> None:
    app.cases.create(ALICE, "ALICE-ONLY", "Alice's case")
    assert [c.reference for c in app.cases.list(BOB)] == []
    assert {c.reference for c in app.cases.list(ALICE)} == {"CASE-1", "ALICE-ONLY"}
    assert {c.reference for c in app.cases.list(AUDREY)} == {"CASE-1", "ALICE-ONLY"}
    with pytest.raises(AccessDenied):
        app.cases.show(BOB, "ALICE-ONLY")
