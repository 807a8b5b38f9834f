"""Tables of issue #16 law, evidence, renegotiation, transparency reports.

``agreement_terms``: the law governing an agreement, its lump sum and the appropriate share of
revenue, which the renegotiation check needs; ``fairness_documents``: every letter, transparency
report and check issued, with its hash and journal event (:mod:`obra.fairness`).

Revision ID: 0012_fairness
Revises: 0011_ai_licences
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_fairness"
down_revision = "0011_ai_licences"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agreement_terms",
        sa.Column("agreement_id", sa.Integer(), sa.ForeignKey("agreements.id"), primary_key=True),
        sa.Column("jurisdiction", sa.String(8)),
        sa.Column("lump_sum_minor", sa.BigInteger()),
        sa.Column("currency", sa.String(3)),
        sa.Column("appropriate_share", sa.String(24)),
        sa.Column("note", sa.Text()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(100), nullable=False),
    )
    op.create_table(
        "fairness_documents",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("party_id", sa.Integer(), sa.ForeignKey("parties.id")),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("year", sa.Integer()),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("directory", sa.String(500), nullable=False),
        sa.Column("journal_id", sa.Integer(), sa.ForeignKey("journal_events.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_fairness_documents_party_id", "fairness_documents", ["party_id"])


def downgrade() -> None:
    op.drop_index("ix_fairness_documents_party_id", table_name="fairness_documents")
    op.drop_table("fairness_documents")
    op.drop_table("agreement_terms")
