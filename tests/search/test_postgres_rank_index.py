"""PostgreSQL without the rum extension: the migration keeps GIN and search still works."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, make_url, text

from caselens.search.engines import index_for
from caselens.search.index import Resolvers
from caselens.search.postgres import has_rank_index
from caselens.search.query import parse
from caselens.services.access import case_row
from tests.conftest import PG_URL, new_installation
from tests.search import reference
from tests.search.test_equivalence import make_documents

pytestmark = pytest.mark.skipif(not PG_URL, reason="PostgreSQL's database users")


def test_a_user_who_may_not_create_the_extension_keeps_gin(tmp_path: Path) -> None:
    assert PG_URL is not None
    suffix = uuid.uuid4().hex[:12]
    role, database = f"caselens_plain_{suffix}", f"caselens_test_{suffix}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        # Not a superuser, but the database's owner: rum is not a trusted extension.
        connection.execute(text(f"CREATE ROLE {role} LOGIN PASSWORD 'plain-pw'"))
        connection.execute(text(f'CREATE DATABASE "{database}" OWNER {role}'))
    try:
        url = make_url(PG_URL).set(username=role, password="plain-pw", database=database)
        app = new_installation(tmp_path, url.render_as_string(hide_password=False))
        index = index_for("postgresql")
        with app.runtime.transaction() as connection:
            assert not has_rank_index(connection)
            gin = connection.execute(text("SELECT to_regclass('ix_search_docs_tsv')"))
            assert gin.scalar_one() is not None
            case_id = case_row(connection, "C").id
            documents = make_documents(case_id)
            index.add(connection, documents)
        resolvers = Resolvers(lambda node: [], lambda code: code)
        node = parse('"wire transfer" OR bank')
        with app.runtime.transaction() as connection:
            found = index.search(connection, case_id, node, resolvers, limit=100)
        expected = {d.item_id for d in documents if reference.matches(node, d, lambda n: [])}
        assert {hit.item_id for hit in found.hits} == expected and found.total == len(expected)
        scores = [hit.score for hit in found.hits]  # ranked by ts_rank, best first
        assert scores == sorted(scores, reverse=True)  # type: ignore[type-var]
        app.close()
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)'))
            connection.execute(text(f"DROP ROLE IF EXISTS {role}"))
        admin.dispose()
