"""Setting a database up (currency, time zone), and consistent backups of a SQLite file."""

from __future__ import annotations

import logging
import os
import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from quotadesk.db import (
    DatabaseCorrupt,
    SchemaTooNew,
    backups_dir,
    copy_sqlite,
    daily_backup,
    database_url,
    integrity_problem,
    migrate,
    open_database,
    plain_database_error,
    sqlite_path,
)
from quotadesk.models import Setting
from quotadesk.services.desk import Clock, Desk, Tx, check_timezone, system_clock, write_op
from quotadesk.services.errors import InvalidValue, QuotaDeskError
from quotadesk.services.money import check_currency

log = logging.getLogger(__name__)


def machine_timezone() -> str:
    try:
        import tzlocal

        name = tzlocal.get_localzone_name()
    except Exception:
        name = None
    return name or "UTC"


@write_op
def init_database(tx: Tx, *, currency: str = "USD", timezone: str | None = None) -> dict[str, str]:
    """Set the currency and time zone once; running it again with the same values is a no-op."""
    wanted = {"currency": check_currency(currency),
              "timezone": check_timezone(timezone or machine_timezone())}
    current = dict(tx.session.execute(select(Setting.key, Setting.value)).all())
    if "currency" in current:
        clash = [k for k, v in wanted.items() if current.get(k) != v and
                 not (k == "timezone" and timezone is None)]
        if clash:
            raise InvalidValue(f"{clash[0]}: the database is already set up with "
                               f"{clash[0]} {current[clash[0]]}", clash[0])
        return current
    for key, value in wanted.items():
        tx.session.add(Setting(key=key, value=value))
    tx.audit("init", "database", None, **wanted)
    tx.desk.forget_settings()
    return wanted


class BackupError(QuotaDeskError):
    field = "backup"


def _sqlite_path(desk: Desk) -> Path:
    path = sqlite_path(desk.database.url)
    if path is None:
        raise BackupError("backup: only a SQLite database file can be backed up here; "
                          "use pg_dump for PostgreSQL", "backup")
    return path


def backup(desk: Desk, target: str | os.PathLike[str]) -> Path:
    """A consistent copy through SQLite's online backup API, safe while the app is open."""
    source = _sqlite_path(desk)
    path = Path(target).expanduser().resolve()
    if path == source.resolve():
        raise BackupError("file: the backup must not overwrite the database itself", "file")
    return copy_sqlite(source, path)


def check_backup(path: str | os.PathLike[str]) -> None:
    """Refuse a file that is not a sound QuotaDesk database."""
    file = Path(path)
    if not file.is_file():
        raise BackupError(f"file: {file} does not exist", "file")
    problem = integrity_problem(file)
    if problem is not None:
        raise BackupError(f"file: {file} is damaged or not a database ({problem})", "file")
    with closing(sqlite3.connect(f"file:{file}?mode=ro", uri=True)) as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master")}
    if not {"settings", "clients", "ledger_entries", "alembic_version"} <= names:
        raise BackupError(f"file: {file} is not a QuotaDesk database", "file")


def restore(desk: Desk, source: str | os.PathLike[str]) -> Path | None:
    """Replace the database's content with a checked backup, keeping a copy of what it was."""
    check_backup(source)
    target = _sqlite_path(desk)
    saved = None
    if target.exists() and integrity_problem(target) is None:
        saved = copy_sqlite(target, backups_dir(target) /
                            f"{target.stem}-before-restore-{datetime.now():%Y%m%d%H%M%S}.db")
    desk.database.engine.dispose()
    with closing(sqlite3.connect(str(source), timeout=15)) as src, \
            closing(sqlite3.connect(target, timeout=15)) as dst:
        src.backup(dst)
    desk.database.engine.dispose()
    migrate(desk.database.engine)
    desk.forget_settings()
    return saved


class DatabaseProblem(QuotaDeskError):
    """A database that cannot be used as it is, said so that a person knows what to do."""

    field = "database"


def open_desk(path_or_url: str | os.PathLike[str] | None, clock: Clock = system_clock) -> Desk:
    """Open a database for the window: quick integrity check, migrations (with a copy kept
    first), today's rolling backup; every failure a person can meet as a plain refusal."""
    try:
        desk = Desk(open_database(path_or_url, check=True), clock=clock)
    except SchemaTooNew as error:
        raise DatabaseProblem(f"database: {error}") from None
    except DatabaseCorrupt as error:
        advice = (f" Restore the latest backup ({error.latest_backup}) with File → Restore…"
                  if error.latest_backup else
                  " Restore a backup with File → Restore…, or open another database.")
        raise DatabaseProblem(f"database: {error.path} is damaged and was left untouched "
                              f"({error.detail}).{advice}") from None
    except (OperationalError, OSError) as error:
        raise DatabaseProblem(f"database: {plain_database_error(error)} "
                              f"({database_url(path_or_url)})") from None
    database = sqlite_path(desk.database.url)
    if database is not None:
        try:
            daily_backup(database)
        except (OSError, sqlite3.Error) as error:
            log.warning("daily backup of %s failed: %s", database, error)
    return desk
