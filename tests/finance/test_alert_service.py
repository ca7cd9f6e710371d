"""Alerts through the service and the command line: detection over a case's dataset,
re-runs that keep reviews, review states, access and audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from caselens.actor import Actor
from caselens.cli.app import main
from caselens.db.schema import log_records
from caselens.errors import AccessDenied, InvalidInput, NotFound
from caselens.services import Caselens
from tests.conftest import ADMIN
from tests.finance.test_import_amlworld import write_amlworld

# Two victims pay a mule, which passes each payment on within hours, less a cut; the
# mule had been silent since a small payment in January.
MULE_STATEMENT = [
    "2024/01/02 10:00,1,MULE,7,SHOP,12.00,Euro,12.00,Euro,Card,0",
    "2024/05/01 09:00,1,VICTIM1,1,MULE,3000.00,Euro,3000.00,Euro,ACH,1",
    "2024/05/01 11:30,1,MULE,2,CASHOUT,2850.00,Euro,2850.00,Euro,Wire,1",
    "2024/05/01 15:00,3,VICTIM2,1,MULE,2000.00,Euro,2000.00,Euro,ACH,1",
    "2024/05/01 16:10,1,MULE,4,ABROAD,1900.00,Euro,1900.00,Euro,Wire,1",
]


@pytest.fixture
def statement_case(app: Caselens, case: str, tmp_path: Path) -> str:
    source = write_amlworld(tmp_path / "statement.csv", MULE_STATEMENT)
    app.transactions.import_file(ADMIN, case, source, "amlworld")
    return case


def test_detect_records_alerts_once_and_keeps_reviews(app: Caselens, statement_case: str) -> None:
    first = app.alerts.detect(ADMIN, statement_case, only=["pass_through", "dormant"])
    assert first.found["pass_through"] == 1 and first.new["pass_through"] == 1
    assert first.found["dormant"] == 1
    total, listed = app.alerts.list_alerts(ADMIN, statement_case, typology="pass_through")
    assert total == 1
    alert = listed[0]
    assert alert.accounts[0] == "1:MULE" and alert.transactions == [1, 2, 3, 4]
    assert alert.state == "new" and "passed on 2 payments" in alert.explanation
    assert alert.parameters["hours"] == 24

    reviewed = app.alerts.review(ADMIN, statement_case, alert.id, "confirmed", "known mule")
    assert (reviewed.state, reviewed.reviewed_by, reviewed.review_note) == (
        "confirmed",
        ADMIN.user,
        "known mule",
    )
    again = app.alerts.detect(ADMIN, statement_case)
    assert again.found["pass_through"] == 1 and again.new["pass_through"] == 0
    assert app.alerts.show(ADMIN, statement_case, alert.id).state == "confirmed"
    confirmed, _ = app.alerts.list_alerts(ADMIN, statement_case, state="confirmed")
    assert confirmed == 1


def test_parameters_from_settings_and_the_call(app: Caselens, statement_case: str) -> None:
    # Passing on within one hour is stricter than the mule's 70-minute second pass.
    strict = app.alerts.detect(
        ADMIN, statement_case, only=["pass_through"], parameters={"pass_through": {"hours": 1}}
    )
    assert strict.found["pass_through"] == 0
    assert strict.parameters["pass_through"]["hours"] == 1
    app.runtime.settings.aml_detectors = {"pass_through": {"min_passes": 3}}
    assert app.alerts.detect(ADMIN, statement_case, only=["pass_through"]).found == {}
    with pytest.raises(InvalidInput, match="no parameter"):
        app.alerts.detect(ADMIN, statement_case, parameters={"pass_through": {"speed": 1}})
    with pytest.raises(InvalidInput, match="engine"):
        app.alerts.detect(ADMIN, statement_case, engine="oracle")


def test_detection_is_audited_with_parameters(app: Caselens, statement_case: str) -> None:
    app.alerts.detect(ADMIN, statement_case, only=["pass_through"])
    with app.runtime.transaction() as connection:
        record = connection.execute(
            select(log_records.c.record).where(log_records.c.action == "aml.detect")
        ).scalar_one()
    assert '"pass_through":{"found":1,"new":1}' in record and '"tolerance":0.1' in record


def test_access_rules(app: Caselens, statement_case: str) -> None:
    app.alerts.detect(ADMIN, statement_case, only=["pass_through"])
    app.users.add(ADMIN, "mallory")
    outsider = Actor("mallory", purpose="curiosity")
    with pytest.raises(AccessDenied):
        app.alerts.list_alerts(outsider, statement_case)
    with pytest.raises(AccessDenied):
        app.alerts.detect(outsider, statement_case)
    app.users.add(ADMIN, "rita")
    app.cases.add_member(ADMIN, statement_case, "rita", "reviewer")
    reviewer = Actor("rita", purpose="review")
    _total, listed = app.alerts.list_alerts(reviewer, statement_case)
    # A reviewer may review alerts but not run detection (it writes to the case).
    assert app.alerts.review(reviewer, statement_case, listed[0].id, "dismissed").state == (
        "dismissed"
    )
    with pytest.raises(AccessDenied):
        app.alerts.detect(reviewer, statement_case)
    with pytest.raises(NotFound):
        app.alerts.show(ADMIN, statement_case, 999_999)
    with pytest.raises(InvalidInput, match="state must be"):
        app.alerts.review(ADMIN, statement_case, listed[0].id, "maybe")


def test_detect_needs_a_dataset(app: Caselens, case: str) -> None:
    with pytest.raises(NotFound, match="no transaction datasets"):
        app.alerts.detect(ADMIN, case)


def test_commands(app: Caselens, statement_case: str, cli_env: dict[str, str], capsys) -> None:  # type: ignore[no-untyped-def]
    base = ["--as", ADMIN.user, "--purpose", "testing"]
    capsys.readouterr()
    assert main([*base, "aml", "detect", statement_case, "--only", "pass_through", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["typologies"]["pass_through"]["new"] == 1
    assert main([*base, "alerts", statement_case, "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert listed["total"] == 1
    alert_id = str(listed["alerts"][0]["id"])
    assert main([*base, "alerts", "review", statement_case, alert_id, "--state", "confirmed"]) == 0
    assert "confirmed" in capsys.readouterr().out
    assert main([*base, "alerts", "show", statement_case, alert_id]) == 0
    assert "passed on 2 payments" in capsys.readouterr().out
    assert main([*base, "alerts", statement_case]) == 0
    assert "confirmed" in capsys.readouterr().out
    # Mistakes get a message, not a traceback.
    assert main([*base, "alerts", "review", statement_case, alert_id]) != 0
    assert "--state is needed" in capsys.readouterr().err
    assert main([*base, "aml", "detect", statement_case, "--set", "cycle=3"]) != 0
    assert "TYPOLOGY.NAME=VALUE" in capsys.readouterr().err
    assert main([*base, "alerts", "show", statement_case, "first"]) != 0
    assert "is a number" in capsys.readouterr().err


def test_bring_an_alert_into_the_case_graph(app: Caselens, statement_case: str) -> None:
    app.alerts.detect(ADMIN, statement_case, only=["pass_through"])
    _total, (alert,) = app.alerts.list_alerts(ADMIN, statement_case)
    counts = app.alerts.bring_into_case(ADMIN, statement_case, alert.id)
    # Five accounts (two victims, the mule, two destinations) and four payments.
    assert counts == {"accounts": 5, "payments": 4, "new_entities": 9}
    again = app.alerts.bring_into_case(ADMIN, statement_case, alert.id)
    assert again["new_entities"] == 0
    found = app.graph.path(ADMIN, statement_case, "1:VICTIM1", "4:ABROAD")
    assert found.paths, "the payments should link the victim to where the money went"
    labels = [hop["to"]["label"] for hop in found.paths[0]]
    assert labels[-1] == "4:ABROAD" and "1:MULE" in labels
