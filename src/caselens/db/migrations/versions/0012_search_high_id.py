"""search state: the highest document id ever given to each case's documents

Revision ID: 0012
Revises: 0011

A facet copy made earlier is brought up to date by reading only the documents it lacks,
which is right only if a document id, once removed, is never given to another document.
SQLite numbered new documents from the highest id present, so removing the newest
document and indexing again reused its id; new ids now start above this mark as well.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("search_state") as batch:
        batch.add_column(sa.Column("high_id", sa.BigInteger(), nullable=False, server_default="0"))
    op.execute(
        "UPDATE search_state SET high_id = COALESCE("
        "(SELECT max(id) FROM search_docs WHERE search_docs.case_id = search_state.case_id), 0)"
    )


def downgrade() -> None:
    with op.batch_alter_table("search_state") as batch:
        batch.drop_column("high_id")
