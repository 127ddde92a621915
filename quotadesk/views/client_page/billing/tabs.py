"""The Billing tab itself: its five sub-tabs, rendered from one client page load."""

from __future__ import annotations

from PySide6.QtWidgets import QTabWidget, QWidget

from quotadesk.services.client_page import ClientPageData
from quotadesk.views.client_page.billing.addon_packs import AddonPacksTab
from quotadesk.views.client_page.billing.base import ClientTab
from quotadesk.views.client_page.billing.history import HistoryTab
from quotadesk.views.client_page.billing.payments import PaymentsTab
from quotadesk.views.client_page.billing.subscription import SubscriptionTab
from quotadesk.views.client_page.billing.wallet import WalletTab
from quotadesk.views.desk_context import DeskContext


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

    def tabs(self) -> list[ClientTab]:
        return [self.subscription, self.addon_packs, self.wallet, self.payments, self.history]

    def render(self, data: ClientPageData) -> None:
        for tab in self.tabs():
            tab.render(data)
