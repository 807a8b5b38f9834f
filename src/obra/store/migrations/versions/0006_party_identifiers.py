"""Submitters' own numbers for parties (CWR Interested Party #), so files do not duplicate parties.

A CWR Interested Party # is unique within its submitter (the HDR sender), not globally:
the table keys it by ``scheme`` (``cwr:<sender>``) and ``value``, and the unique constraint
makes one (scheme, value) name exactly one party, even under concurrent imports. The
table is separate from ``parties`` because a party may be known to several submitters.

Revision ID: 0006_party_identifiers
Revises: 0001_registry
"""
from alembic import op
import sqlalchemy as sa

revision = "0006_party_identifiers"
down_revision = "0001_registry"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "party_identifiers",
        sa.Column("party_id", sa.Integer(), sa.ForeignKey("parties.id"), nullable=False),
        sa.Column("scheme", sa.String(length=60), nullable=False),
        sa.Column("value", sa.String(length=60), nullable=False),
        sa.UniqueConstraint("scheme", "value", name="uq_party_identifiers_scheme_value"),
    )
    op.create_index("ix_party_identifiers_party_id", "party_identifiers", ["party_id"])


def downgrade() -> None:
    op.drop_table("party_identifiers")
