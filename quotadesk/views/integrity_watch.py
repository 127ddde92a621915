"""The window's side of the integrity check that runs beside a database's first reads
(`quotadesk.db.integrity`): the rollover waits for a sound verdict, a damaged file is refused
as an open would refuse it, and a failed automatic backup is said."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QTimer

from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.setup import DatabaseDamaged

POLL_MS = 100


def damaged_refusal(problem: Any) -> QuotaDeskError:
    """The same words as a refused open (`setup.open_desk`)."""
    advice = (f" Restore the latest backup ({problem.latest_backup}) with File → Restore…"
              if problem.latest_backup else
              " Restore a backup with File → Restore…, or open another database.")
    return DatabaseDamaged(f"database: {problem.path} is damaged and was left untouched "
                           f"({problem.detail[:200]}).{advice}")


def start_integrity_check(desk: Any) -> None:
    """The window's first reads of `desk` are done: its integrity check may start (it waits
    for them, not to slow them down; see `IntegrityCheck`)."""
    check = getattr(desk.database, "integrity", None) if desk is not None else None
    if check is not None:
        check.go()


def after_integrity_check(parent: QObject, desk: Any, on_sound: Callable[[], None] | None,
                          on_damaged: Callable[[QuotaDeskError, str], None],
                          on_backup_failed: Callable[[str], None]) -> None:
    """Call `on_sound` once `desk`'s file is known sound (at once when it was checked
    before it opened), or `on_damaged(refusal, path)`; then `on_backup_failed(why)` if
    today's backup, taken after the verdict, failed."""
    check = getattr(desk.database, "integrity", None)
    if check is None:
        if on_sound is not None:
            on_sound()
        return
    timer = QTimer(parent)
    timer.setInterval(POLL_MS)
    told = [False]

    def poll() -> None:
        if not check.done():
            return
        if not told[0]:
            told[0] = True
            if check.problem is not None:
                timer.stop()
                timer.deleteLater()
                on_damaged(damaged_refusal(check.problem), str(check.path))
                return
            if on_sound is not None:
                on_sound()
        if check.chores_done.is_set():
            timer.stop()
            timer.deleteLater()
            if check.backup_problem:
                on_backup_failed(check.backup_problem)

    timer.timeout.connect(poll)
    timer.start()
