"""Submitters' own work numbers (CWR Submitter Work #), so a revision finds what it revises.

Revision ID: 0005_work_identifiers
Revises: 0001_registry
"""
from alembic import op
import sqlalchemy as sa

revision = "0005_work_identifiers"
down_revision = "0001_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "work_identifiers",
        sa.Column("registration_id", sa.Integer(), sa.ForeignKey("registrations.id"), nullable=False),
        sa.Column("scheme", sa.String(length=60), nullable=False),
        sa.Column("value", sa.String(length=60), nullable=False),
    )
    op.create_index("ix_work_identifiers_registration_id", "work_identifiers", ["registration_id"])
    op.create_index("ix_work_identifiers_scheme_value", "work_identifiers", ["scheme", "value"])


def downgrade() -> None:
    op.drop_table("work_identifiers")
