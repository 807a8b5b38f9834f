"""Tables of issue #19 web portal (sessions, login throttling).

Revision ID: 0014_web_sessions
Revises: 0013_observatory
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0014_web_sessions"
down_revision = "0013_observatory"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
