"""The store: one object that owns the database connection and the data directory.

Everything above it (registry, identify, royalties) takes a :class:`Store` and works in
its transactions; nothing above it sees ORM objects or connection strings.
"""

from __future__ import annotations

import logging
import os
import stat
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Iterator

from alembic import command
from alembic.config import Config
from sqlalchemy import Connection, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import OperationalError

from obra.errors import SchemaOutOfDate, ServiceUnavailable
from obra.store.paths import StorePaths
from obra.store.schema import metadata
from obra.store.settings import Settings

log = logging.getLogger("obra.store")

#: The first key of the PostgreSQL advisory lock ``obra migrate`` holds; the second is the schema's hash,
#: so migrations of one schema are serialised and those of different schemas are not.
MIGRATION_LOCK = 0x0B7A

_SQLITE_BUSY, _SQLITE_LOCKED = 5, 6
_PG_LOCK_NOT_AVAILABLE = "55P03"
_warned_homes: set[Path] = set()


class StoreBusy(ServiceUnavailable):
    """A write waited the whole busy timeout for another write (an import, a migration) to finish."""

    code = "store_busy"
    hint = ("the store is busy with another write (an import?) — try again in a moment; "
            "OBRA_BUSY_TIMEOUT_S sets how long a write waits")


def _is_busy(exc: OperationalError) -> bool:
    """SQLite's "database is locked" / "database table is locked"; PostgreSQL's lock_timeout."""
    orig = exc.orig
    code = getattr(orig, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (_SQLITE_BUSY, _SQLITE_LOCKED)
    if getattr(orig, "sqlstate", None) == _PG_LOCK_NOT_AVAILABLE:
        return True
    message = str(orig).lower()
    return "database is locked" in message or "database table is locked" in message


def _owner_only_home(home: Path) -> None:
    """Create ``home`` mode 0700; warn once (never chmod) when an existing one is open to others."""
    if not home.exists():
        home.parent.mkdir(parents=True, exist_ok=True)
        try:
            home.mkdir(mode=0o700)
        except FileExistsError:  # another process made it a moment ago
            pass
        else:
            os.chmod(home, 0o700)  # mkdir's mode is filtered by the umask; this is what we mean
            return
    mode = stat.S_IMODE(home.stat().st_mode)
    if mode & 0o077 and home not in _warned_homes:
        _warned_homes.add(home)
        log.warning("OBRA_HOME %s can be read by other users (mode %o): it holds the database, keys and the "
                    "admin token; make it owner-only with: chmod -R go-rwx %s", home, mode, home)


def _owner_only_file(path: Path) -> None:
    """Create an empty file mode 0600 if it does not exist yet (SQLite gives its WAL and SHM files its mode)."""
    if path.parent.is_dir() and not path.exists():
        try:
            os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
        except FileExistsError:
            pass


def _sqlite_pragmas(busy_timeout_ms: int):
    def pragmas(dbapi_conn, _record) -> None:
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute(f"PRAGMA busy_timeout={busy_timeout_ms:d}")
        cur.close()
    return pragmas


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
        self.busy_timeout_s: float = settings.busy_timeout_s
        _owner_only_home(self.home)
        kwargs: dict = {}
        if self.url.startswith("postgresql"):
            # a write waits for a row or advisory lock at most the busy timeout, then StoreBusy;
            # options given in the URL (?options=-csearch_path%3D...) are kept
            options = [make_url(self.url).query.get("options") or "",
                       f"-csearch_path={schema}" if schema else "",
                       f"-clock_timeout={int(self.busy_timeout_s * 1000)}"]
            kwargs["connect_args"] = {"options": " ".join(o for o in options if o)}
        self.engine: Engine = create_engine(self.url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            database = self.engine.url.database
            if database and database != ":memory:" and not database.startswith("file:"):
                _owner_only_file(Path(database))
            event.listen(self.engine, "connect", _sqlite_pragmas(int(self.busy_timeout_s * 1000)))
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
        """Bring the schema to the newest revision, one migrator at a time.

        The upgrade runs in one transaction that first takes the store's write lock: on PostgreSQL
        an advisory lock on (:data:`MIGRATION_LOCK`, the schema), on SQLite ``BEGIN IMMEDIATE``.
        Servers or ``obra init`` started together therefore migrate once; the others wait, then
        find the schema at the head and do nothing.
        """
        cfg = self.alembic_config()
        with self._busy_is_named(), self.engine.connect() as conn:
            conn.execution_options(obra_write=True)
            with conn.begin():
                if conn.dialect.name == "postgresql":
                    conn.execute(text("SELECT pg_advisory_xact_lock(:lock, hashtext(current_schema()))"),
                                 {"lock": MIGRATION_LOCK})
                cfg.attributes["connection"] = conn
                command.upgrade(cfg, "head")

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
    def _busy_is_named(self) -> Iterator[None]:
        """A lock not obtained within the busy timeout becomes :class:`StoreBusy` (503), never a traceback."""
        try:
            yield
        except OperationalError as exc:
            if not _is_busy(exc):
                raise
            raise StoreBusy(f"the store is busy with another write (an import?): it did not become free within "
                            f"{self.busy_timeout_s:g} s") from None

    @contextmanager
    def begin(self) -> Iterator[Connection]:
        """A write transaction: everything inside commits together or not at all.

        On SQLite it takes the database's write lock at once (``BEGIN IMMEDIATE``): writers
        queue for up to the busy timeout (``OBRA_BUSY_TIMEOUT_S``), then get :class:`StoreBusy`;
        readers (:meth:`connect`) are not blocked. On PostgreSQL a row lock is waited for as long.
        """
        with self._busy_is_named(), self.engine.connect() as conn:
            conn.execution_options(obra_write=True)
            with conn.begin():
                yield conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A read: on SQLite a deferred transaction that sees the last commit and never waits for writers."""
        with self._busy_is_named(), self.engine.connect() as conn:
            yield conn

    def keys_directory(self, office: str | None = None) -> Path:
        """Where the office's signing keys live (``OBRA_KEYS_DIR`` when set; see docs/key-management.md)."""
        return self.settings.keys_directory(office or self.office)

    def dispose(self) -> None:
        self.engine.dispose()

    def repertoire(self):
        """Current parties, works, recordings and agreements, for the engines."""
        from obra.store.repertoire import load_repertoire

        return load_repertoire(self)
