"""The Alembic migrations build exactly the schema the code declares."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from caselens.db.migrate import current_revision, head_revision
from caselens.db.schema import ENGINE_OBJECTS, metadata
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
