"""Transparency log: per-office state, entries (leaves), complete subtree hashes, signed tree heads.

Revision ID: 0002_transparency_log
Revises: 0001_registry
Create Date: 2026-11-24 23:45:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0002_transparency_log"
down_revision = "0001_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "transparency_log_state",
        sa.Column("office", sa.String(length=8), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("frontier", sa.Text(), nullable=False),
        sa.Column("last_timestamp", sa.String(length=27), nullable=True),
        sa.Column("key_history", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("office"),
    )
    op.create_table(
        "transparency_log_entries",
        sa.Column("office", sa.String(length=8), nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("timestamp", sa.String(length=27), nullable=False),
        sa.Column("type", sa.String(length=40), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("record_hash", sa.String(length=64), nullable=False),
        sa.Column("leaf", sa.Text(), nullable=False),
        sa.Column("leaf_hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("office", "idx"),
    )
    op.create_index("ix_transparency_log_entries_number", "transparency_log_entries", ["number"])
    op.create_table(
        "transparency_log_nodes",
        sa.Column("office", sa.String(length=8), nullable=False),
        sa.Column("node", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.LargeBinary(length=32), nullable=False),
        sa.PrimaryKeyConstraint("office", "node"),
    )
    op.create_table(
        "transparency_log_heads",
        sa.Column("office", sa.String(length=8), nullable=False),
        sa.Column("tree_size", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("tree_head", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("office", "tree_size"),
    )


def downgrade() -> None:
    op.drop_table("transparency_log_heads")
    op.drop_table("transparency_log_nodes")
    op.drop_index("ix_transparency_log_entries_number", table_name="transparency_log_entries")
    op.drop_table("transparency_log_entries")
    op.drop_table("transparency_log_state")
