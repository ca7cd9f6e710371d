"""SQLite FTS5 as the search engine (the embedded default)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, text

from caselens.search.document import TEXT_COLUMNS, SearchDocument
from caselens.search.index import SearchIndex
from caselens.search.query import And, Node, Not, Or, Text

# bm25 weights per column, in TEXT_COLUMNS order: a word in the subject says more than
# one in the body.
WEIGHTS = (10.0, 3.0, 3.0, 1.0)


class Fts5Index(SearchIndex):
    dialect = "sqlite"

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
            "date, lang, truncated) VALUES",
            [(*row, False) for row in doc_rows],
        )
        self.executemany(
            connection,
            "INSERT INTO search_fts (rowid, title, sender, recipients, body) VALUES",
            [
                (doc_id, *(" ".join(doc.columns.get(c, ())) for c in TEXT_COLUMNS))
                for doc_id, doc in zip(ids, documents, strict=True)
            ],
        )

    def remove_words(self, connection: Connection, ids: list[int]) -> None:
        connection.exec_driver_sql(
            f"DELETE FROM search_fts WHERE rowid IN ({', '.join('?' * len(ids))})",  # noqa: S608
            tuple(ids),
        )

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

    def matches(self, parameter: str) -> str:
        return f"d.id IN (SELECT rowid FROM search_fts WHERE search_fts MATCH {parameter})"  # noqa: S608

    def ranked_from(self, match: str) -> tuple[str, str, str]:
        weights = ", ".join(str(w) for w in WEIGHTS)
        return (
            "search_fts JOIN search_docs d ON d.id = search_fts.rowid",
            f"search_fts MATCH {match}",
            f"-bm25(search_fts, {weights})",
        )
