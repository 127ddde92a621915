"""Engine, SQLite pragmas, the session factory, and migrations applied on open."""

from __future__ import annotations

import contextvars
import os
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import appdirs
from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

APP_NAME = "QuotaDesk"
APP_AUTHOR = "QuotaDesk"
MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 15_000
#: Page cache per connection (64 MiB): a million-event import keeps its indexes in memory.
CACHE_KIB = 65_536

#: Set while a write transaction is opened, so that SQLite takes its write lock up front
#: (BEGIN IMMEDIATE) instead of failing on a lock upgrade halfway through.
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)
#: Inside `Database.bulk_load`: SQLite leaves checkpointing to the end of the load.
_bulk_load: contextvars.ContextVar[bool] = contextvars.ContextVar("bulk_load", default=False)
#: SQLite's default: fold the WAL back into the file at a commit once it holds 1000 pages.
AUTOCHECKPOINT_PAGES = 1000


class SchemaTooNew(Exception):
    """The database was written by a newer QuotaDesk than this one."""


class DatabaseCorrupt(Exception):
    """SQLite's integrity check failed: never repaired silently; offer a backup instead."""

    def __init__(self, path: Path, detail: str, latest_backup: Path | None) -> None:
        where = f" The latest backup is {latest_backup}." if latest_backup else ""
        super().__init__(f"{path} is damaged ({detail}).{where}")
        self.path = path
        self.detail = detail
        self.latest_backup = latest_backup


def plain_database_error(error: BaseException) -> str:
    """What a person can do about a database that cannot be opened or written."""
    text = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
    lowered = text.lower()
    if "locked" in lowered or "busy" in lowered:
        return ("the database is locked by another QuotaDesk (or another program); "
                "wait for it to finish, then try again")
    if "disk" in lowered and ("full" in lowered or "space" in lowered):
        return "the disk is full: free some space, then try again (nothing was written)"
    if "readonly" in lowered or "read-only" in lowered or "permission denied" in lowered:
        return ("the database file or its folder is read-only: choose a folder you can write "
                "to, or ask for write access")
    if "unable to open" in lowered:
        return "the database file cannot be opened: check that its folder exists and is yours"
    if "connection" in lowered or "could not connect" in lowered:
        return f"cannot reach the database server ({text})"
    return text


def default_database_path() -> Path:
    return Path(appdirs.user_data_dir(APP_NAME, APP_AUTHOR)) / "quotadesk.db"


def database_url(path_or_url: str | os.PathLike[str] | None) -> str:
    """A SQLAlchemy URL from --db / QUOTADESK_DB / the user data directory."""
    value = os.fspath(path_or_url) if path_or_url else os.environ.get("QUOTADESK_DB", "")
    if not value:
        value = os.fspath(default_database_path())
    if "://" in value:
        return value
    return "sqlite:///" + os.path.abspath(os.path.expanduser(value))


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL (None for other databases and in-memory ones)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or \
            parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def backups_dir(database: Path) -> Path:
    return database.parent / "backups"


def copy_sqlite(source: Path, target: Path) -> Path:
    """A consistent copy through SQLite's online backup API (safe while others write)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    os.close(os.open(partial, os.O_CREAT | os.O_WRONLY, 0o600))
    with closing(sqlite3.connect(source, timeout=BUSY_TIMEOUT_MS / 1000)) as src, \
            closing(sqlite3.connect(partial)) as dst:
        src.backup(dst)
    os.replace(partial, target)
    return target


def latest_backup(database: Path) -> Path | None:
    folder = backups_dir(database)
    candidates = sorted(folder.glob(f"{database.stem}-*.db"), key=lambda p: p.stat().st_mtime)
    return candidates[-1] if candidates else None


def daily_backup(database: Path, keep: int = 7, today: str | None = None) -> Path | None:
    """One rolling copy a day in `backups/` beside the file; the last `keep` are kept."""
    if not database.exists():
        return None
    stamp = today or datetime.now().strftime("%Y-%m-%d")
    target = backups_dir(database) / f"{database.stem}-daily-{stamp}.db"
    if not target.exists():
        copy_sqlite(database, target)
    dailies = sorted(backups_dir(database).glob(f"{database.stem}-daily-*.db"))
    for old in dailies[:-keep] if keep > 0 else dailies:
        old.unlink(missing_ok=True)
    return target


def integrity_problem(database: Path) -> str | None:
    """PRAGMA quick_check on the file; None when sound."""
    try:
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True,
                                     timeout=BUSY_TIMEOUT_MS / 1000)) as conn:
            # A damaged page can put any bytes into the report.
            conn.text_factory = lambda raw: raw.decode("utf-8", "replace")
            rows = [str(row[0]) for row in conn.execute("PRAGMA quick_check")]
    except sqlite3.DatabaseError as error:
        return str(error)
    except UnicodeDecodeError:
        return "unreadable pages (the report itself is garbled)"
    return None if rows == ["ok"] else "; ".join(rows[:5])


def check_integrity(url: str) -> None:
    """Refuse a damaged SQLite file, naming the latest backup to restore."""
    database = sqlite_path(url)
    if database is None or not database.exists() or database.stat().st_size == 0:
        return
    problem = integrity_problem(database)
    if problem is not None:
        raise DatabaseCorrupt(database, problem, latest_backup(database))


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Readable by its owner only: it holds clients' billing data.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


#: Every connection to a SQLite file: wait for other desks' locks, enforce references, WAL
#: (readers never wait for the writer), and a commit is on disk when it returns.
SQLITE_PRAGMAS = (
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    f"PRAGMA cache_size=-{CACHE_KIB}",
)


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in SQLITE_PRAGMAS:
            cursor.execute(pragma)
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # A bulk load's commits only append to the WAL (each still synced to disk): folding it
        # back after every batch would rewrite the same index pages ten times over.
        pages = 0 if _bulk_load.get() else AUTOCHECKPOINT_PAGES
        info = connection.connection.info
        if info.get("autocheckpoint") != pages:
            connection.exec_driver_sql(f"PRAGMA wal_autocheckpoint={pages}")
            info["autocheckpoint"] = pages
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        # LIFO: the connection used last is used next, with its page cache warm (and an
        # import's batches see their own connection again: see usage._Books).
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
                               pool_use_lifo=True)
        _install_sqlite_hooks(engine)
        return engine
    # READ COMMITTED with row locks: every write locks its client row (SELECT … FOR UPDATE)
    # before reading the state it changes, so each statement after the lock sees the latest
    # committed rows; unique constraints catch the rest and the transaction is retried.
    return create_engine(url, pool_pre_ping=True, isolation_level="READ COMMITTED")


def alembic_config(engine: Engine) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["engine"] = engine
    return config


def schema_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


#: The newest migration this version ships (checked against Alembic by the tests): a database
#: already there opens without loading Alembic at all, which every command would pay for.
SCHEMA_HEAD = "0003"


def _current_revision_fast(engine: Engine) -> str | None:
    try:
        with engine.connect() as connection:
            return connection.exec_driver_sql(
                "SELECT version_num FROM alembic_version").scalar()
    except Exception:
        return None


def migrate(engine: Engine) -> None:
    """Bring the schema to this version's head; refuse a schema newer than this version."""
    if _current_revision_fast(engine) == SCHEMA_HEAD:
        return
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config(engine)
    script = ScriptDirectory.from_config(config)
    current = schema_revision(engine)
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise SchemaTooNew(
            f"This database was written by a newer QuotaDesk (schema {current}); "
            "install the newer version to open it.")
    head = script.get_current_head()
    if current != head:
        database = sqlite_path(str(engine.url))
        if current is not None and database is not None and database.exists():
            # Before changing the schema of a database in use, keep a copy to go back to.
            copy_sqlite(database, backups_dir(database) /
                        f"{database.stem}-pre-{head}-{datetime.now():%Y%m%d%H%M%S}.db")
        command.upgrade(config, "head")


@dataclass
class Database:
    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @contextmanager
    def session(self, write: bool) -> Iterator[Session]:
        token = _write_intent.set(write)
        session = self.sessions()
        try:
            if write:
                session.connection()  # BEGIN IMMEDIATE now, while the intent is set
            yield session
        finally:
            session.close()
            _write_intent.reset(token)

    @contextmanager
    def bulk_load(self) -> Iterator[None]:
        """Many large write transactions in a row (a usage import): on SQLite the WAL is
        checkpointed once at the end instead of after each of them."""
        token = _bulk_load.set(True)
        try:
            yield
        finally:
            _bulk_load.reset(token)
            if self.engine.dialect.name == "sqlite":
                with self.engine.connect() as connection:
                    # PASSIVE: never waits for readers; whatever it cannot fold back now, the
                    # next commit's automatic checkpoint will.
                    connection.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")

    def has_table(self, name: str) -> bool:
        return inspect(self.engine).has_table(name)

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(path_or_url: str | os.PathLike[str] | None = None, *,
                  migrate_schema: bool = True, check: bool = False) -> Database:
    """Open (creating and migrating) a database; `check` runs SQLite's quick_check first."""
    url = database_url(path_or_url)
    if check:
        check_integrity(url)
    engine = make_engine(url)
    if migrate_schema:
        migrate(engine)
    return Database(url, engine, sessionmaker(engine, expire_on_commit=False))
