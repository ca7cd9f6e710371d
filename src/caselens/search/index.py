"""The search index of every case, on SQLite FTS5 or PostgreSQL full text.

``SearchIndex`` holds what both engines share: the document tables, paging, facets.
``Fts5Index`` and ``PostgresIndex`` say how words are stored, matched and ranked.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import BindParameter, Connection, bindparam, text

from caselens.search.compile import Compiled, Compiler
from caselens.search.document import SearchDocument, kinds_mask
from caselens.search.facets import FacetCache, Facets, bump, record_high_id, shared_cache
from caselens.search.query import Filter, Node

MAX_PAGE_SIZE = 100


@dataclass(slots=True)
class Hit:
    doc_id: int
    item_id: str
    score: float | None  # the engine's relevance (higher is better); None when unranked


@dataclass(slots=True)
class Matches:
    total: int
    hits: list[Hit]
    facets: Facets = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Resolvers:
    """What turns query values into stored values: selectors and language codes."""

    selectors: Callable[[Filter], list[tuple[str, str]]]
    language: Callable[[str], str]


@dataclass(frozen=True, slots=True)
class Plan:
    """The SQL of one search: where matches come from, the condition, the relevance."""

    source: str  # FROM clause, naming the documents ``d``
    where: str
    score: str | None  # None: unranked, newest first
    parameters: dict[str, Any]
    # When the words alone decide (no other condition), the engine can rank and count
    # without reading the document rows: these give that query, else None.
    words_only: str | None = None  # SELECT rowid, score FROM ... (ranked)
    words_count: str | None = None
    words_ids: str | None = None  # SELECT rowid AS id FROM ... (every match, for facets)
    # Unranked results come newest first, in an order an index on case_id, date gives.
    newest_first: str = "d.date DESC, d.id DESC"
    # Ranked results in the order an index yields them (ascending ``index_order``, ties
    # in the index's own order) rather than sorted by ``score``, d.id: set when the
    # engine ranks from its index (PostgreSQL with RUM).
    index_order: str | None = None


class SearchIndex(ABC):
    dialect: str

    def __init__(self, facet_cache: FacetCache | None = None) -> None:
        self.facet_cache = facet_cache or shared_cache()

    # -- writing ---------------------------------------------------------------------

    def add(self, connection: Connection, documents: Sequence[SearchDocument]) -> None:
        """Index documents (replacing any earlier document of the same items)."""
        if not documents:
            return
        cases = {doc.case_id for doc in documents}
        bump(connection, cases)
        self.remove_items(connection, [doc.item_id for doc in documents])
        ids = self.allocate_ids(connection, len(documents))
        record_high_id(connection, cases, ids[-1])
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
                    kinds_mask(doc.selectors),
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
            rows = connection.execute(
                text("SELECT id, case_id FROM search_docs WHERE item_id IN :items").bindparams(
                    _expanding("items")
                ),
                {"items": list(item_ids[start : start + 500])},
            ).all()
            by_case: dict[str, list[int]] = {}
            for doc_id, case_id in rows:
                by_case.setdefault(case_id, []).append(doc_id)
            for case_id, ids in by_case.items():
                self.remove_ids(connection, case_id, ids)

    def clear_case(self, connection: Connection, case_id: str) -> int:
        ids = [
            row[0]
            for row in connection.execute(
                text("SELECT id FROM search_docs WHERE case_id = :case"), {"case": case_id}
            )
        ]
        for start in range(0, len(ids), 500):
            self.remove_ids(connection, case_id, ids[start : start + 500])
        return len(ids)

    def remove_ids(self, connection: Connection, case_id: str, ids: list[int]) -> None:
        if not ids:
            return
        bump(connection, [case_id])
        self.remove_words(connection, case_id, ids)
        for table in ("search_kinds", "search_selectors", "search_docs"):
            column = "id" if table == "search_docs" else "doc_id"
            connection.execute(
                text(f"DELETE FROM {table} WHERE {column} IN :ids").bindparams(  # noqa: S608
                    _expanding("ids")
                ),
                {"ids": ids},
            )

    @abstractmethod
    def refresh_statistics(self, connection: Connection) -> None:
        """After bulk indexing: let the query planner know the tables' sizes again."""

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
    def remove_words(self, connection: Connection, case_id: str, ids: list[int]) -> None: ...

    # -- reading ---------------------------------------------------------------------

    @abstractmethod
    def words(self, node: Node) -> str:
        """A words-only tree in the engine's own query syntax."""

    @abstractmethod
    def matches(self, case_id: str, parameter: str) -> str:
        """SQL: document ``d`` matches the engine expression bound as ``parameter``."""

    @abstractmethod
    def plan(self, connection: Connection, case_id: str, compiled: Compiled) -> Plan: ...

    def compile(self, case_id: str, node: Node, resolvers: Resolvers) -> Compiled:
        def matches(parameter: str) -> str:
            return self.matches(case_id, parameter)

        compiler = Compiler(self.words, matches, resolvers.selectors, resolvers.language)
        return compiler.compile(node)

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
        plan = self.plan(connection, case_id, self.compile(case_id, node, resolvers))
        with self.planner_settings(connection, plan):
            return self.run_plan(connection, case_id, plan, offset, limit, facets)

    def planner_settings(self, connection: Connection, plan: Plan) -> AbstractContextManager[None]:
        """Settings of the engine's query planner for the statements of ``plan``."""
        return nullcontext()

    def run_plan(
        self,
        connection: Connection,
        case_id: str,
        plan: Plan,
        offset: int,
        limit: int,
        facets: bool,
    ) -> Matches:
        page = {"offset": offset, "limit": min(limit, MAX_PAGE_SIZE)}
        matches = None
        if plan.words_only is not None:
            # Rank in the engine alone, then read only the page's document rows.
            if facets:
                rows, matches = self.ranked_words_and_ids(connection, plan, page)
            else:
                assert plan.words_count is not None
                result = connection.execute(text(plan.words_count), plan.parameters)
                total = int(result.scalar_one())
                rows = self.ranked_words(connection, plan, page, total, None)
        elif facets:
            with self.facet_ids_alongside(connection, plan) as later:
                rows = connection.execute(text(_page_sql(plan)), {**plan.parameters, **page}).all()
                matches = later()
        else:
            rows = connection.execute(text(_page_sql(plan)), {**plan.parameters, **page}).all()
        hits = [Hit(r[0], r[1], None if r[2] is None else float(r[2])) for r in rows]
        if matches is not None:
            counted = self.facet_cache.columns(connection, case_id).count(connection, matches)
            return Matches(sum(count for _, count in counted["type"]), hits, counted)
        if plan.words_only is None:
            count_sql = f"SELECT count(*) FROM {plan.source} WHERE {plan.where}"  # noqa: S608
            total = int(connection.execute(text(count_sql), plan.parameters).scalar_one())
        return Matches(total, hits)

    def ranked_words(
        self,
        connection: Connection,
        plan: Plan,
        page: dict[str, int],
        total: int,
        matches: npt.NDArray[np.int64] | None,
    ) -> Sequence[tuple[Any, ...]]:
        """One page of a words-only search as (id, item id, score) rows, best first.

        ``total`` is the number of matches and ``matches`` their ids when known (for
        facets): an engine may use them to share the ranking out.
        """
        sql = (
            f"SELECT d.id, d.item_id, w.score FROM ({plan.words_only} "  # noqa: S608
            "ORDER BY score DESC, rowid LIMIT :limit OFFSET :offset) w "
            "JOIN search_docs d ON d.id = w.rowid ORDER BY w.score DESC, d.id"
        )
        return [tuple(row) for row in connection.execute(text(sql), {**plan.parameters, **page})]

    def ranked_words_and_ids(
        self, connection: Connection, plan: Plan, page: dict[str, int]
    ) -> tuple[Sequence[tuple[Any, ...]], npt.NDArray[np.int64]]:
        """One page of a words-only search and the ids of all its matches (for facets).
        An engine may collect the ids in the same pass as it ranks."""
        matches = self.facet_ids(connection, plan)
        return self.ranked_words(connection, plan, page, len(matches), matches), matches

    # SQL aggregating a column ``id`` into one comma-separated text.
    join_ids = "group_concat(id)"

    def matching_ids(
        self, connection: Connection, sql: str, parameters: dict[str, Any]
    ) -> npt.NDArray[np.int64]:
        """The ``id`` column of ``sql``'s rows (up to every document of a case). The
        engine joins them into one text, which numpy parses: a few times faster than
        handing a few hundred thousand rows to Python one by one."""
        joined = connection.execute(
            text(f"SELECT {self.join_ids} FROM ({sql}) AS m"),  # noqa: S608
            parameters,
        ).scalar_one()
        return parse_ids(joined)

    @contextmanager
    def facet_ids_alongside(
        self, connection: Connection, plan: Plan
    ) -> Iterator[Callable[[], npt.NDArray[np.int64]]]:
        """The facet ids of ``plan``, to be had from the function given once the page is
        read: an engine may read them at the same time as the page, elsewhere."""
        matches = self.facet_ids(connection, plan)
        yield lambda: matches

    def facet_ids(self, connection: Connection, plan: Plan) -> npt.NDArray[np.int64]:
        """The ids of every match, which facets are counted over (not the page shown)."""
        ids_sql = plan.words_ids or f"SELECT d.id FROM {plan.source} WHERE {plan.where}"  # noqa: S608
        return self.matching_ids(connection, ids_sql, plan.parameters)


def parse_ids(joined: str | None) -> npt.NDArray[np.int64]:
    """Ids joined by commas, as an array."""
    if not joined:
        return np.empty(0, dtype=np.int64)
    return np.fromstring(joined, dtype=np.int64, sep=",")


def _page_sql(plan: Plan) -> str:
    """One page of a search whose order the database decides in one statement."""
    if plan.index_order is not None:
        return (
            f"SELECT d.id, d.item_id, {plan.score} AS score FROM {plan.source} "  # noqa: S608
            f"WHERE {plan.where} ORDER BY {plan.index_order} LIMIT :limit OFFSET :offset"
        )
    if plan.score is not None:
        return (
            f"SELECT d.id, d.item_id, {plan.score} AS score FROM {plan.source} "  # noqa: S608
            f"WHERE {plan.where} ORDER BY score DESC, d.id LIMIT :limit OFFSET :offset"
        )
    return (
        f"SELECT d.id, d.item_id, NULL AS score FROM {plan.source} "  # noqa: S608
        f"WHERE {plan.where} ORDER BY {plan.newest_first} LIMIT :limit OFFSET :offset"
    )


def _expanding(name: str) -> BindParameter[Any]:
    return bindparam(name, expanding=True)
