"""PostgreSQL full text as the search engine: a tsvector per document, a GIN index.

caselens writes the tsvector itself (lexemes, positions and weights) from its own
tokens rather than calling to_tsvector, so both engines index the same words. Each
column gets a weight (subject A, from B, to C, body D) to restrict a word to a field,
and the columns are one position apart so no phrase spans two of them.

Ranking comes from a RUM index (the ``rum`` extension, Debian's postgresql-NN-rum) when
the database has one (migration 0011 makes it where the extension can be had): RUM keeps
each word's positions in the index, so it ranks, matches phrases and restricts words to
a column without reading a single tsvector, and returns matches best first. Without it a
GIN index finds the matches and ``ts_rank`` ranks them, reading every match's tsvector:
seconds for a word in a third of a million documents.

PostgreSQL bounds a tsvector: positions stop at 16,383, a lexeme keeps 256 positions,
the whole is under 1 MB. Words past those bounds are still found; phrases past word
16,383 of an item are not, and an item whose distinct words exceed 1 MB is indexed in
part (``truncated``).
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, Engine, text

from caselens.search.compile import Compiled
from caselens.search.document import TEXT_COLUMNS, SearchDocument
from caselens.search.facets import changed_in_this_transaction
from caselens.search.index import Plan, SearchIndex
from caselens.search.query import And, Node, Not, Or, Text

WEIGHT_LETTERS = dict(zip(TEXT_COLUMNS, ("A", "B", "C", "D"), strict=True))
# ts_rank's weights in {D, C, B, A} order, matching FTS5's column weights.
RANK_WEIGHTS = "{0.1, 0.3, 0.3, 1.0}"
MAX_POSITION = 16383
LAST_REAL_POSITION = MAX_POSITION - 2  # words past it sit at MAX_POSITION, two apart
MAX_POSITIONS_PER_LEXEME = 255
MAX_VECTOR_CHARS = 900_000
RANK_INDEX = "ix_search_docs_rum"
SNAPSHOT_ID = re.compile(r"[0-9A-F]+-[0-9A-F]+(-[0-9]+)?")
# Threads that read facet ids on connections of their own while a search reads its page.
_ALONGSIDE = ThreadPoolExecutor(max_workers=4, thread_name_prefix="caselens-facet-ids")

# Planner settings for the statements of one search of words, restored after it. The
# planner prices a tsvector match as nearly free, so for a common word it reads the whole
# table and unpacks every tsvector (seconds at a million documents) where the index's
# bitmap takes a fraction of that; a bitmap within work_mem stays exact, so matches need
# no second check against the tsvector. JIT compiling costs more than these queries gain.
# A plan made for one tsquery is wrong for the next (a rare word or a common one), so
# every statement is planned for its own values, even once psycopg prepares it.
WORDS_SETTINGS = {
    "enable_seqscan": "off",
    "work_mem": "64MB",
    "jit": "off",
    "plan_cache_mode": "force_custom_plan",
}
# Ranking from RUM: without sorts the planner takes the index's own order, so every page
# of a query is ranked the same way, however large the page.
RANKED_SETTINGS = {"enable_sort": "off"}


def tsvector_literal(document: SearchDocument) -> tuple[str, bool]:
    """The document's words as a tsvector literal, and whether bounds cut it short."""
    positions: dict[str, list[str]] = {}
    position = 1
    size = 0
    truncated = False
    for column in TEXT_COLUMNS:
        letter = WEIGHT_LETTERS[column]
        suffix = "" if letter == "D" else letter
        for token in document.columns.get(column, "").split():
            found = positions.get(token)
            if found is None:
                if size + len(token) + 12 > MAX_VECTOR_CHARS:
                    truncated = True
                    continue
                found = positions[token] = []
                size += len(token) + 4
            if position > LAST_REAL_POSITION:
                # Still findable as a word, in this column, but at no real position.
                place = f"{MAX_POSITION}{suffix}"
                if found and found[-1] == place:
                    place = ""
            else:
                place = f"{position}{suffix}"
            if place and len(found) < MAX_POSITIONS_PER_LEXEME:
                found.append(place)
                size += 7
            position += 1
        position += 1  # a gap between columns
    literal = " ".join(f"'{token}':{','.join(places)}" for token, places in positions.items())
    return literal, truncated


class PostgresIndex(SearchIndex):
    dialect = "postgresql"
    join_ids = "string_agg(CAST(id AS text), ',')"

    @contextmanager
    def facet_ids_alongside(
        self, connection: Connection, plan: Plan
    ) -> Iterator[Callable[[], npt.NDArray[np.int64]]]:
        """Read the facet ids on a second connection while this one reads the page.

        For a common word each takes about as long (the ids visit every match's row, the
        page ranks them all), and the server has cores to spare. The second connection
        reads the snapshot this one exports, so both see the same documents; a
        transaction that changed the index itself reads them here, where its own
        uncommitted documents are visible.
        """
        snapshot = None
        # (A savepoint cannot export its snapshot.)
        if not changed_in_this_transaction(connection) and not connection.in_nested_transaction():
            exported = connection.execute(text("SELECT pg_export_snapshot()")).scalar_one()
            # It goes into a statement as it is: only the server's own form is taken.
            snapshot = exported if SNAPSHOT_ID.fullmatch(str(exported)) else None
        if snapshot is None:
            with super().facet_ids_alongside(connection, plan) as later:
                yield later
            return
        future = _ALONGSIDE.submit(
            self._facet_ids_elsewhere, connection.engine, snapshot, _planner_settings(plan), plan
        )
        try:
            yield future.result
        finally:
            # The snapshot lives only as long as this transaction: the other statement
            # must be finished (or never started) before this one goes on.
            if not future.cancel():
                with contextlib.suppress(Exception):
                    future.result()

    def _facet_ids_elsewhere(
        self, engine: Engine, snapshot: str, settings: dict[str, str], plan: Plan
    ) -> npt.NDArray[np.int64]:
        with engine.connect() as other, other.begin():
            other.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
            other.exec_driver_sql(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
            if settings:
                _set_settings(other, settings)
            return self.facet_ids(other, plan)

    def allocate_ids(self, connection: Connection, count: int) -> list[int]:
        rows = connection.execute(
            text(
                "SELECT nextval(pg_get_serial_sequence('search_docs', 'id')) "
                "FROM generate_series(1, :count)"
            ),
            {"count": count},
        )
        return [int(row[0]) for row in rows]

    def insert_words(
        self,
        connection: Connection,
        doc_rows: list[tuple[Any, ...]],
        ids: list[int],
        documents: Sequence[SearchDocument],
    ) -> None:
        rows = []
        for row, doc in zip(doc_rows, documents, strict=True):
            literal, truncated = tsvector_literal(doc)
            rows.append((*row, truncated, literal))
        connection.exec_driver_sql(
            "INSERT INTO search_docs (id, case_id, item_id, generation, doc_type, title, sender, "
            "date, lang, kinds, truncated, tsv) VALUES "
            "(%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::tsvector)",
            rows,
        )

    def remove_words(self, connection: Connection, case_id: str, ids: list[int]) -> None:
        """The words go with the search_docs row."""

    def refresh_statistics(self, connection: Connection) -> None:
        """PostgreSQL's autovacuum keeps them."""

    def words(self, node: Node) -> str:
        if isinstance(node, Text):
            letter = WEIGHT_LETTERS[node.column] if node.column else ""
            lexemes = [f"'{token}'" for token in node.tokens]
            marks = [f":{letter}" if letter else "" for _ in lexemes]
            if node.prefix:
                marks[-1] = f":*{letter}"
            parts = [lexeme + mark for lexeme, mark in zip(lexemes, marks, strict=True)]
            return parts[0] if len(parts) == 1 else "(" + " <-> ".join(parts) + ")"
        if isinstance(node, Or):
            return "(" + " | ".join(self.words(c) for c in node.children) + ")"
        assert isinstance(node, And)
        parts = [self.words(c) for c in node.children if not isinstance(c, Not)]
        parts.extend(f"!{self.words(c.child)}" for c in node.children if isinstance(c, Not))
        return "(" + " & ".join(parts) + ")"

    def matches(self, case_id: str, parameter: str) -> str:
        return f"d.tsv @@ CAST({parameter} AS tsquery)"

    @contextmanager
    def planner_settings(self, connection: Connection, plan: Plan) -> Iterator[None]:
        settings = _planner_settings(plan)
        if not settings:
            yield
            return
        saved = _apply_settings(connection, settings)
        yield
        # Only after success: a failed statement aborts the transaction, and the
        # rollback that must follow undoes the settings anyway.
        _set_settings(connection, saved)

    def plan(self, connection: Connection, case_id: str, compiled: Compiled) -> Plan:
        parameters = {**compiled.parameters, "case": case_id}
        where = ["d.case_id = :case", *compiled.conditions]
        if compiled.match is None:
            newest = "d.date DESC NULLS LAST, d.id DESC"
            return Plan("search_docs d", " AND ".join(where), None, parameters, newest_first=newest)
        parameters["match"] = compiled.match
        query = "CAST(:match AS tsquery)"
        matched = " AND ".join([f"d.tsv @@ {query}", *where])
        if has_rank_index(connection):
            # RUM's distance is 1 / its rank (which weighs columns by its defaults).
            distance = f"d.tsv <=> {query}"
            return Plan(
                "search_docs d", matched, f"1.0 / ({distance})", parameters, index_order=distance
            )
        return Plan(
            "search_docs d", matched, f"ts_rank('{RANK_WEIGHTS}', d.tsv, {query})", parameters
        )


def _planner_settings(plan: Plan) -> dict[str, str]:
    if plan.score is None:  # no words: the planner's own choices are good
        return {}
    settings = dict(WORDS_SETTINGS)
    if plan.index_order is not None:
        settings.update(RANKED_SETTINGS)
    return settings


def has_rank_index(connection: Connection) -> bool:
    """Whether the search documents have a RUM index to rank from."""
    found = connection.execute(text("SELECT to_regclass(:name)"), {"name": RANK_INDEX})
    return found.scalar_one() is not None


def _apply_settings(connection: Connection, settings: dict[str, str]) -> dict[str, str]:
    """Set ``settings`` for the rest of the transaction; return the values they replace."""
    saved = connection.execute(
        text("SELECT key, current_setting(key) FROM json_each_text(CAST(:settings AS json))"),
        {"settings": json.dumps(settings)},
    )
    replaced = {str(name): str(value) for name, value in saved}
    _set_settings(connection, settings)
    return replaced


def _set_settings(connection: Connection, settings: dict[str, str]) -> None:
    connection.execute(
        text("SELECT set_config(key, value, true) FROM json_each_text(CAST(:settings AS json))"),
        {"settings": json.dumps(settings)},
    )
