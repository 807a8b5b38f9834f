"""Indexes that repeat another's leading columns are dropped, and the identifier indexes hold identifiers only.

Every registration a bulk load writes goes into each index of its tables; once the foreign-key checks were made
set-based (session 7) the indexes were the server's largest cost. Three of them only repeated the leading
columns of another index, which answers the same lookups and ranges:

* ``ix_registrations_number``: ``uq_registration_version`` is ``(number, version)``;
* ``ix_registrations_is_current``: ``ix_registrations_current_entity`` is ``(is_current, entity)``;
* ``ix_titles_title_norm``: ``search_alt_titles_ordered`` (migration 0016) is ``(title_norm, registration_id)``
  on SQLite, in the same code-point order; on PostgreSQL the search reads alternate titles only in code-point
  order (``COLLATE "C"``), which the plain index (the database's collation) could not answer.

``ix_registrations_iswc`` and ``ix_registrations_isrc`` become partial, ``WHERE … IS NOT NULL``: a work has no
ISRC and a recording no ISWC, so half their entries (all, for a register loaded without identifiers) were
NULLs no query looks up; a lookup ``iswc = ?`` implies ``IS NOT NULL``, so both stores still read them.

Revision ID: 0019_repeated_indexes
Revises: 0018_registrations_title_index
"""
from alembic import op

revision = "0019_repeated_indexes"
down_revision = "0018_registrations_title_index"
branch_labels = None
depends_on = None

_REPEATED = {"ix_registrations_number": "registrations (number)",
             "ix_registrations_is_current": "registrations (is_current)",
             "ix_titles_title_norm": "titles (title_norm)"}
_IDENTIFIERS = ("iswc", "isrc")


def upgrade() -> None:
    for name in _REPEATED:
        op.execute(f"DROP INDEX IF EXISTS {name}")
    for column in _IDENTIFIERS:
        op.execute(f"DROP INDEX IF EXISTS ix_registrations_{column}")
        op.execute(f"CREATE INDEX ix_registrations_{column} ON registrations ({column}) WHERE {column} IS NOT NULL")


def downgrade() -> None:
    for column in _IDENTIFIERS:
        op.execute(f"DROP INDEX IF EXISTS ix_registrations_{column}")
        op.execute(f"CREATE INDEX ix_registrations_{column} ON registrations ({column})")
    for name, on in _REPEATED.items():
        op.execute(f"CREATE INDEX {name} ON {on}")
