"""Registrations remember their transparency-log index, so a record shows where it is logged.

Revision ID: 0004_registration_log_index
Revises: 0001_registry
"""
from alembic import op
import sqlalchemy as sa

revision = "0004_registration_log_index"
down_revision = "0001_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("registrations") as batch_op:
        batch_op.add_column(sa.Column("log_index", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("registrations") as batch_op:
        batch_op.drop_column("log_index")
