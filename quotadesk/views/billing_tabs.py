"""The client's Billing tab: Subscription, Addon Packs (seed 000), Wallet, Payment requests
and Billing history (seed 002)."""

from __future__ import annotations

from decimal import Decimal
from enum import IntEnum
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QTabWidget,
    QVBoxLayout,
    QWidget,
    QWidgetAction,
)

from quotadesk.services import billing, clients
from quotadesk.services.dto import (
    ApplyResult,
    HistoryRow,
    LedgerRow,
    LotInfo,
    PackInfo,
    PaymentInfo,
)
from quotadesk.services.errors import ADDONS_DISABLED_TEXT, QuotaDeskError
from quotadesk.views.client_data import ClientPageData
from quotadesk.views.context import DeskContext
from quotadesk.views.dialogs import (
    ApplyPackDialog,
    CancelSubscriptionDialog,
    RevokeDialog,
    SubscribeDialog,
    addons_text,
    anchor_text,
)
from quotadesk.views.fmt import (
    DASH,
    RESOURCES,
    ledger_kind,
    pack_option_text,
    payment_status,
    resource_label,
    tr,
    validity_text,
)
from quotadesk.views.ops import Area, Changes
from quotadesk.views.tables import (
    RowFilterProxy,
    RowModel,
    fit_columns,
    make_table,
    refit_soon,
)
from quotadesk.views.widgets import Card, Notice, StatTile, button_text, plain_label, section_title

if TYPE_CHECKING:
    from quotadesk.views.fmt import Formatter

REQUIREMENTS_TITLE = "Addon Pack Requirements"
REQUIREMENTS_TEXT = ("Your client can purchase addon packs when their subscription product has "
                     "addon packs enabled. The client will only see addon packs that you assign "
                     "here.")


def scrolling(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    # Panels wrap their text to the pane's width instead of scrolling sideways.
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(widget)
    return area


class _ClientTab(QWidget):
    """A tab of the client page: it renders `ClientPageData` and refuses inline."""

    message = Signal(str)

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.data: ClientPageData | None = None
        self.error = Notice("danger")
        self.error.setObjectName("tabError")
        self.error.hide()

    def render(self, data: ClientPageData) -> None:
        if self.data is None or self.data.client_id != data.client_id:
            self.error.hide()
        self.data = data

    def show_refusal(self, refusal: QuotaDeskError) -> None:
        self.error.set(self.tr("Not done"), refusal.message)
        self.error.show()

    def clear_refusal(self) -> None:
        self.error.hide()

    def run_write(self, fn: Any, changes: Changes, on_done: Any = None, label: str = "") -> None:
        self.clear_refusal()
        self.ctx.run_op(self, fn, on_done, changes=changes, label=label)


# -- Subscription ---------------------------------------------------------------------------
class SubscriptionTab(_ClientTab):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("subscriptionTab")
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.setSpacing(12)
        layout.addWidget(self.error)
        self.none_notice = Notice("info", self.tr("No active subscription"), self.tr(
            "Subscribe the client to a plan to start counting included allowances, usage and "
            "payment requests."))
        layout.addWidget(self.none_notice)
        self.card = Card(self.tr("Plan snapshot"))
        self.card.setObjectName("snapshotCard")
        form = QFormLayout()
        form.setHorizontalSpacing(24)
        form.setVerticalSpacing(8)
        self.values: dict[str, Any] = {}
        rows = [("plan", self.tr("Plan")), ("status", self.tr("Status")),
                ("period", self.tr("Current period")), ("fee", self.tr("Fee")),
                ("anchor", self.tr("Period")), ("included", self.tr("Included allowances")),
                ("overage", self.tr("Overage rates")), ("addons", self.tr("Add-on packs")),
                ("due", self.tr("Payment due after period start")),
                ("alerts", self.tr("Usage alerts")), ("started", self.tr("Subscribed"))]
        for key, caption in rows:
            value = plain_label("", wrap=True, name=f"snapshot_{key}", selectable=True)
            value.setAccessibleName(caption)
            self.values[key] = value
            form.addRow(plain_label(caption, name="formCaption"), value)
        self.card.outer.addLayout(form)
        note = plain_label(self.tr(
            "These are the plan's terms copied when the client subscribed. Editing the plan "
            "later does not change them; re-subscribe to take a fresh snapshot."),
            wrap=True, name="hint")
        self.card.add(note)
        layout.addWidget(self.card)
        buttons = QHBoxLayout()
        self.subscribe_button = QPushButton(self.tr("&Subscribe…"))
        self.change_button = QPushButton(self.tr("C&hange plan…"))
        self.cancel_button = QPushButton(self.tr("&Cancel subscription…"))
        self.cancel_button.setObjectName("dangerButton")
        for button, name in ((self.subscribe_button, self.tr("Subscribe")),
                             (self.change_button, self.tr("Change plan")),
                             (self.cancel_button, self.tr("Cancel subscription"))):
            button.setAccessibleName(name)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        layout.addStretch(1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scrolling(inner))
        self.subscribe_button.clicked.connect(self.subscribe)
        self.change_button.clicked.connect(self.subscribe)
        self.cancel_button.clicked.connect(self.cancel)

    def render(self, data: ClientPageData) -> None:
        super().render(data)
        sub = data.detail.subscription
        fmt = self.ctx.fmt
        self.none_notice.setVisible(sub is None)
        self.card.setVisible(sub is not None)
        self.subscribe_button.setVisible(sub is None)
        self.change_button.setVisible(sub is not None)
        self.cancel_button.setVisible(sub is not None)
        if sub is None:
            return
        v = self.values
        v["plan"].setText(sub.plan)
        v["status"].setText(self.tr("Active") if sub.status == "active" else sub.status)
        v["period"].setText(fmt.period(sub.period_start, sub.period_end))
        v["fee"].setText(self.tr("{fee} per period").format(fee=fmt.money(sub.fee)))
        v["anchor"].setText(self.tr("Monthly, {anchor}: {rule}").format(
            anchor=anchor_text(sub.anchor),
            rule=self.tr("periods start on the 1st") if sub.anchor == "calendar" else
            self.tr("periods start on the subscription's day of the month")))
        v["included"].setText("\n".join(
            f"{resource_label(r)}: {fmt.units(r, sub.included.get(r, Decimal(0)))}"
            for r in RESOURCES))
        v["overage"].setText("\n".join(
            f"{resource_label(r)}: " + (fmt.rate(sub.overage[r], r) if sub.overage.get(r)
                                        is not None else self.tr("None (blocked when free "
                                                                 "units run out)"))
            for r in RESOURCES))
        v["addons"].setText(addons_text(sub.addons))
        v["due"].setText(self.tr("{days} day(s)").format(days=sub.due_days))
        v["alerts"].setText(", ".join(f"{a} %" for a in sub.alerts) or DASH)
        v["started"].setText(fmt.when(sub.started_at))

    def subscribe(self) -> None:
        if self.data is None:
            return
        sub = self.data.detail.subscription
        dialog = SubscribeDialog(self.ctx, self.data.client_id, self.data.detail.name,
                                 sub.plan if sub else None, self)
        dialog.open()

    def cancel(self) -> None:
        if self.data is None:
            return
        CancelSubscriptionDialog(self.ctx, self.data.client_id, self.data.detail.name,
                                 self).open()


# -- Addon Packs ----------------------------------------------------------------------------
class PackPicker(QPushButton):
    """Seed 000's multi-select: "Select addon packs…", options `Name - price (count unit)`.
    A drop-down list of check boxes: arrows move, Space ticks, Escape closes."""

    selection_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("packPicker")
        self.placeholder = self.tr("Select addon packs…")
        self.setAccessibleName(self.tr("Select addon packs"))
        self.setAutoDefault(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.list = QListWidget()
        self.list.setObjectName("packPickerList")
        self.list.setAccessibleName(self.tr("Addon packs"))
        self.list.setMinimumWidth(360)
        menu = QMenu(self)
        action = QWidgetAction(menu)
        action.setDefaultWidget(self.list)
        menu.addAction(action)
        menu.aboutToShow.connect(self._about_to_show)
        self.setMenu(menu)
        self.list.itemChanged.connect(self._changed)
        self.list.itemActivated.connect(self._toggle)
        self._update_text()

    def set_packs(self, options: list[tuple[int, str]], checked: set[int]) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for pack_id, text in options:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, pack_id)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
                          | Qt.ItemFlag.ItemIsSelectable)
            item.setCheckState(Qt.CheckState.Checked if pack_id in checked
                               else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        rows = max(1, min(8, self.list.count()))
        self.list.setFixedHeight(rows * 30 + 8)
        self._update_text()

    def options(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def checked_ids(self) -> list[int]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def set_checked(self, pack_ids: set[int]) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole)
                               in pack_ids else Qt.CheckState.Unchecked)

    def _about_to_show(self) -> None:
        self.list.setFocus(Qt.FocusReason.PopupFocusReason)
        if self.list.currentRow() < 0 and self.list.count():
            self.list.setCurrentRow(0)

    def _toggle(self, item: QListWidgetItem) -> None:
        item.setCheckState(Qt.CheckState.Unchecked if item.checkState() == Qt.CheckState.Checked
                           else Qt.CheckState.Checked)

    def _changed(self, _item: QListWidgetItem) -> None:
        self._update_text()
        self.selection_changed.emit()

    def _update_text(self) -> None:
        names = [self.list.item(i).text().split(" - ")[0] for i in range(self.list.count())
                 if self.list.item(i).checkState() == Qt.CheckState.Checked]
        text = self.placeholder if not names else ", ".join(names)
        metrics = self.fontMetrics()
        self.setText(button_text(metrics.elidedText(text, Qt.TextElideMode.ElideRight, 420)))
        self.setToolTip(text)
        self.setAccessibleDescription(text)


class PackCard(QFrame):
    """One "Currently assigned to client" entry: Apply Addon Pack and Remove Assignment."""

    def __init__(self, pack: PackInfo, fmt: Formatter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pack = pack
        self.setObjectName("packCard")
        self.setAccessibleName(pack.name)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 10, 10, 10)
        text = QVBoxLayout()
        text.setSpacing(2)
        self.name = plain_label(pack.name, wrap=True, name="packName")
        self.detail = plain_label(" · ".join([
            fmt.units(pack.resource, pack.units), fmt.money(pack.price),
            validity_text(pack.expires_months)]), wrap=True, name="packDetail")
        text.addWidget(self.name)
        text.addWidget(self.detail)
        if pack.description:
            text.addWidget(plain_label(pack.description, wrap=True, name="packDescription"))
        layout.addLayout(text, 1)
        self.apply_button = QPushButton(self.tr("Apply Addon Pack"))
        self.apply_button.setObjectName("primaryButton")
        self.apply_button.setAccessibleName(self.tr("Apply Addon Pack {name}").format(
            name=pack.name))
        self.remove_button = QPushButton(self.tr("Remove Assignment"))
        self.remove_button.setAccessibleName(self.tr("Remove Assignment {name}").format(
            name=pack.name))
        layout.addWidget(self.apply_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignVCenter)


class AddonPacksTab(_ClientTab):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("addonPacksTab")
        self.editing = False
        self.cards: list[PackCard] = []
        inner = QWidget()
        layout = QVBoxLayout(inner)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.setSpacing(12)
        self.requirements = Notice("info", self.tr(REQUIREMENTS_TITLE), self.tr(REQUIREMENTS_TEXT))
        self.requirements.setObjectName("requirementsNotice")
        layout.addWidget(self.requirements)
        self.addons_off = Notice("warning", "", tr(ADDONS_DISABLED_TEXT, "errors"))
        self.addons_off.setObjectName("addonsDisabledNotice")
        layout.addWidget(self.addons_off)
        self.no_subscription = Notice("info", self.tr("No active subscription"), self.tr(
            "Packs can be assigned and applied while the client has an active subscription."))
        layout.addWidget(self.no_subscription)
        self.result = Notice("success")
        self.result.setObjectName("applyResult")
        self.result.hide()
        layout.addWidget(self.result)
        layout.addWidget(self.error)

        self.assign_card = Card(self.tr("Assign Addon Packs"))
        self.assign_card.setObjectName("assignCard")
        row = QHBoxLayout()
        self.picker = PackPicker()
        row.addWidget(self.picker, 1)
        row.addSpacing(8)
        self.assign_button = QPushButton(self.tr("Assign Addon Packs"))
        self.assign_button.setObjectName("primaryButton")
        self.assign_button.setAccessibleName(self.tr("Assign Addon Packs"))
        self.cancel_edit_button = QPushButton(self.tr("Cancel"))
        self.cancel_edit_button.setAccessibleName(self.tr("Cancel editing the assignment"))
        row.addWidget(self.assign_button)
        row.addWidget(self.cancel_edit_button)
        self.assign_card.outer.addLayout(row)
        self.empty_catalog = plain_label(self.tr(
            "The catalog has no add-on packs yet: add them under Catalog ▸ Add-on packs."),
            wrap=True, name="hint")
        self.assign_card.add(self.empty_catalog)
        layout.addWidget(self.assign_card)

        self.assigned_card = Card(self.tr("Currently assigned to client"))
        self.assigned_card.setObjectName("assignedCard")
        self.edit_button = QPushButton(self.tr("Edit"))
        self.edit_button.setAccessibleName(self.tr("Edit the assigned packs"))
        self.assigned_card.header.addWidget(self.edit_button)
        self.cards_box = QVBoxLayout()
        self.cards_box.setSpacing(8)
        self.assigned_card.outer.addLayout(self.cards_box)
        layout.addWidget(self.assigned_card)
        layout.addStretch(1)
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.addWidget(scrolling(inner))

        self.assign_button.clicked.connect(self.assign)
        self.edit_button.clicked.connect(self.start_edit)
        self.cancel_edit_button.clicked.connect(self.stop_edit)

    def render(self, data: ClientPageData) -> None:
        if self.data is None or self.data.client_id != data.client_id:
            self.result.hide()
            self.editing = False
        super().render(data)
        detail, fmt = data.detail, self.ctx.fmt
        active, addons = data.active, data.addons_on
        self.addons_off.setVisible(active and not addons)
        self.no_subscription.setVisible(not active)
        assigned = {p.id for p in detail.assigned_packs}
        options = [(p.id, pack_option_text(p.name, p.price, p.units, p.resource, fmt))
                   for p in data.catalog if self.editing or p.id not in assigned]
        self.picker.set_packs(options, assigned if self.editing else set())
        can_assign = active and addons
        self.assign_card.setVisible(not detail.assigned_packs or self.editing)
        self.picker.setEnabled(can_assign and bool(options))
        self.assign_button.setEnabled(can_assign and bool(options))
        self.empty_catalog.setVisible(not data.catalog)
        self.assign_button.setText(self.tr("Save assigned packs") if self.editing
                                   else self.tr("Assign Addon Packs"))
        self.cancel_edit_button.setVisible(self.editing)
        self.assigned_card.setVisible(bool(detail.assigned_packs))
        self.edit_button.setEnabled(can_assign and not self.editing)
        for card in self.cards:
            card.hide()
            card.deleteLater()  # by Qt, on this thread: the card stays owned by its parent
        self.cards = []
        for pack in detail.assigned_packs:
            card = PackCard(pack, fmt)
            # Seed 000: the Apply button only appears with an active subscription.
            card.apply_button.setVisible(active)
            card.apply_button.setEnabled(addons)
            card.apply_button.clicked.connect(lambda _=False, p=pack: self.apply(p))
            card.remove_button.clicked.connect(lambda _=False, p=pack: self.remove(p))
            self.cards_box.addWidget(card)
            self.cards.append(card)

    def card_for(self, pack_name: str) -> PackCard | None:
        return next((c for c in self.cards if c.pack.name == pack_name), None)

    def start_edit(self) -> None:
        self.editing = True
        if self.data is not None:
            self.render(self.data)
        self.picker.setFocus(Qt.FocusReason.OtherFocusReason)

    def stop_edit(self) -> None:
        self.editing = False
        if self.data is not None:
            self.render(self.data)

    def assign(self) -> None:
        if self.data is None:
            return
        desk, client_id = self.ctx.desk, self.data.client_id
        checked = set(self.picker.checked_ids())
        if self.editing:
            assigned = {p.id for p in self.data.detail.assigned_packs}
            to_add, to_remove = sorted(checked - assigned), sorted(assigned - checked)

            def edit() -> None:
                if to_add:
                    clients.assign_packs(desk, client=client_id, packs=to_add)
                for pack_id in to_remove:
                    clients.unassign_pack(desk, client=client_id, pack=pack_id)

            fn: Any = edit
        else:
            packs = sorted(checked)

            def fn() -> object:
                return clients.assign_packs(desk, client=client_id, packs=packs)

        self.run_write(fn, Changes.of(Area.ASSIGNMENTS, clients=[client_id]),
                       lambda _r: self.stop_edit(), label=self.tr("Assign Addon Packs"))

    def remove(self, pack: PackInfo) -> None:
        if self.data is None:
            return
        desk, client_id = self.ctx.desk, self.data.client_id
        self.run_write(lambda: clients.unassign_pack(desk, client=client_id, pack=pack.id),
                       Changes.of(Area.ASSIGNMENTS, clients=[client_id]),
                       label=self.tr("Remove Assignment"))

    def apply(self, pack: PackInfo) -> ApplyPackDialog | None:
        if self.data is None:
            return None
        self.result.hide()
        self.clear_refusal()
        dialog = ApplyPackDialog(self.ctx, self.data.client_id, self.data.detail.name, pack, self)
        dialog.applied.connect(self._applied)
        dialog.open()
        return dialog

    def _applied(self, result: ApplyResult) -> None:
        # Seed 000's success text, exactly as the service words it.
        self.result.set("", result.message)
        self.result.show()
        self.message.emit(result.message)


# -- Wallet ---------------------------------------------------------------------------------
class LotModel(RowModel[LotInfo]):
    class Column(IntEnum):
        PACK = 0
        RESOURCE = 1
        UNITS = 2
        REMAINING = 3
        APPLIED = 4
        EXPIRES = 5
        STATE = 6

    numeric = frozenset({Column.UNITS, Column.REMAINING})

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.revoked: set[int] = set()

    def headers(self) -> list[str]:
        return [self.tr("Pack"), self.tr("Resource"), self.tr("Units"), self.tr("Remaining"),
                self.tr("Applied"), self.tr("Expires"), self.tr("State")]

    def state(self, lot: LotInfo) -> str:
        if lot.expired:
            return self.tr("Expired")
        if lot.id in self.revoked and lot.remaining == 0:
            return self.tr("Revoked")
        if lot.remaining == 0:
            return self.tr("Used up")
        return self.tr("Available")

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


class LedgerModel(RowModel[LedgerRow]):
    class Column(IntEnum):
        AT = 0
        KIND = 1
        RESOURCE = 2
        UNITS = 3
        PACK = 4
        LOT = 5
        REASON = 6

    numeric = frozenset({Column.UNITS, Column.LOT})

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx

    def headers(self) -> list[str]:
        return [self.tr("When"), self.tr("Movement"), self.tr("Resource"), self.tr("Units"),
                self.tr("Pack"), self.tr("Lot"), self.tr("Reason")]

    def signed(self, row: LedgerRow) -> Decimal:
        return row.units if row.kind == "credit" else -row.units

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
                value = self.signed(row)
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
                c.UNITS: self.signed(row), c.PACK: row.pack.casefold(), c.LOT: row.lot_id,
                c.REASON: (row.reason or "").casefold()}[c(column)]

    def tone(self, row: LedgerRow, column: int) -> str:
        if column == self.Column.UNITS:
            return "ok" if row.kind == "credit" else ("bad" if row.kind in ("expire", "revoke")
                                                      else "")
        return ""


class WalletTab(_ClientTab):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("walletTab")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.setSpacing(10)
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
        self.lots.revoked = {row.lot_id for row in data.ledger if row.kind == "revoke"}
        self.lots.set_rows(sorted(data.detail.lots, key=lambda lot: lot.applied_at,
                                  reverse=True))
        self.ledger.set_rows(data.ledger)
        refit_soon(self.lot_view, self.lots)
        refit_soon(self.ledger_view, self.ledger)
        self._update_buttons()

    def selected_lot(self) -> LotInfo | None:
        rows = self.lot_view.selectionModel().selectedRows()
        if not rows:
            return None
        proxy = self.lot_view.model()
        assert isinstance(proxy, RowFilterProxy)
        lot = proxy.row_at(rows[0].row())
        return lot if isinstance(lot, LotInfo) else None

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


# -- Payment requests -----------------------------------------------------------------------
class PaymentModel(RowModel[PaymentInfo]):
    class Column(IntEnum):
        TYPE = 0
        AMOUNT = 1
        CREATED = 2
        DUE = 3
        STATUS = 4
        PAID = 5
        REFERENCE = 6

    numeric = frozenset({Column.AMOUNT})

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx

    def headers(self) -> list[str]:
        return [self.tr("Type"), self.tr("Amount"), self.tr("Created"), self.tr("Due"),
                self.tr("Status"), self.tr("Paid"), self.tr("Reference")]

    def display(self, p: PaymentInfo, column: int) -> str:
        fmt, c = self.ctx.fmt, self.Column
        match c(column):
            case c.TYPE:
                return {"Plan": self.tr("Plan"), "Pack": self.tr("Pack"),
                        "Overage": self.tr("Overage")}.get(p.type, p.type)
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
        if column in (self.Column.STATUS, self.Column.DUE) and p.overdue:
            return "bad"
        if column == self.Column.STATUS:
            return {"paid": "ok", "failed": "bad", "pending": "warn"}.get(p.status, "")
        return ""

    def tooltip(self, p: PaymentInfo, column: int) -> str | None:
        return self.tr("Overdue: pending past its due date") if p.overdue else None


class PaymentsTab(_ClientTab):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("paymentsTab")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.setSpacing(10)
        layout.addWidget(self.error)
        top = QHBoxLayout()
        self.summary = plain_label("", name="summaryLine")
        top.addWidget(self.summary, 1)
        self.pay_button = QPushButton(self.tr("Mark &paid"))
        self.pay_button.setAccessibleName(self.tr("Mark paid"))
        self.fail_button = QPushButton(self.tr("Mark &failed"))
        self.fail_button.setAccessibleName(self.tr("Mark failed"))
        top.addWidget(self.pay_button)
        top.addWidget(self.fail_button)
        layout.addLayout(top)
        self.model = PaymentModel(ctx, self)
        self.view = make_table(self.model, self.tr("Payment requests"),
                               stretch=PaymentModel.Column.REFERENCE)
        fit_columns(self.view, {0: 70, 1: 90, 2: 125, 3: 90, 4: 130, 5: 125})
        layout.addWidget(self.view, 1)
        self.pay_button.clicked.connect(lambda: self.mark("paid"))
        self.fail_button.clicked.connect(lambda: self.mark("failed"))
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.model.modelReset.connect(self._update_buttons)
        self.model.dataChanged.connect(self._update_buttons)

    def render(self, data: ClientPageData) -> None:
        super().render(data)
        fmt = self.ctx.fmt
        self.model.set_rows(data.payments)
        refit_soon(self.view, self.model)
        pending = [p for p in data.payments if p.status == "pending"]
        overdue = [p for p in pending if p.overdue]
        self.summary.setText(self.tr(
            "Pending: {pending} ({n}) · Overdue: {overdue} ({m})").format(
            pending=fmt.money(sum((p.amount for p in pending), Decimal(0))), n=len(pending),
            overdue=fmt.money(sum((p.amount for p in overdue), Decimal(0))), m=len(overdue)))
        self._update_buttons()

    def selected(self) -> PaymentInfo | None:
        rows = self.view.selectionModel().selectedRows()
        if not rows:
            return None
        proxy = self.view.model()
        assert isinstance(proxy, RowFilterProxy)
        row = proxy.row_at(rows[0].row())
        return row if isinstance(row, PaymentInfo) else None

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

    def mark(self, status: str) -> None:
        p = self.selected()
        if p is None:
            return
        desk, request_id = self.ctx.desk, p.id
        service = billing.mark_paid if status == "paid" else billing.mark_failed
        self.run_write(lambda: service(desk, request_id=request_id),
                       Changes.of(Area.PAYMENTS, clients=[p.client_id]),
                       lambda info: self.message.emit(
                           self.tr("Payment request {id} marked {status}.").format(
                               id=info.id, status=payment_status(info.status))),
                       label=self.tr("Mark payment request"))


# -- Billing history ------------------------------------------------------------------------
class HistoryModel(RowModel[HistoryRow]):
    """Seed 002's columns; expired and revoked credits show their expiry date."""

    class Column(IntEnum):
        PURCHASE_DATE = 0
        PACKAGE_TYPE = 1
        CREDITS = 2
        AMOUNT = 3
        STATUS = 4
        EXPIRES = 5

    numeric = frozenset({Column.CREDITS, Column.AMOUNT})

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx

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


class HistoryTab(_ClientTab):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("historyTab")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.setSpacing(10)
        layout.addWidget(plain_label(self.tr(
            "Add-on purchases, newest first; expired and revoked credits are listed with their "
            "expiry date."), wrap=True, name="hint"))
        self.model = HistoryModel(ctx, self)
        self.view = make_table(self.model, self.tr("Billing history"),
                               stretch=HistoryModel.Column.PACKAGE_TYPE)
        fit_columns(self.view, {0: 105, 2: 130, 3: 100, 4: 140, 5: 100})
        self.view.horizontalHeader().setMinimumHeight(46)  # two-line headers
        layout.addWidget(self.view, 1)

    def render(self, data: ClientPageData) -> None:
        super().render(data)
        self.model.set_rows(data.history)
        refit_soon(self.view, self.model)


class BillingTab(QTabWidget):
    """Sub-tabs: Subscription, Addon Packs, Wallet, Payment requests, Billing history."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("billingTabs")
        self.setDocumentMode(True)
        self.subscription = SubscriptionTab(ctx)
        self.addon_packs = AddonPacksTab(ctx)
        self.wallet = WalletTab(ctx)
        self.payments = PaymentsTab(ctx)
        self.history = HistoryTab(ctx)
        self.addTab(self.subscription, self.tr("Subscription"))
        self.addTab(self.addon_packs, self.tr("Addon Packs"))
        self.addTab(self.wallet, self.tr("Wallet"))
        self.addTab(self.payments, self.tr("Payment requests"))
        self.addTab(self.history, self.tr("Billing history"))

    def tabs(self) -> list[_ClientTab]:
        return [self.subscription, self.addon_packs, self.wallet, self.payments, self.history]

    def render(self, data: ClientPageData) -> None:
        for tab in self.tabs():
            tab.render(data)
