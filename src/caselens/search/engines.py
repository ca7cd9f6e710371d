"""The search engine of a database: FTS5 on SQLite, full text on PostgreSQL."""

from __future__ import annotations

from caselens.search.facets import FacetCache
from caselens.search.fts5 import Fts5Index
from caselens.search.index import SearchIndex
from caselens.search.postgres import PostgresIndex


def index_for(dialect: str, facet_cache: FacetCache | None = None) -> SearchIndex:
    """The engine of ``dialect``; facets copied to ``facet_cache`` (default: memory)."""
    engine = PostgresIndex if dialect == "postgresql" else Fts5Index
    return engine(facet_cache)
