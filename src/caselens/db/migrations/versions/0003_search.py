"""search index

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

DOC_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "search_docs",
        sa.Column("id", DOC_ID, nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("doc_type", sa.String(length=64), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("sender", sa.Text(), nullable=True),
        sa.Column("date", sa.String(length=19), nullable=True),
        sa.Column("lang", sa.String(length=8), nullable=True),
        sa.Column("kinds", sa.Integer(), nullable=False),
        sa.Column("truncated", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_search_docs_case_id_cases")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_docs")),
        sa.UniqueConstraint("item_id", name=op.f("uq_search_docs_item_id")),
    )
    op.create_index("ix_search_docs_case_date", "search_docs", ["case_id", "date"])
    op.create_table(
        "search_kinds",
        sa.Column("doc_id", DOC_ID, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.PrimaryKeyConstraint("doc_id", "kind", name=op.f("pk_search_kinds")),
    )
    op.create_index("ix_search_kinds_kind", "search_kinds", ["kind", "doc_id"])
    op.create_table(
        "search_selectors",
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.Column("doc_id", DOC_ID, nullable=False),
        sa.PrimaryKeyConstraint("kind", "value", "doc_id", name=op.f("pk_search_selectors")),
    )
    op.create_index("ix_search_selectors_doc", "search_selectors", ["doc_id"])
    # On SQLite the words go to an FTS5 table per case, made with the case's first document.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE search_docs ADD COLUMN tsv tsvector NOT NULL")
        op.execute("CREATE INDEX ix_search_docs_tsv ON search_docs USING gin (tsv)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        tables = op.get_bind().exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name GLOB 'search_fts_*' "
            "AND sql LIKE 'CREATE VIRTUAL TABLE%'"
        )
        for (name,) in tables.all():
            op.execute(f'DROP TABLE "{name}"')
    op.drop_index("ix_search_selectors_doc", table_name="search_selectors")
    op.drop_table("search_selectors")
    op.drop_index("ix_search_kinds_kind", table_name="search_kinds")
    op.drop_table("search_kinds")
    op.drop_index("ix_search_docs_case_date", table_name="search_docs")
    op.drop_table("search_docs")
