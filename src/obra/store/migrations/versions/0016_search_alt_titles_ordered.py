"""Alternate titles indexed in the order the search reads them: normalised title, then registration.

The search reads titles equal to or beginning with a query in (title, registration) order, at most a
thousand (:mod:`obra.registry.search`). The alternate titles' b-tree held the title alone, so for a title
many works share ("silencio": 2,876 alternate titles at 10,000,000 registrations) every one of them was
read, joined and sorted to keep the first thousand; with the registration in the index the read stops there.

* **SQLite**: ``search_alt_titles_ordered`` on ``titles (title_norm, registration_id)`` (BINARY: code-point
  order, as before).
* **PostgreSQL**: ``search_alt_titles_prefix`` (``title_norm COLLATE "C"``) replaced by
  ``search_alt_titles_ordered`` on ``(title_norm COLLATE "C", registration_id)``, which answers the same ranges.

Named ``search_*`` like the other index machinery of migration 0010 (not declared in ``obra.store.schema``).

Revision ID: 0016_search_alt_titles_ordered
Revises: 0015_content_sha256
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_search_alt_titles_ordered"
down_revision = "0015_content_sha256"
branch_labels = None
depends_on = None


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("CREATE INDEX search_alt_titles_ordered ON titles (title_norm, registration_id)")
        return
    op.execute('CREATE INDEX search_alt_titles_ordered ON titles (title_norm COLLATE "C", registration_id)')
    op.execute("DROP INDEX IF EXISTS search_alt_titles_prefix")
    # the statistics of the new index's expression: without them the planner guesses a range's size and may
    # read and sort every equal title instead of stopping the ordered read at a thousand. Only on a store
    # holding titles: an empty table's statistics (no rows) would have the planner walk whole indexes of the
    # small table it later believes it has
    if op.get_bind().execute(sa.text("SELECT EXISTS (SELECT 1 FROM titles)")).scalar():
        op.execute("ANALYZE titles")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        op.execute("DROP INDEX IF EXISTS search_alt_titles_ordered")
        return
    op.execute('CREATE INDEX search_alt_titles_prefix ON titles (title_norm COLLATE "C")')
    op.execute("DROP INDEX IF EXISTS search_alt_titles_ordered")
