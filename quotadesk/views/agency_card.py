"""The agency card: totals across every client (reports.agency_totals), shown when no client
is open, including seed 000's **Add-on minutes (wallet)** section."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtCore import Signal, SignalInstance
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from quotadesk.services import reports
from quotadesk.services.results import AgencyTotals
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.formatting import RESOURCES, resource_label
from quotadesk.views.ops import Area, Changes
from quotadesk.views.widgets import Card, StatTile, column_layout, plain_label, scroll_content

WALLET_TITLES = {"minutes": "Add-on minutes (wallet)", "sms": "Add-on SMS credits (wallet)",
                 "email": "Add-on email credits (wallet)"}


class AgencyCard(QWidget):
    loaded = Signal()

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.totals: AgencyTotals | None = None
        self._after: SignalInstance | None = None
        self._waiting = False
        self.setObjectName("agencyCard")
        inner = QWidget()
        layout = column_layout(inner, (12, 12, 16, 16), 12)
        layout.addWidget(plain_label(self.tr("Agency overview"), name="clientTitle"))
        self.subtitle = plain_label(self.tr("Totals across all clients"), name="clientSubtitle")
        layout.addWidget(self.subtitle)

        self.grid = QGridLayout()
        self.grid.setSpacing(12)
        self.clients = StatTile(self.tr("Clients"))
        self.blocked = StatTile(self.tr("Clients blocked"))
        self.pending = StatTile(self.tr("Payments pending"))
        self.overdue = StatTile(self.tr("Payments overdue"))
        self.tiles = (self.clients, self.blocked, self.pending, self.overdue)
        self._columns = 0
        self._arrange(4)
        layout.addLayout(self.grid)

        self.wallet_cards: dict[str, Card] = {}
        self.wallet_total: dict[str, StatTile] = {}
        self.wallet_lines: dict[str, tuple[QLabel, QLabel]] = {}
        for r in RESOURCES:
            card = Card(self.tr(WALLET_TITLES[r]))
            card.setObjectName("walletSection")
            row = QHBoxLayout()
            row.setSpacing(24)
            total = StatTile(self.tr("Balance across clients"))
            total.setObjectName("plainTile")
            lines = QVBoxLayout()
            never = plain_label("", wrap=True, name="usageLine")
            soon = plain_label("", wrap=True, name="usageLine")
            lines.addStretch(1)
            lines.addWidget(never)
            lines.addWidget(soon)
            lines.addStretch(1)
            row.addWidget(total, 1)
            row.addLayout(lines, 1)
            card.outer.addLayout(row)
            self.wallet_cards[r] = card
            self.wallet_total[r] = total
            self.wallet_lines[r] = (never, soon)
            layout.addWidget(card)
        self.failed = plain_label("", name="hint")
        layout.addWidget(self.failed)
        layout.addStretch(1)
        scroll_content(self, inner)
        ctx.changed.connect(self._on_changed)

    def _arrange(self, columns: int) -> None:
        """The four tiles in one row, or two rows of two where one row would be cut off
        (the card beside the list in a 1366-pixel window)."""
        if columns == self._columns:
            return
        self._columns = columns
        for tile in self.tiles:
            self.grid.removeWidget(tile)
        for i, tile in enumerate(self.tiles):
            self.grid.addWidget(tile, i // columns, i % columns)
        for column in range(4):
            self.grid.setColumnStretch(column, 1 if column < columns else 0)

    def resizeEvent(self, event: QResizeEvent) -> None:
        self._fit(event.size().width())
        super().resizeEvent(event)

    def _fit(self, width: int) -> None:
        needed = sum(tile.sizeHint().width() for tile in self.tiles) + 3 * 12 + 28 + 20
        self._arrange(4 if width >= needed else 2)

    def load_after(self, signal: SignalInstance) -> None:
        """Load after `signal` (the client list loaded), not beside it: two loads of 100,000
        clients' rows at once only fight for the one interpreter, and the list comes first."""
        self._after = signal

    def _on_changed(self, changes: Changes) -> None:
        if changes.touches(Area.CLIENTS, Area.SUBSCRIPTION, Area.WALLET, Area.USAGE,
                           Area.PAYMENTS):
            if self._after is None:
                self.reload()
            elif not self._waiting:
                self._waiting = True
                self._after.connect(self._list_loaded)

    def _list_loaded(self) -> None:
        if self._waiting and self._after is not None:
            self._waiting = False
            self._after.disconnect(self._list_loaded)
            self.reload()

    def reload(self) -> None:
        desk = self.ctx.desk
        if desk is None:
            return
        self.ctx.run_op(self, lambda: reports.agency_totals(desk), self.render,
                        latest="agency", label=self.tr("Loading the agency totals"))

    def render(self, t: AgencyTotals) -> None:
        self.totals = t
        fmt = self.ctx.fmt
        count = fmt.count  # 100,000, grouped as quantities are
        self.clients.set(count(t.clients), self.tr("{n} with an active subscription").format(
            n=count(t.active_subscriptions)))
        by = " · ".join(f"{resource_label(r)} {count(t.blocked_by_resource.get(r, 0))}"
                        for r in RESOURCES)
        self.blocked.set(count(t.blocked_clients), by, "bad" if t.blocked_clients else "ok")
        self.pending.set(fmt.money(t.pending_amount), self.tr("{n} payment requests").format(
            n=count(t.pending_count)), "warn" if t.pending_count else "")
        self.overdue.set(fmt.money(t.overdue_amount), self.tr("{n} payment requests").format(
            n=count(t.overdue_count)), "bad" if t.overdue_count else "ok")
        for r in RESOURCES:
            self.wallet_total[r].set(fmt.units(r, t.wallet.get(r, Decimal(0))))
            never, soon = self.wallet_lines[r]
            never.setText(self.tr("Never expires: {units}").format(
                units=fmt.units(r, t.wallet_never_expiring.get(r, Decimal(0)))))
            soon.setText(self.tr("Expiring within 30 days: {units}").format(
                units=fmt.units(r, t.wallet_expiring_30d.get(r, Decimal(0)))))
        self.failed.setText(self.tr("Failed payment requests: {n}").format(n=count(t.failed_count)))
        self._fit(self.width())  # the new values may need more room than one row has
        self.loaded.emit()
