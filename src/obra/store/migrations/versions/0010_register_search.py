"""Search indexes of the register (issue #18): titles, alternate titles and party names, by substring and prefix.

What is indexed is the normalised text the registry already stores (``title_norm``, ``name_norm``:
accents, case and width folded by :mod:`obra.textnorm`), so both stores answer the same question
with their own machinery (:mod:`obra.registry.search` asks it):

* **SQLite**: FTS5 tables with the ``trigram`` tokenizer (substring match of 3 characters or more,
  any script), kept current by triggers on insert; prefixes use the existing ``title_norm`` index.
* **PostgreSQL**: ``pg_trgm`` GIN indexes (substring ``LIKE``) and ``COLLATE "C"`` b-tree indexes
  (prefix ranges in code-point order, the order SQLite's BINARY collation gives). The extension is
  created if missing (it ships with PostgreSQL's contrib; creating it needs the right to).

Every object is named ``search_*``: not part of the declared tables (``obra.store.schema``), they are
the index machinery of one store and ``tests/store/test_migrations.py`` leaves them out.

Revision ID: 0010_register_search
Revises: 0009_ai_terms
"""
import sqlalchemy as sa  # noqa: F401
from alembic import op

revision = "0010_register_search"
down_revision = "0009_ai_terms"
branch_labels = None
depends_on = None

_SQLITE_UP = (
    # registrations: contentless (the text is in registrations.title_norm; rowid = registrations.id)
    "CREATE VIRTUAL TABLE search_titles USING fts5(title, content='', tokenize='trigram')",
    "INSERT INTO search_titles(rowid, title) SELECT id, title_norm FROM registrations",
    "CREATE TRIGGER search_titles_insert AFTER INSERT ON registrations BEGIN "
    "INSERT INTO search_titles(rowid, title) VALUES (new.id, new.title_norm); END",
    # alternate titles: the registration id is kept in the index (titles has no key of its own)
    "CREATE VIRTUAL TABLE search_alt_titles USING fts5(title, registration_id UNINDEXED, tokenize='trigram')",
    "INSERT INTO search_alt_titles(title, registration_id) SELECT title_norm, registration_id FROM titles",
    "CREATE TRIGGER search_alt_titles_insert AFTER INSERT ON titles BEGIN "
    "INSERT INTO search_alt_titles(title, registration_id) VALUES (new.title_norm, new.registration_id); END",
    # party names (rowid = parties.id); a name never changes once stored
    "CREATE VIRTUAL TABLE search_parties USING fts5(name, content='', tokenize='trigram')",
    "INSERT INTO search_parties(rowid, name) SELECT id, name_norm FROM parties",
    "CREATE TRIGGER search_parties_insert AFTER INSERT ON parties BEGIN "
    "INSERT INTO search_parties(rowid, name) VALUES (new.id, new.name_norm); END",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS search_parties_insert", "DROP TABLE IF EXISTS search_parties",
    "DROP TRIGGER IF EXISTS search_alt_titles_insert", "DROP TABLE IF EXISTS search_alt_titles",
    "DROP TRIGGER IF EXISTS search_titles_insert", "DROP TABLE IF EXISTS search_titles",
)
_PG_INDEXES = (
    ("search_titles_trgm", "registrations", "USING gin (title_norm {ops})"),
    ("search_alt_titles_trgm", "titles", "USING gin (title_norm {ops})"),
    ("search_parties_trgm", "parties", "USING gin (name_norm {ops})"),
    ("search_titles_prefix", "registrations", '(title_norm COLLATE "C", id) WHERE is_current'),
    ("search_alt_titles_prefix", "titles", '(title_norm COLLATE "C")'),
    ("search_parties_prefix", "parties", '(name_norm COLLATE "C")'),
)


def upgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)
        return
    # in schema public: a store's search_path is its own schema, where the extension would otherwise land
    # and be dropped with it (for every other store of the database)
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public")
    # the extension may live in another schema than the store's (one per database): name its operator class
    where = bind.execute(sa.text("SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON "
                                 "n.oid = e.extnamespace WHERE e.extname = 'pg_trgm'")).scalar_one()
    ops = f'"{where}".gin_trgm_ops'
    for name, table, how in _PG_INDEXES:
        op.execute(f"CREATE INDEX {name} ON {table} {how.format(ops=ops)}")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
        return
    for name, _, _ in reversed(_PG_INDEXES):
        op.execute(f"DROP INDEX IF EXISTS {name}")
