"""Documents in the window (SPEC §10): "Invoice PDF…" on a payment request, "Statement…" on
a client (the days, then Save PDF… or Send statement). The PDFs are made and written off the
UI thread through the one op helper; the files are 0600 and never the database or a backup."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QDateEdit,
    QFileDialog,
    QHBoxLayout,
    QPushButton,
    QRadioButton,
    QWidget,
)

from quotadesk.services import documents
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.formatting import tr
from quotadesk.views.widgets import FormDialog, plain_label

if TYPE_CHECKING:
    from quotadesk.views.client_page.billing.payments import PaymentsTab
    from quotadesk.views.client_page.page import ClientPage

PDF_FILTER = "PDF documents (*.pdf)"


def ask_save_path(parent: QWidget, title: str, suggested: str) -> str:
    """Where to save a PDF ("" when the user cancels). Tests replace this function."""
    path, _ = QFileDialog.getSaveFileName(parent, title, suggested,
                                          parent.tr(PDF_FILTER))
    if path and not path.lower().endswith(".pdf"):
        path += ".pdf"
    return path


def _safe_name(text: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in text).strip("-") or "document"


# -- invoices ------------------------------------------------------------------------------
def add_invoice_button(tab: PaymentsTab, row: QHBoxLayout) -> QPushButton:
    """"Invoice PDF…" beside Mark paid / Mark failed, enabled while a request is selected."""
    button = QPushButton(tab.tr("Invoice P&DF…"))
    button.setObjectName("invoicePdfButton")
    button.setAccessibleName(tab.tr("Invoice PDF"))
    button.setToolTip(tab.tr("Save the selected request's invoice as a PDF"))
    button.setEnabled(False)
    row.addWidget(button)

    def update(*_args: object) -> None:
        button.setEnabled(tab.selected() is not None)

    tab.view.selectionModel().selectionChanged.connect(update)
    tab.model.modelReset.connect(update)
    button.clicked.connect(lambda: save_invoice(tab, tab.ctx))
    tab.invoice_button = button  # type: ignore[attr-defined]
    return button


def save_invoice(tab: PaymentsTab, ctx: DeskContext) -> str | None:
    request = tab.selected()
    desk = ctx.desk
    if request is None or desk is None:
        return None
    path = ask_save_path(tab, tab.tr("Save the invoice"),
                         f"{_safe_name(request.invoice_number or str(request.id))}.pdf")
    if not path:
        return None
    locale, request_id = ctx.locale, request.id
    tab.run_write(lambda: documents.write_invoice(desk, request_id, path, locale=locale),
                  lambda done: tab.message.emit(tab.tr("Invoice {number} saved to {path}").format(
                      number=done[1].number, path=done[0])),
                  label=tab.tr("Invoice PDF"))
    return path


# -- statements ----------------------------------------------------------------------------
def statement_button(page: ClientPage) -> QPushButton:
    """"Statement…" in the client page's header."""
    button = QPushButton(page.tr("&Statement…"))
    button.setObjectName("statementButton")
    button.setAccessibleName(page.tr("Statement"))
    button.setToolTip(page.tr("A statement of this client's usage, wallet and requests"))
    button.clicked.connect(lambda: open_statement(page))
    page.statement_button = button  # type: ignore[attr-defined]
    return button


def open_statement(page: ClientPage) -> StatementDialog | None:
    data = page.data
    if page.ctx.desk is None or data is None:
        return None
    dialog = StatementDialog(page.ctx, data.client_id, data.detail.name, data.now, page)
    page.statement_dialog = dialog  # type: ignore[attr-defined]
    dialog.message.connect(page.message)
    dialog.open()
    return dialog


def can_send_statements() -> bool:
    """The mail issue's `queue_statement` is there (SPEC §9): the dialog offers sending."""
    from quotadesk.services import outbox

    return hasattr(outbox, "queue_statement")


class StatementDialog(FormDialog):
    """The statement's days (the last closed period, or these days), then save or send."""

    message = Signal(str)

    def __init__(self, ctx: DeskContext, client_id: int, name: str, now: Any,
                 parent: QWidget | None = None) -> None:
        # (The title is needed before the QObject exists: translated in the class's context.)
        super().__init__(ctx, tr("Statement for {name}", "StatementDialog").format(name=name),
                         parent)
        self.setObjectName("statementDialog")
        self.client_id, self.name = client_id, name
        today = ctx.fmt.local(now).date()
        first = (today.replace(day=1) - timedelta(days=1)).replace(day=1)
        self.last_period = QRadioButton(self.tr("The last closed period"))
        self.last_period.setChecked(True)
        self.these_days = QRadioButton(self.tr("These days:"))
        self.choice = QButtonGroup(self)  # in two rows of the form: one group all the same
        self.choice.addButton(self.last_period)
        self.choice.addButton(self.these_days)
        self.start = self._date_edit(first, self.tr("From"))
        self.end = self._date_edit(today.replace(day=1) - timedelta(days=1), self.tr("To"))
        days = QWidget()
        row = QHBoxLayout(days)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.these_days)
        row.addWidget(self.start)
        row.addWidget(plain_label("–"))
        row.addWidget(self.end)
        row.addStretch(1)
        self.add_field(("range",), self.tr("Covers"), self.last_period)
        self.add_field(("from", "to"), "", days,
                       self.tr("Local days, both included. The statement lists each period, "
                               "the wallet's movements, the requests and what is still due."))
        for edit in (self.start, self.end):
            edit.dateChanged.connect(lambda _d: self.these_days.setChecked(True))
        self.finish_layout(self.tr("Save PDF…"), cancel_text=self.tr("Close"))
        self.send_button: QPushButton | None = None
        if can_send_statements():
            self.send_button = self.buttons.addButton(
                self.tr("Send statement"), self.buttons.ButtonRole.ActionRole)
            self.send_button.setObjectName("sendStatementButton")
            self.send_button.setAccessibleName(self.tr("Send statement"))
            self.send_button.setToolTip(self.tr("Queue an e-mail to the client with this "
                                                "statement attached"))
            self.send_button.clicked.connect(self.send)
            self.busy_changed.connect(lambda busy: self.send_button.setEnabled(not busy)
                                      if self.send_button is not None else None)

    def _date_edit(self, day: date, name: str) -> QDateEdit:
        edit = QDateEdit(QDate(day.year, day.month, day.day))
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setAccessibleName(name)
        return edit

    def days(self) -> tuple[date | None, date | None]:
        if self.last_period.isChecked():
            return None, None
        return self.start.date().toPython(), self.end.date().toPython()  # type: ignore[return-value]

    def submit(self) -> None:
        desk = self.ctx.desk
        if desk is None:
            return
        path = ask_save_path(self, self.tr("Save the statement"),
                             f"statement-{_safe_name(self.name)}.pdf")
        if not path:
            return
        start, end = self.days()
        client_id, locale = self.client_id, self.ctx.locale

        def done(result: Any) -> None:
            self.message.emit(self.tr("Statement of {name} saved to {path}").format(
                name=self.name, path=result[0]))
            self.done(1)

        self.run(lambda: documents.write_statement(desk, client_id, path, start, end,
                                                   locale=locale),
                 done, label=self.tr("Statement PDF"))

    def send(self) -> None:
        desk = self.ctx.desk
        if desk is None:
            return
        start, end = self.days()
        client_id = self.client_id

        def queue() -> Any:
            from quotadesk.services import outbox

            data = documents.statement_data(desk, client_id, start, end)
            return outbox.queue_statement(desk, client_id, data.first_day, data.last_day,
                                          data.total_due)

        def done(_message: Any) -> None:
            self.message.emit(self.tr("Statement of {name} queued for e-mail").format(
                name=self.name))
            self.done(1)

        self.run(queue, done, label=self.tr("Send statement"))
