"""SQLite FTS5 as the search engine (the embedded default).

Each case has its own FTS5 table, ``search_fts_<case id>``, whose rowids are the ids of
its ``search_docs`` rows: a search reads only its case's words, and the engine ranks and
counts a query of words alone without touching any other table.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

from caselens.search.compile import Compiled
from caselens.search.document import TEXT_COLUMNS, SearchDocument
from caselens.search.index import Plan, SearchIndex
from caselens.search.query import And, Node, Not, Or, Text

# bm25 weights per column, in TEXT_COLUMNS order: a word in the subject says more than
# one in the body.
WEIGHTS = (10.0, 3.0, 3.0, 1.0)
_CASE_ID = re.compile(r"[0-9a-f]{32}")


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
        last = connection.execute(text("SELECT COALESCE(MAX(id), 0) FROM search_docs")).scalar()
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
