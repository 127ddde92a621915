"""The Subscription sub-tab: the plan snapshot, subscribe / change plan / cancel."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from PySide6.QtWidgets import QFormLayout, QHBoxLayout, QPushButton, QWidget

from quotadesk.services.client_page import ClientPageData
from quotadesk.views.client_page.billing.base import ClientTab
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.dialogs.subscription import (
    CancelSubscriptionDialog,
    SubscribeDialog,
    addons_text,
    anchor_text,
)
from quotadesk.views.formatting import DASH, RESOURCES, resource_label
from quotadesk.views.widgets import Card, Notice, column_layout, plain_label, scroll_content


class SubscriptionTab(ClientTab):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("subscriptionTab")
        inner = QWidget()
        layout = column_layout(inner, 16, 12)
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
        scroll_content(self, inner)
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
