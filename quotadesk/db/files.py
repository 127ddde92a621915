"""What a `--db` names, which files a command may write, and files readable by their owner only.

SPEC §8 "Files and secrets": a missing folder is refused (never created); an existing empty file
is adopted as a new database; a file that is not QuotaDesk's is refused, never adopted; an
in-memory database is refused; a password in a URL is shown as `***`; a command never writes
over the open database, its side files or a backup; files QuotaDesk writes are 0600.
"""

from __future__ import annotations

import errno
import os
import sqlite3
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError

from quotadesk.services.errors import echo

SQLITE_HEADER = b"SQLite format 3\x00"
#: The side files SQLite keeps beside a database.
SIDE_FILES = ("-wal", "-shm", "-journal")
#: The tables every QuotaDesk database has (a file with other tables is another program's).
QUOTADESK_TABLES = frozenset({"alembic_version", "settings", "clients", "ledger_entries"})
PRIVATE = 0o600


class DatabaseUnusable(Exception):
    """A `--db` that cannot be used as it is; the message says why and what to do. Nothing
    was created or changed."""

    @property
    def message(self) -> str:
        return str(self.args[0])


class DatabaseMalformed(DatabaseUnusable):
    """An SQLite file whose pages cannot be read: damaged (the caller names a backup)."""


class DatabaseReadOnly(DatabaseUnusable):
    """A write to a database opened read-only (its file or folder cannot be written)."""


class UnsafeTarget(Exception):
    """A file a command was asked to write that it must not write (or cannot)."""

    field = "file"

    @property
    def message(self) -> str:
        return str(self.args[0])


def masked(url: str) -> str:
    """A URL fit to print, log or show: its password (if any) as `***`."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return url.split("@")[-1] if "@" in url else url
    if parsed.password is None:
        return url
    return parsed.render_as_string(hide_password=True)


def without_password(url: str) -> tuple[str, str | None]:
    """The URL with no password in it (for settings), and the password (for the keyring)."""
    parsed = make_url(url)
    if parsed.password is None:
        return url, None
    # URL.set(password=None) keeps the password ("None: unchanged"): replace the field.
    bare = parsed._replace(password=None)
    return bare.render_as_string(hide_password=False), str(parsed.password)


def with_password(url: str, password: str) -> str:
    return make_url(url).set(password=password).render_as_string(hide_password=False)


@dataclass(frozen=True)
class Target:
    """Where a database lives: a SQLite file (`path`) or a server (`url`)."""

    url: str
    path: Path | None = None
    read_only: bool = False
    new: bool = False

    @property
    def shown(self) -> str:
        return str(self.path) if self.path is not None else masked(self.url)


SUPPORTED = ("sqlite", "postgresql")


def resolve_target(value: str) -> Target:
    """Check what `--db` names before anything touches it (SPEC §8)."""
    if "://" not in value:
        return _sqlite_target(Path(os.path.expanduser(value)))
    try:
        url = make_url(value)
    except ArgumentError:
        raise DatabaseUnusable(f"{echo(value)} is neither a database file nor a database "
                               "URL (sqlite:///PATH or postgresql+psycopg://…)") from None
    backend = url.get_backend_name()
    if backend not in SUPPORTED:
        raise DatabaseUnusable(f"{backend!r} databases are not supported: use a SQLite file or "
                               "a PostgreSQL server (postgresql+psycopg://…)")
    try:
        url.get_dialect()
    except (NoSuchModuleError, ImportError, AttributeError):
        driver = url.get_driver_name() or "?"
        raise DatabaseUnusable(f"the {backend} driver {driver!r} is not known or not installed "
                               "(use postgresql+psycopg:// with the postgres extra)") from None
    if backend == "sqlite":
        if not url.database or url.database == ":memory:" or url.database.startswith("file::memory"):
            raise DatabaseUnusable("an in-memory database is lost when the command ends: "
                                   "name a database file")
        return _sqlite_target(Path(url.database))
    if backend == "postgresql":
        try:
            __import__(_driver_module(url))
        except ImportError:
            raise DatabaseUnusable(f"the PostgreSQL driver {url.get_driver_name()!r} is not "
                                   "installed (install QuotaDesk's postgres extra and use "
                                   "postgresql+psycopg://…)") from None
    return Target(url=url.render_as_string(hide_password=False))


def _driver_module(url: URL) -> str:
    module = url.get_dialect().import_dbapi()
    return str(module.__name__)


def _sqlite_target(path: Path) -> Target:
    if str(path) in ("", ":memory:"):
        raise DatabaseUnusable("an in-memory database is lost when the command ends: "
                               "name a database file")
    path = Path(os.path.abspath(path))
    url = "sqlite:///" + str(path)
    if path.is_dir():
        raise DatabaseUnusable(f"{path} is a folder: name a database file in it "
                               f"(for example {path / 'quotadesk.db'})")
    folder = path.parent
    if not folder.is_dir():
        raise DatabaseUnusable(f"the folder {folder} does not exist: create it first, or "
                               "choose another place (nothing was created)")
    if not path.exists():
        if not _writable(folder):
            raise DatabaseUnusable(f"cannot create {path}: the folder {folder} is read-only")
        return Target(url=url, path=path, new=True)
    if not path.is_file():
        raise DatabaseUnusable(f"{path} is not a regular file")
    try:
        with path.open("rb") as handle:
            head = handle.read(len(SQLITE_HEADER))
    except OSError as error:
        raise DatabaseUnusable(f"{path} cannot be read ({error.strerror or error})") from None
    read_only = not _writable(path) or not _writable(folder)
    if not head:
        if read_only:
            raise DatabaseUnusable(f"{path} is empty and read-only: it cannot become a database")
        os.chmod(path, PRIVATE)  # an empty file is adopted, readable by its owner only
        return Target(url=url, path=path, new=True)
    if head != SQLITE_HEADER:
        raise DatabaseUnusable(f"{path} is not a QuotaDesk database (it is not an SQLite "
                               "file); nothing was changed")
    if read_only:
        wal = Path(str(path) + "-wal")
        if not _writable(folder) and wal.exists() and wal.stat().st_size > 0:
            raise DatabaseUnusable(
                f"{path} is read-only and holds changes not yet folded into it ({wal.name}): "
                "open it once where it can be written, or copy the folder")
        url = _read_only_url(path, immutable=not _writable(folder))
    return Target(url=url, path=path, read_only=read_only)


def _read_only_url(path: Path, immutable: bool) -> str:
    # In a read-only folder SQLite cannot make its shared-memory file: `immutable` reads the
    # file as it is (there is no writer there to wait for).
    return f"sqlite:///file:{path}?{read_only_options(immutable)}&uri=true"


def read_only_options(immutable: bool) -> str:
    """SQLite URI options for reading a file without writing to it."""
    return "mode=ro&immutable=1" if immutable else "mode=ro"


def open_read_only(path: Path, immutable: bool = False, timeout: float = 15) -> sqlite3.Connection:
    """A connection that only reads `path`; a damaged page's bytes are decoded leniently.
    (Close it: `with closing(open_read_only(...))`.)"""
    conn = sqlite3.connect(f"file:{path}?{read_only_options(immutable)}", uri=True,
                           timeout=timeout)
    conn.text_factory = lambda raw: raw.decode("utf-8", "replace")
    return conn


def nothing_has_it_open(path: Path) -> bool:
    """No write-ahead log beside it: safe to read as an immutable file (and reading it then
    leaves no side files)."""
    return not Path(str(path) + "-wal").exists()


def disk_full(folder: Path) -> bool:
    try:
        stats = os.statvfs(folder)
    except (OSError, AttributeError):  # no statvfs on Windows
        return False
    return stats.f_bavail * stats.f_frsize < 64 * 1024


def _writable(path: Path) -> bool:
    return os.access(path, os.W_OK)


def sqlite_tables(path: Path, immutable: bool = False) -> set[str]:
    """The table names of a SQLite file (read-only)."""
    with closing(open_read_only(path, immutable)) as conn:  # (a damaged schema decodes)
        query = "SELECT name FROM sqlite_master WHERE type='table'"
        return {str(r[0]) for r in conn.execute(query)}


def refuse_foreign(path: Path, immutable: bool = False) -> bool:
    """True when the SQLite file has no tables yet (adopt it); refuse another program's."""
    try:
        tables = sqlite_tables(path, immutable)
    except UnicodeDecodeError:
        raise DatabaseMalformed("unreadable pages: the schema itself is garbled") from None
    except sqlite3.DatabaseError as error:
        text = str(error).lower()
        if "malformed" in text:
            raise DatabaseMalformed(str(error)) from None
        if "not a database" in text:
            raise DatabaseUnusable(f"{path} is not a QuotaDesk database ({error}); nothing "
                                   "was changed") from None
        if disk_full(path.parent):  # SQLite cannot even make its shared-memory file
            raise DatabaseUnusable("the disk is full: free some space, then try again "
                                   "(nothing was written)") from None
        raise DatabaseUnusable(f"{path} cannot be read ({error}); nothing was changed") from None
    if not tables:
        return True
    if not tables >= QUOTADESK_TABLES:
        raise DatabaseUnusable(f"{path} is an SQLite database of another program, not a "
                               "QuotaDesk database: it was left untouched")
    return False


@contextmanager
def no_new_side_files(path: Path) -> Iterator[None]:
    """Inspecting a WAL database read-only makes SQLite create its `-wal` and `-shm` files,
    which a read-only connection cannot remove: a refused file is left as it was found."""
    sides = [Path(str(path) + side) for side in SIDE_FILES[:2]]  # ("-journal" needs a writer)
    existed = [p.exists() for p in sides]
    try:
        yield
    except BaseException:
        for side, was in zip(sides, existed, strict=True):
            if not was:
                side.unlink(missing_ok=True)
        raise


# -- what a command may write ---------------------------------------------------------------
def protected_files(database: Path | None) -> list[Path]:
    """The open database and its side files (resolved)."""
    if database is None:
        return []
    real = Path(os.path.realpath(database))
    return [real] + [Path(str(real) + side) for side in SIDE_FILES]


def check_output(target: str | os.PathLike[str], database: Path | None, *,
                 backups: Path | None = None, make_folder: bool = False) -> Path:
    """Refuse a file a command must not write: the database, its side files or a backup (by
    any path: relative, `./`, a symlink, a hard link), another database, a folder, a missing
    folder. Returns the path to write."""
    raw = os.fspath(target)
    if not raw.strip():
        raise UnsafeTarget("file: a file name is required")
    path = Path(os.path.abspath(os.path.expanduser(raw)))
    real = Path(os.path.realpath(path))
    if real.is_dir():
        raise UnsafeTarget(f"file: {path} is a folder: name a file in it")
    if not real.parent.is_dir() and not (make_folder and not real.parent.exists()):
        raise UnsafeTarget(f"file: the folder {real.parent} does not exist")
    protected = protected_files(database)
    same = real in protected or any(_same_file(real, p) for p in protected)
    if same:
        raise UnsafeTarget(f"file: {path} is the open database (or one of its files), which a "
                           "command must not overwrite: choose another name; nothing was written")
    if backups is not None and real.parent == Path(os.path.realpath(backups)):
        raise UnsafeTarget(f"file: {path} is in the automatic backups folder, which a command "
                           "must not overwrite: choose another place; nothing was written")
    if real.is_file() and is_sqlite(real):
        raise UnsafeTarget(f"file: {path} is a database (or a backup), which a command must "
                           "not overwrite: choose another name; nothing was written")
    return path


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def is_sqlite(path: Path) -> bool:
    """Does the file start with SQLite's header? (False when it cannot be read.)"""
    try:
        with path.open("rb") as handle:
            return handle.read(len(SQLITE_HEADER)) == SQLITE_HEADER
    except OSError:
        return False


def partial_of(path: Path) -> Path:
    return path.with_name(path.name + ".partial")


def create_private(path: Path) -> None:
    """Create (or truncate) `path` readable by its owner only."""
    fd = os.open(path, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, PRIVATE)
    os.close(fd)
    os.chmod(path, PRIVATE)


@contextmanager
def private_output(path: Path, mode: str = "w", **options: Any) -> Iterator[IO[Any]]:
    """Write `path` whole or not at all: into `path.partial` (0600), then renamed over it.
    On any failure the partial file is removed and `path` is as it was."""
    partial = partial_of(path)
    try:
        partial.unlink(missing_ok=True)
        create_private(partial)
        with partial.open(mode, **options) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def output_error(path: Path, error: OSError) -> UnsafeTarget:
    """An OSError while writing `path`, said plainly (and about the file, not the database)."""
    if error.errno == errno.ENOSPC:
        why = "the disk is full"
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        why = "it (or its folder) is read-only"
    else:
        why = error.strerror or str(error)
    return UnsafeTarget(f"file: cannot write {path}: {why}; nothing was written")


# -- leftovers -------------------------------------------------------------------------------
#: A partial file untouched for this long belongs to a command that died (Windows has no
#: advisory lock to ask).
STALE_AFTER_S = 3600


def clean_leftovers(database: Path) -> list[Path]:
    """Remove what an interrupted backup, restore or export left beside the database or in
    its backups folder: `*.partial` files (and their journals) that no running command
    holds. Returns what was removed."""
    removed: list[Path] = []
    for folder in (database.parent, database.parent / "backups"):
        try:
            candidates = [p for p in folder.iterdir()
                          if p.name.endswith((".partial", ".partial-journal", ".partial-wal",
                                              ".partial-shm"))]
        except OSError:
            continue
        for leftover in candidates:
            owner = leftover.with_name(leftover.name[:leftover.name.rindex(".partial") + 8])
            if _held(leftover) or (owner != leftover and owner.exists() and _held(owner)):
                continue
            try:
                leftover.unlink()
                removed.append(leftover)
            except OSError:
                pass
    return removed


def _held(path: Path) -> bool:
    """Is another process still writing this file? (An exclusive lock says; without
    `fcntl`, a file changed in the last hour is taken to be in use.)"""
    try:
        import fcntl
    except ImportError:
        try:
            return time.time() - path.stat().st_mtime < STALE_AFTER_S
        except OSError:
            return True
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    finally:
        os.close(fd)
    return False


@contextmanager
def held(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on `path` while it is written (see `clean_leftovers`)."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(path, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)
