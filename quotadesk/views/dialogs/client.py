"""Dialogs about the client itself: add/edit a client, add a campaign."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDialog, QLineEdit, QWidget

from quotadesk.services import clients
from quotadesk.services.results import ClientInfo
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.formatting import resource_label
from quotadesk.views.widgets import FormDialog


class ClientDialog(FormDialog):
    """Add a client, or edit one's name and e-mail."""

    saved = Signal(object)

    def __init__(self, ctx: DeskContext, client: ClientInfo | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, self.tr("Edit client") if client else self.tr("Add client"), parent)
        self.setObjectName("clientDialog")
        self.client = client
        self.name = QLineEdit(client.name if client else "")
        self.name.setObjectName("clientName")
        self.email = QLineEdit((client.email or "") if client else "")
        self.email.setObjectName("clientEmail")
        self.email.setPlaceholderText(self.tr("billing@example.com (for usage alerts)"))
        self.add_field("name", self.tr("&Name"), self.name)
        self.add_field("email", self.tr("E-&mail"), self.email)
        self.finish_layout(self.tr("Save") if client else self.tr("Add client"))
        self.resize(460, self.sizeHint().height())

    def submit(self) -> None:
        desk = self.ctx.desk
        name, email = self.name.text(), self.email.text()
        if self.client is None:
            def fn() -> ClientInfo:
                return clients.add_client(desk, name=name, email=email)
        else:
            client_id = self.client.id

            def fn() -> ClientInfo:
                return clients.edit_client(desk, client=client_id, name=name, email=email)
        self.run(fn, self._done)

    def _done(self, info: object) -> None:
        self.saved.emit(info)
        self.done(QDialog.DialogCode.Accepted)


class CampaignDialog(FormDialog):
    def __init__(self, ctx: DeskContext, client_id: int, parent: QWidget | None = None) -> None:
        super().__init__(ctx, self.tr("Add campaign"), parent)
        self.setObjectName("campaignDialog")
        self.client_id = client_id
        self.name = QLineEdit()
        self.name.setObjectName("campaignName")
        self.resource = QComboBox()
        self.resource.setObjectName("campaignResource")
        for r in ("minutes", "sms", "email"):
            self.resource.addItem(resource_label(r), r)
        self.add_field("name", self.tr("&Name"), self.name)
        self.add_field("resource", self.tr("&Resource"), self.resource)
        self.finish_layout(self.tr("Add campaign"))
        self.resize(420, self.sizeHint().height())

    def submit(self) -> None:
        desk, client_id = self.ctx.desk, self.client_id
        name, resource = self.name.text(), self.resource.currentData()
        self.run(lambda: clients.add_campaign(desk, client=client_id, name=name,
                                              resource=resource),
                 lambda _r: self.done(QDialog.DialogCode.Accepted))
