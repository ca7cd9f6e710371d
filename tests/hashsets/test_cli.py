"""caselens hashsets on the command line: import, list, match, duplicates, clear errors."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path

import pytest
import typer

from caselens.cli import app as cli_app
from caselens.cli import render
from caselens.cli.app import main
from caselens.cli.hashsets import hashsets_app
from caselens.services import Caselens
from tests.conftest import ADMIN, REFERENCE
from tests.hashsets.test_service import BASE, add_image, flipped

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(
    cli_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> Run:
    monkeypatch.setattr("caselens.actor.os_user_name", lambda: "analyst-os")
    monkeypatch.setattr(render.console, "width", 250)
    monkeypatch.setattr(render.errors, "width", 250)
    if not any(group.name == "hashsets" for group in cli_app.app.registered_groups):
        # Until the sub-app is wired into caselens.cli.app: the same options, same main().
        wired = typer.Typer(pretty_exceptions_enable=False)
        wired.callback()(cli_app.global_options)
        wired.add_typer(hashsets_app, name="hashsets")
        monkeypatch.setattr(cli_app, "app", wired)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def test_import_list_match_and_duplicates(
    run: Run, app: Caselens, case: str, tmp_path: Path
) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "tool.exe").write_bytes(b"MZ a tool from another case")
    (source / "one.jpg").write_bytes(b"\xff\xd8 one")
    (source / "two.jpg").write_bytes(b"\xff\xd8 two")
    app.ingest.ingest(ADMIN, REFERENCE, [str(source)])
    ids = {Path(r["path"]).name: r["id"] for r in app.items.list(ADMIN, REFERENCE)}
    add_image(app, ids["one.jpg"], {"pdq": {"hash": f"{BASE:064x}", "quality": 100}})
    add_image(app, ids["two.jpg"], {"pdq": {"hash": flipped(BASE, 4), "quality": 70}})

    tool = hashlib.md5(b"MZ a tool from another case").hexdigest()
    alert = tmp_path / "alert.md5"
    alert.write_text(f"{tool}  tool.exe\nnonsense\n")
    admin = ("--as", "admin", "hashsets")
    code, out, err = run(*admin, "import", str(alert), "--name", "tools", "--kind", "alert")
    assert code == 0, err
    assert "imported tools (alert, plain): 1 distinct hashes (1 md5) from 2 lines" in out
    assert "line 2: not a hash" in err

    pdq_list = tmp_path / "pdq.txt"
    pdq_list.write_text(flipped(BASE, 20, 50) + "\n")
    options = ("--kind", "alert", "--format", "pdq", "--pdq-threshold", "24", "--json")
    code, out, err = run(*admin, "import", str(pdq_list), "--name", "series", *options)
    assert code == 0, err
    assert json.loads(out)["pdq_threshold"] == 24

    code, out, _ = run("--as", "admin", "hashsets", "list", "--json")
    assert [(s["name"], s["format"], s["entries"]) for s in json.loads(out)] == [
        ("series", "pdq", 1),
        ("tools", "plain", 1),
    ]

    code, out, err = run("--as", "admin", "hashsets", "match", REFERENCE, "--json")
    assert code == 0, err
    answer = json.loads(out)
    assert answer["total"] == 3
    found = {
        (Path(m["path"]).name, m["set"], m["algorithm"], m["distance"]) for m in answer["matches"]
    }
    assert found == {
        ("tool.exe", "tools", "md5", None),
        ("one.jpg", "series", "pdq", 20),
        ("two.jpg", "series", "pdq", 24),
    }
    code, out, _ = run("--as", "admin", "hashsets", "match", REFERENCE)
    assert code == 0
    assert f"{REFERENCE}: 3 matches on 2 sets (0 new" in out
    assert ids["tool.exe"] in out

    code, out, _ = run("--as", "admin", "hashsets", "duplicates", REFERENCE, "--json")
    groups = json.loads(out)["groups"]
    assert [[m["item_id"] for m in g] for g in groups] == [[ids["one.jpg"], ids["two.jpg"]]]
    code, out, _ = run("--as", "admin", "hashsets", "duplicates", REFERENCE, "--threshold", "3")
    assert code == 0 and "0 groups of near-duplicates among 2 images (threshold 3 bits)" in out


def test_errors_are_one_line_with_an_exit_code(run: Run, app: Caselens, tmp_path: Path) -> None:
    app.users.init(ADMIN)
    listed = tmp_path / "list.txt"
    listed.write_text(hashlib.md5(b"x").hexdigest() + "\n")
    admin = ("--as", "admin", "hashsets")
    code, _, err = run(*admin, "import", str(listed), "--name", "n", "--kind", "good")
    assert (code, err.strip()) == (2, "error: unknown kind 'good'; choose one of known-good, alert")
    missing = str(tmp_path / "nope.txt")
    code, _, err = run(*admin, "import", missing, "--name", "n", "--kind", "alert")
    assert code == 2 and err.strip() == f"error: no such file: {tmp_path / 'nope.txt'}"
    code, _, err = run("hashsets", "import", str(listed), "--name", "n", "--kind", "alert")
    assert code == 3 and "unknown user 'analyst-os'" in err
    code, _, err = run("--as", "admin", "hashsets", "duplicates", "NOPE")
    assert (code, err.strip()) == (1, "error: no case with reference 'NOPE'")
