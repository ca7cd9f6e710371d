"""SQLite FTS5 as the search engine (the embedded default).

Each case has its own FTS5 table, ``search_fts_<case id>``, whose rowids are the ids of
its ``search_docs`` rows: a search reads only its case's words, and the engine ranks and
counts a query of words alone without touching any other table.
"""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, bindparam, text

from caselens.search.compile import Compiled
from caselens.search.document import TEXT_COLUMNS, SearchDocument
from caselens.search.index import Plan, SearchIndex, parse_ids
from caselens.search.query import And, Node, Not, Or, Text
from caselens.search.rank_helpers import RangeAnswer, RankHelper, RankHelpers

# bm25 weights per column, in TEXT_COLUMNS order: a word in the subject says more than
# one in the body.
WEIGHTS = (10.0, 3.0, 3.0, 1.0)
_CASE_ID = re.compile(r"[0-9a-f]{32}")
# FTS5 ranks about a million matches a second on one core. From this many matches on, the
# ranking is shared out over the cores by ranges of rowids, the first ranked here and each
# other by a helper process (see rank_helpers): BM25's statistics are the whole table's,
# so a range scores each row as the whole query does, and the best of each range, merged,
# are the best of all.
SHARED_RANKING_MIN = 20_000
MAX_RANKING_PARTS = 4
_HELPERS = RankHelpers(MAX_RANKING_PARTS - 1)


def fts_table(case_id: str) -> str:
    if not _CASE_ID.fullmatch(case_id):  # the name goes into SQL: only case ids made here
        raise ValueError(f"not a case id: {case_id!r}")
    return f"search_fts_{case_id}"


class Fts5Index(SearchIndex):
    dialect = "sqlite"

    def ensure_table(self, connection: Connection, case_id: str) -> str:
        table = fts_table(case_id)
        # The columns hold caselens's own tokens separated by spaces. FTS5's "ascii"
        # tokenizer splits only on ASCII punctuation and spaces and leaves every other
        # character alone, so each token arrives as it was made.
        connection.exec_driver_sql(
            f"CREATE VIRTUAL TABLE IF NOT EXISTS {table} USING fts5("
            "title, sender, recipients, body, tokenize = 'ascii', prefix = '2 3')"
        )
        return table

    def refresh_statistics(self, connection: Connection) -> None:
        # SQLite keeps no statistics unless asked; a sample of each index is enough.
        connection.exec_driver_sql("PRAGMA analysis_limit = 1000")
        for table in ("search_docs", "search_kinds", "search_selectors"):
            connection.exec_driver_sql(f"ANALYZE {table}")

    def allocate_ids(self, connection: Connection, count: int) -> list[int]:
        # Safe: every caselens transaction on SQLite holds the write lock from its start.
        # Above every id ever given, not only those present: a removed document's id is
        # never reused, which the facet copy's update relies on.
        last = connection.execute(
            text(
                "SELECT max(COALESCE((SELECT max(id) FROM search_docs), 0), "
                "COALESCE((SELECT max(high_id) FROM search_state), 0))"
            )
        ).scalar()
        first = int(last or 0) + 1
        return list(range(first, first + count))

    def insert_words(
        self,
        connection: Connection,
        doc_rows: list[tuple[Any, ...]],
        ids: list[int],
        documents: Sequence[SearchDocument],
    ) -> None:
        self.executemany(
            connection,
            "INSERT INTO search_docs (id, case_id, item_id, generation, doc_type, title, sender, "
            "date, lang, kinds, truncated) VALUES",
            [(*row, False) for row in doc_rows],
        )
        by_case: dict[str, list[tuple[Any, ...]]] = {}
        for doc_id, doc in zip(ids, documents, strict=True):
            columns = (doc.columns.get(c, "") for c in TEXT_COLUMNS)
            by_case.setdefault(doc.case_id, []).append((doc_id, *columns))
        for case_id, rows in by_case.items():
            table = self.ensure_table(connection, case_id)
            self.executemany(
                connection,
                f"INSERT INTO {table} (rowid, title, sender, recipients, body) VALUES",
                rows,
            )

    def remove_words(self, connection: Connection, case_id: str, ids: list[int]) -> None:
        table = self.ensure_table(connection, case_id)
        connection.exec_driver_sql(
            f"DELETE FROM {table} WHERE rowid IN ({', '.join('?' * len(ids))})",  # noqa: S608
            tuple(ids),
        )

    def clear_case(self, connection: Connection, case_id: str) -> int:
        removed = super().clear_case(connection, case_id)
        connection.exec_driver_sql(f"DROP TABLE IF EXISTS {fts_table(case_id)}")
        return removed

    def ranked_words(
        self,
        connection: Connection,
        plan: Plan,
        page: dict[str, int],
        total: int,
        matches: npt.NDArray[np.int64] | None,
    ) -> Sequence[tuple[Any, ...]]:
        parts = _ranking_parts(connection, total)
        if parts >= 2:
            with _HELPERS.free(parts - 1) as helpers:
                if helpers:  # else all busy with other searches
                    bounds = self._range_bounds(connection, plan, len(helpers) + 1, matches)
                    answers = self._ranked_ranges(connection, plan, page, helpers, bounds)
                    return self._page_rows(connection, answers, page)
        return super().ranked_words(connection, plan, page, total, matches)

    def ranked_words_and_ids(
        self, connection: Connection, plan: Plan, page: dict[str, int]
    ) -> tuple[Sequence[tuple[Any, ...]], npt.NDArray[np.int64]]:
        # How many match is not known before the ids are read, so the case's size
        # decides: in a large case, each range's ids are read where it is ranked.
        span = self._rowid_span(connection, plan)
        parts = _ranking_parts(connection, 0 if span is None else span[1] - span[0] + 1)
        if span is not None and parts >= 2:
            with _HELPERS.free(parts - 1) as helpers:
                if helpers:
                    bounds = _even_bounds(*span, len(helpers) + 1)
                    answers = self._ranked_ranges(
                        connection, plan, page, helpers, bounds, with_ids=True
                    )
                    # Ranges in rowid order, each in rowid order: the ids come out sorted.
                    ids = np.concatenate([parse_ids(answer.ids) for answer in answers])
                    return self._page_rows(connection, answers, page), ids
        return super().ranked_words_and_ids(connection, plan, page)

    def _ranked_ranges(
        self,
        connection: Connection,
        plan: Plan,
        page: dict[str, int],
        helpers: list[RankHelper],
        bounds: list[int],
        *,
        with_ids: bool = False,
    ) -> list[RangeAnswer]:
        """Each range's best rows (and when asked its ids), in range order: the first
        range ranked here, the others in ``helpers`` at the same time."""
        assert plan.words_only is not None and plan.words_ids is not None
        parameters = {**plan.parameters, "wanted": page["offset"] + page["limit"]}
        database = os.path.abspath(str(connection.engine.url.database))
        ranges = list(itertools.pairwise([None, *bounds, None]))
        statements = [
            (
                _ranked_range_sql(plan.words_only, low, high),
                _ids_range_sql(plan.words_ids, low, high) if with_ids else None,
            )
            for low, high in ranges
        ]
        handed = [
            (helper, sql, ids_sql, helper.send(database, sql, parameters, ids_sql))
            for helper, (sql, ids_sql) in zip(helpers, statements[1:], strict=True)
        ]
        waiting = [helper for helper, _, _, sent in handed if sent]
        try:
            # The first range here, the others each in a helper process.
            answers = [self._rank_range(connection, *statements[0], parameters)]
            for helper, sql, ids_sql, sent in handed:
                answer = helper.receive() if sent else None
                if sent:
                    waiting.remove(helper)
                if answer is None:  # the helper failed: rank its range here
                    answer = self._rank_range(connection, sql, ids_sql, parameters)
                answers.append(answer)
        finally:
            for helper in waiting:  # its answer would be read by the next search
                helper.stop()
        return answers

    @staticmethod
    def _rank_range(
        connection: Connection, sql: str, ids_sql: str | None, parameters: dict[str, Any]
    ) -> RangeAnswer:
        ranked = [(int(r[0]), float(r[1])) for r in connection.exec_driver_sql(sql, parameters)]
        ids = None
        if ids_sql is not None:
            ids = connection.exec_driver_sql(ids_sql, parameters).scalar() or ""
        return RangeAnswer(ranked, ids)

    @staticmethod
    def _page_rows(
        connection: Connection, answers: list[RangeAnswer], page: dict[str, int]
    ) -> list[tuple[Any, ...]]:
        """The page of the ranges' best rows merged, as (id, item id, score)."""
        ranked = [row for answer in answers for row in answer.ranked]
        ranked.sort(key=lambda row: (-row[1], row[0]))
        best = ranked[page["offset"] : page["offset"] + page["limit"]]
        if not best:
            return []
        items: dict[int, str] = dict(
            connection.execute(
                text("SELECT id, item_id FROM search_docs WHERE id IN :ids").bindparams(
                    bindparam("ids", expanding=True)
                ),
                {"ids": [row[0] for row in best]},
            ).all()
        )
        return [(rowid, items[rowid], score) for rowid, score in best]

    def _range_bounds(
        self,
        connection: Connection,
        plan: Plan,
        parts: int,
        matches: npt.NDArray[np.int64] | None,
    ) -> list[int]:
        """Rowids that cut the matches into ``parts`` ranges of about equal size."""
        if matches is not None and len(matches) >= parts:
            cuts = [len(matches) * i // parts for i in range(1, parts)]
            return [int(v) for v in np.partition(matches, cuts)[cuts]]
        # Without the ids, the case's rowids cut evenly: a word's matches spread over
        # them about as its documents were indexed.
        span = self._rowid_span(connection, plan)
        assert span is not None  # there are matches
        return _even_bounds(*span, parts)

    @staticmethod
    def _rowid_span(connection: Connection, plan: Plan) -> tuple[int, int] | None:
        """The lowest and highest rowid of the case's words, None when it has none."""
        table = fts_table(plan.parameters["case"])
        low, high = (
            connection.exec_driver_sql(
                f"SELECT rowid FROM {table} ORDER BY rowid {order} LIMIT 1"  # noqa: S608
            ).scalar()
            for order in ("ASC", "DESC")
        )
        return None if low is None or high is None else (int(low), int(high))

    def words(self, node: Node) -> str:
        if isinstance(node, Text):
            phrase = '"' + " ".join(node.tokens) + '"' + (" *" if node.prefix else "")
            return f"{{{node.column}}} : {phrase}" if node.column else phrase
        if isinstance(node, Or):
            return "(" + " OR ".join(self.words(c) for c in node.children) + ")"
        assert isinstance(node, And)
        positive = [self.words(c) for c in node.children if not isinstance(c, Not)]
        negative = [self.words(c.child) for c in node.children if isinstance(c, Not)]
        expression = "(" + " AND ".join(positive) + ")"
        if negative:
            expression = f"({expression} NOT ({' OR '.join(negative)}))"
        return expression

    def matches(self, case_id: str, parameter: str) -> str:
        table = fts_table(case_id)
        return f"d.id IN (SELECT rowid FROM {table} WHERE {table} MATCH {parameter})"  # noqa: S608

    def plan(self, connection: Connection, case_id: str, compiled: Compiled) -> Plan:
        table = self.ensure_table(connection, case_id)
        parameters = {**compiled.parameters, "case": case_id}
        if compiled.match is None:
            # "+" keeps SQLite from starting at the case's index when a selector's few
            # documents are the better start.
            case = "+d.case_id = :case" if compiled.selective_filter else "d.case_id = :case"
            where = " AND ".join([case, *compiled.conditions])
            return Plan("search_docs d", where, None, parameters)
        parameters["match"] = compiled.match
        weights = ", ".join(str(w) for w in WEIGHTS)
        score = f"-bm25({table}, {weights})"
        matched = f"{table} MATCH :match"
        # CROSS JOIN: the engine's matches drive, each reading one document row.
        source = f"{table} CROSS JOIN search_docs d ON d.id = {table}.rowid"
        where = " AND ".join([matched, "d.case_id = :case", *compiled.conditions])
        if compiled.conditions:
            return Plan(source, where, score, parameters)
        return Plan(
            source,
            where,
            score,
            parameters,
            words_only=f"SELECT rowid, {score} AS score FROM {table} WHERE {matched}",  # noqa: S608
            words_count=f"SELECT count(*) FROM {table} WHERE {matched}",  # noqa: S608
            words_ids=f"SELECT rowid AS id FROM {table} WHERE {matched}",  # noqa: S608
        )


def _ranking_parts(connection: Connection, total: int) -> int:
    """Into how many ranges to share out a ranking of ``total`` matches (1: do not).

    Other connections see what this one sees only when it has written nothing yet:
    every caselens transaction on SQLite holds the write lock from its start, so no
    one else can commit before it ends (a connection kept from one transaction to the
    next counts the earlier ones' writes too, and so never shares). A file database is
    needed too: an in-memory one is private to its connection.
    """
    if total < SHARED_RANKING_MIN:
        return 1
    if connection.engine.url.database in (None, "", ":memory:"):
        return 1
    dbapi = connection.connection.dbapi_connection
    if dbapi is None or getattr(dbapi, "total_changes", 1) != 0:
        return 1
    return max(1, min(_available_cores(), MAX_RANKING_PARTS, total // (SHARED_RANKING_MIN // 2)))


def _available_cores() -> int:
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _even_bounds(low: int, high: int, parts: int) -> list[int]:
    return [low + (high - low + 1) * i // parts for i in range(1, parts)]


def _range_condition(low: int | None, high: int | None) -> str:
    limits = []
    if low is not None:
        limits.append(f"rowid >= {int(low)}")
    if high is not None:
        limits.append(f"rowid < {int(high)}")
    return "".join(f" AND {limit}" for limit in limits)


def _ranked_range_sql(words_only: str, low: int | None, high: int | None) -> str:
    """The best ``:wanted`` (rowid, score) of the matches with low <= rowid < high."""
    return f"{words_only}{_range_condition(low, high)} ORDER BY score DESC, rowid LIMIT :wanted"


def _ids_range_sql(words_ids: str, low: int | None, high: int | None) -> str:
    """The ids of the matches with low <= rowid < high, as one comma-separated text."""
    return f"SELECT group_concat(id) FROM ({words_ids}{_range_condition(low, high)})"  # noqa: S608
