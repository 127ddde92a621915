"""The main window: menus, toolbar, the client list beside the agency card or a client's
page, a status bar; geometry and splitter remembered between sessions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC
from typing import TYPE_CHECKING, TypeVar
from zoneinfo import ZoneInfo

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QMainWindow,
    QMessageBox,
    QSplitter,
    QStackedWidget,
    QStyle,
    QToolBar,
    QWidget,
)

from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.results import ClientInfo, RolloverResult
from quotadesk.services.unit_of_work import fixed_clock
from quotadesk.services.usage import parse_time
from quotadesk.views.agency_card import AgencyCard
from quotadesk.views.client_list import ClientListPanel
from quotadesk.views.client_page.page import ClientPage
from quotadesk.views.database_actions import DatabaseActions
from quotadesk.views.desk_context import DeskContext, DeskFacts
from quotadesk.views.dialogs.usage import run_rollover
from quotadesk.views.integrity_watch import after_integrity_check, start_integrity_check
from quotadesk.views.mail_status import MailStatus
from quotadesk.views.ops import Changes
from quotadesk.views.widgets import ShortcutsFirst, plain_label, refusal_text

if TYPE_CHECKING:  # imported where first used: the window opens without them
    from quotadesk.views.audit_screen import AuditLogDialog
    from quotadesk.views.dialogs.catalog import PacksDialog, PlansDialog
    from quotadesk.views.dialogs.client import ClientDialog
    from quotadesk.views.dialogs.settings import SettingsDialog
    from quotadesk.views.dialogs.subscription import CancelSubscriptionDialog
    from quotadesk.views.dialogs.usage import ImportUsageDialog, RecordUsageDialog
    from quotadesk.views.outbox_screen import OutboxDialog
    from quotadesk.views.payments_screen import PaymentsScreen

D = TypeVar("D", bound=QDialog)


class MainWindow(DatabaseActions, QMainWindow):
    def __init__(self, ctx: DeskContext, settings: QSettings | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.settings = settings if settings is not None else QSettings()
        self.now_text: str | None = None
        self._select_after_load: int | None = None
        self.dialogs: dict[str, QDialog] = {}
        self.setObjectName("mainWindow")
        self.setWindowTitle(self.tr("QuotaDesk"))
        self.setAccessibleName(self.tr("QuotaDesk"))

        self.client_list = ClientListPanel(ctx)
        self.agency = AgencyCard(ctx)
        self.client_page = ClientPage(ctx)
        self.stack = QStackedWidget()
        self.stack.setObjectName("detailStack")
        self.stack.addWidget(self.agency)
        self.stack.addWidget(self.client_page)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(self.client_list)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([900, 600])  # the list's six columns, the agency card's tiles
        self.setCentralWidget(self.splitter)

        self._make_actions()
        self._make_menus()
        self._make_toolbar()
        self._make_status_bar()

        self.client_list.client_selected.connect(self._client_selected)
        self.client_list.add_requested.connect(self.add_client)
        self.client_list.edit_requested.connect(self.edit_client)
        self.client_list.cancel_requested.connect(self.cancel_subscription)
        self.client_list.loaded.connect(self._list_loaded)
        self.client_list.settled.connect(lambda: start_integrity_check(self.ctx.desk))
        self.agency.load_after(self.client_list.loaded)
        self.shortcuts_first = ShortcutsFirst([self.record_action.shortcut()], self)
        self.client_list.search.installEventFilter(self.shortcuts_first)
        self.client_page.message.connect(self.say)
        ctx.busy_changed.connect(self._busy_changed)
        ctx.changed.connect(self._desk_changed)
        self._update_actions()
        self.restore_state()

    # -- building ------------------------------------------------------------------------
    def _action(self, text: str, slot: object, shortcut: QKeySequence | str | None = None,
                icon: QStyle.StandardPixmap | None = None, tip: str = "") -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if icon is not None:
            action.setIcon(self.style().standardIcon(icon))
        action.setStatusTip(tip or text.replace("&", "").rstrip("…"))
        action.setToolTip(tip or text.replace("&", "").rstrip("…"))
        action.triggered.connect(slot)  # type: ignore[arg-type]
        return action

    def _make_actions(self) -> None:
        sp = QStyle.StandardPixmap
        a = self._action
        self.new_db_action = a(self.tr("&New database…"), self.new_database,
                               QKeySequence.StandardKey.New, sp.SP_FileIcon)
        self.open_db_action = a(self.tr("&Open database…"), self.choose_database,
                                QKeySequence.StandardKey.Open, sp.SP_DialogOpenButton)
        self.backup_action = a(self.tr("&Back up…"), self.choose_backup, "Ctrl+Shift+B",
                               sp.SP_DialogSaveButton, self.tr("Write a consistent copy of the "
                                                               "database"))
        self.restore_action = a(self.tr("&Restore…"), self.choose_restore, None,
                                sp.SP_DialogResetButton, self.tr(
                                    "Replace the database with a checked backup"))
        self.quit_action = a(self.tr("&Quit"), self.close, QKeySequence.StandardKey.Quit)
        self.add_client_action = a(self.tr("&Add client…"), self.add_client, "Ctrl+Shift+N",
                                   sp.SP_FileDialogNewFolder)
        self.plans_action = a(self.tr("&Plans…"), self.open_plans, "Ctrl+Shift+P",
                              sp.SP_FileDialogDetailedView, self.tr("Billing plans"))
        self.packs_action = a(self.tr("&Add-on packs…"), self.open_packs, "Ctrl+Shift+K",
                              sp.SP_FileDialogContentsView, self.tr("Add-on pack catalog"))
        self.record_action = a(self.tr("&Record usage…"), self.record_usage, "Ctrl+U",
                               sp.SP_MediaPlay)
        self.import_action = a(self.tr("&Import usage file…"), self.import_usage, "Ctrl+I",
                               sp.SP_ArrowDown)
        self.rollover_action = a(self.tr("Run period &rollover"), self.rollover, "Ctrl+R",
                                 sp.SP_BrowserReload, self.tr("Close every period that ended "
                                                              "by now"))
        self.agency_action = a(self.tr("A&gency overview"), self.show_agency, "Ctrl+0",
                               sp.SP_ComputerIcon)
        self.portal_action = a(self.tr("Client &portal preview"), self.show_portal, "Ctrl+P",
                               sp.SP_FileDialogInfoView)
        self.about_action = a(self.tr("&About QuotaDesk"), self.about)
        self.payments_action = a(self.tr("&Payment requests…"), self.open_payments,
                                 "Ctrl+Shift+Y", sp.SP_FileDialogListView,
                                 self.tr("Every client's payment requests"))
        self.audit_action = a(self.tr("&Audit log…"), self.open_audit, "Ctrl+Shift+L", None,
                              self.tr("Who changed what, when"))
        self.outbox_action = a(self.tr("&Outbox…"), self.open_outbox, "Ctrl+Shift+O", None,
                               self.tr("E-mails owed to clients: waiting, sent, failed"))
        self.settings_action = a(self.tr("&Settings…"), self.open_settings,
                                 QKeySequence.StandardKey.Preferences, None,
                                 self.tr("The agency, the mail server, tax, templates"))
        self.desk_actions = [self.backup_action, self.restore_action, self.add_client_action,
                             self.plans_action,
                             self.packs_action, self.record_action, self.import_action,
                             self.rollover_action, self.agency_action, self.payments_action,
                             self.audit_action, self.outbox_action, self.settings_action]

    def _make_menus(self) -> None:
        bar = self.menuBar()
        file = bar.addMenu(self.tr("&File"))
        file.addActions([self.new_db_action, self.open_db_action])
        file.addSeparator()
        file.addActions([self.backup_action, self.restore_action])
        file.addSeparator()
        file.addAction(self.settings_action)
        file.addSeparator()
        file.addAction(self.quit_action)
        clients_menu = bar.addMenu(self.tr("&Clients"))
        clients_menu.addActions([self.add_client_action, self.agency_action,
                                 self.portal_action])
        catalog = bar.addMenu(self.tr("C&atalog"))
        catalog.addActions([self.plans_action, self.packs_action])
        usage = bar.addMenu(self.tr("&Usage"))
        usage.addActions([self.record_action, self.import_action])
        billing_menu = bar.addMenu(self.tr("&Billing"))
        billing_menu.addActions([self.payments_action, self.outbox_action, self.audit_action])
        billing_menu.addSeparator()
        billing_menu.addAction(self.rollover_action)
        help_menu = bar.addMenu(self.tr("&Help"))
        help_menu.addAction(self.about_action)

    def _make_toolbar(self) -> None:
        bar = QToolBar(self.tr("Main toolbar"))
        bar.setObjectName("mainToolbar")
        bar.setMovable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.addActions([self.agency_action, self.add_client_action])
        bar.addSeparator()
        bar.addActions([self.record_action, self.import_action, self.rollover_action])
        bar.addSeparator()
        bar.addActions([self.plans_action, self.packs_action, self.portal_action])
        self.addToolBar(bar)
        self.toolbar = bar

    def _make_status_bar(self) -> None:
        status = self.statusBar()
        status.setObjectName("statusBar")
        self.busy_label = plain_label("", name="busyLabel")
        self.clock_label = plain_label("", name="statusPart")
        self.desk_label = plain_label("", name="statusPart")
        self.db_label = plain_label(self.tr("No database open"), name="statusPart")
        self.mail_label = plain_label("", name="statusPart")
        self.mail_label.setObjectName("mailStatus")
        self.mail_label.hide()
        self.mail = MailStatus(self.ctx, self.mail_label)
        for label in (self.busy_label, self.mail_label, self.clock_label, self.desk_label,
                      self.db_label):
            status.addPermanentWidget(label)

    def _close_client_page(self) -> None:
        self.client_page.show_client(None)
        self.stack.setCurrentWidget(self.agency)

    def adopt(self, facts: DeskFacts, *, rollover: bool = True) -> None:
        """Make this the open desk: apply --now, load every panel, close ended periods."""
        if self.now_text:
            try:
                moment = parse_time(self.now_text, ZoneInfo(facts.timezone or "UTC"), "now")
            except QuotaDeskError as refusal:
                self.show_refusal(refusal)
            else:
                facts.desk.clock = fixed_clock(moment.astimezone(UTC))
        self._close_client_page()
        self.ctx.adopt(facts)
        if not facts.read_only:
            self.mail.start()
        self._remember_database(facts.desk.database.url)
        self.db_label.setText(self._db_text())
        self.desk_label.setText(f"{facts.currency} · {facts.timezone}")
        self.clock_label.setText(self.tr("Clock fixed at {when}").format(
            when=self.ctx.fmt.when(facts.desk.clock())) if self.now_text else "")
        title = self.tr("QuotaDesk — {name}").format(name=self._db_name())
        if facts.read_only:
            title += self.tr(" (read-only)")
        self.setWindowTitle(title)
        self._update_actions()
        problems = list(facts.desk.startup_problems)
        facts.desk.startup_problems.clear()
        if facts.read_only:
            problems.insert(0, self.tr(
                "{name} is read-only: it is open read-only, to look at; nothing can be "
                "changed in it, and no rollover runs. To work in it, move it (or copy it) to a "
                "folder you can write to.").format(name=facts.shown))
        # The integrity check may still run beside the first reads (SPEC §8): the rollover,
        # a write, starts once the file is known sound; a damaged file is refused then.
        after_integrity_check(
            self, facts.desk, (lambda: run_rollover(self.ctx, self, self._rolled_over,
                                                    quiet=True))
            if rollover and not facts.read_only else None, self._found_damaged,
            lambda why: self.show_notice(why, self.tr("Today's automatic backup failed")))
        if problems:
            self.show_notice("\n\n".join(problems),
                             self.tr("Opened read-only") if facts.read_only else
                             self.tr("Today's automatic backup failed"))

    def _found_damaged(self, refusal: QuotaDeskError, database: str) -> None:
        """The check beside the first reads found the file damaged: closed, and refused as
        an open would have refused it (File → Restore… puts a backup in its place)."""
        desk, self.ctx.desk = self.ctx.desk, None
        self._close_client_page()
        self.ctx.changed.emit(Changes.everything())
        if desk is not None:
            self.ctx.wait_idle()
            desk.close()
        self.setWindowTitle(self.tr("QuotaDesk"))
        self._open_refused(database, refusal)

    def show_notice(self, text: str, status: str) -> None:
        """Something true the user should know that stopped nothing (read-only, a failed
        daily backup): a plain dialog, not only the log; `status` for the status bar."""
        self.say(status)
        box = QMessageBox(QMessageBox.Icon.Information, self.tr("QuotaDesk"), text,
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("noticeBox")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialogs["notice"] = box
        box.open()

    # -- navigation ----------------------------------------------------------------------
    def _client_selected(self, client_id: int | None) -> None:
        if client_id is None:
            self._close_client_page()
        else:
            row = self.client_list.row(client_id)
            self.client_page.show_client(client_id, row.name if row else "")
            self.stack.setCurrentWidget(self.client_page)
        self._update_actions()

    def show_agency(self) -> None:
        self.client_list.select_client(None)
        self.stack.setCurrentWidget(self.agency)

    def show_portal(self) -> None:
        if self.client_list.selected_id() is None:
            self.say(self.tr("Select a client to preview their portal."))
            return
        self.stack.setCurrentWidget(self.client_page)
        self.client_page.show_portal()

    def _list_loaded(self) -> None:
        if self._select_after_load is not None:
            client_id, self._select_after_load = self._select_after_load, None
            self.client_list.select_client(client_id)

    def _desk_changed(self, changes: Changes) -> None:
        self._update_actions()

    def _update_actions(self) -> None:
        has_desk = self.ctx.desk is not None
        for action in self.desk_actions:
            action.setEnabled(has_desk)
        # A database too damaged to open can still be restored (its refusal says so).
        self.restore_action.setEnabled(has_desk or self.damaged_db is not None)
        self.portal_action.setEnabled(has_desk and self.client_list.selected_id() is not None)
        self.client_list.add_button.setEnabled(has_desk)

    # -- actions -------------------------------------------------------------------------
    def _keep(self, key: str, dialog: D) -> D:
        self.dialogs[key] = dialog
        dialog.open()
        return dialog

    def _open_on_desk(self, key: str, make: Callable[[], D]) -> D | None:
        """Open (and keep) the dialog `make()` builds: only with a database open."""
        if self.ctx.desk is None:
            return None
        return self._keep(key, make())

    def _client_dialog(self, client: ClientInfo | None = None) -> ClientDialog:
        from quotadesk.views.dialogs.client import ClientDialog

        dialog = ClientDialog(self.ctx, client, self)
        dialog.saved.connect(self._client_saved)
        return dialog

    def add_client(self) -> ClientDialog | None:
        return self._open_on_desk("client", self._client_dialog)

    def edit_client(self, client_id: int) -> ClientDialog | None:
        row = self.client_list.row(client_id)
        if row is None:
            return None
        return self._keep("client", self._client_dialog(
            ClientInfo(row.id, row.name, row.email or None)))

    def _client_saved(self, info: ClientInfo) -> None:
        self._select_after_load = info.id
        self.say(self.tr("Client “{name}” saved.").format(name=info.name))

    def cancel_subscription(self, client_id: int) -> CancelSubscriptionDialog | None:
        row = self.client_list.row(client_id)
        if row is None:
            return None
        from quotadesk.views.dialogs.subscription import CancelSubscriptionDialog

        return self._keep("cancel", CancelSubscriptionDialog(self.ctx, client_id, row.name, self))

    def open_plans(self) -> PlansDialog | None:
        from quotadesk.views.dialogs.catalog import PlansDialog

        return self._open_on_desk("plans", lambda: PlansDialog(self.ctx, self))

    def open_packs(self) -> PacksDialog | None:
        from quotadesk.views.dialogs.catalog import PacksDialog

        return self._open_on_desk("packs", lambda: PacksDialog(self.ctx, self))

    def open_payments(self) -> PaymentsScreen | None:
        from quotadesk.views.payments_screen import PaymentsScreen

        return self._open_on_desk("payments", lambda: PaymentsScreen(self.ctx, self))

    def open_audit(self) -> AuditLogDialog | None:
        from quotadesk.views.audit_screen import AuditLogDialog

        return self._open_on_desk("audit", lambda: AuditLogDialog(self.ctx, self))

    def open_outbox(self) -> OutboxDialog | None:
        from quotadesk.views.outbox_screen import OutboxDialog

        return self._open_on_desk("outbox", lambda: OutboxDialog(self.ctx, self))

    def open_settings(self) -> SettingsDialog | None:
        from quotadesk.views.dialogs.settings import SettingsDialog

        return self._open_on_desk("settings", lambda: SettingsDialog(self.ctx, self))

    def record_usage(self) -> RecordUsageDialog | None:
        from quotadesk.views.dialogs.usage import RecordUsageDialog

        return self._open_on_desk("record", lambda: RecordUsageDialog(
            self.ctx, self.client_list.names(), self.client_list.selected_id(), self))

    def import_usage(self) -> ImportUsageDialog | None:
        from quotadesk.views.dialogs.usage import ImportUsageDialog

        return self._open_on_desk("import", lambda: ImportUsageDialog(self.ctx, self))

    def rollover(self) -> int | None:
        if self.ctx.desk is None:
            return None
        return run_rollover(self.ctx, self, self._rolled_over, on_cancelled=lambda: self.say(
            self.tr("Rollover stopped: the periods closed so far are saved; run it again to "
                    "finish.")))

    def _rolled_over(self, result: RolloverResult) -> None:
        if result.periods_closed:
            self.say(self.tr("Rollover: {periods} period(s) closed for {clients} client(s), "
                             "{requests} payment request(s) created.").format(
                periods=result.periods_closed, clients=result.clients,
                requests=result.payment_requests))
        else:
            self.say(self.tr("Rollover: no period has ended since the last run."))

    def about(self) -> QDialog:
        from quotadesk.views.dialogs.about import AboutDialog

        desk = self.ctx.desk
        return self._keep("about", AboutDialog(self, self._db_text() if desk is not None
                                               else None))

    # -- messages ------------------------------------------------------------------------
    def say(self, text: str) -> None:
        self.statusBar().showMessage(text, 10_000)

    def show_refusal(self, refusal: QuotaDeskError) -> None:
        """The window's display of a refusal no panel or dialog showed itself."""
        self.say(refusal_text(refusal))
        box = QMessageBox(QMessageBox.Icon.Warning, self.tr("Not done"), refusal_text(refusal),
                          QMessageBox.StandardButton.Ok, self)
        box.setObjectName("refusalBox")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.dialogs["refusal"] = box
        box.open()

    def _busy_changed(self, running: int) -> None:
        self.busy_label.setText(self.tr("Working…") if running else "")

    # -- settings ------------------------------------------------------------------------
    def restore_state(self) -> None:
        geometry = self.settings.value("window/geometry")
        if geometry is not None:
            self.restoreGeometry(geometry)
        else:
            # The first window fits the screen it opens on (a 1366×768 laptop too), and is
            # wide enough for the agency card beside the list where there is room.
            screen = self.screen().availableGeometry()
            self.resize(min(1500, max(1000, screen.width() - 40)),
                        min(900, max(640, screen.height() - 60)))
        state = self.settings.value("window/state")
        if state is not None:
            self.restoreState(state)
        splitter = self.settings.value("window/splitter")
        if splitter is not None:
            self.splitter.restoreState(splitter)
        self.client_list.restore_state(self.settings)

    def save_state(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        self.settings.setValue("window/state", self.saveState())
        self.settings.setValue("window/splitter", self.splitter.saveState())
        self.client_list.save_state(self.settings)
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_state()
        self.mail.stop()
        self.ctx.wait_idle(10_000)
        super().closeEvent(event)
