"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from caselens.db.migrate import current_revision, head_revision
from caselens.db.schema import ENGINE_OBJECTS, metadata
from caselens.runtime import Runtime
from caselens.services import Caselens


def test_migrated_database_matches_the_declared_schema(app: Caselens) -> None:
    engine = app.runtime.engine
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"include_object": _declared, "include_name": _declared_name}
        )
        differences = compare_metadata(context, metadata)
    assert differences == []


def _declared(obj: object, name: str | None, kind: str, reflected: bool, other: object) -> bool:
    # The search engines' own structures (FTS5 tables, the tsvector column and its
    # index) are made by the migration and not modelled in SQLAlchemy.
    return _declared_name(name, kind, {})


def _declared_name(name: str | None, kind: str, parents: object) -> bool:
    return not (name and (name in ENGINE_OBJECTS or name.startswith("search_fts")))


def test_an_ingest_worker_keeps_its_sqlite_connection(app: Caselens) -> None:
    """Closing the last connection checkpoints the write-ahead log: a worker must not."""
    if app.runtime.engine.dialect.name != "sqlite":
        pytest.skip("SQLite connection handling")
    worker = Runtime(app.runtime.settings, check_schema=False, keep_connection=True)
    wal = Path(str(worker.engine.url.database) + "-wal")
    opened = []
    for _ in range(2):
        with worker.transaction() as connection:
            opened.append(connection.connection.dbapi_connection)
            connection.execute(text("CREATE TABLE IF NOT EXISTS probe (x INTEGER)"))
            connection.execute(text("INSERT INTO probe VALUES (1)"))
        assert wal.exists() and wal.stat().st_size > 0  # not checkpointed away
    assert opened[0] is opened[1]
    worker.dispose()
    # Per-transaction connections (everything else) close after each commit.
    with app.runtime.transaction() as connection:
        connection.execute(text("DROP TABLE probe"))
    assert not wal.exists() or wal.stat().st_size == 0
