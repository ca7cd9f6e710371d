"""The command line as a user and a script see it: outputs, JSON, exit codes, one-line errors."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from caselens.cli import render
from caselens.cli.app import main
from caselens.transcribe import transcription_available
from tests.evidence_tree import build_tree

OS_USER = "investigator-os"


@pytest.fixture
def run(
    cli_env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("caselens.actor.os_user_name", lambda: OS_USER)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def test_full_session(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    build_tree(tmp_path / "src")
    assert run("init")[0] == 0
    assert run("user", "add", "alice")[0] == 0
    assert run("user", "add", "audrey", "--role", "auditor")[0] == 0
    code, out, _ = run(
        "case",
        "create",
        "OP-1",
        "--title",
        "Harbour fraud",
        "--default-purpose",
        "investigation",
        "--jurisdiction",
        "GB-ENG",
    )
    assert code == 0 and "you are its lead" in out
    assert run("member", "add", "OP-1", "alice", "--role", "investigator")[0] == 0
    code, out, _ = run(
        "--as",
        "alice",
        "ingest",
        "OP-1",
        str(tmp_path / "src"),
        "--exhibit",
        "EX/1",
        "--seized-at",
        "2026-03-01T10:00:00+00:00",
        "--json",
    )
    assert code == 0
    summary = json.loads(out)
    assert summary["states"] == {"ingested": 8, "skipped": 4}

    code, out, _ = run("status", "OP-1", "--json")
    status = json.loads(out)
    assert status["items"] == 12 and status["by_state"]["skipped"] == 4

    code, out, _ = run("items", "OP-1", "--state", "ingested", "--type", "text/*", "--json")
    listed = json.loads(out)
    assert len(listed) == 6
    memo = next(i for i in listed if i["path"].endswith("memo.txt"))

    code, out, _ = run("show", "OP-1", memo["sha256"][:12], "--json")
    assert code == 0
    detail = json.loads(out)
    assert detail["item"]["id"] == memo["id"]
    assert detail["exhibit"]["seized_at"].startswith("2026-03-01T10:00:00")
    assert detail["pages"][0]["text"].startswith("Hélène Dubois")

    code, out, _ = run("export-item", "OP-1", memo["id"], str(tmp_path))
    assert code == 0 and memo["sha256"] in out
    assert (tmp_path / "memo.txt").read_bytes() == (tmp_path / "src" / "memo.txt").read_bytes()
    code, _, err = run("export-item", "OP-1", memo["id"], str(tmp_path))
    assert code == 2 and "never overwrites" in err

    code, out, _ = run("verify", "OP-1", "--json")
    assert code == 0 and json.loads(out)["ok"] is True

    code, out, _ = run("--as", "audrey", "audit", "OP-1", "--json")
    records = json.loads(out)
    actions = [r["action"] for r in records]
    assert actions[0] == "case.create" and "item.export" in actions
    export = next(r for r in records if r["action"] == "item.export")
    assert export["actor"] == OS_USER
    assert export["details"]["purpose"] == "investigation"
    assert export["details"]["os_user"] == OS_USER
    ingest = next(r for r in records if r["action"] == "ingest.start")
    assert ingest["actor"] == "alice" and ingest["details"]["os_user"] == OS_USER

    code, out, _ = run("case", "list", "--json")
    assert [c["reference"] for c in json.loads(out)] == ["OP-1"]
    code, out, _ = run("case", "close", "OP-1")
    assert code == 0


def test_verify_fails_with_exit_4_and_names_the_item(run, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "a.txt").write_text("original")
    run("init")
    run("case", "create", "OP-2", "--title", "Tamper", "--default-purpose", "test")
    run("ingest", "OP-2", str(tmp_path / "src"))
    code, out, _ = run("items", "OP-2", "--json")
    item = json.loads(out)[0]
    blob = next(Path(os.environ["CASELENS_HOME"], "blobs").rglob(item["sha256"]))
    os.chmod(blob, 0o644)
    blob.write_bytes(b"Original")
    code, out, _ = run("verify", "OP-2")
    assert code == 4
    assert f"item {item['id']}" in out and "has changed" in out
    code, out, _ = run("show", "OP-2", item["id"], "--json")
    custody = json.loads(out)["custody"]
    assert [c["action"] for c in custody] == ["acquired", "ingested", "verified"]
    assert custody[2]["details"] == {"ok": False}
    assert custody[0]["details"]["sha256"] == item["sha256"]
    code, _, err = run("export-item", "OP-2", item["id"], str(tmp_path / "x.txt"))
    assert code == 4 and "altered" in err
    assert not (tmp_path / "x.txt").exists()


def test_errors_are_one_line_with_exit_codes(run) -> None:  # type: ignore[no-untyped-def]
    run("init")
    code, _out, err = run("status", "NOPE")
    assert code == 1 and err.strip() == "error: no case with reference 'NOPE'"
    code, _, err = run("--as", "mallory", "case", "list")
    assert code == 3 and len(err.strip().splitlines()) <= 2 and "unknown user" in err
    code, _, err = run("no-such-command")
    assert code == 2 and "No such command" in err
    code, _, err = run("case", "create", "bad ref", "--title", "x")
    assert code == 2 and "invalid case reference" in err
    code, _, err = run("ingest", "X", "/no/such/path")
    assert code == 2 and "no such file" in err
    assert "Traceback" not in err


def test_demo_builds_the_sample_case_and_is_idempotent(run, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.setattr(render.console, "width", 200)  # so table rows are not wrapped
    code, out, _ = run("demo")
    assert code == 0
    assert "OP-TIDEWATER" in out and "intact" in out
    # E-mails with attachments, a zip and a PDF: their contents are items too.
    assert "└ BlueHarbor prospectus.pdf" in out and "└ receipts/2026-01-20-deposit-2500.txt" in out
    assert "2 pages of text" in out
    assert "GB06NGMB40127631926485" in out  # the mule account, the case's top selector
    # A search across e-mails and PDF pages, with the page of the hit.
    assert "caselens search OP-TIDEWATER '\"release fee\" (type:email OR type:pdf)'" in out
    assert "4 items match" in out and "p. 2: Terms and conditions A release fee" in out
    # Links: the key players, and the victim's path to the mule account with its evidence.
    assert "key players" in out and "GB06NGMB40127631926485" in out
    assert "path maggie.ellison@example.com to GB06NGMB40127631926485: Margaret Ellison ->" in out
    # From the victim's phone: the chat's messages, the photo's place, the statement.
    assert "chat chat/whatsapp-chat-victim.txt: 31 messages, times read in Europe/London" in out
    assert "photo phone/IMG_20260302_134712.jpg: Google Pixel 7, taken 2026-03-02T13:47:12" in out
    assert "at 50.7955, -1.1078" in out
    # The statement read as transactions: the mule pattern found, the money traced.
    assert "pass_through: GB06NGMB40127631926485 passed on 6 payments" in out
    assert "caselens trace OP-TIDEWATER --row 20" in out and "DE51294500800281947735" in out
    # The second demo case shares the mule account and a number; Tidewater's team is told
    # whom to contact, and nothing of Kestrel's content.
    assert "known in another case — contact: fiona.kerr, case OP-KESTREL" in out
    assert "student money-mule" not in out and "Danny Voss" not in out
    if transcription_available():
        assert "machine transcript (whisper-base, en, review state machine)" in out
        assert "Margaret Ellison" in out and "at 00:00:0" in out  # the hit's time
    code, out, _ = run("status", "OP-TIDEWATER", "--json")
    status = json.loads(out)
    assert status["items"] == 26 and status["by_state"] == {"ingested": 26}
    assert status["by_format"]["whatsapp-export"] == {"ingested": 1}
    assert status["by_format"]["image"] == {"ingested": 1}
    assert status["by_format"]["media"] == {"ingested": 1}
    assert status["by_format"]["pdf"] == {"ingested": 2}
    assert status["by_format"]["zip"] == {"ingested": 2}
    assert status["by_format"]["eml"] == {"ingested": 8}
    code, out, _ = run("items", "OP-TIDEWATER", "--type", "application/pdf", "--json")
    pdf_id = json.loads(out)[0]["id"]
    code, out, _ = run("show", "OP-TIDEWATER", pdf_id, "--json")
    ingested = next(c for c in json.loads(out)["custody"] if c["action"] == "ingested")
    assert ingested["details"]["pages"] == 2 and ingested["details"]["pages_with_text"] == 2
    code, out, _ = run("threads", "OP-TIDEWATER", "--json")
    (thread,) = json.loads(out)
    assert [m["subject"] for m in thread["messages"]] == [
        "Welcome to BlueHarbor Capital - account BHC-20417 verified",
        "Re: Welcome to BlueHarbor Capital - account BHC-20417 verified",
        "Re: Re: Welcome to BlueHarbor Capital - account BHC-20417 verified",
    ]
    code, out, _ = run("demo")
    assert code == 0
    code, out, _ = run("status", "OP-TIDEWATER", "--json")
    assert json.loads(out)["items"] == 26
    assert json.loads(out)["hits"] == {"total": 3, "new": 0}
    code, out, _ = run("hits", "OP-TIDEWATER", "--json")
    assert {(h["kind"], h["value"]) for h in json.loads(out)} == {
        ("iban", "GB06NGMB40127631926485"),
        ("phone", "+442079460958"),
        ("organization", "bank mutual northgate"),  # name fingerprints are selectors too
    }
