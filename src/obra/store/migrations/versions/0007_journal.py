"""One head again, and the journal: every state change, anchored in the transparency log.

Merges the five capability branches that grew from ``0001_registry`` into one line, and
adds ``journal_events`` (typed, immutable events, each a leaf of the log),
``distribution_runs`` (every run kept; a re-run supersedes, never overwrites) and
``claims`` (moved from a JSONL file into the store, each claim a journal event).

Revision ID: 0007_journal
Revises: 0002 … 0006
"""
import sqlalchemy as sa
from alembic import op

revision = "0007_journal"
down_revision = ("0002_transparency_log", "0003_content_codes", "0004_registration_log_index",
                 "0005_work_identifiers", "0006_party_identifiers")
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("office", sa.String(8), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("actor", sa.String(100), nullable=False),
        sa.Column("at", sa.String(27), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        sa.Column("log_index", sa.BigInteger()),
    )
    op.create_index("ix_journal_events_kind_subject", "journal_events", ["kind", "subject"])
    op.create_table(
        "distribution_runs",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("period", sa.String(20), nullable=False),
        sa.Column("model", sa.String(40), nullable=False),
        sa.Column("engine", sa.String(20), nullable=False),
        sa.Column("directory", sa.String(500), nullable=False),
        sa.Column("law_version", sa.String(64)),
        sa.Column("totals_hash", sa.String(64)),
        sa.Column("statements_hash", sa.String(64)),
        sa.Column("superseded_by", sa.Integer()),
        sa.Column("journal_id", sa.Integer(), sa.ForeignKey("journal_events.id")),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_distribution_runs_period_model", "distribution_runs", ["kind", "period", "model"])
    op.create_table(
        "claims",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("group_id", sa.String(64), nullable=False),
        sa.Column("group_key", sa.Text(), nullable=False),
        sa.Column("title", sa.String(500)),
        sa.Column("artist", sa.String(500)),
        sa.Column("recording_number", sa.String(32)),
        sa.Column("work_number", sa.String(32)),
        sa.Column("claimant", sa.String(100), nullable=False),
        sa.Column("party_id", sa.Integer()),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("journal_id", sa.Integer(), sa.ForeignKey("journal_events.id")),
    )
    op.create_index("ix_claims_group_id", "claims", ["group_id"])


def downgrade() -> None:
    op.drop_table("claims")
    op.drop_table("distribution_runs")
    op.drop_table("journal_events")
