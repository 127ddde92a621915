"""Billing ▸ Payment requests…: every client's requests, filtered by status, type, client and
overdue, with the totals of what is shown; Mark paid / Mark failed on several rows after one
confirmation; Undo Mark paid; the shown rows exported to CSV (the `export` command's)."""

from __future__ import annotations

from collections.abc import Callable
from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from quotadesk.services import clients, exports, payments
from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.payments import PaymentFilter, totals_of
from quotadesk.services.results import PaymentInfo
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.formatting import DASH, payment_status, payment_tone, payment_type
from quotadesk.views.ops import Area, Changes
from quotadesk.views.tables import DeskRowModel, RowFilterProxy, fit_columns, make_table, refit_soon
from quotadesk.views.widgets import Notice, column_layout, confirm, plain_label, refusal_text


class AllPaymentsModel(DeskRowModel[PaymentInfo]):
    Column = IntEnum("Column", "ID CLIENT TYPE AMOUNT CREATED DUE STATUS PAID REFERENCE",
                     start=0)

    numeric = frozenset({Column.ID, Column.AMOUNT})

    def headers(self) -> list[str]:
        return [self.tr("#"), self.tr("Client"), self.tr("Type"), self.tr("Amount"),
                self.tr("Created"), self.tr("Due"), self.tr("Status"), self.tr("Paid"),
                self.tr("Reference")]

    def display(self, p: PaymentInfo, column: int) -> str:
        fmt, c = self.ctx.fmt, self.Column
        match c(column):
            case c.ID:
                return str(p.id)
            case c.CLIENT:
                return p.client
            case c.TYPE:
                return payment_type(p.type) + (self.tr(" · auto top-up") if p.automatic else "")
            case c.AMOUNT:
                return fmt.money(p.amount)
            case c.CREATED:
                return fmt.day(p.created_at)
            case c.DUE:
                return fmt.day(p.due_date)
            case c.STATUS:
                return payment_status(p.status, p.overdue)
            case c.PAID:
                return fmt.day(p.paid_at) if p.paid_at else DASH
            case _:
                return p.reference

    def raw(self, p: PaymentInfo, column: int) -> Any:
        c = self.Column
        return {c.ID: p.id, c.CLIENT: p.client.casefold(), c.TYPE: p.type, c.AMOUNT: p.amount,
                c.CREATED: (p.created_at, p.id), c.DUE: p.due_date,
                c.STATUS: (p.status, not p.overdue), c.PAID: p.paid_at,
                c.REFERENCE: p.reference.casefold()}[c(column)]

    def tone(self, p: PaymentInfo, column: int) -> str:
        return payment_tone(p.status, p.overdue, status_column=column == self.Column.STATUS,
                            due_column=column == self.Column.DUE)

    def tooltip(self, p: PaymentInfo, column: int) -> str | None:
        if column == self.Column.CREATED:
            return self.ctx.fmt.when(p.created_at)
        if column == self.Column.PAID and p.paid_at:
            return self.ctx.fmt.when(p.paid_at)
        return self.tr("Overdue: pending past its due date") if p.overdue else None


def _combo(name: str, accessible: str, items: list[tuple[str, Any]]) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setAccessibleName(accessible)
    for text, value in items:
        combo.addItem(text, value)
    return combo


class PaymentsScreen(QDialog):
    """All payment requests; it follows every write to payments while open."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.rows: list[PaymentInfo] = []
        self.setObjectName("paymentsScreen")
        self.setWindowTitle(self.tr("Payment requests"))
        self.setAccessibleName(self.tr("Payment requests"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = column_layout(self, 16, 10)
        filters = QHBoxLayout()
        filters.setSpacing(8)
        self.status = _combo("paymentStatusFilter", self.tr("Status"), [
            (self.tr("Any status"), None), (self.tr("Pending"), "pending"),
            (self.tr("Paid"), "paid"), (self.tr("Failed"), "failed")])
        self.type = _combo("paymentTypeFilter", self.tr("Type"), [
            (self.tr("Any type"), None), (self.tr("Plan"), "Plan"), (self.tr("Pack"), "Pack"),
            (self.tr("Overage"), "Overage")])
        self.client = _combo("paymentClientFilter", self.tr("Client"),
                             [(self.tr("All clients"), None)])
        self.client.setMinimumWidth(200)
        self.overdue = QCheckBox(self.tr("&Overdue only"))
        self.overdue.setObjectName("paymentOverdueFilter")
        for caption, widget in ((self.tr("&Status"), self.status), (self.tr("&Type"), self.type),
                                (self.tr("&Client"), self.client)):
            label = QLabel(caption)
            label.setBuddy(widget)
            label.setMinimumWidth(label.sizeHint().width() + 4)  # no clipped mnemonic
            filters.addWidget(label)
            filters.addWidget(widget)
            filters.addSpacing(10)
        filters.addWidget(self.overdue)
        filters.addStretch(1)
        layout.addLayout(filters)
        self.error = Notice("danger")
        self.error.hide()
        layout.addWidget(self.error)
        self.done_notice = Notice("success")
        self.done_notice.setObjectName("paymentsDone")
        self.done_notice.hide()
        layout.addWidget(self.done_notice)
        self.model = AllPaymentsModel(ctx, self)
        self.view = make_table(self.model, self.tr("All payment requests"),
                               stretch=AllPaymentsModel.Column.REFERENCE)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        fit_columns(self.view, {0: 50, 1: 160, 2: 80, 3: 90, 4: 95, 5: 95, 6: 130, 7: 95})
        layout.addWidget(self.view, 1)
        self.totals = plain_label("", wrap=True, name="summaryLine", selectable=True)
        self.totals.setObjectName("paymentTotals")
        layout.addWidget(self.totals)
        actions = QHBoxLayout()
        self.pay_button = QPushButton(self.tr("Mark &paid…"))
        self.pay_button.setObjectName("primaryButton")
        self.fail_button = QPushButton(self.tr("Mark &failed…"))
        self.undo_button = QPushButton(self.tr("&Undo Mark paid…"))
        self.export_button = QPushButton(self.tr("&Export CSV…"))
        for button, name in ((self.pay_button, self.tr("Mark the selected requests paid")),
                             (self.fail_button, self.tr("Mark the selected requests failed")),
                             (self.undo_button, self.tr("Undo Mark paid")),
                             (self.export_button, self.tr("Export the shown requests"))):
            button.setAccessibleName(name)
            button.setAutoDefault(False)
            actions.addWidget(button)
        actions.addStretch(1)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.button(QDialogButtonBox.StandardButton.Close).setAutoDefault(False)
        close.rejected.connect(self.reject)
        actions.addWidget(close)
        layout.addLayout(actions)
        self.resize(1180, 640)

        for combo in (self.status, self.type, self.client):
            combo.currentIndexChanged.connect(self.reload)
        self.overdue.toggled.connect(self.reload)
        self.pay_button.clicked.connect(lambda: self.mark("paid"))
        self.fail_button.clicked.connect(lambda: self.mark("failed"))
        self.undo_button.clicked.connect(self.undo)
        self.export_button.clicked.connect(self.export)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        self.model.dataChanged.connect(self._update_buttons)
        ctx.changed.connect(self._changed)
        desk = ctx.desk
        if desk is not None:
            ctx.run_op(self, lambda: clients.client_names(desk), self._names,
                       label=self.tr("Loading clients"))
        self._update_buttons()
        self.reload()

    # -- loading --------------------------------------------------------------------------
    def _names(self, names: list[tuple[int, str]]) -> None:
        for client_id, name in names:
            self.client.addItem(name, client_id)

    def wanted(self) -> PaymentFilter:
        return PaymentFilter(status=self.status.currentData(), type=self.type.currentData(),
                             client_id=self.client.currentData(),
                             overdue=self.overdue.isChecked())

    def reload(self, *_args: object) -> None:
        desk = self.ctx.desk
        if desk is None:
            return
        wanted = self.wanted()
        self.ctx.run_op(self, lambda: payments.search_payments(desk, wanted), self._loaded,
                        latest="payments", label=self.tr("Loading payment requests"))

    def _loaded(self, rows: list[PaymentInfo]) -> None:
        self.rows = rows
        self.model.set_rows(rows)
        refit_soon(self.view, self.model)
        fmt, t = self.ctx.fmt, totals_of(rows)
        self.totals.setText(self.tr(
            "{count} requests shown · total {amount} · pending {pending} · paid {paid} · "
            "failed {failed} · overdue {overdue} ({overdue_count})").format(
            count=fmt.count(t.count), amount=fmt.money(t.amount), pending=fmt.money(t.pending),
            paid=fmt.money(t.paid), failed=fmt.money(t.failed), overdue=fmt.money(t.overdue),
            overdue_count=fmt.count(t.overdue_count)))
        self.export_button.setEnabled(bool(rows))
        self._update_buttons()

    def _changed(self, changes: Changes) -> None:
        if changes.touches(Area.PAYMENTS, Area.CLIENTS):
            self.reload()

    # -- acting ---------------------------------------------------------------------------
    def selected(self) -> list[PaymentInfo]:
        proxy = self.view.model()
        assert isinstance(proxy, RowFilterProxy)
        return [proxy.row_at(index.row()) for index in self.view.selectionModel().selectedRows()]

    def _update_buttons(self, *_args: object) -> None:
        chosen = self.selected()
        self.pay_button.setEnabled(bool(chosen) and all(
            p.status in ("pending", "failed") for p in chosen))
        self.fail_button.setEnabled(bool(chosen) and all(p.status == "pending" for p in chosen))
        self.undo_button.setEnabled(len(chosen) == 1 and chosen[0].status == "paid")

    def confirm(self, title: str, text: str, accept: str, then: Callable[[], None]) -> None:
        """One confirmation for the whole selection: `then()` once the user accepts."""
        confirm(self, title, text, accept, then)

    def mark(self, status: str) -> None:
        chosen = self.selected()
        if not chosen:
            return
        fmt = self.ctx.fmt
        total = fmt.money(sum((p.amount for p in chosen), chosen[0].amount * 0))
        word = self.tr("paid") if status == "paid" else self.tr("failed")
        desk, ids = self.ctx.desk, [p.id for p in chosen]
        self.confirm(self.tr("Mark {status}?").format(status=word), self.tr(
            "Mark {count} payment request(s) {status}? Together {amount}.").format(
            count=len(chosen), status=word, amount=total),
            self.tr("Mark {status}").format(status=word),
            lambda: self._run(lambda: payments.mark_requests(desk, request_ids=ids,
                                                             status=status),
                              lambda done: self.self_say(self.tr(
                                  "{count} payment request(s) marked {status}.").format(
                                  count=len(done), status=word))))

    def undo(self) -> None:
        chosen = self.selected()
        if len(chosen) != 1:
            return
        p = chosen[0]
        desk, request_id = self.ctx.desk, p.id
        self.confirm(self.tr("Undo Mark paid?"), self.tr(
            "Put payment request {id} ({client}, {amount}) back to pending? Its paid date "
            "is cleared; the audit log keeps both steps.").format(
            id=p.id, client=p.client, amount=self.ctx.fmt.money(p.amount)),
            self.tr("Back to pending"),
            lambda: self._run(lambda: payments.undo_paid(desk, request_id=request_id),
                              lambda info: self.self_say(self.tr(
                                  "Payment request {id} is pending again.").format(
                                  id=info.id))))

    def export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, self.tr("Export payment requests"),
                                              "payments.csv", self.tr("CSV files (*.csv)"))
        if path:
            self.export_to(path)

    def export_to(self, path: str) -> None:
        desk, rows = self.ctx.desk, list(self.rows)
        self._run(lambda: exports.export_payment_rows(desk, path, rows),
                  lambda count: self.self_say(self.tr("Wrote {count} rows to {path}").format(
                      count=count, path=path)))

    def _run(self, fn: Any, on_done: Any) -> None:
        self.error.hide()
        self.done_notice.hide()
        self.ctx.run_op(self, fn, on_done, label=self.windowTitle())

    def self_say(self, text: str) -> None:
        self.done_notice.set("", text)
        self.done_notice.show()

    def open(self) -> None:
        """A screen beside the window, not over it: the client list stays usable."""
        self.show()

    def show_refusal(self, refusal: QuotaDeskError) -> None:
        self.error.set(self.tr("Not done"), refusal_text(refusal))
        self.error.show()
