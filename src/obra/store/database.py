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

from obra.store.schema import metadata
from obra.store.settings import Settings


def _sqlite_pragmas(dbapi_conn, _record) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


class Store:
    """A database (SQLite file or PostgreSQL) plus a home directory for files."""

    metadata = metadata

    def __init__(self, settings: Settings, schema: str | None = None):
        self.settings = settings
        self.home: Path = settings.home
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
            # SQLite: take the write lock at BEGIN so concurrent writers queue instead of failing.
            event.listen(self.engine, "begin", lambda conn: conn.exec_driver_sql("BEGIN IMMEDIATE"))

            @event.listens_for(self.engine, "connect")
            def _no_pysqlite_begin(dbapi_conn, _record):
                dbapi_conn.isolation_level = None

    @classmethod
    def open(cls, url: str | None = None, home: str | Path | None = None, *, office: str | None = None,
             schema: str | None = None, migrate: bool = True) -> "Store":
        """Open (and by default migrate) the store configured by arguments or environment."""
        store = cls(Settings.from_env(home, url, office), schema=schema)
        if migrate:
            store.migrate()
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
        """Bring the schema to the newest revision of every capability (all Alembic heads)."""
        command.upgrade(self.alembic_config(), "heads")

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A transaction: everything inside commits together or not at all."""
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        with self.engine.connect() as conn:
            yield conn

    def dispose(self) -> None:
        self.engine.dispose()

    def repertoire(self):
        """Current parties, works, recordings and agreements, for the engines."""
        from obra.store.repertoire import load_repertoire

        return load_repertoire(self)
