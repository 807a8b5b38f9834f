"""AI-use terms: every version a rightholder stated, each with its journal event.

Revision ID: 0009_ai_terms
Revises: 0008_usage_sources
"""
import sqlalchemy as sa
from alembic import op

revision = "0009_ai_terms"
down_revision = "0008_usage_sources"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ai_terms",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("subject_kind", sa.String(10), nullable=False),
        sa.Column("subject", sa.String(180), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("terms", sa.JSON(), nullable=False),
        sa.Column("terms_hash", sa.String(64), nullable=False),
        sa.Column("party_id", sa.Integer(), sa.ForeignKey("parties.id")),
        sa.Column("set_by", sa.String(100), nullable=False),
        sa.Column("set_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("journal_event_id", sa.Integer(), sa.ForeignKey("journal_events.id"), nullable=False),
        sa.UniqueConstraint("subject_kind", "subject", "version", name="uq_ai_terms_subject_version"),
    )
    op.create_index("ix_ai_terms_party_id", "ai_terms", ["party_id"])


def downgrade() -> None:
    op.drop_index("ix_ai_terms_party_id", table_name="ai_terms")
    op.drop_table("ai_terms")
