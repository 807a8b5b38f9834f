"""Tables of issue #17 observatory (indicators, scenarios).

Revision ID: 0013_observatory
Revises: 0012_fairness
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0013_observatory"
down_revision = "0012_fairness"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
