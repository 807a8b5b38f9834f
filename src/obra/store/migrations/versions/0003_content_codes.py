"""Content codes: the ISCC-CODE of each registered file and its units, indexed for near-duplicate search.

Each unit's 64-bit body is stored whole (signed BIGINT) and cut into nine 7-8 bit blocks,
each indexed with the unit kind: radius + 1 = 9 blocks, so by the pigeonhole principle a
code within 8 bits of a query agrees exactly with it on at least one block
(see obra.identify.similar).

Revision ID: 0003_content_codes
Revises: 0001_registry
Create Date: 2026-11-25 00:05:00
"""
from alembic import op
import sqlalchemy as sa


revision = "0003_content_codes"
down_revision = "0001_registry"
branch_labels = None
depends_on = None

BLOCKS = 9


def upgrade() -> None:
    op.create_table(
        "content_files",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("iscc", sa.String(length=120), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("mediatype", sa.String(length=100), nullable=False),
        sa.Column("mode", sa.String(length=16), nullable=True),
        sa.Column("datahash", sa.String(length=80), nullable=False),
        sa.Column("filesize", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("number", "version"),
    )
    op.create_table(
        "content_codes",
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("unit", sa.String(length=24), nullable=False),
        sa.Column("code", sa.String(length=80), nullable=False),
        sa.Column("body", sa.BigInteger(), nullable=False),
        *[sa.Column(f"b{i}", sa.SmallInteger(), nullable=False) for i in range(BLOCKS)],
        sa.PrimaryKeyConstraint("number", "version", "unit"),
    )
    for i in range(BLOCKS):
        op.create_index(f"ix_content_codes_unit_b{i}", "content_codes", ["unit", f"b{i}"])
    op.create_index("ix_content_codes_number", "content_codes", ["number"])


def downgrade() -> None:
    op.drop_index("ix_content_codes_number", table_name="content_codes")
    for i in range(BLOCKS):
        op.drop_index(f"ix_content_codes_unit_b{i}", table_name="content_codes")
    op.drop_table("content_codes")
    op.drop_table("content_files")
