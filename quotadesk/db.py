"""Engine, SQLite pragmas, the session factory, and migrations applied on open."""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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

#: Set while a write transaction is opened, so that SQLite takes its write lock up front
#: (BEGIN IMMEDIATE) instead of failing on a lock upgrade halfway through.
_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


class SchemaTooNew(Exception):
    """The database was written by a newer QuotaDesk than this one."""


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


def _prepare_sqlite_file(url: str) -> None:
    database = make_url(url).database
    if not database or database == ":memory:":
        return
    path = Path(database)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        # Readable by its owner only: it holds clients' billing data.
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we issue BEGIN ourselves
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        _prepare_sqlite_file(url)
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        _install_sqlite_hooks(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, isolation_level="REPEATABLE READ")


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


def migrate(engine: Engine) -> None:
    """Bring the schema to this version's head; refuse a schema newer than this version."""
    from alembic import command
    from alembic.script import ScriptDirectory

    config = alembic_config(engine)
    script = ScriptDirectory.from_config(config)
    current = schema_revision(engine)
    if current is not None and current not in {rev.revision for rev in script.walk_revisions()}:
        raise SchemaTooNew(
            f"This database was written by a newer QuotaDesk (schema {current}); "
            "install the newer version to open it.")
    if current != script.get_current_head():
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

    def has_table(self, name: str) -> bool:
        return inspect(self.engine).has_table(name)

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(path_or_url: str | os.PathLike[str] | None = None, *,
                  migrate_schema: bool = True) -> Database:
    url = database_url(path_or_url)
    engine = make_engine(url)
    if migrate_schema:
        migrate(engine)
    return Database(url, engine, sessionmaker(engine, expire_on_commit=False))
