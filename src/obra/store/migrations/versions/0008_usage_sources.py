"""Ingested files in the store: what makes ingest idempotent and publication atomic.

Replaces ``ingest-manifest.json`` (keyed by the file's bytes) with ``usage_sources``: one row
per accepted file, keyed by what the file *is* (``identity_hash``), written in the same
transaction as its journal event. The engines read only the partitions of published rows.
A store that has a manifest file keeps it as it is; its files can be ingested again.

Revision ID: 0008_usage_sources
Revises: 0007_journal
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_usage_sources"
down_revision = "0007_journal"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "usage_sources",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("source", sa.String(16), nullable=False, unique=True),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("identity_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("identity", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("file", sa.String(255), nullable=False),
        sa.Column("scope", sa.JSON(), nullable=False),
        sa.Column("periods", sa.JSON(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("superseded_by", sa.Integer()),
        sa.Column("journal_id", sa.Integer(), sa.ForeignKey("journal_events.id")),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_usage_sources_sha256", "usage_sources", ["sha256"])
    op.create_index("ix_usage_sources_status", "usage_sources", ["status"])


def downgrade() -> None:
    op.drop_table("usage_sources")
