"""The Addon Packs sub-tab (seed 000): assign catalog packs, apply or remove assigned ones."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from quotadesk.services import clients
from quotadesk.services.client_page import ClientPageData
from quotadesk.services.errors import ADDONS_DISABLED_TEXT
from quotadesk.services.results import ApplyResult, PackInfo
from quotadesk.views.client_page.billing.base import ClientTab
from quotadesk.views.client_page.billing.pack_card import PackCard
from quotadesk.views.client_page.billing.pack_picker import PackPicker
from quotadesk.views.client_page.billing.topup_editor import TopupCard
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.dialogs.packs import ApplyPackDialog
from quotadesk.views.formatting import pack_option_text, tr
from quotadesk.views.widgets import Card, Notice, column_layout, plain_label, scroll_content

REQUIREMENTS_TITLE = "Addon Pack Requirements"
REQUIREMENTS_TEXT = ("Your client can purchase addon packs when their subscription product has "
                     "addon packs enabled. The client will only see addon packs that you assign "
                     "here.")


class AddonPacksTab(ClientTab):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("addonPacksTab")
        self.editing = False
        self.cards: list[PackCard] = []
        #: Where the keyboard focus goes once the cards are built again: (pack id or None
        #: for the first card, "apply" or "remove"). A reload rebuilds the cards; the focus
        #: must not be lost with them.
        self.focus_wanted: tuple[int | None, str] | None = None
        inner = QWidget()
        layout = column_layout(inner, 16, 12)
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
        self.topup = TopupCard(ctx)
        layout.addWidget(self.topup)
        layout.addStretch(1)
        scroll_content(self, inner)

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
        focus = self.window().focusWidget()
        for card in self.cards:
            if focus is card.apply_button or focus is card.remove_button:
                self.focus_wanted = (card.pack.id,
                                     "apply" if focus is card.apply_button else "remove")
            card.hide()
            card.deleteLater()  # by Qt, on this thread: the card stays owned by its parent
        self.cards = []
        self.topup.render(data, fmt)
        for pack in detail.assigned_packs:
            card = PackCard(pack, fmt)
            # Seed 000: the Apply button only appears with an active subscription.
            card.apply_button.setVisible(active)
            card.apply_button.setEnabled(addons)
            card.apply_button.clicked.connect(lambda _=False, p=pack: self.apply(p))
            card.remove_button.clicked.connect(lambda _=False, p=pack: self.remove(p))
            self.cards_box.addWidget(card)
            self.cards.append(card)
        self._restore_focus()

    def _restore_focus(self) -> None:
        wanted, self.focus_wanted = self.focus_wanted, None
        if wanted is None or not self.cards:
            return
        pack_id, which = wanted
        card = next((c for c in self.cards if c.pack.id == pack_id), self.cards[0])
        button = card.apply_button if which == "apply" and card.apply_button.isVisibleTo(
            card) and card.apply_button.isEnabled() else card.remove_button
        button.setFocus(Qt.FocusReason.OtherFocusReason)

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
        packs = sorted(set(self.picker.checked_ids()))
        # Save in the editor: exactly the checked packs, in one transaction.
        service = clients.set_assigned_packs if self.editing else clients.assign_packs
        self.run_write(lambda: service(desk, client=client_id, packs=packs),
                       lambda _r: self._assigned(), label=self.tr("Assign Addon Packs"))

    def _assigned(self) -> None:
        # Keyboard work goes on at the first pack's Apply Addon Pack (the assign section
        # that had the focus is hidden now).
        self.focus_wanted = (None, "apply")
        self.stop_edit()

    def remove(self, pack: PackInfo) -> None:
        if self.data is None:
            return
        desk, client_id = self.ctx.desk, self.data.client_id
        self.run_write(lambda: clients.unassign_pack(desk, client=client_id, pack=pack.id),
                       label=self.tr("Remove Assignment"))

    def apply(self, pack: PackInfo) -> ApplyPackDialog | None:
        if self.data is None:
            return None
        self.result.hide()
        self.clear_refusal()
        sub = self.data.detail.subscription
        dialog = ApplyPackDialog(self.ctx, self.data.client_id, self.data.detail.name, pack, self,
                                 due_days=sub.due_days if sub is not None else None)
        dialog.applied.connect(self._applied)
        dialog.open()
        return dialog

    def _applied(self, result: ApplyResult) -> None:
        # Seed 000's success text, exactly as the service words it.
        self.result.set("", result.message)
        self.result.show()
        self.message.emit(result.message)
