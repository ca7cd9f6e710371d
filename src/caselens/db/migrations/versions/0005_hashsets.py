"""hash sets: known-good and alert lists, their entries, and matches in cases

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hash_sets",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", sa.String(length=128), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("source_name", sa.Text(), nullable=False),
        sa.Column("source_sha256", sa.String(length=64), nullable=False),
        sa.Column("pdq_threshold", sa.Integer(), nullable=True),
        sa.Column("entries", sa.BigInteger(), nullable=False),
        sa.Column("lines", sa.BigInteger(), nullable=False),
        sa.Column("bad_lines", sa.BigInteger(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("imported_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_hash_sets")),
        sa.UniqueConstraint("name", name=op.f("uq_hash_sets_name")),
    )
    op.create_table(
        "hash_set_entries",
        sa.Column("algorithm", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("quality", sa.Integer(), nullable=True),
        sa.Column("label", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["set_id"], ["hash_sets.id"], name=op.f("fk_hash_set_entries_set_id_hash_sets")
        ),
        sa.PrimaryKeyConstraint("algorithm", "value", "set_id", name=op.f("pk_hash_set_entries")),
        sqlite_with_rowid=False,
    )
    op.create_table(
        "hash_matches",
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("algorithm", sa.String(length=8), nullable=False),
        sa.Column("value", sa.String(length=64), nullable=False),
        sa.Column("item_value", sa.String(length=64), nullable=False),
        sa.Column("distance", sa.Integer(), nullable=True),
        sa.Column("matched_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_hash_matches_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_hash_matches_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["set_id"], ["hash_sets.id"], name=op.f("fk_hash_matches_set_id_hash_sets")
        ),
        sa.PrimaryKeyConstraint(
            "case_id", "item_id", "set_id", "algorithm", name=op.f("pk_hash_matches")
        ),
    )


def downgrade() -> None:
    op.drop_table("hash_matches")
    op.drop_table("hash_set_entries")
    op.drop_table("hash_sets")
