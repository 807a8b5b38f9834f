"""The store: one object that owns the database connection and the data directory.

Everything above it (registry, identify, royalties) takes a :class:`Store` and works in
its transactions; nothing above it sees ORM objects or connection strings.
"""

from __future__ import annotations

from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event

from obra.errors import SchemaOutOfDate
from obra.store.paths import StorePaths
from obra.store.schema import metadata
from obra.store.settings import Settings


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("obra_write") else "BEGIN")


class Store:
    """A database (SQLite file or PostgreSQL) plus a home directory for files."""

    metadata = metadata

    def __init__(self, settings: Settings, schema: str | None = None):
        self.settings = settings
        self.home: Path = settings.home
        self.paths = StorePaths(settings.home)
        self.office: str = settings.office
        self.url: str = settings.database_url
        self.schema = schema
        self.home.mkdir(parents=True, exist_ok=True)
        kwargs: dict = {}
        if self.url.startswith("postgresql") and schema:
            kwargs["connect_args"] = {"options": f"-csearch_path={schema}"}
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            # SQLite: a write transaction takes the write lock at BEGIN, so concurrent writers queue
            # instead of failing; a read begins deferred and, in WAL mode, never waits for a writer.
            event.listen(self.engine, "begin", _sqlite_begin)

            @event.listens_for(self.engine, "connect")
            def _no_pysqlite_begin(dbapi_conn, _record):
                dbapi_conn.isolation_level = None

    @classmethod
    def open(cls, url: str | None = None, home: str | Path | None = None, *, office: str | None = None,
             schema: str | None = None, migrate: bool = False) -> "Store":
        """Open the store configured by arguments or environment.

        ``migrate=True`` brings the schema to this version first (what ``obra init`` and
        ``obra migrate`` do, and what tests do on a fresh store); otherwise the schema
        revision is checked and a mismatch is refused with a hint, never migrated silently.
        """
        store = cls(Settings.from_env(home, url, office), schema=schema)
        if migrate:
            store.migrate()
        else:
            store.check_revision()
        return store

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def alembic_config(self) -> Config:
        ini = resources.files("obra.store") / "alembic.ini"
        cfg = Config(str(ini))
        cfg.set_main_option("script_location", str(resources.files("obra.store") / "migrations"))
        cfg.attributes["engine"] = self.engine
        return cfg

    def migrate(self) -> None:
        """Bring the schema to the newest revision."""
        command.upgrade(self.alembic_config(), "head")

    def expected_revision(self) -> str:
        from alembic.script import ScriptDirectory

        return ScriptDirectory.from_config(self.alembic_config()).get_current_head()

    def revision(self) -> str | None:
        """The schema revision the database is at (None: not created yet)."""
        from alembic.runtime.migration import MigrationContext

        with self.engine.connect() as conn:
            heads = MigrationContext.configure(conn).get_current_heads()
        return heads[0] if len(heads) == 1 else (None if not heads else ",".join(sorted(heads)))

    def check_revision(self) -> None:
        """Refuse to work on a schema of another version, saying how to fix it."""
        current, expected = self.revision(), self.expected_revision()
        if current == expected:
            return
        where = self.engine.url.render_as_string(hide_password=True)
        if current is None:
            raise SchemaOutOfDate(f"the store at {where} has no Obra schema yet",
                                  hint="run `obra init` to create it")
        raise SchemaOutOfDate(f"the store at {where} is at schema revision {current}; this version of Obra "
                              f"needs {expected}")

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: everything inside commits together or not at all.

        On SQLite it takes the database's write lock at once (``BEGIN IMMEDIATE``): writers
        queue for up to the busy timeout; readers (:meth:`connect`) are not blocked.
        """
        with self.engine.connect() as conn:
            conn.execution_options(obra_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A read: on SQLite a deferred transaction that sees the last commit and never waits for writers."""
        with self.engine.connect() as conn:
            yield conn


    def dispose(self) -> None:
        self.engine.dispose()

    def repertoire(self):
        """Current parties, works, recordings and agreements, for the engines."""
        from obra.store.repertoire import load_repertoire

        return load_repertoire(self)
