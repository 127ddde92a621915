"""The Wallet sub-tab: a balance tile per resource, the lots and the ledger."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QPushButton, QWidget

from quotadesk.services.client_page import ClientPageData
from quotadesk.services.results import LedgerRow, LotInfo
from quotadesk.views.client_page.billing.base import ClientTab
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.dialogs.packs import RevokeDialog
from quotadesk.views.formatting import RESOURCES, ledger_kind, resource_label
from quotadesk.views.tables import DeskRowModel, fit_columns, make_table, refit_soon, selected_row
from quotadesk.views.widgets import StatTile, column_layout, section_title


class LotModel(DeskRowModel[LotInfo]):
    Column = IntEnum("Column", "PACK RESOURCE UNITS REMAINING APPLIED EXPIRES STATE", start=0)

    numeric = frozenset({Column.UNITS, Column.REMAINING})

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)

    def headers(self) -> list[str]:
        return [self.tr("Pack"), self.tr("Resource"), self.tr("Units"), self.tr("Remaining"),
                self.tr("Applied"), self.tr("Expires"), self.tr("State")]

    def state(self, lot: LotInfo) -> str:
        return {"expired": self.tr("Expired"), "revoked": self.tr("Revoked"),
                "used up": self.tr("Used up")}.get(lot.state, self.tr("Available"))

    def display(self, lot: LotInfo, column: int) -> str:
        fmt, c = self.ctx.fmt, self.Column
        match c(column):
            case c.PACK:
                return lot.pack
            case c.RESOURCE:
                return resource_label(lot.resource)
            case c.UNITS:
                return fmt.qty(lot.units)
            case c.REMAINING:
                return fmt.qty(lot.remaining)
            case c.APPLIED:
                return fmt.day(lot.applied_at)
            case c.EXPIRES:
                return fmt.day(lot.expires_at) if lot.expires_at else self.tr("Never expires")
            case _:
                return self.state(lot)

    def raw(self, lot: LotInfo, column: int) -> Any:
        c = self.Column
        return {c.PACK: lot.pack.casefold(), c.RESOURCE: lot.resource, c.UNITS: lot.units,
                c.REMAINING: lot.remaining, c.APPLIED: lot.applied_at,
                c.EXPIRES: lot.expires_at, c.STATE: self.state(lot)}[c(column)]

    def tooltip(self, lot: LotInfo, column: int) -> str | None:
        if column == self.Column.APPLIED:
            return self.ctx.fmt.when(lot.applied_at)
        if column == self.Column.EXPIRES and lot.expires_at is not None:
            return self.ctx.fmt.when(lot.expires_at)
        return None

    def tone(self, lot: LotInfo, column: int) -> str:
        if column == self.Column.STATE:
            return "muted" if lot.expired or lot.remaining == 0 else "ok"
        return ""


class LedgerModel(DeskRowModel[LedgerRow]):
    Column = IntEnum("Column", "AT KIND RESOURCE UNITS PACK LOT REASON", start=0)

    numeric = frozenset({Column.UNITS, Column.LOT})

    def headers(self) -> list[str]:
        return [self.tr("When"), self.tr("Movement"), self.tr("Resource"), self.tr("Units"),
                self.tr("Pack"), self.tr("Lot"), self.tr("Reason")]


    def display(self, row: LedgerRow, column: int) -> str:
        fmt, c = self.ctx.fmt, self.Column
        match c(column):
            case c.AT:
                return fmt.when(row.at)
            case c.KIND:
                return ledger_kind(row.kind)
            case c.RESOURCE:
                return resource_label(row.resource)
            case c.UNITS:
                value = row.change
                return ("+" if value > 0 else "−") + fmt.qty(abs(value))
            case c.PACK:
                return row.pack
            case c.LOT:
                return str(row.lot_id)
            case _:
                return row.reason or ""

    def raw(self, row: LedgerRow, column: int) -> Any:
        c = self.Column
        return {c.AT: (row.at, row.id), c.KIND: row.kind, c.RESOURCE: row.resource,
                c.UNITS: row.change, c.PACK: row.pack.casefold(), c.LOT: row.lot_id,
                c.REASON: (row.reason or "").casefold()}[c(column)]

    def tone(self, row: LedgerRow, column: int) -> str:
        if column == self.Column.UNITS:
            return "ok" if row.kind == "credit" else ("bad" if row.kind in ("expire", "revoke")
                                                      else "")
        return ""


class WalletTab(ClientTab):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("walletTab")
        layout = column_layout(self, 16, 10)
        layout.addWidget(self.error)
        tiles = QGridLayout()
        tiles.setSpacing(10)
        self.tiles: dict[str, StatTile] = {}
        for i, r in enumerate(RESOURCES):
            tile = StatTile(self.tr("{resource} wallet").format(resource=resource_label(r)))
            tile.setObjectName("walletTile")
            self.tiles[r] = tile
            tiles.addWidget(tile, 0, i)
        layout.addLayout(tiles)
        header = QHBoxLayout()
        header.addWidget(section_title(self.tr("Lots")))
        header.addStretch(1)
        self.revoke_button = QPushButton(self.tr("&Revoke unused units…"))
        self.revoke_button.setAccessibleName(self.tr("Revoke unused units"))
        header.addWidget(self.revoke_button)
        layout.addLayout(header)
        self.lots = LotModel(ctx, self)
        self.lot_view = make_table(self.lots, self.tr("Wallet lots"))
        fit_columns(self.lot_view, {0: 170, 1: 70, 2: 70, 3: 80, 4: 100, 5: 110})
        layout.addWidget(self.lot_view, 2)
        layout.addWidget(section_title(self.tr("Ledger")))
        self.ledger = LedgerModel(ctx, self)
        self.ledger_view = make_table(self.ledger, self.tr("Wallet ledger"),
                                      stretch=LedgerModel.Column.REASON)
        fit_columns(self.ledger_view, {0: 125, 1: 85, 2: 75, 3: 75, 4: 150, 5: 45})
        layout.addWidget(self.ledger_view, 3)
        self.revoke_button.clicked.connect(self.revoke)
        self.lot_view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.lots.modelReset.connect(self._update_buttons)

    def render(self, data: ClientPageData) -> None:
        super().render(data)
        fmt = self.ctx.fmt
        for r, tile in self.tiles.items():
            usage = data.detail.resources[r]
            if usage.wallet and usage.wallet_never_expires:
                detail = self.tr("Never expires")
            elif usage.next_expiry is not None:
                detail = self.tr("Next expiry {when}").format(when=fmt.day(usage.next_expiry))
            else:
                detail = self.tr("No add-on units")
            tile.set(fmt.units(r, usage.wallet), detail, "ok" if usage.wallet else "")
        self.lots.set_rows(sorted(data.detail.lots, key=lambda lot: lot.applied_at,
                                  reverse=True))
        self.ledger.set_rows(data.ledger)
        refit_soon(self.lot_view, self.lots)
        refit_soon(self.ledger_view, self.ledger)
        self._update_buttons()

    def selected_lot(self) -> LotInfo | None:
        return selected_row(self.lot_view, LotInfo)

    def _update_buttons(self, *_args: object) -> None:
        lot = self.selected_lot()
        self.revoke_button.setEnabled(lot is not None and lot.remaining > 0 and not lot.expired)

    def revoke(self) -> RevokeDialog | None:
        lot = self.selected_lot()
        if lot is None or self.data is None:
            return None
        dialog = RevokeDialog(self.ctx, self.data.client_id, lot.id, lot.pack,
                              self.ctx.fmt.units(lot.resource, lot.remaining), self)
        dialog.open()
        return dialog
