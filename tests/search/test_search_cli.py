"""caselens search and reindex on the command line."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from caselens.cli import render
from caselens.cli.app import main

Run = Callable[..., tuple[int, str, str]]


@pytest.fixture
def run(
    cli_env: dict[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> Run:
    monkeypatch.setattr("caselens.actor.os_user_name", lambda: "analyst-os")
    monkeypatch.setattr(render.console, "width", 200)

    def invoke(*args: str) -> tuple[int, str, str]:
        code = main(list(args))
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return invoke


def test_search_prints_hits_snippets_and_facets(run: Run, tmp_path: Path) -> None:
    source = tmp_path / "src"
    source.mkdir()
    (source / "a.txt").write_text("The wire transfer left on Monday.\n")
    (source / "b.txt").write_text("A second wire, via Lisbon.\n")
    assert run("init")[0] == 0
    create = ("case", "create", "OP-2", "--title", "t", "--default-purpose", "investigation")
    assert run(*create)[0] == 0
    assert run("ingest", "OP-2", str(source))[0] == 0

    code, out, err = run("search", "OP-2", '"wire transfer"', "--facets")
    assert code == 0, err
    assert "1 items match" in out and "a.txt" in out
    assert "p. 1: The wire transfer left on Monday." in out
    assert "plaintext" in out  # the type facet

    code, out, _ = run("search", "OP-2", "wire", "--json", "--size", "1", "--page", "2")
    answer = json.loads(out)
    assert (answer["total"], answer["page"], len(answer["results"])) == (2, 2, 1)

    code, out, err = run("search", "OP-2", "wire AND (lisbon OR")
    assert code == 2 and out == ""
    assert err.strip() == 'error: nothing after "OR" at position 18'

    code, out, _ = run("reindex", "OP-2")
    assert code == 0 and "2 items indexed" in out
