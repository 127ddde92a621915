"""Everything a client's page shows, read in one transaction: one consistent snapshot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text

from quotadesk.services import audit, billing, catalog, clients, topup, wallet
from quotadesk.services.audit import AuditRow
from quotadesk.services.results import (
    ClientDetail,
    HistoryRow,
    LedgerRow,
    PackInfo,
    PaymentInfo,
    PaymentTotals,
)
from quotadesk.services.topup import TopupInfo
from quotadesk.services.unit_of_work import Tx, read_op

AUDIT_ROWS = 200  # the client page's share of the trail (Billing ▸ Audit log… has it all)


@dataclass(frozen=True)
class ClientPageData:
    detail: ClientDetail
    payments: tuple[PaymentInfo, ...]
    history: tuple[HistoryRow, ...]
    ledger: tuple[LedgerRow, ...]
    catalog: tuple[PackInfo, ...]
    now: datetime
    #: The client's pending and overdue amounts.
    totals: PaymentTotals
    #: The client's audit entries, newest first, and automatic top-up rules (SPEC §12).
    audit: tuple[AuditRow, ...] = ()
    topups: tuple[TopupInfo, ...] = ()

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


@read_op
def load_client_page(tx: Tx, client: object) -> ClientPageData:
    """The client's detail, payment requests, billing history, wallet ledger and the pack
    catalog as of one instant (a write committed meanwhile shows in all of them or none)."""
    if tx.session.get_bind().dialect.name == "postgresql":
        # READ COMMITTED gives each statement its own snapshot: take one for all of them.
        tx.session.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"))
    detail = clients.client_detail.in_tx(tx, client)
    payments = tuple(billing.list_payments.in_tx(tx, detail.id))
    return ClientPageData(
        detail=detail,
        payments=payments,
        history=tuple(billing.billing_history.in_tx(tx, detail.id)),
        ledger=tuple(wallet.ledger.in_tx(tx, detail.id)),
        catalog=tuple(catalog.list_packs.in_tx(tx)),
        now=tx.now,
        totals=billing.payment_totals(payments),
        audit=tuple(audit.list_audit.in_tx(tx, detail.id, limit=AUDIT_ROWS)),
        topups=tuple(topup.list_topups.in_tx(tx, detail.id)),
    )
