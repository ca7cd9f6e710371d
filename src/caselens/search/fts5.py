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
from caselens.search.index import Plan, SearchIndex
from caselens.search.query import And, Node, Not, Or, Text
from caselens.search.rank_helpers import RankHelpers

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
        if parts < 2:
            return super().ranked_words(connection, plan, page, total, matches)
        assert plan.words_only is not None
        wanted = page["offset"] + page["limit"]
        parameters = {**plan.parameters, "wanted": wanted}
        database = os.path.abspath(str(connection.engine.url.database))
        with _HELPERS.free(parts - 1) as helpers:
            if not helpers:  # all busy with other searches
                return super().ranked_words(connection, plan, page, total, matches)
            bounds = self._range_bounds(connection, plan, len(helpers) + 1, matches)
            ranges = list(itertools.pairwise([None, *bounds, None]))
            statements = [_ranked_range_sql(plan.words_only, low, high) for low, high in ranges]
            handed = [
                (helper, sql, helper.send(database, sql, parameters))
                for helper, sql in zip(helpers, statements[1:], strict=True)
            ]
            waiting = [helper for helper, _, sent in handed if sent]
            try:
                # The first range here, the others each in a helper process.
                ranked = [tuple(r) for r in connection.exec_driver_sql(statements[0], parameters)]
                for helper, sql, sent in handed:
                    answer = helper.receive() if sent else None
                    if sent:
                        waiting.remove(helper)
                    if answer is None:  # the helper failed: rank its range here
                        answer = [tuple(r) for r in connection.exec_driver_sql(sql, parameters)]
                    ranked.extend(answer)
            finally:
                for helper in waiting:  # its answer would be read by the next search
                    helper.stop()
        ranked.sort(key=lambda row: (-row[1], row[0]))
        best = ranked[page["offset"] : wanted]
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
        table = fts_table(plan.parameters["case"])
        low, high = (
            int(
                connection.exec_driver_sql(
                    f"SELECT rowid FROM {table} ORDER BY rowid {order} LIMIT 1"  # noqa: S608
                ).scalar_one()
            )
            for order in ("ASC", "DESC")
        )
        return [low + (high - low + 1) * i // parts for i in range(1, parts)]

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


def _ranked_range_sql(words_only: str, low: int | None, high: int | None) -> str:
    """The best ``:wanted`` (rowid, score) of the matches with low <= rowid < high."""
    limits = []
    if low is not None:
        limits.append(f"rowid >= {int(low)}")
    if high is not None:
        limits.append(f"rowid < {int(high)}")
    condition = "".join(f" AND {limit}" for limit in limits)
    return f"{words_only}{condition} ORDER BY score DESC, rowid LIMIT :wanted"
