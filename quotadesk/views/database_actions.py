"""The main window's database handling: File ▸ New, Open, Back up and Restore; opening (and
migrating) off the UI thread, with the first-run set-up for a new database."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from PySide6.QtWidgets import QDialog, QFileDialog, QLabel, QMainWindow, QMessageBox

from quotadesk.services import credentials, setup
from quotadesk.services.errors import InvalidValue, QuotaDeskError
from quotadesk.services.unit_of_work import Desk
from quotadesk.views.desk_context import DeskContext, DeskFacts, read_desk_facts
from quotadesk.views.formatting import money_format

if TYPE_CHECKING:
    from PySide6.QtCore import QSettings

    from quotadesk.views.client_list import ClientListPanel
    from quotadesk.views.early_open import EarlyOpen

    _WindowBase = QMainWindow
else:
    _WindowBase = object


def open_desk(path_or_url: str | None, locale: str | None = None) -> DeskFacts:
    """Worker side of opening a database (checked, migrated, today's backup kept); with
    `locale`, its money format is worked out here too (Babel reads its locale data the first
    time: a tenth of a second the UI thread would otherwise spend on the list's first
    paint)."""
    facts = read_desk_facts(setup.open_desk(path_or_url))
    if locale is not None and facts.currency:
        money_format(facts.currency, locale)
    return facts


def restore_desk(desk: Desk, path: str) -> DeskFacts:
    """Worker side of File → Restore…: a checked restore, then the settings again."""
    setup.restore(desk, path)
    return read_desk_facts(desk)


def restore_damaged(database: str, path: str) -> DeskFacts:
    """Worker side of File → Restore… for a database too damaged to open."""
    setup.restore_database(database, path)
    return read_desk_facts(setup.open_desk(database))


class DatabaseActions(_WindowBase):
    """Mixed into `MainWindow` (before `QMainWindow`), which provides what is declared here."""

    #: A database that was refused as damaged, while none is open: what File → Restore…
    #: restores into.
    damaged_db: str | None = None

    if TYPE_CHECKING:
        ctx: DeskContext
        settings: QSettings
        now_text: str | None
        dialogs: dict[str, QDialog]
        db_label: QLabel
        client_list: ClientListPanel

        def adopt(self, facts: DeskFacts, *, rollover: bool = True) -> None: ...
        def say(self, text: str) -> None: ...
        def show_refusal(self, refusal: QuotaDeskError) -> None: ...
        def _update_actions(self) -> None: ...

    def open_database(self, path_or_url: str | None, now: str | None = None,
                      early: EarlyOpen | None = None) -> None:
        """Open (and migrate) a database off the UI thread; offer set-up if it is new.
        `early`: the same database, its opening started before the window was built."""
        self.now_text = now
        self.db_label.setText(self.tr("Opening…"))
        if early is not None:
            self.client_list.say_loading()
            early.when(early.opened, early.is_opened, lambda: self._early_opened(early))
            return
        self.ctx.run_op(self, lambda: open_desk(path_or_url, self.ctx.locale), self._database_opened,
                        progress=self.tr("Opening the database…"),
                        label=self.tr("Open database"),
                        on_refused=lambda refusal: self._open_refused(path_or_url, refusal))

    def _early_opened(self, early: EarlyOpen) -> None:
        if early.facts is not None and early.facts.initialised:
            self.client_list.take_early(early)
        else:
            self.client_list.update_count()  # no list to load: no longer "Loading clients…"
        if early.refusal is not None:
            self._open_refused(early.path_or_url, early.refusal)
        elif early.facts is None:  # failed, and reported as such
            self.db_label.setText(self._db_text())
        else:
            self._database_opened(early.facts)

    def _open_refused(self, path_or_url: str | None, refusal: QuotaDeskError) -> None:
        # A damaged file: File → Restore… can put a backup in its place (the damaged file is
        # moved aside, never deleted).
        damaged = isinstance(refusal, setup.DatabaseDamaged) and self.ctx.desk is None
        self.damaged_db = path_or_url if damaged else None
        self._update_actions()
        self.db_label.setText(self._db_text())
        self.show_refusal(refusal)

    def _database_opened(self, facts: DeskFacts) -> None:
        if facts.initialised:
            self.adopt(facts)
            return
        from quotadesk.views.dialogs.first_run import FirstRunDialog  # (the demo's services)

        dialog = FirstRunDialog(self.ctx, facts.desk, self)
        dialog.ready.connect(self.adopt)
        dialog.rejected.connect(lambda: self._first_run_skipped(facts))
        self.dialogs["first-run"] = dialog
        dialog.open()

    def _first_run_skipped(self, facts: DeskFacts) -> None:
        if self.ctx.desk is not facts.desk:
            facts.desk.close()
        self._update_actions()
        self.db_label.setText(self._db_text())

    def _remember_database(self, url: str) -> None:
        """The database to open next time: its URL without a password, which goes to the
        operating system's credential store."""
        try:
            bare = credentials.remember(url)
        except credentials.CredentialStoreMissing:
            bare, _ = credentials.without_password(url)
            self.say(self.tr("The database password was not kept: this computer has no "
                             "credential store, so it will be asked for again."))
        self.settings.setValue("database/last", bare)

    def _db_name(self) -> str:
        desk = self.ctx.desk
        if desk is None:
            return ""
        path = desk.database.path
        return path.name if path is not None else desk.database.shown

    def _db_text(self) -> str:
        desk = self.ctx.desk
        if desk is None:
            return self.tr("No database open")
        text = desk.database.shown
        return text + self.tr(" (read-only)") if desk.database.read_only else text

    def choose_database(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Open database"), "",
                                              self.tr("QuotaDesk databases (*.db);;All files (*)"))
        if path:
            self.open_database(path, self.now_text)

    def new_database(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("New database"), "quotadesk.db",
                                              self.tr("QuotaDesk databases (*.db)"))
        if path:
            if os.path.exists(path):
                self.show_refusal(InvalidValue(
                    self.tr("database: {path} already exists; use Open database").format(
                        path=path), "database"))
                return
            self.open_database(path, self.now_text)

    def choose_backup(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Back up the database"),
                                              "quotadesk-backup.db",
                                              self.tr("QuotaDesk databases (*.db)"))
        if path:
            self.backup_to(path)

    def backup_to(self, path: str) -> None:
        desk = self.ctx.desk
        if desk is None:
            return
        self.ctx.run_op(self, lambda: setup.backup(desk, path),
                        lambda written: self.say(self.tr("Backed up to {path}").format(
                            path=written)),
                        progress=self.tr("Backing up…"), label=self.tr("Back up"))

    def choose_restore(self) -> None:
        if self.ctx.desk is None and self.damaged_db is None:
            return
        path, _ = QFileDialog.getOpenFileName(self, self.tr("Restore from a backup"), "",
                                              self.tr("QuotaDesk databases (*.db)"))
        if not path:
            return
        answer = QMessageBox.question(self, self.tr("Restore from a backup?"), self.tr(
            "Replace everything in {db} with the backup {path}? A copy of the database as it "
            "is now is kept in its backups folder first.").format(
                db=self._db_text() if self.ctx.desk is not None else self.damaged_db,
                path=path))
        if answer == QMessageBox.StandardButton.Yes:
            self.restore_from(path)

    def restore_from(self, path: str) -> None:
        desk, damaged = self.ctx.desk, self.damaged_db
        if desk is not None:
            work: Any = lambda: restore_desk(desk, path)  # noqa: E731
        elif damaged is not None:
            work = lambda: restore_damaged(damaged, path)  # noqa: E731
        else:
            return

        def done(facts: DeskFacts) -> None:
            self.damaged_db = None
            self.adopt(facts)
            self.say(self.tr("Restored from {path}").format(path=path))

        self.ctx.run_op(self, work, done, progress=self.tr("Restoring…"),
                        label=self.tr("Restore"))
