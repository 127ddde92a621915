"""What the client page shows, loaded in one worker call from the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from quotadesk.services import billing, catalog, clients, wallet
from quotadesk.services.desk import Desk
from quotadesk.services.dto import ClientDetail, HistoryRow, LedgerRow, PackInfo, PaymentInfo


@dataclass(frozen=True)
class ClientPageData:
    detail: ClientDetail
    payments: tuple[PaymentInfo, ...]
    history: tuple[HistoryRow, ...]
    ledger: tuple[LedgerRow, ...]
    catalog: tuple[PackInfo, ...]
    now: datetime

    @property
    def client_id(self) -> int:
        return self.detail.id

    @property
    def active(self) -> bool:
        sub = self.detail.subscription
        return sub is not None and sub.status == "active"

    @property
    def addons_on(self) -> bool:
        sub = self.detail.subscription
        return sub is not None and sub.addons


def load_client_page(desk: Desk, client_id: int) -> ClientPageData:
    """Worker side of a client page load."""
    return ClientPageData(
        detail=clients.client_detail(desk, client_id),
        payments=tuple(billing.list_payments(desk, client_id)),
        history=tuple(billing.billing_history(desk, client_id)),
        ledger=tuple(wallet.ledger(desk, client_id)),
        catalog=tuple(catalog.list_packs(desk)),
        now=desk.clock(),
    )
