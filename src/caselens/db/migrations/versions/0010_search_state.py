"""search state per case (what the facet cache checks) and PostgreSQL's newest-first index

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "search_state",
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_search_state_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_search_state")),
    )
    if op.get_bind().dialect.name == "postgresql":
        # Unranked results come newest first with missing dates last; PostgreSQL sorts
        # NULL first in descending order, so only an index made in this order gives it.
        op.execute(
            "CREATE INDEX ix_search_docs_case_newest ON search_docs "
            "(case_id, date DESC NULLS LAST, id DESC)"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_search_docs_case_newest")
    op.drop_table("search_state")
