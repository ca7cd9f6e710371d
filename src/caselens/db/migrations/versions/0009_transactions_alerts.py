"""bulk transaction datasets (Parquet in the evidence store) and typology alerts

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "tx_datasets",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("item_id", sa.String(length=32), nullable=False),
        sa.Column("parquet_sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=16), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("bad_rows", sa.BigInteger(), nullable=False),
        sa.Column("first_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_time", sa.DateTime(timezone=True), nullable=True),
        sa.Column("report", sa.JSON(), nullable=False),
        sa.Column("imported_by", sa.String(length=128), nullable=False),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["cases.id"], name=op.f("fk_tx_datasets_case_id_cases")
        ),
        sa.ForeignKeyConstraint(
            ["item_id"], ["items.id"], name=op.f("fk_tx_datasets_item_id_items")
        ),
        sa.ForeignKeyConstraint(
            ["parquet_sha256"], ["blobs.sha256"], name=op.f("fk_tx_datasets_parquet_sha256_blobs")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tx_datasets")),
        sa.UniqueConstraint(
            "case_id", "item_id", "format", name=op.f("uq_tx_datasets_case_id_item_id_format")
        ),
    )
    op.create_index("ix_tx_datasets_case", "tx_datasets", ["case_id"], unique=False)
    op.create_table(
        "alerts",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("dataset_id", sa.String(length=32), nullable=False),
        sa.Column("typology", sa.String(length=32), nullable=False),
        sa.Column("detector_version", sa.String(length=16), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("accounts", sa.JSON(), nullable=False),
        sa.Column("transactions", sa.JSON(), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_end", sa.DateTime(timezone=True), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reviewed_by", sa.String(length=128), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["cases.id"], name=op.f("fk_alerts_case_id_cases")),
        sa.ForeignKeyConstraint(
            ["dataset_id"], ["tx_datasets.id"], name=op.f("fk_alerts_dataset_id_tx_datasets")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint(
            "case_id",
            "dataset_id",
            "fingerprint",
            name=op.f("uq_alerts_case_id_dataset_id_fingerprint"),
        ),
    )
    op.create_index("ix_alerts_case_state", "alerts", ["case_id", "state"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_alerts_case_state", table_name="alerts")
    op.drop_table("alerts")
    op.drop_index("ix_tx_datasets_case", table_name="tx_datasets")
    op.drop_table("tx_datasets")
