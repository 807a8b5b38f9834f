"""The SHA-256 of each registered file, so a training check matches a crawl manifest's ``sha256``.

Crawlers and dataset manifests name files by SHA-256; the ISCC ``datahash`` is a BLAKE3
multihash, so until now an item's SHA-256 could match only a file registered with a SHA-256
datahash. Files registered before this revision have none (nullable; their Instance-Code still
matches exactly).

Revision ID: 0015_content_sha256
Revises: 0014_web_sessions
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_content_sha256"
down_revision = "0014_web_sessions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("content_files") as batch:
        batch.add_column(sa.Column("sha256", sa.String(64), nullable=True))
    op.create_index("ix_content_files_sha256", "content_files", ["sha256"])


def downgrade() -> None:
    op.drop_index("ix_content_files_sha256", table_name="content_files")
    with op.batch_alter_table("content_files") as batch:
        batch.drop_column("sha256")
