"""Candidates, judgements and canonical groups through the service, audited."""

from __future__ import annotations

import pytest

from caselens.actor import Actor
from caselens.errors import AccessDenied, InvalidInput
from caselens.services import Caselens
from tests.conftest import ADMIN
from tests.graph.rows import CaseRows

BOB = Actor("bob", "testing", "osuser")


@pytest.fixture
def people(app: Caselens, case: str) -> Caselens:
    rows = CaseRows(app, case)
    contacts, mail = rows.item("contacts.db"), rows.item("mail.eml")
    rows.entity("p-cyrillic", "Person", contacts, name="Владимир Путин", phone="+79161234567")
    rows.entity("p-latin", "Person", mail, name="Vladimir Putin")
    rows.entity("acct-vova", "UserAccount", mail, name="Vova", phone="+79161234567")
    rows.entity("p-other", "Person", mail, name="Jane Smith")
    rows.entity("o-putin", "Company", mail, name="Putin Holdings")
    rows.save()
    return app


def test_candidates_best_first_with_reasons(people: Caselens, case: str) -> None:
    found = people.resolution.candidates(ADMIN, case)
    pairs = [(c["left"]["id"], c["right"]["id"]) for c in found]
    assert pairs[0] == ("p-cyrillic", "p-latin")
    assert "'Владимир Путин' ~ 'Vladimir Putin'" in found[0]["explanation"]
    assert ("acct-vova", "p-cyrillic") in pairs  # the shared phone
    assert all("p-other" not in pair for pair in pairs)
    assert all("o-putin" not in pair for pair in pairs)  # a company is never a person
    assert [c["score"] for c in found] == sorted((c["score"] for c in found), reverse=True)


def test_judgements_make_groups_and_are_reversible(people: Caselens, case: str) -> None:
    people.resolution.judge(ADMIN, case, "p-latin", "p-cyrillic", "same", "same passport")
    people.resolution.judge(ADMIN, case, "acct-vova", "p-cyrillic", "same")
    groups = people.resolution.groups(ADMIN, case)
    assert [(g["canonical"], len(g["members"])) for g in groups] == [("acct-vova", 3)]
    assert "+79161234567" in " ".join(groups[0]["identifiers"])
    remaining = people.resolution.candidates(ADMIN, case)
    assert all(c["judgement"] is None for c in remaining)
    assert ("p-cyrillic", "p-latin") not in [(c["left"]["id"], c["right"]["id"]) for c in remaining]
    undone = people.resolution.judge(ADMIN, case, "acct-vova", "p-cyrillic", "different")
    assert undone["previous"] == "same"
    assert [len(g["members"]) for g in people.resolution.groups(ADMIN, case)] == [2]
    records = people.audit.case_log(ADMIN, case, action="resolve.judge")
    assert [r["details"]["judgement"] for r in records] == ["same", "same", "different"]
    assert records[0]["details"]["note"] == "same passport"


def test_bad_judgements_are_refused(people: Caselens, case: str) -> None:
    with pytest.raises(InvalidInput, match="unknown judgement"):
        people.resolution.judge(ADMIN, case, "p-latin", "p-cyrillic", "maybe")
    with pytest.raises(InvalidInput, match="cannot be one entity"):
        people.resolution.judge(ADMIN, case, "p-latin", "o-putin", "same")
    people.users.add(ADMIN, "bob")
    with pytest.raises(AccessDenied):
        people.resolution.candidates(BOB, case)
