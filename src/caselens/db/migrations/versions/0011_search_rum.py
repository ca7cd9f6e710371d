"""PostgreSQL: rank from a RUM index where the rum extension can be had

Revision ID: 0011
Revises: 0010

RUM keeps word positions in the index, so it ranks, finds phrases and column-restricted
words without reading the tsvectors, and gives matches best first; it replaces the GIN
index. Where the extension is not installed (or the database user may not create it) the
GIN index stays and search ranks with ts_rank. Installing the extension later and running
the statements of ``upgrade`` by hand switches a database over.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    available = bind.execute(
        sa.text("SELECT 1 FROM pg_available_extensions WHERE name = 'rum'")
    ).first()
    if available is None:
        return
    try:
        with bind.begin_nested():  # a savepoint: lacking the privilege is not an error here
            op.execute("CREATE EXTENSION IF NOT EXISTS rum")
    except sa.exc.DBAPIError:
        return
    op.execute(
        "CREATE INDEX IF NOT EXISTS ix_search_docs_rum ON search_docs "
        "USING rum (tsv rum_tsvector_ops)"
    )
    op.execute("DROP INDEX IF EXISTS ix_search_docs_tsv")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return
    if bind.execute(sa.text("SELECT to_regclass('ix_search_docs_rum')")).scalar_one() is None:
        return
    op.execute("CREATE INDEX IF NOT EXISTS ix_search_docs_tsv ON search_docs USING gin (tsv)")
    op.execute("DROP INDEX ix_search_docs_rum")
