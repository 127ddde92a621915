"""The client page's Audit log tab: this client's entries (SPEC §12), newest first."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from quotadesk.services.client_page import ClientPageData
from quotadesk.views.audit_screen import AuditModel, audit_table
from quotadesk.views.client_page.billing.base import ClientTab
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.tables import refit_soon
from quotadesk.views.widgets import column_layout, plain_label


class ClientAuditTab(ClientTab):
    """Entries whose entity is the client or that changed its subscription, snapshot, lots,
    requests or rules (the newest 200; Billing ▸ Audit log… has them all)."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("clientAuditTab")
        layout = column_layout(self, 16, 10)
        layout.addWidget(plain_label(self.tr(
            "Every change about this client, newest first: its subscription, packs, wallet, "
            "payment requests, usage and top-up rules. Billing ▸ Audit log… shows the whole "
            "desk's."), wrap=True, name="hint"))
        self.model = AuditModel(ctx, self)
        self.view = audit_table(self.model, self.tr("Client audit log"))
        layout.addWidget(self.view, 1)

    def render(self, data: ClientPageData) -> None:
        super().render(data)
        self.model.set_rows(data.audit)
        refit_soon(self.view, self.model)
