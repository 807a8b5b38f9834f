"""Tables of issue #15 AI licences (offers, quotes, licences, licence server, consents).

Revision ID: 0011_ai_licences
Revises: 0010_register_search
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0011_ai_licences"
down_revision = "0010_register_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
