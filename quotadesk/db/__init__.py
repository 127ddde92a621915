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
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from quotadesk.db.files import (
    PRIVATE,
    SIDE_FILES,
    DatabaseMalformed,
    DatabaseReadOnly,
    DatabaseUnusable,
    Target,
    clean_leftovers,
    create_private,
    held,
    is_sqlite,
    masked,
    no_new_side_files,
    open_read_only,
    partial_of,
    refuse_foreign,
    resolve_target,
    sqlite_tables,
)
from quotadesk.db.integrity import (
    IntegrityCheck,
    after_sound,
    checks_in_background,
)
from quotadesk.db.integrity import (
    check_in_background as check_in_background,
)

APP_NAME = "QuotaDesk"
APP_AUTHOR = "QuotaDesk"
MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
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


def database_url_text(path_or_url: str | os.PathLike[str] | None) -> str:
    """What --db / QUOTADESK_DB / the user data directory names (a path or a URL)."""
    value = os.fspath(path_or_url) if path_or_url else os.environ.get("QUOTADESK_DB", "")
    if not value:
        folder = default_database_path().parent
        folder.mkdir(parents=True, exist_ok=True)  # the app's own folder, not one a user named
        value = os.fspath(default_database_path())
    return value


def sqlite_path(url: str) -> Path | None:
    """The file behind a SQLite URL (None for other databases and in-memory ones)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or \
            parsed.database == ":memory:":
        return None
    name = parsed.database
    if name.startswith("file:"):  # a read-only URI: file:/path (its options are in the query)
        name = name[len("file:"):]
    return Path(name)


def backups_dir(database: Path) -> Path:
    return database.parent / "backups"


def copy_sqlite(source: Path, target: Path, *, immutable: bool = False) -> Path:
    """A consistent copy through SQLite's online backup API (safe while others write): written
    into `target.partial` (0600, locked while written) and renamed over `target` when whole;
    on any failure the partial file is removed and `target` is as it was."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_of(target)
    partial.unlink(missing_ok=True)
    Path(str(partial) + "-journal").unlink(missing_ok=True)
    create_private(partial)
    try:
        with held(partial), \
                closing(open_read_only(source, immutable, BUSY_TIMEOUT_MS / 1000)) as src, \
                closing(sqlite3.connect(partial)) as dst:
            src.backup(dst)
        os.chmod(partial, PRIVATE)
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        Path(str(partial) + "-journal").unlink(missing_ok=True)
        raise
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
    if not target.exists() and after_sound(database, lambda: daily_backup(database, keep, stamp)):
        return target  # taken once the integrity check running beside the reads is done
    if not target.exists():
        copy_sqlite(database, target)
    dailies = sorted(backups_dir(database).glob(f"{database.stem}-daily-*.db"))
    for old in dailies[:-keep] if keep > 0 else dailies:
        old.unlink(missing_ok=True)
    return target


def integrity_problem(database: Path, immutable: bool = False) -> str | None:
    """PRAGMA quick_check on the file; None when sound."""
    try:
        with closing(open_read_only(database, immutable, BUSY_TIMEOUT_MS / 1000)) as conn:
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
    problem = integrity_problem(database, immutable="immutable=1" in url)
    if problem is not None:
        raise DatabaseCorrupt(database, problem, latest_backup(database))


def _prepare_sqlite_file(target: Target) -> None:
    """Create a new database file readable by its owner only (its folder must exist)."""
    if target.path is not None and target.new and not target.path.exists():
        create_private(target.path)


#: Every connection to a SQLite file: wait for other desks' locks, enforce references, WAL
#: (readers never wait for the writer), and a commit is on disk when it returns.
SQLITE_PRAGMAS = (
    f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}",
    "PRAGMA foreign_keys=ON",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    f"PRAGMA cache_size=-{CACHE_KIB}",
)


def _install_sqlite_hooks(engine: Engine, read_only: bool) -> None:
    pragmas = [p for p in SQLITE_PRAGMAS if not (read_only and "journal_mode" in p)]

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        for pragma in pragmas:
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


def make_engine(url: str, read_only: bool = False) -> Engine:
    if url.startswith("sqlite"):
        # LIFO: the connection used last is used next, with its page cache warm (and an
        # import's batches see their own connection again: see usage_import/batches.Books).
        # hide_parameters: a failed statement's message (and so the log) never carries the
        # clients' names, addresses or amounts it was writing.
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000},
                               pool_use_lifo=True, hide_parameters=True)
        _install_sqlite_hooks(engine, read_only)
        return engine
    # READ COMMITTED with row locks: every write locks its client row (SELECT … FOR UPDATE)
    # before reading the state it changes, so each statement after the lock sees the latest
    # committed rows; unique constraints catch the rest and the transaction is retried.
    return create_engine(url, pool_pre_ping=True, isolation_level="READ COMMITTED",
                         hide_parameters=True)


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
SCHEMA_HEAD = "0007"


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
    #: The file or its folder cannot be written: reads work, every write is refused.
    read_only: bool = False
    path: Path | None = None
    #: This process created the file (a command that is then refused removes it again).
    created: bool = False
    #: The integrity check still running beside the first reads (the window's opens).
    integrity: IntegrityCheck | None = None

    @property
    def shown(self) -> str:
        """The database as a person may see it: its path, or its URL without the password."""
        return str(self.path) if self.path is not None else masked(self.url)

    @contextmanager
    def session(self, write: bool) -> Iterator[Session]:
        if write and self.read_only:
            raise DatabaseReadOnly(read_only_text(self.shown))
        if write and self.integrity is not None:
            self.integrity.require_sound()  # nothing is written to a damaged file
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

    def dispose(self) -> None:
        self.engine.dispose()

    def remove_if_created(self) -> None:
        """Undo the creation of a new database file (a refused first command writes
        nothing, not even the file)."""
        if not self.created or self.path is None:
            return
        self.engine.dispose()
        for name in ("", *SIDE_FILES):
            Path(str(self.path) + name).unlink(missing_ok=True)


def read_only_text(shown: str) -> str:
    return (f"{shown} is read-only: it can be opened read-only to look at, but nothing can be "
            "changed; move it (or copy it) to a folder you can write to")


def open_database(path_or_url: str | os.PathLike[str] | None = None, *,
                  migrate_schema: bool = True, check: bool = True) -> Database:
    """Open a database after checking what `--db` names (SPEC §8): a new file in an existing
    folder is created, an empty file adopted, anything that is not a QuotaDesk database
    refused untouched; `check` runs SQLite's quick_check on the file first; an older schema is
    migrated (never a read-only one)."""
    target = resolve_target(database_url_text(path_or_url))
    background = check and checks_in_background() and target.path is not None and not target.new \
        and target.path.exists() and target.path.stat().st_size > 0
    if target.path is not None and not target.new:
        with no_new_side_files(target.path):
            _inspect(target, check and not background)
    created = target.path is not None and not target.path.exists()
    _prepare_sqlite_file(target)
    if target.path is not None and not target.read_only:
        clean_leftovers(target.path)  # what a killed backup, restore or export left behind
    engine = make_engine(target.url, read_only=target.read_only)
    try:
        if migrate_schema:
            if target.read_only and _current_revision_fast(engine) != SCHEMA_HEAD:
                raise DatabaseUnusable(f"{target.shown} is read-only and was written by an "
                                       "older QuotaDesk: it must be upgraded, which needs write "
                                       "access")
            migrate(engine)
    except BaseException:
        engine.dispose()
        raise
    return Database(target.url, engine, sessionmaker(engine, expire_on_commit=False),
                    read_only=target.read_only, path=target.path, created=created,
                    integrity=IntegrityCheck(target.url, target.path) if background
                    and target.path is not None else None)


def _inspect(target: Target, check: bool) -> None:
    """Before an engine touches an existing file: QuotaDesk's (or empty), sound, not newer."""
    assert target.path is not None
    immutable = "immutable=1" in target.url
    try:
        adopt = refuse_foreign(target.path, immutable)
    except DatabaseMalformed as error:
        raise DatabaseCorrupt(target.path, error.message, latest_backup(target.path)) from None
    if adopt and target.read_only:
        raise DatabaseUnusable(read_only_text(str(target.path)))
    if check:
        check_integrity(target.url)
    _refuse_newer(target.path, immutable)


def restorable(target: Target) -> bool:
    """May `restore` replace this file? True when it is damaged (it will be moved aside),
    False when it is sound, missing or empty; refused (DatabaseUnusable, SchemaTooNew) when
    it is another program's file or a newer QuotaDesk's database."""
    if target.path is None or target.new:
        return False
    try:
        with no_new_side_files(target.path):
            _inspect(target, check=True)
    except DatabaseCorrupt:
        return True
    except DatabaseUnusable:
        # An SQLite header over pages that cannot be read is a damaged database too.
        if not is_sqlite(target.path):
            raise
        try:
            sqlite_tables(target.path, immutable=True)
        except (sqlite3.DatabaseError, UnicodeDecodeError):
            return True
        raise
    return False


def _refuse_newer(path: Path, immutable: bool) -> None:
    """A schema this version does not know was written by a newer QuotaDesk."""
    try:
        with closing(open_read_only(path, immutable)) as conn:
            row = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError:
        return
    if row is not None and str(row[0]) not in known_revisions():
        raise SchemaTooNew(
            f"This database was written by a newer QuotaDesk (schema {row[0]}); "
            "install the newer version to open it.")


def known_revisions() -> set[str]:
    """The schema revisions this version ships (from the migration files' names)."""
    return {p.name.split("_", 1)[0] for p in (MIGRATIONS / "versions").glob("[0-9]*_*.py")}
