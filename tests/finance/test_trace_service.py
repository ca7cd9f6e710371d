"""Tracing through the service and the command line: dataset choice, access, audit, outputs."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from caselens.actor import Actor
from caselens.cli.app import main
from caselens.db.schema import log_records
from caselens.errors import AccessDenied, InvalidInput, NotFound
from caselens.finance.trace import Direction, TraceRequest
from caselens.finance.trace_ledger import Method
from caselens.services import Caselens
from tests.conftest import ADMIN
from tests.finance.test_import_amlworld import write_amlworld

# A victim pays a mule 100; the mule forwards 60 and 40 an hour apart, and had paid
# 25 to someone else before the victim's money arrived (that payment never carries it).
MULE_CHAIN = [
    "2024/03/01 08:00,1,MULE,9,EARLY,25.00,Euro,25.00,Euro,ACH,0",
    "2024/03/01 09:00,1,VICTIM,1,MULE,100.00,Euro,100.00,Euro,ACH,1",
    "2024/03/01 10:00,1,MULE,2,CASHOUT,60.00,Euro,60.00,Euro,ACH,1",
    "2024/03/01 11:00,1,MULE,3,ABROAD,40.00,Euro,40.00,Euro,Wire,1",
]


@pytest.fixture
def traced_case(app: Caselens, case: str, tmp_path: Path) -> str:
    source = write_amlworld(tmp_path / "mule.csv", MULE_CHAIN)
    app.transactions.import_file(ADMIN, case, source, "amlworld")
    return case


def test_forward_trace_from_the_victims_payment(app: Caselens, traced_case: str) -> None:
    dataset, result = app.tracing.trace(ADMIN, traced_case, TraceRequest(row=1, hops=3))
    assert len(dataset) == 32
    assert [(flow.hop, flow.row, flow.amount) for flow in result.flows] == [
        (1, 1, pytest.approx(100.0)),
        (2, 2, pytest.approx(60.0)),
        (2, 3, pytest.approx(40.0)),
    ]
    assert "9:EARLY" not in result.nodes
    assert result.nodes["1:MULE"].traced_out == pytest.approx(100.0)


def test_backward_trace_from_an_account(app: Caselens, traced_case: str) -> None:
    request = TraceRequest(account="3:ABROAD", direction=Direction.BACKWARD, method=Method.LIFO)
    _dataset, result = app.tracing.trace(ADMIN, traced_case, request)
    assert {(flow.row, flow.payer) for flow in result.flows} == {(3, "1:MULE"), (1, "1:VICTIM")}


def test_trace_is_audited_with_its_parameters(app: Caselens, traced_case: str) -> None:
    app.tracing.trace(ADMIN, traced_case, TraceRequest(row=1))
    with app.runtime.transaction() as connection:
        record = connection.execute(
            select(log_records.c.record)
            .where(log_records.c.action == "tx.trace")
            .order_by(log_records.c.id.desc())
        ).first()
    assert record is not None
    # The record is canonical JSON (RFC 8785): no spaces, keys sorted.
    assert '"flows":3' in record.record and '"method":"fifo"' in record.record


def test_bring_a_trace_into_the_case_graph(app: Caselens, traced_case: str) -> None:
    request = TraceRequest(row=1, hops=3)
    _dataset, result, counts = app.tracing.bring_into_case(ADMIN, traced_case, request)
    assert len(result.flows) == 3
    # The victim, the mule and two destinations; the three traced payments (not EARLY's).
    assert counts == {"accounts": 4, "payments": 3, "new_entities": 7}
    _dataset, _result, again = app.tracing.bring_into_case(ADMIN, traced_case, request)
    assert again["new_entities"] == 0
    found = app.graph.path(ADMIN, traced_case, "1:VICTIM", "3:ABROAD")
    assert found.paths and "1:MULE" in [hop["to"]["label"] for hop in found.paths[0]]
    with app.runtime.transaction() as connection:
        actions = connection.execute(
            select(log_records.c.action).where(log_records.c.action == "tx.trace.bring")
        ).scalars()
        assert len(list(actions)) == 2


def test_a_reviewer_may_trace_but_not_bring(app: Caselens, traced_case: str) -> None:
    app.users.add(ADMIN, "rita")
    app.cases.add_member(ADMIN, traced_case, "rita", "reviewer")
    rita = Actor("rita", purpose="review")
    app.tracing.trace(rita, traced_case, TraceRequest(row=1))
    with pytest.raises(AccessDenied):
        app.tracing.bring_into_case(rita, traced_case, TraceRequest(row=1))


def test_non_member_may_not_trace(app: Caselens, traced_case: str) -> None:
    app.users.add(ADMIN, "mallory")
    with pytest.raises(AccessDenied):
        app.tracing.trace(Actor("mallory", purpose="curiosity"), traced_case, TraceRequest(row=1))


def test_dataset_must_exist_and_be_named_when_several(
    app: Caselens, traced_case: str, tmp_path: Path
) -> None:
    with pytest.raises(NotFound):
        app.tracing.trace(ADMIN, traced_case, TraceRequest(row=1), dataset="ffff")
    other = write_amlworld(tmp_path / "other.csv", MULE_CHAIN[:2])
    second = app.transactions.import_file(ADMIN, traced_case, other, "amlworld")
    with pytest.raises(InvalidInput, match="several transaction datasets"):
        app.tracing.trace(ADMIN, traced_case, TraceRequest(row=1))
    chosen, result = app.tracing.trace(
        ADMIN, traced_case, TraceRequest(row=1), dataset=second.id[:8]
    )
    assert chosen == second.id and [flow.row for flow in result.flows] == [1]


def test_trace_command_writes_json_csv_and_graph(
    app: Caselens, traced_case: str, tmp_path: Path, cli_env: dict[str, str], capsys
) -> None:  # type: ignore[no-untyped-def]
    flows, graph = tmp_path / "flows.csv", tmp_path / "trace.gexf"
    capsys.readouterr()
    code = main(
        [
            "--as", ADMIN.user, "--purpose", "testing", "trace", traced_case, "--row", "1",
            "--flows-csv", str(flows), "--graph", str(graph), "--json",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    printed = json.loads(out)
    assert [flow["row"] for flow in printed["flows"]] == [1, 2, 3]
    with flows.open() as handle:
        assert [row["to"] for row in csv.DictReader(handle)] == ["1:MULE", "2:CASHOUT", "3:ABROAD"]
    assert "<gexf" in graph.read_text()
    assert main(["--as", ADMIN.user, "trace", traced_case, "--row", "1", "--method", "x"]) == 2
    assert "--method must be one of" in capsys.readouterr().err


def test_trace_command_brings_the_trail_into_the_case(
    app: Caselens, traced_case: str, cli_env: dict[str, str], capsys
) -> None:  # type: ignore[no-untyped-def]
    capsys.readouterr()
    code = main(["--as", ADMIN.user, "trace", traced_case, "--row", "1", "--bring", "--json"])
    assert code == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["brought"] == {"accounts": 4, "payments": 3, "new_entities": 7}
    assert main(["--as", ADMIN.user, "trace", traced_case, "--row", "1", "--bring"]) == 0
    assert "brought into the case: 4 accounts, 3 payments (0 new" in capsys.readouterr().out
