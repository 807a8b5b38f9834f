"""Tables of issue #16 law, evidence, renegotiation, transparency reports.

Revision ID: 0012_fairness
Revises: 0011_ai_licences
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0012_fairness"
down_revision = "0011_ai_licences"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
