"""The integrity check of a database the window opens, run beside its first reads."""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from quotadesk.db import DatabaseCorrupt


#: The longest a check waits for the window's first reads before it starts anyway (seconds).
HOLD_S = 10.0


class IntegrityCheck:
    """SQLite's quick check of a file just opened, in a thread of its own (SQLite lets go of
    the GIL while it reads), so that the window's first screenful is not kept waiting for it
    (seconds for a large file). SPEC §8's promise still holds, differently timed: reads go
    ahead meanwhile; every write waits for the verdict and is refused on a damaged file;
    today's automatic backup is taken after a sound verdict only (a damaged file is never
    copied over a good backup); and the window, told the verdict, refuses a damaged file
    exactly as an open would have.

    It starts once the window has shown the client list (`go`), so that its reading does not
    compete with the list's for the disk and the cores, or after `HOLD_S` at the latest; a
    write that needs the verdict starts it at once."""

    def __init__(self, url: str, path: Path) -> None:
        self.url, self.path = url, path
        self.problem: DatabaseCorrupt | None = None
        #: Today's automatic backup, taken after the verdict, failed: why, in one line.
        self.backup_problem: str | None = None
        self._lock = threading.Lock()
        self._finished = False
        self._after: list[Callable[[], None]] = []
        self._done = threading.Event()
        self._go = threading.Event()
        #: Set once what waited for a sound verdict (today's backup) is done too.
        self.chores_done = threading.Event()
        with _checks_lock:
            _checks[path] = self
        threading.Thread(target=self._run, name="quotadesk-integrity-check",
                         daemon=True).start()

    def _run(self) -> None:
        from quotadesk.db import DatabaseCorrupt, check_integrity, latest_backup, plain_database_error

        self._go.wait(HOLD_S)
        _lowest_priority()
        try:
            check_integrity(self.url)
        except DatabaseCorrupt as error:
            self.problem = error
        except Exception as error:  # the file went away, a lock: the open would have failed
            self.problem = DatabaseCorrupt(self.path, plain_database_error(error),
                                           latest_backup(self.path))
        with self._lock:
            self._finished = True
            after, self._after = self._after, []
        with _checks_lock:
            if _checks.get(self.path) is self:
                del _checks[self.path]
        self._done.set()
        try:
            if self.problem is None:
                for work in after:
                    work()
        finally:
            self.chores_done.set()

    def go(self) -> None:
        """The window's first reads are done: check now."""
        self._go.set()

    def done(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> DatabaseCorrupt | None:
        """The verdict: None when the file is sound (asking for it starts the check)."""
        self._go.set()
        self._done.wait(timeout)
        return self.problem

    def require_sound(self) -> None:
        problem = self.wait()
        if problem is not None:
            raise problem

    def after_sound(self, work: Callable[[], None]) -> bool:
        """Run `work` in the check's thread once the file is found sound; False when the
        verdict is already in (do it now, or not at all)."""
        with self._lock:
            if self._finished:
                return False
            self._after.append(work)
            return True


def _lowest_priority() -> None:
    """This thread yields the processor to every other (the window's above all): the check
    reads the whole file, seconds of work that nobody waits for. Linux lets a thread's
    niceness be set alone; elsewhere the check runs at the process's priority."""
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)


_checks: dict[Path, IntegrityCheck] = {}
_checks_lock = threading.Lock()
#: Set by the window (`check_in_background`); the command line checks before it opens.
_background = [False]


def check_in_background(enabled: bool = True) -> None:
    """Open databases with their integrity check beside the first reads (the window)."""
    _background[0] = enabled


def checks_in_background() -> bool:
    return _background[0]


def after_sound(database: Path, work: Callable[[], object]) -> bool:
    """Run `work` (today's backup) once the check running on `database` finds it sound, in
    the check's thread; False when no check is running (do it now). A failure is kept as
    the check's `backup_problem` and logged."""
    with _checks_lock:
        check = _checks.get(database)
    return check is not None and check.after_sound(lambda: _chore(check, work))


def _chore(check: IntegrityCheck, work: Callable[[], object]) -> None:
    from quotadesk.db import plain_database_error

    try:
        work()
    except (OSError, sqlite3.Error) as error:
        check.backup_problem = (f"backup: today's automatic backup failed "
                                f"({plain_database_error(error)}); carrying on without it")
        logging.getLogger(__name__).warning("%s", check.backup_problem)
