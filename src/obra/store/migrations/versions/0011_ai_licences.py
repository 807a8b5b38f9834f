"""Tables of issue #15 AI licences (offers, quotes, licences, licence server, consents).

Quotes, signed licences and their items, licence-server tokens, licence income (fees, usage
reports, paid fetches), training-data disclosures and voice and likeness consents
(:mod:`obra.aiuse.licensing`).

Revision ID: 0011_ai_licences
Revises: 0010_register_search
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_ai_licences"
down_revision = "0010_register_search"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ai_quotes",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("quote_id", sa.String(24), nullable=False, unique=True),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("question", sa.JSON(), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("items_file", sa.String(255), nullable=False),
        sa.Column("items_sha256", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("licence_id", sa.String(24)),
        sa.Column("journal_event_id", sa.Integer(), sa.ForeignKey("journal_events.id"), nullable=False),
    )
    op.create_index("ix_ai_quotes_requested_by", "ai_quotes", ["requested_by"])
    op.create_table(
        "ai_licences",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("licence_id", sa.String(24), nullable=False, unique=True),
        sa.Column("quote_id", sa.String(24), nullable=False, unique=True),
        sa.Column("licensee", sa.String(100), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("document_sha256", sa.String(64), nullable=False),
        sa.Column("merkle_root", sa.String(64), nullable=False),
        sa.Column("item_count", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("client_secret_hash", sa.String(64), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.Column("revoked_reason", sa.Text()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("journal_event_id", sa.Integer(), sa.ForeignKey("journal_events.id"), nullable=False),
    )
    op.create_index("ix_ai_licences_licensee", "ai_licences", ["licensee"])
    op.create_table(
        "ai_licence_items",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("licence_id", sa.String(24), sa.ForeignKey("ai_licences.licence_id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(32), nullable=False),
        sa.Column("url", sa.Text()),
        sa.Column("sha256", sa.String(64)),
        sa.Column("model", sa.String(16), nullable=False),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3)),
        sa.Column("unit_minor", sa.BigInteger()),
        sa.Column("share_percent", sa.String(16)),
        sa.UniqueConstraint("licence_id", "position", name="uq_ai_licence_items_position"),
    )
    op.create_index("ix_ai_licence_items_licence_id", "ai_licence_items", ["licence_id"])
    op.create_index("ix_ai_licence_items_number", "ai_licence_items", ["number"])
    op.create_index("ix_ai_licence_items_sha256", "ai_licence_items", ["sha256"])
    op.create_table(
        "ai_licence_tokens",
        sa.Column("token_hash", sa.String(64), primary_key=True),
        sa.Column("licence_id", sa.String(24), sa.ForeignKey("ai_licences.licence_id"), nullable=False),
        sa.Column("resource", sa.Text()),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ai_licence_tokens_licence_id", "ai_licence_tokens", ["licence_id"])
    op.create_table(
        "ai_licence_income",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("licence_id", sa.String(24), sa.ForeignKey("ai_licences.licence_id"), nullable=False),
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("line", sa.Integer()),
        sa.Column("number", sa.String(32)),
        sa.Column("url", sa.Text()),
        sa.Column("amount_minor", sa.BigInteger(), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("period", sa.String(10), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("reason", sa.Text()),
        sa.Column("run_id", sa.Integer()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("journal_event_id", sa.Integer(), sa.ForeignKey("journal_events.id")),
    )
    op.create_index("ix_ai_licence_income_licence_id", "ai_licence_income", ["licence_id"])
    op.create_index("ix_ai_licence_income_status", "ai_licence_income", ["status"])
    op.create_table(
        "ai_usage_reports",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("report_id", sa.String(24), nullable=False, unique=True),
        sa.Column("licence_id", sa.String(24), sa.ForeignKey("ai_licences.licence_id"), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("file", sa.String(255), nullable=False),
        sa.Column("summary", sa.JSON(), nullable=False),
        sa.Column("submitted_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("journal_event_id", sa.Integer(), sa.ForeignKey("journal_events.id"), nullable=False),
        sa.UniqueConstraint("licence_id", "sha256", name="uq_ai_usage_reports_file"),
    )
    op.create_table(
        "ai_disclosures",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("disclosure_id", sa.String(24), nullable=False, unique=True),
        sa.Column("provider", sa.String(300), nullable=False),
        sa.Column("model", sa.String(300), nullable=False),
        sa.Column("document", sa.JSON(), nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False, unique=True),
        sa.Column("submitted_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("journal_event_id", sa.Integer(), sa.ForeignKey("journal_events.id"), nullable=False),
    )
    op.create_table(
        "ai_consents",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("consent_id", sa.String(24), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("party_id", sa.Integer(), sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("signed", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(12), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("journal_event_id", sa.Integer(), sa.ForeignKey("journal_events.id"), nullable=False),
        sa.UniqueConstraint("consent_id", "version", name="uq_ai_consents_version"),
    )
    op.create_index("ix_ai_consents_consent_id", "ai_consents", ["consent_id"])
    op.create_index("ix_ai_consents_party_id", "ai_consents", ["party_id"])


def downgrade() -> None:
    op.drop_index("ix_ai_consents_party_id", table_name="ai_consents")
    op.drop_index("ix_ai_consents_consent_id", table_name="ai_consents")
    op.drop_index("ix_ai_licence_income_status", table_name="ai_licence_income")
    op.drop_index("ix_ai_licence_income_licence_id", table_name="ai_licence_income")
    op.drop_index("ix_ai_licence_tokens_licence_id", table_name="ai_licence_tokens")
    op.drop_index("ix_ai_licence_items_sha256", table_name="ai_licence_items")
    op.drop_index("ix_ai_licence_items_number", table_name="ai_licence_items")
    op.drop_index("ix_ai_licence_items_licence_id", table_name="ai_licence_items")
    op.drop_index("ix_ai_licences_licensee", table_name="ai_licences")
    op.drop_index("ix_ai_quotes_requested_by", table_name="ai_quotes")
    op.drop_table("ai_consents")
    op.drop_table("ai_disclosures")
    op.drop_table("ai_usage_reports")
    op.drop_table("ai_licence_income")
    op.drop_table("ai_licence_tokens")
    op.drop_table("ai_licence_items")
    op.drop_table("ai_licences")
    op.drop_table("ai_quotes")
