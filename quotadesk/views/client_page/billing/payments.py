"""The Payment requests sub-tab: the client's requests, mark paid or failed."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from quotadesk.services import billing, payments
from quotadesk.services.client_page import ClientPageData
from quotadesk.services.results import PaymentInfo
from quotadesk.views.client_page.billing.base import ClientTab
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.documents import add_invoice_button
from quotadesk.views.formatting import DASH, payment_status, payment_tone, payment_type
from quotadesk.views.tables import (
    DeskRowModel,
    RowFilterProxy,
    fit_columns,
    make_table,
    refit_soon,
    selected_row,
)
from quotadesk.views.widgets import column_layout, confirm, plain_label


class PaymentModel(DeskRowModel[PaymentInfo]):
    Column = IntEnum("Column", "TYPE AMOUNT CREATED DUE STATUS PAID REFERENCE", start=0)

    numeric = frozenset({Column.AMOUNT})

    def headers(self) -> list[str]:
        return [self.tr("Type"), self.tr("Amount"), self.tr("Created"), self.tr("Due"),
                self.tr("Status"), self.tr("Paid"), self.tr("Reference")]

    def display(self, p: PaymentInfo, column: int) -> str:
        fmt, c = self.ctx.fmt, self.Column
        match c(column):
            case c.TYPE:
                return payment_type(p.type)
            case c.AMOUNT:
                return fmt.money(p.amount)
            case c.CREATED:
                return fmt.when(p.created_at)
            case c.DUE:
                return fmt.day(p.due_date)
            case c.STATUS:
                return payment_status(p.status, p.overdue)
            case c.PAID:
                return fmt.when(p.paid_at) if p.paid_at else DASH
            case _:
                return p.reference

    def raw(self, p: PaymentInfo, column: int) -> Any:
        c = self.Column
        return {c.TYPE: p.type, c.AMOUNT: p.amount, c.CREATED: (p.created_at, p.id),
                c.DUE: p.due_date, c.STATUS: (p.status, not p.overdue), c.PAID: p.paid_at,
                c.REFERENCE: p.reference.casefold()}[c(column)]

    def tone(self, p: PaymentInfo, column: int) -> str:
        return payment_tone(p.status, p.overdue, status_column=column == self.Column.STATUS,
                            due_column=column == self.Column.DUE)

    def tooltip(self, p: PaymentInfo, column: int) -> str | None:
        return self.tr("Overdue: pending past its due date") if p.overdue else None


class PaymentsTab(ClientTab):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("paymentsTab")
        layout = column_layout(self, 16, 10)
        layout.addWidget(self.error)
        self.summary = plain_label("", wrap=True, name="summaryLine")
        layout.addWidget(self.summary)
        top = QHBoxLayout()  # the buttons on a line of their own: a narrow pane keeps them
        self.pay_button = QPushButton(self.tr("Mark &paid"))
        self.pay_button.setAccessibleName(self.tr("Mark paid"))
        self.fail_button = QPushButton(self.tr("Mark &failed"))
        self.fail_button.setAccessibleName(self.tr("Mark failed"))
        self.undo_button = QPushButton(self.tr("&Undo Mark paid"))
        self.undo_button.setAccessibleName(self.tr("Undo Mark paid"))
        top.addWidget(self.pay_button)
        top.addWidget(self.fail_button)
        top.addWidget(self.undo_button)
        top.addStretch(1)
        layout.addLayout(top)
        self.model = PaymentModel(ctx, self)
        self.view = make_table(self.model, self.tr("Payment requests"),
                               stretch=PaymentModel.Column.REFERENCE)
        fit_columns(self.view, {0: 70, 1: 90, 2: 125, 3: 90, 4: 130, 5: 125})
        layout.addWidget(self.view, 1)
        self.pay_button.clicked.connect(lambda: self.mark("paid"))
        self.fail_button.clicked.connect(lambda: self.mark("failed"))
        self.undo_button.clicked.connect(self.undo)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        self.model.dataChanged.connect(self._update_buttons)
        add_invoice_button(self, top)  # "Invoice PDF…" (SPEC §10), in views/documents.py

    def render(self, data: ClientPageData) -> None:
        super().render(data)
        fmt = self.ctx.fmt
        self.model.set_rows(data.payments)
        refit_soon(self.view, self.model)
        totals = data.totals
        self.summary.setText(self.tr(
            "Pending: {pending} ({n}) · Overdue: {overdue} ({m})").format(
            pending=fmt.money(totals.pending), n=totals.pending_count,
            overdue=fmt.money(totals.overdue), m=totals.overdue_count))
        self._update_buttons()

    def selected(self) -> PaymentInfo | None:
        return selected_row(self.view, PaymentInfo)

    def select_request(self, request_id: int) -> None:
        number = self.model.row_of(request_id)
        if number is not None:
            proxy = self.view.model()
            assert isinstance(proxy, RowFilterProxy)
            self.view.selectRow(proxy.mapFromSource(self.model.index(number, 0)).row())

    def _update_buttons(self, *_args: object) -> None:
        p = self.selected()
        self.pay_button.setEnabled(p is not None and p.status in ("pending", "failed"))
        self.fail_button.setEnabled(p is not None and p.status == "pending")
        self.undo_button.setEnabled(p is not None and p.status == "paid")

    def mark(self, status: str) -> None:
        """After one confirmation: a mistaken Mark paid can be undone, but not unseen."""
        p = self.selected()
        if p is None:
            return
        desk, request_id = self.ctx.desk, p.id
        service = billing.mark_paid if status == "paid" else billing.mark_failed
        word = payment_status(status).lower()
        confirm(self, self.tr("Mark {status}?").format(status=word), self.tr(
            "Mark payment request {id} ({reference}, {amount}) {status}?").format(
            id=p.id, reference=p.reference, amount=self.ctx.fmt.money(p.amount), status=word),
            self.tr("Mark {status}").format(status=word),
            lambda: self.run_write(lambda: service(desk, request_id=request_id),
                                   lambda info: self.message.emit(
                                       self.tr("Payment request {id} marked {status}.").format(
                                           id=info.id, status=payment_status(info.status))),
                                   label=self.tr("Mark payment request")))

    def undo(self) -> None:
        p = self.selected()
        if p is None or p.status != "paid":
            return
        desk, request_id = self.ctx.desk, p.id
        confirm(self, self.tr("Undo Mark paid?"), self.tr(
            "Put payment request {id} ({amount}) back to pending? Its paid date is cleared; the "
            "audit log keeps both steps.").format(id=p.id, amount=self.ctx.fmt.money(p.amount)),
            self.tr("Back to pending"),
            lambda: self.run_write(lambda: payments.undo_paid(desk, request_id=request_id),
                                   lambda info: self.message.emit(self.tr(
                                       "Payment request {id} is pending again.").format(
                                       id=info.id)),
                                   label=self.tr("Undo Mark paid")))
