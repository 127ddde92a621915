"""What the client sees on their portal's Billing page (SPEC §5, seed 002's words)."""

from __future__ import annotations

from PySide6.QtWidgets import QFrame, QHBoxLayout, QVBoxLayout, QWidget

from quotadesk.services.client_page import ClientPageData
from quotadesk.views.client_page.billing.history import HistoryModel
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.formatting import RESOURCES, blocked_list, remaining_line, resource_label
from quotadesk.views.tables import fit_columns, make_table, refit_soon
from quotadesk.views.widgets import Notice, column_layout, plain_label, scroll_content, section_title

CONTACT_NOTE = "Contact your provider to purchase any of these add-on packs."


class PortalPreview(QWidget):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("portalPreview")
        self.pack_cards: list[QFrame] = []
        inner = QWidget()
        inner.setObjectName("portalBackdrop")
        backdrop = QVBoxLayout(inner)
        backdrop.setContentsMargins(12, 12, 12, 16)
        self.caption = plain_label("", wrap=True, name="hint")
        backdrop.addWidget(self.caption)
        page = QFrame()
        page.setObjectName("portalPage")
        layout = column_layout(page, (20, 18, 20, 22), 12)
        layout.addWidget(plain_label(self.tr("Settings ▸ Billing"), name="portalCrumb"))
        self.title = plain_label(self.tr("Billing"), name="portalTitle")
        layout.addWidget(self.title)
        self.blocked = Notice("danger")
        self.blocked.setObjectName("portalBlocked")
        layout.addWidget(self.blocked)

        layout.addWidget(section_title(self.tr("Credit balance")))
        self.balances = {r: plain_label("", name="portalBalance", selectable=True)
                         for r in RESOURCES}
        for label in self.balances.values():
            layout.addWidget(label)
        self.quota = {r: plain_label("", name="hint") for r in RESOURCES}
        layout.addWidget(section_title(self.tr("Monthly plan quota")))
        self.no_plan = plain_label(self.tr("No active plan."), name="hint")
        layout.addWidget(self.no_plan)
        for label in self.quota.values():
            layout.addWidget(label)

        layout.addWidget(section_title(self.tr("Available Add-On Packs")))
        self.packs_box = QVBoxLayout()
        self.packs_box.setSpacing(8)
        layout.addLayout(self.packs_box)
        self.no_packs = plain_label(self.tr("No add-on packs are available to you yet."),
                                    name="hint")
        layout.addWidget(self.no_packs)
        self.note = plain_label(self.tr(CONTACT_NOTE), wrap=True, name="portalNote")
        layout.addWidget(self.note)

        layout.addWidget(section_title(self.tr("Billing History")))
        self.history = HistoryModel(ctx, self)
        # Newest first, as the service gives it: a portal's history is not re-sorted.
        self.history_view = make_table(self.history, self.tr("Client billing history"),
                                       sortable=False)
        fit_columns(self.history_view, {0: 84, 1: 112, 2: 96, 3: 70, 4: 62, 5: 84})
        self.history_view.setProperty("wideColumn", HistoryModel.Column.PACKAGE_TYPE)
        self.history_view.horizontalHeader().setMinimumHeight(46)
        self.history_view.setMinimumHeight(200)
        layout.addWidget(self.history_view)
        backdrop.addWidget(page)
        backdrop.addStretch(1)
        scroll_content(self, inner)

    def render(self, data: ClientPageData) -> None:
        detail, fmt = data.detail, self.ctx.fmt
        sub = detail.subscription
        self.caption.setText(self.tr(
            "Preview of what {client} sees on their portal. Nothing here is editable.").format(
            client=detail.name))
        if detail.blocked:
            reset = fmt.day(sub.period_end) if sub and sub.period_end else ""
            on = self.tr(" ({day})").format(day=reset) if reset else ""
            # Only what is true for this client (seed 002): a package can be purchased only
            # with add-ons on and a pack for a blocked resource assigned to them.
            can_buy = data.addons_on and any(p.resource in detail.blocked
                                             for p in detail.assigned_packs)
            text = (self.tr("You reached your limit. Sends stay blocked until the next monthly "
                            "reset{on} or until you purchase an add-on package (immediate).")
                    if can_buy else
                    self.tr("You reached your limit. Sends stay blocked until the next monthly "
                            "reset{on}."))
            self.blocked.set(self.tr("Sends are blocked: {resources}").format(
                resources=blocked_list(detail.blocked)), text.format(on=on))
        self.blocked.setVisible(bool(detail.blocked))
        wanted = [r for r in RESOURCES if detail.resources[r].included or detail.resources[r].wallet
                  or any(p.resource == r for p in detail.assigned_packs)] or list(RESOURCES)
        for r, label in self.balances.items():
            units = detail.resources[r].wallet
            label.setText(remaining_line(r, fmt, units))
            label.setVisible(r in wanted)
            if label.property("empty") != (units == 0):
                label.setProperty("empty", units == 0)
                label.style().unpolish(label)
                label.style().polish(label)
        self.no_plan.setVisible(sub is None)
        for r, label in self.quota.items():
            u = detail.resources[r]
            label.setText(self.tr("{resource}: {used} of {total} used this period").format(
                resource=resource_label(r), used=fmt.qty(u.included_used),
                total=fmt.units(r, u.included)))
            label.setVisible(sub is not None and u.included > 0)
        for card in self.pack_cards:
            card.hide()
            card.deleteLater()  # by Qt, on this thread: the card stays owned by its parent
        self.pack_cards = []
        for pack in detail.assigned_packs:
            card = QFrame()
            card.setObjectName("portalPack")
            card.setAccessibleName(pack.name)
            row = QHBoxLayout(card)
            row.setContentsMargins(14, 10, 14, 10)
            text = QVBoxLayout()
            text.addWidget(plain_label(pack.name, name="packName"))
            if pack.description:
                text.addWidget(plain_label(pack.description, wrap=True, name="packDescription"))
            row.addLayout(text, 1)
            row.addWidget(plain_label(self.tr("{units} · {price}").format(
                units=fmt.units(pack.resource, pack.units), price=fmt.money(pack.price)),
                name="packDetail"))
            self.packs_box.addWidget(card)
            self.pack_cards.append(card)
        self.no_packs.setVisible(not detail.assigned_packs)
        self.note.setVisible(bool(detail.assigned_packs))
        self.history.set_rows(data.history)
        # Columns sized to this client's rows once laid out; the package type gives way first.
        refit_soon(self.history_view, self.history)

    def texts(self) -> list[str]:
        """Every visible text line (for tests and the screen reader summary)."""
        from PySide6.QtWidgets import QLabel

        return [label.text() for label in self.findChildren(QLabel) if label.isVisibleTo(self)
                and label.text()]

