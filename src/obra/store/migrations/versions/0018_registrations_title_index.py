"""The registrations' plain title index becomes search machinery: SQLite keeps it (as ``search_titles_norm``),
PostgreSQL drops it.

On PostgreSQL ``ix_registrations_title_norm`` (the title in the database's collation) repeated
``search_titles_prefix`` (the title in code-point order, ``COLLATE "C"``, of current registrations, migration
0010): the ranked search reads only the latter, and the listing of the register without a query now orders by
code point too (:meth:`obra.registry.service.Registry.search`), as SQLite always did. Every title written
updated both at a random place: at 10,000,000 registrations a bulk load ran at 10,200-10,800 registrations a
second with it and 11,500-11,650 without (two files of 50,000 works each way). On SQLite the index (BINARY: code
point) is the one the search reads, so it stays, named like the rest of the search's indexes (``search_*``, not
declared in :mod:`obra.store.schema`).

Revision ID: 0018_registrations_title_index
Revises: 0017_search_title_joints
"""
from alembic import op

revision = "0018_registrations_title_index"
down_revision = "0017_search_title_joints"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE INDEX search_titles_norm ON registrations (title_norm)")
    op.execute("DROP INDEX IF EXISTS ix_registrations_title_norm")


def downgrade() -> None:
    op.execute("CREATE INDEX ix_registrations_title_norm ON registrations (title_norm)")
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS search_titles_norm")
