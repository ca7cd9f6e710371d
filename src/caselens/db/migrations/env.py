"""Alembic environment: always run with a connection handed in by caselens.db.migrate."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from caselens.db.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    # Invoked by the alembic command itself (for example to autogenerate a revision).
    url = context.config.get_main_option("sqlalchemy.url") or "sqlite:///alembic-dev.db"
    with create_engine(url).connect() as dev_connection:
        context.configure(connection=dev_connection, target_metadata=metadata)
        with context.begin_transaction():
            context.run_migrations()
else:
    context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()
