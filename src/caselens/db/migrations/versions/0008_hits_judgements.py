"""cross-case selector index and hits; identity-resolution judgements

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "selector_index",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_selector_index_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("kind", "value", "case_id", name=op.f("pk_selector_index")),
        sqlite_with_rowid=False,
    )
    op.create_index(
        "ix_selector_index_case", "selector_index", ["case_id", "kind", "value"], unique=False
    )
    op.create_table(
        "cross_hits",
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("other_case_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("found_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("announced", sa.Boolean(), nullable=False),
        sa.Column("listed_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_cross_hits_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["other_case_id"], ["cases.id"], name=op.f("fk_cross_hits_other_case_id_cases")
        ),
        sa.PrimaryKeyConstraint(
            "case_id", "other_case_id", "kind", "value", name=op.f("pk_cross_hits")
        ),
    )
    op.create_index("ix_cross_hits_announced", "cross_hits", ["announced"], unique=False)
    op.create_table(
        "judgements",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("left_id", sa.String(length=64), nullable=False),
        sa.Column("right_id", sa.String(length=64), nullable=False),
        sa.Column("judgement", sa.String(length=16), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("judged_by", sa.String(length=128), nullable=False),
        sa.Column("judged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_judgements_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_judgements")),
    )
    op.create_index(
        "ix_judgements_case_pair", "judgements", ["case_id", "left_id", "right_id"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_judgements_case_pair", table_name="judgements")
    op.drop_table("judgements")
    op.drop_index("ix_cross_hits_announced", table_name="cross_hits")
    op.drop_table("cross_hits")
    op.drop_index("ix_selector_index_case", table_name="selector_index")
    op.drop_table("selector_index")
