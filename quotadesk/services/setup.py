"""Setting a database up (currency, time zone), and consistent backups of a SQLite file."""

from __future__ import annotations

import errno
import logging
import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from quotadesk.db import (
    DatabaseCorrupt,
    SchemaTooNew,
    backups_dir,
    copy_sqlite,
    daily_backup,
    database_url_text,
    default_database_path,
    integrity_problem,
    known_revisions,
    migrate,
    open_database,
    plain_database_error,
    read_only_text,
    restorable,
)
from quotadesk.db.files import (
    QUOTADESK_TABLES,
    SIDE_FILES,
    DatabaseUnusable,
    UnsafeTarget,
    check_output,
    is_sqlite,
    masked,
    nothing_has_it_open,
    open_read_only,
    output_error,
    protected_files,
    resolve_target,
    sqlite_tables,
)
from quotadesk.models import Setting
from quotadesk.services.errors import InvalidValue, QuotaDeskError
from quotadesk.services.rules.money import check_currency
from quotadesk.services.unit_of_work import Clock, Desk, Tx, check_timezone, system_clock, write_op

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


def default_location() -> Path:
    """Where the database goes when none is named (the About box says so)."""
    return default_database_path()


class BackupError(QuotaDeskError):
    field = "backup"


def _sqlite_path(desk: Desk) -> Path:
    path = desk.database.path
    if path is None:
        raise BackupError("backup: only a SQLite database file can be backed up here; "
                          "use pg_dump for PostgreSQL", "backup")
    return path


def _immutable(desk: Desk) -> bool:
    return "immutable=1" in desk.database.url


def backup(desk: Desk, target: str | os.PathLike[str]) -> Path:
    """A consistent copy through SQLite's online backup API, safe while the app is open. Never
    over the database, its side files, a backup or another database (SPEC §8); a failure
    leaves no partial file."""
    source = _sqlite_path(desk)
    path = _checked_output(desk, target, make_folder=True)
    try:
        return copy_sqlite(source, path, immutable=_immutable(desk))
    except OSError as error:
        raise InvalidValue(output_error(path, error).message, "file") from None
    except sqlite3.Error as error:
        why = "the disk is full" if "full" in str(error).lower() else plain_database_error(error)
        raise BackupError(f"backup: {why}; no backup was written", "backup") from None


def _checked_output(desk: Desk, target: str | os.PathLike[str], make_folder: bool = False) -> Path:
    database = desk.database.path
    try:
        return check_output(target, database, make_folder=make_folder,
                            backups=None if database is None else backups_dir(database))
    except UnsafeTarget as error:
        raise InvalidValue(error.message, "file") from None


def output_file(desk: Desk, target: str | os.PathLike[str]) -> Path:
    """Where an export or a document may be written (see `check_output`)."""
    return _checked_output(desk, target)


def daily_backup_problem(desk: Desk) -> str | None:
    """Take today's automatic backup (SQLite files only); what went wrong, in one line, or
    None. Never raises: the chores that follow do not depend on it."""
    database = desk.database.path
    if database is None or desk.database.read_only:
        return None
    try:
        daily_backup(database)
    except OSError as error:
        folder = backups_dir(database)
        if folder.exists() and not folder.is_dir():
            why = f"{folder} is a file, where its backups folder should be"
        elif error.errno == errno.ENOSPC:
            why = "the disk is full"
        else:
            why = f"{error.strerror or error}: {error.filename or folder}"
        return f"backup: today's automatic backup failed ({why}); carrying on without it"
    except sqlite3.Error as error:
        text = str(error).lower()
        why = "the disk is full" if "full" in text else plain_database_error(error)
        return f"backup: today's automatic backup failed ({why}); carrying on without it"
    return None


def check_backup(path: str | os.PathLike[str]) -> Path:
    """Refuse a file that is not a sound QuotaDesk database this version can open: checked
    whole (integrity, QuotaDesk's tables, schema not newer) before anything is replaced."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise BackupError(f"file: {file} does not exist (or is not a file)", "file")
    if not is_sqlite(file):
        raise BackupError(f"file: {file} is not a QuotaDesk backup (not an SQLite file)", "file")
    immutable = nothing_has_it_open(file)
    problem = integrity_problem(file, immutable)
    if problem is not None:
        raise BackupError(f"file: {file} is damaged ({problem[:200]}): choose another backup",
                          "file")
    try:
        names = sqlite_tables(file, immutable)
        with closing(open_read_only(file, immutable)) as conn:
            revision = conn.execute("SELECT version_num FROM alembic_version").fetchone()
    except sqlite3.DatabaseError as error:
        raise BackupError(f"file: {file} is not a QuotaDesk database ({error})", "file") from None
    if not names >= QUOTADESK_TABLES or revision is None:
        raise BackupError(f"file: {file} is not a QuotaDesk database", "file")
    if str(revision[0]) not in known_revisions():
        raise BackupError(f"file: {file} was written by a newer QuotaDesk (schema "
                          f"{revision[0]}): install the newer version to restore it", "file")
    return file


@dataclass(frozen=True)
class Restored:
    """What a restore kept: the database as it was (a sound file), or the damaged file moved
    aside (both in `backups/`)."""

    safety_copy: Path | None
    damaged_kept: Path | None


def restore(desk: Desk, source: str | os.PathLike[str]) -> Restored:
    """Replace the open database's content with a checked backup (File → Restore…)."""
    target = _sqlite_path(desk)
    if desk.database.read_only:
        raise BackupError(f"database: {read_only_text(str(target))}", "database")
    desk.database.engine.dispose()
    result = restore_file(target, source)
    desk.database.engine.dispose()
    migrate(desk.database.engine)
    desk.forget_settings()
    return result


def restore_database(path_or_url: str | os.PathLike[str] | None,
                     source: str | os.PathLike[str]) -> Restored:
    """`quotadesk restore FILE`: works on a database too damaged to open (that is what a
    damaged file's message tells the user to do)."""
    try:
        target = resolve_target(database_url_text(path_or_url))
    except DatabaseUnusable as error:
        raise BackupError(f"database: {error.message}", "database") from None
    if target.path is None:
        raise BackupError("restore: only a SQLite database file can be restored here; use "
                          "pg_restore for PostgreSQL", "restore")
    if target.read_only:
        raise BackupError(f"database: {read_only_text(str(target.path))}", "database")
    try:
        damaged = restorable(target)
    except (DatabaseUnusable, SchemaTooNew) as error:
        message = error.message if isinstance(error, DatabaseUnusable) else str(error)
        raise BackupError(f"database: {message}", "database") from None
    result = restore_file(target.path, source, damaged=damaged)
    database = open_database(target.path, check=False)  # brings an older backup's schema up
    database.dispose()
    return result


def restore_file(target: Path, source: str | os.PathLike[str], *,
                 damaged: bool = False) -> Restored:
    """Check the backup whole, keep what `target` was (a copy of a sound database, or the
    damaged file moved aside), then replace it. A refusal leaves `target` exactly as it was."""
    file = check_backup(source)
    if Path(os.path.realpath(file)) in protected_files(target):
        raise BackupError("file: that is the open database itself, not a backup", "file")
    stamp = f"{datetime.now():%Y%m%d%H%M%S}"
    sound = not damaged and target.exists() and target.stat().st_size > 0
    saved = moved = None
    try:
        if sound:
            saved = copy_sqlite(target, backups_dir(target) /
                                f"{target.stem}-before-restore-{stamp}.db")
        elif target.exists() and target.stat().st_size > 0:
            # Too damaged to copy page by page: moved aside whole, never deleted.
            moved = backups_dir(target) / f"{target.stem}-damaged-{stamp}.db"
            moved.parent.mkdir(parents=True, exist_ok=True)
            os.replace(target, moved)
            for side in SIDE_FILES:
                if Path(str(target) + side).exists():
                    os.replace(Path(str(target) + side), Path(str(moved) + side))
    except OSError as error:
        raise BackupError("restore: the database as it was could not be kept "
                          f"({error.strerror}); nothing was replaced", "restore") from None
    if sound:
        # The backup API writes the whole copy in one transaction of the live file: a restore
        # killed half-way is rolled back by SQLite's journal at the next open, and a desk
        # that has it open waits for it.
        with closing(open_read_only(file, nothing_has_it_open(file))) as src, \
                closing(sqlite3.connect(target, timeout=15)) as dst:
            src.backup(dst)
    else:
        copy_sqlite(file, target, immutable=nothing_has_it_open(file))
    return Restored(saved, moved)


class DatabaseProblem(QuotaDeskError):
    """A database that cannot be used as it is, said so that a person knows what to do."""

    field = "database"


class DatabaseDamaged(DatabaseProblem):
    """A damaged database file: File → Restore… can put a backup in its place."""


def open_desk(path_or_url: str | os.PathLike[str] | None, clock: Clock = system_clock) -> Desk:
    """Open a database for the window: what `--db` names checked, quick integrity check,
    migrations (with a copy kept first), today's rolling backup; every failure a person can
    meet as a plain refusal. A read-only file opens read-only."""
    try:
        desk = Desk(open_database(path_or_url, check=True), clock=clock)
    except SchemaTooNew as error:
        raise DatabaseProblem(f"database: {error}") from None
    except DatabaseUnusable as error:
        raise DatabaseProblem(f"database: {error.message}") from None
    except DatabaseCorrupt as error:
        advice = (f" Restore the latest backup ({error.latest_backup}) with File → Restore…"
                  if error.latest_backup else
                  " Restore a backup with File → Restore…, or open another database.")
        raise DatabaseDamaged(f"database: {error.path} is damaged and was left untouched "
                              f"({error.detail[:200]}).{advice}") from None
    except (SQLAlchemyError, sqlite3.Error, OSError) as error:
        raise DatabaseProblem(f"database: {plain_database_error(error)} "
                              f"({masked(database_url_text(path_or_url))})") from None
    problem = daily_backup_problem(desk)
    if problem is not None:
        log.warning("%s", problem)
        desk.startup_problems.append(problem)
    return desk
