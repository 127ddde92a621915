"""The Billing history sub-tab (seed 002): add-on purchases, expiries and revocations."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtWidgets import QWidget

from quotadesk.services.client_page import ClientPageData
from quotadesk.services.results import HistoryRow
from quotadesk.views.client_page.billing.base import ClientTab
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.formatting import DASH, payment_status
from quotadesk.views.tables import DeskRowModel, fit_columns, make_table, refit_soon
from quotadesk.views.widgets import column_layout, plain_label


class HistoryModel(DeskRowModel[HistoryRow]):
    """Seed 002's columns; expired and revoked credits show their expiry date."""

    Column = IntEnum("Column", "PURCHASE_DATE PACKAGE_TYPE CREDITS AMOUNT STATUS EXPIRES", start=0)

    numeric = frozenset({Column.CREDITS, Column.AMOUNT})

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None, *,
                 agency: bool = False) -> None:
        super().__init__(ctx, parent)
        #: The agency's view (Billing ▸ Billing history) also says why units were revoked and
        #: which purchases an automatic top-up made; the client's portal does not.
        self.agency = agency

    def headers(self) -> list[str]:
        # Seed 002's words, the longer ones on two lines: all six columns fit a narrow pane
        # (screen readers and tooltips get them on one line).
        return [self.tr("Purchase\ndate"), self.tr("Package type"), self.tr("Credits\npurchased"),
                self.tr("Amount\npaid"), self.tr("Status"), self.tr("Expiry\ndate")]

    def display(self, h: HistoryRow, column: int) -> str:
        fmt, c = self.ctx.fmt, self.Column
        purchase = h.kind == "purchase"
        match c(column):
            case c.PURCHASE_DATE:
                return fmt.day(h.date) if purchase else DASH
            case c.PACKAGE_TYPE:
                if self.agency and h.automatic:
                    return self.tr("{pack} · auto top-up").format(pack=h.package_type)
                return h.package_type
            case c.CREDITS:
                text = fmt.units(h.resource, h.credits)
                return text if purchase else "−" + text
            case c.AMOUNT:
                return fmt.money(h.amount) if purchase else DASH
            case c.STATUS:
                if purchase:
                    return payment_status(h.status or "")
                if h.kind == "expired":  # on its expiry date, in the last column
                    return self.tr("Expired")
                if self.agency and h.reason:
                    return self.tr("Revoked {date}: {reason}").format(date=fmt.day(h.date),
                                                                      reason=h.reason)
                return self.tr("Revoked {date}").format(date=fmt.day(h.date))
            case _:
                return fmt.day(h.expires_at) if h.expires_at else self.tr("Never expires")

    def raw(self, h: HistoryRow, column: int) -> Any:
        c = self.Column
        return {c.PURCHASE_DATE: h.date, c.PACKAGE_TYPE: h.package_type.casefold(),
                c.CREDITS: h.credits, c.AMOUNT: h.amount, c.STATUS: (h.kind, h.status or ""),
                c.EXPIRES: h.expires_at}[c(column)]

    def tone(self, h: HistoryRow, column: int) -> str:
        if column == self.Column.STATUS:
            if h.kind != "purchase":
                return "muted"
            return {"paid": "ok", "failed": "bad", "pending": "warn"}.get(h.status or "", "")
        return ""


class HistoryTab(ClientTab):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("historyTab")
        layout = column_layout(self, 16, 10)
        layout.addWidget(plain_label(self.tr(
            "Add-on purchases, newest first; expired and revoked credits are listed with their "
            "expiry date, revoked ones with the reason. Purchases an automatic top-up made say "
            "“auto top-up”."), wrap=True, name="hint"))
        self.model = HistoryModel(ctx, self, agency=True)
        self.view = make_table(self.model, self.tr("Billing history"),
                               stretch=HistoryModel.Column.PACKAGE_TYPE)
        fit_columns(self.view, {0: 105, 2: 130, 3: 100, 4: 140, 5: 100})
        self.view.horizontalHeader().setMinimumHeight(46)  # two-line headers
        layout.addWidget(self.view, 1)

    def render(self, data: ClientPageData) -> None:
        super().render(data)
        self.model.set_rows(data.history)
        refit_soon(self.view, self.model)
