"""SQLite shares the ranking of many matches with helper processes: the results stay the same."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

from caselens.errors import StorageError
from caselens.search import fts5
from caselens.search.engines import index_for
from caselens.search.index import Matches, Resolvers
from caselens.search.query import parse
from caselens.search.rank_helpers import RangeAnswer, RankHelper
from caselens.services import Caselens
from caselens.services.access import case_row
from tests.conftest import new_installation
from tests.search.test_equivalence import make_documents

RESOLVERS = Resolvers(lambda node: [], lambda code: code)
QUERIES = ["bank", "wire OR gas", "payment invoice", '"wire transfer"', "fraud NOT bank", "tr*"]


@pytest.fixture
def sqlite_case(tmp_path: Path) -> tuple[Caselens, str]:
    app = new_installation(tmp_path / "home", None)
    with app.runtime.transaction() as connection:
        case_id = case_row(connection, "C").id
        index_for("sqlite").add(connection, make_documents(case_id, count=600))
    return app, case_id


@pytest.fixture
def shared_runs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Share over three ranges; record each range handed to a helper process."""
    runs: list[str] = []
    send = RankHelper.send

    def counted(
        helper: RankHelper,
        database: str,
        sql: str,
        parameters: dict[str, Any],
        ids_sql: str | None = None,
    ) -> bool:
        runs.append(sql if ids_sql is None else f"{sql}\n{ids_sql}")
        return send(helper, database, sql, parameters, ids_sql)

    monkeypatch.setattr(RankHelper, "send", counted)
    monkeypatch.setattr(fts5, "_available_cores", lambda: 3)
    return runs


def _search(app: Caselens, case_id: str, query: str, **options: Any) -> Matches:
    with app.runtime.transaction() as connection:
        return index_for("sqlite").search(connection, case_id, parse(query), RESOLVERS, **options)


def _answer(found: Matches) -> tuple[Any, ...]:
    return found.total, [(h.item_id, h.score) for h in found.hits], found.facets


def test_shared_ranking_gives_the_same_pages_and_facets(
    sqlite_case: tuple[Caselens, str], shared_runs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, case_id = sqlite_case
    pages = [{"limit": 20}, {"offset": 7, "limit": 7}, {"offset": 40, "limit": 25}]
    for query in QUERIES:
        for page in pages:
            for facets in (False, True):
                monkeypatch.setattr(fts5, "SHARED_RANKING_MIN", 10**9)
                alone = _search(app, case_id, query, facets=facets, **page)
                monkeypatch.setattr(fts5, "SHARED_RANKING_MIN", 10)
                before = len(shared_runs)
                shared = _search(app, case_id, query, facets=facets, **page)
                assert _answer(shared) == _answer(alone), (query, page, facets)
                if alone.total >= 30 or facets:  # enough for three ranges, or a large case
                    assert len(shared_runs) == before + 2
                    # A faceted search has the helpers read their ranges' ids too.
                    assert all(("group_concat" in sql) == facets for sql in shared_runs[before:])
    assert any("rowid >= " in sql and "rowid < " in sql for sql in shared_runs)  # a middle range
    app.close()


def test_a_transaction_that_wrote_ranks_alone(
    sqlite_case: tuple[Caselens, str], shared_runs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its own writes are seen by it alone, so no other connection may rank for it."""
    app, case_id = sqlite_case
    monkeypatch.setattr(fts5, "SHARED_RANKING_MIN", 10)
    index = index_for("sqlite")
    with app.runtime.transaction() as connection:
        more = make_documents(case_id, seed=8, count=600)
        for number, document in enumerate(more):
            document.item_id = f"later{number:04d}"
        index.add(connection, more)
        found = index.search(connection, case_id, parse("bank"), RESOLVERS, limit=100)
    assert shared_runs == []
    everything = _search(app, case_id, "bank", limit=100)
    assert shared_runs  # committed: now shared
    assert _answer(found) == _answer(everything)
    assert any(hit.item_id.startswith("later") for hit in found.hits)
    app.close()


def test_a_failed_helper_leaves_its_range_to_the_search(
    sqlite_case: tuple[Caselens, str], shared_runs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, case_id = sqlite_case
    monkeypatch.setattr(fts5, "SHARED_RANKING_MIN", 10**9)
    alone = _search(app, case_id, "bank OR wire", limit=30, facets=True)
    monkeypatch.setattr(fts5, "SHARED_RANKING_MIN", 10)
    for helper in fts5._HELPERS.helpers:
        helper.stop()
    # A helper killed between searches is started again ...
    _search(app, case_id, "bank", limit=5)
    for helper in fts5._HELPERS.helpers:
        if helper._process is not None:
            helper._process.kill()
            helper._process.wait()
    assert _answer(_search(app, case_id, "bank OR wire", limit=30, facets=True)) == _answer(alone)
    restarted = [h for h in fts5._HELPERS.helpers if h._process and h._process.poll() is None]
    assert restarted  # the search ran its ranges in new helpers, not only here
    # ... and one that dies during a search, or answers with an error, costs only time.
    monkeypatch.setattr(RankHelper, "receive", lambda helper: None)
    assert _answer(_search(app, case_id, "bank OR wire", limit=30, facets=True)) == _answer(alone)
    app.close()


def test_a_helper_reports_a_broken_statement_and_carries_on(tmp_path: Path) -> None:
    helper = RankHelper()
    database = str(tmp_path / "probe.db")
    sqlite3.connect(database).execute("CREATE TABLE t (x)").connection.close()
    try:
        assert helper.send(database, "SELECT nonsense FROM nowhere", {})
        assert helper.receive() is None  # an error: the caller ranks the range itself
        assert helper.send(database, "SELECT 7, 0.5 WHERE :n > 1", {"n": 2})
        assert helper.receive() == RangeAnswer([(7, 0.5)], None)
        assert helper.send(database, "SELECT 7, 0.5", {}, "SELECT '3,7' WHERE :n > 1")
        assert helper.receive() is None  # the ids statement lacked its parameter
        assert helper.send(database, "SELECT 7, 0.5", {"n": 2}, "SELECT '3,7' WHERE :n > 1")
        assert helper.receive() == RangeAnswer([(7, 0.5)], "3,7")
        assert helper.send(database, "SELECT 7, 0.5", {"n": 0}, "SELECT '3,7' WHERE :n > 1")
        assert helper.receive() == RangeAnswer([(7, 0.5)], "")  # no row: no ids
    finally:
        helper.stop()


def test_a_search_that_fails_leaves_no_answer_behind(
    sqlite_case: tuple[Caselens, str], shared_runs: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A helper whose answer was never read is stopped, or the next search would read it."""
    app, case_id = sqlite_case
    monkeypatch.setattr(fts5, "SHARED_RANKING_MIN", 10**9)
    expected = {query: _answer(_search(app, case_id, query, limit=30)) for query in QUERIES}
    monkeypatch.setattr(fts5, "SHARED_RANKING_MIN", 10)
    ranged = fts5._ranked_range_sql

    def broken_first(words_only: str, low: int | None, high: int | None) -> str:
        return "SELECT no_such_column" if low is None else ranged(words_only, low, high)

    monkeypatch.setattr(fts5, "_ranked_range_sql", broken_first)
    with pytest.raises(StorageError):
        _search(app, case_id, "wire OR gas", limit=30)
    monkeypatch.setattr(fts5, "_ranked_range_sql", ranged)
    for query in QUERIES:
        assert _answer(_search(app, case_id, query, limit=30)) == expected[query], query
    app.close()
