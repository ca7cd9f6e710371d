"""The search index of every case, on SQLite FTS5 or PostgreSQL full text.

``SearchIndex`` holds what both engines share: the document tables, paging, facets.
``Fts5Index`` and ``PostgresIndex`` say how words are stored, matched and ranked.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import BindParameter, Connection, bindparam, text

from caselens.search.compile import Compiled, Compiler
from caselens.search.document import SearchDocument
from caselens.search.query import Filter, Node

MAX_PAGE_SIZE = 100
TOP_SENDERS = 10


@dataclass(slots=True)
class Hit:
    doc_id: int
    item_id: str
    score: float | None  # the engine's relevance (higher is better); None when unranked


@dataclass(slots=True)
class Matches:
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Resolvers:
    """What turns query values into stored values: selectors and language codes."""

    selectors: Callable[[Filter], list[tuple[str, str]]]
    language: Callable[[str], str]


class SearchIndex(ABC):
    dialect: str

    # -- writing ---------------------------------------------------------------------

    def add(self, connection: Connection, documents: Sequence[SearchDocument]) -> None:
        """Index documents (replacing any earlier document of the same items)."""
        if not documents:
            return
        self.remove_items(connection, [doc.item_id for doc in documents])
        ids = self.allocate_ids(connection, len(documents))
        doc_rows: list[tuple[Any, ...]] = []
        kind_rows: list[tuple[Any, ...]] = []
        selector_rows: list[tuple[Any, ...]] = []
        for doc_id, doc in zip(ids, documents, strict=True):
            doc_rows.append(
                (
                    doc_id,
                    doc.case_id,
                    doc.item_id,
                    doc.generation,
                    doc.doc_type,
                    doc.title,
                    doc.sender,
                    doc.date,
                    doc.lang,
                )
            )
            kind_rows.extend((doc_id, kind) for kind in sorted({k for k, _ in doc.selectors}))
            selector_rows.extend((kind, value, doc_id) for kind, value in sorted(doc.selectors))
        self.insert_words(connection, doc_rows, ids, documents)
        self.executemany(connection, "INSERT INTO search_kinds (doc_id, kind) VALUES", kind_rows)
        self.executemany(
            connection, "INSERT INTO search_selectors (kind, value, doc_id) VALUES", selector_rows
        )

    def remove_items(self, connection: Connection, item_ids: Sequence[str]) -> None:
        for start in range(0, len(item_ids), 500):
            chunk = list(item_ids[start : start + 500])
            ids = [
                row[0]
                for row in connection.execute(
                    text("SELECT id FROM search_docs WHERE item_id IN :items").bindparams(
                        _expanding("items")
                    ),
                    {"items": chunk},
                )
            ]
            self.remove_ids(connection, ids)

    def clear_case(self, connection: Connection, case_id: str) -> int:
        ids = [
            row[0]
            for row in connection.execute(
                text("SELECT id FROM search_docs WHERE case_id = :case"), {"case": case_id}
            )
        ]
        for start in range(0, len(ids), 500):
            self.remove_ids(connection, ids[start : start + 500])
        return len(ids)

    def remove_ids(self, connection: Connection, ids: list[int]) -> None:
        if not ids:
            return
        self.remove_words(connection, ids)
        for table in ("search_kinds", "search_selectors"):
            connection.execute(
                text(f"DELETE FROM {table} WHERE doc_id IN :ids").bindparams(  # noqa: S608
                    _expanding("ids")
                ),
                {"ids": ids},
            )
        connection.execute(
            text("DELETE FROM search_docs WHERE id IN :ids").bindparams(_expanding("ids")),
            {"ids": ids},
        )

    def executemany(self, connection: Connection, head: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        mark = "?" if self.dialect == "sqlite" else "%s"
        connection.exec_driver_sql(f"{head} ({', '.join([mark] * len(rows[0]))})", rows)

    @abstractmethod
    def allocate_ids(self, connection: Connection, count: int) -> list[int]: ...

    @abstractmethod
    def insert_words(
        self,
        connection: Connection,
        doc_rows: list[tuple[Any, ...]],
        ids: list[int],
        documents: Sequence[SearchDocument],
    ) -> None:
        """Insert the search_docs rows and the words of each document."""

    @abstractmethod
    def remove_words(self, connection: Connection, ids: list[int]) -> None: ...

    # -- reading ---------------------------------------------------------------------

    @abstractmethod
    def words(self, node: Node) -> str:
        """A words-only tree in the engine's own query syntax."""

    @abstractmethod
    def matches(self, parameter: str) -> str:
        """SQL: document ``d`` matches the engine expression bound as ``parameter``."""

    @abstractmethod
    def ranked_from(self, match: str) -> tuple[str, str, str]:
        """FROM clause, extra WHERE condition and relevance expression for a ranked match."""

    def compile(self, node: Node, resolvers: Resolvers) -> Compiled:
        return Compiler(self.words, self.matches, resolvers.selectors, resolvers.language).compile(
            node
        )

    def query_parts(self, case_id: str, compiled: Compiled) -> tuple[str, str, str | None]:
        """FROM, WHERE and the relevance expression (None: newest first)."""
        compiled.parameters["case"] = case_id
        where = ["d.case_id = :case", *compiled.conditions]
        if compiled.match is None:
            return "search_docs d", " AND ".join(where), None
        compiled.parameters["match"] = compiled.match
        source, condition, score = self.ranked_from(":match")
        return source, " AND ".join([condition, *where]), score

    def search(
        self,
        connection: Connection,
        case_id: str,
        node: Node,
        resolvers: Resolvers,
        *,
        offset: int = 0,
        limit: int = 20,
        facets: bool = False,
    ) -> Matches:
        compiled = self.compile(node, resolvers)
        source, where, score = self.query_parts(case_id, compiled)
        parameters = {**compiled.parameters, "offset": offset, "limit": min(limit, MAX_PAGE_SIZE)}
        if score is None:
            order = "(d.date IS NULL), d.date DESC, d.id"
            score = "NULL"
        else:
            order = "score DESC, d.id"
        rows = connection.execute(
            text(
                f"SELECT d.id, d.item_id, {score} AS score FROM {source} "  # noqa: S608
                f"WHERE {where} ORDER BY {order} LIMIT :limit OFFSET :offset"
            ),
            parameters,
        ).all()
        hits = [Hit(r[0], r[1], None if r[2] is None else float(r[2])) for r in rows]
        if facets:
            counted = self.facets(connection, source, where, compiled.parameters)
            total = counted.pop("total")[0][1]
            return Matches(total, hits, counted)
        total = connection.execute(
            text(f"SELECT count(*) FROM {source} WHERE {where}"),  # noqa: S608
            compiled.parameters,
        ).scalar_one()
        return Matches(int(total), hits)

    def facets(
        self, connection: Connection, source: str, where: str, parameters: dict[str, Any]
    ) -> dict[str, list[tuple[str, int]]]:
        """Counts over every match (not the page shown), in one pass over the matches."""
        # Fixed fragments only; values are bound.
        hits = f"SELECT d.id, d.doc_type, d.lang, d.date, d.sender FROM {source} WHERE {where}"  # noqa: S608
        sql = (
            f"WITH hits AS MATERIALIZED ({hits}) "  # noqa: S608
            "SELECT 'total' AS facet, '' AS value, count(*) AS n FROM hits "
            "UNION ALL SELECT 'type', doc_type, count(*) FROM hits GROUP BY doc_type "
            "UNION ALL SELECT 'lang', COALESCE(lang, ''), count(*) FROM hits GROUP BY lang "
            "UNION ALL SELECT 'month', substr(date, 1, 7), count(*) FROM hits "
            "WHERE date IS NOT NULL GROUP BY substr(date, 1, 7) "
            "UNION ALL SELECT * FROM (SELECT 'sender', sender, count(*) AS n FROM hits "
            "WHERE sender IS NOT NULL GROUP BY sender "
            f"ORDER BY n DESC, sender LIMIT {TOP_SENDERS}) top "
            "UNION ALL SELECT 'kind', k.kind, count(*) FROM hits "
            "JOIN search_kinds k ON k.doc_id = hits.id GROUP BY k.kind"
        )
        result: dict[str, list[tuple[str, int]]] = {
            name: [] for name in ("total", "type", "lang", "month", "sender", "kind")
        }
        for facet, value, count in connection.execute(text(sql), parameters):
            result[facet].append((value, int(count)))
        for name in ("type", "lang", "sender", "kind"):
            result[name].sort(key=lambda pair: (-pair[1], pair[0]))
        result["month"].sort()
        return result


def _expanding(name: str) -> BindParameter[Any]:
    return bindparam(name, expanding=True)
