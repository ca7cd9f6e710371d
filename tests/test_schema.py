"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from caselens.db.migrate import current_revision, head_revision
from caselens.db.schema import metadata
from caselens.services import Caselens


def test_migrated_database_matches_the_declared_schema(app: Caselens) -> None:
    engine = app.runtime.engine
    assert current_revision(engine) == head_revision()
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), metadata)
    assert differences == []
