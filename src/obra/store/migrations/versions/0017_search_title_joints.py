"""PostgreSQL: titles' trigram indexes hold the joints between words, as SQLite's FTS5 trigram tables do.

``pg_trgm`` splits a text into words at every character that is not a letter or digit and indexes each word's
trigrams, padded with spaces: the trigram that spans a space ("r d" in "amor de noche") is not in its index.
So a phrase of common words could only be looked up by each word's trigrams, the index's longest posting
lists (at 10,000,000 titles "amor", "noche": 100,000 rows each), and the few titles holding the whole phrase
checked row by row: the slow tail of the search (p95 84 ms at 10M, against 48 ms on SQLite, whose trigram
tokenizer keeps the space).

The title and alternate-title indexes now index the title with each space written as ``ǂ`` (U+01C2, a letter
to ``pg_trgm``, which folded titles never hold in practice): ``replace(title_norm, ' ', 'ǂ')``. A word's inner
trigrams are the same as before; its edges are now the joints ("rǂd", "ǂde", "eǂn"), which are rare, so a
phrase is found from them (:func:`obra.registry.search._pg_contains`, which still checks the whole phrase on
the rows found, so a title that did hold a ``ǂ`` is never a false match). The old indexes on ``title_norm``
are replaced: nothing else asks for a substring of a title. Party names keep theirs (short, and searched by
a word's beginning).

Revision ID: 0017_search_title_joints
Revises: 0016_search_alt_titles_ordered
"""
import sqlalchemy as sa
from alembic import op

revision = "0017_search_title_joints"
down_revision = "0016_search_alt_titles_ordered"
branch_labels = None
depends_on = None

_INDEXES = (("search_titles_trgm", "search_titles_joints", "registrations"),
            ("search_alt_titles_trgm", "search_alt_titles_joints", "titles"))


def _ops() -> str:
    where = op.get_bind().execute(sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON "
                                          "n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")).scalar_one()
    return f'"{where}".gin_trgm_ops'


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return  # FTS5's trigram tokenizer indexes the joints already
    ops = _ops()
    for old, new, table in _INDEXES:
        op.execute(f"CREATE INDEX {new} ON {table} USING gin ((replace(title_norm, ' ', 'ǂ')) {ops})")
        op.execute(f"DROP INDEX IF EXISTS {old}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        return
    ops = _ops()
    for old, new, table in _INDEXES:
        op.execute(f"CREATE INDEX {old} ON {table} USING gin (title_norm {ops})")
        op.execute(f"DROP INDEX IF EXISTS {new}")
