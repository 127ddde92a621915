"""The client's identifiers in usage files (SPEC §11): an accountcode, a caller number, a
Twilio AccountSid; editable on the client's page."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QHBoxLayout, QLineEdit, QPushButton, QWidget

from quotadesk.services.client_page import ClientPageData
from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.usage_sources.identifiers import set_identifiers
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.widgets import Card, Notice, plain_label, refusal_text


class IdentifiersCard(Card):
    """The identifiers, comma-separated in one line; Save makes them exactly what it holds
    (in one write: a refused one leaves them all as they were)."""

    message = Signal(str)

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(self.tr("Identifiers in usage files"), parent)
        self.ctx = ctx
        self.client_id: int | None = None
        self.setObjectName("identifiersCard")
        self.add(plain_label(self.tr(
            "What calling and messaging platforms call this client: an accountcode, a caller "
            "number, a Twilio AccountSid. An import finds a client by these first, then by "
            "its name."), wrap=True, name="hint"))
        row = QHBoxLayout()
        self.edit = QLineEdit()
        self.edit.setObjectName("identifiersEdit")
        self.edit.setAccessibleName(self.tr("Identifiers, separated by commas"))
        self.edit.setPlaceholderText(self.tr("e.g. acme-pbx, +14155550100, AC0123…"))
        self.save = QPushButton(self.tr("Save &identifiers"))
        self.save.setObjectName("saveIdentifiers")
        self.save.setAccessibleName(self.tr("Save identifiers"))
        row.addWidget(self.edit, 1)
        row.addWidget(self.save)
        self.outer.addLayout(row)
        self.error = Notice("danger")
        self.error.hide()
        self.add(self.error)
        self.save.clicked.connect(self._save)
        self.edit.returnPressed.connect(self._save)

    def render(self, data: ClientPageData) -> None:
        """Show the stored identifiers, unless the user is editing this client's."""
        if data.client_id != self.client_id or not self.edit.isModified():
            if data.client_id != self.client_id:
                self.error.hide()
            self.client_id = data.client_id
            self.edit.setText(", ".join(data.detail.identifiers))
            self.edit.setModified(False)

    def _save(self) -> None:
        desk, client_id = self.ctx.desk, self.client_id
        if desk is None or client_id is None:
            return
        wanted = [part.strip() for part in self.edit.text().split(",") if part.strip()]
        self.error.hide()

        def done(found: tuple[str, ...]) -> None:
            self.edit.setText(", ".join(found))
            self.edit.setModified(False)
            self.message.emit(self.tr("Identifiers saved: {list}").format(
                list=", ".join(found) or self.tr("none")))

        self.ctx.run_op(self, lambda: set_identifiers(desk, client=client_id,
                                                      identifiers=wanted),
                        done, on_refused=self.show_refusal, label=self.tr("Save identifiers"))

    def show_refusal(self, refusal: QuotaDeskError) -> None:
        self.error.set(self.tr("Not saved"), refusal_text(refusal))
        self.error.show()
