"""The client page's Mail tab: the e-mails owed to this client (SPEC §9), newest first, with
Open and Retry; Billing ▸ Outbox… has the whole desk's."""

from __future__ import annotations

from PySide6.QtWidgets import QHBoxLayout, QPushButton, QWidget

from quotadesk.services import outbox
from quotadesk.services.client_page import ClientPageData
from quotadesk.services.results import OutboxMessage
from quotadesk.views.client_page.billing.base import ClientTab
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.ops import Area, Changes
from quotadesk.views.outbox_screen import MailActions, OutboxModel, outbox_table
from quotadesk.views.widgets import Notice, column_layout, plain_label


class ClientMailTab(ClientTab, MailActions):
    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, parent)
        self.setObjectName("clientMailTab")
        layout = column_layout(self, 16, 10)
        self.hint = plain_label("", wrap=True, name="hint")
        layout.addWidget(self.hint)
        self.notice = Notice("info")
        self.notice.hide()
        layout.addWidget(self.notice)
        layout.addWidget(self.error)
        self.model = OutboxModel(ctx, self)
        self.view = outbox_table(self.model, self.tr("Client mail"))
        for column in (OutboxModel.Column.CLIENT, OutboxModel.Column.TO):
            self.view.hideColumn(column)  # the hint above names them
        layout.addWidget(self.view, 1)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.open_button = QPushButton(self.tr("&Open"))
        self.open_button.setObjectName("openClientMessage")
        self.retry_button = QPushButton(self.tr("Re&try"))
        self.retry_button.setObjectName("retryClientMessage")
        for button in (self.open_button, self.retry_button):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.open_button.clicked.connect(self.open_message)
        self.retry_button.clicked.connect(self.retry)
        self.view.doubleClicked.connect(lambda _i: self.open_message())
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        ctx.changed.connect(self._changed)
        self._update_buttons()

    def render(self, data: ClientPageData) -> None:
        super().render(data)
        email = data.detail.email
        self.hint.setText(self.tr(
            "Alerts, payment requests, reminders and statements for {name}, sent to "
            "{address}.").format(name=data.detail.name, address=email) if email else self.tr(
            "{name} has no e-mail address: nothing is sent. Add one with Edit client, then "
            "Retry a failed message.").format(name=data.detail.name))
        self.load()

    def load(self) -> None:
        desk, data = self.ctx.desk, self.data
        if desk is None or data is None:
            return
        client_id = data.client_id
        self.ctx.run_op(self, lambda: outbox.list_messages(desk, client_id, limit=500),
                        self._loaded, latest="client-mail", label=self.tr("Loading the mail"))

    def _loaded(self, rows: list[OutboxMessage]) -> None:
        if self.data is not None and all(m.client_id == self.data.client_id for m in rows):
            self.model.set_rows(rows)
            self._update_buttons()

    def _changed(self, changes: Changes) -> None:
        if self.data is not None and changes.touches(Area.MAIL) and changes.touches_client(
                self.data.client_id):
            self.load()

    def _update_buttons(self, *_args: object) -> None:
        m = self.selected()
        self.open_button.setEnabled(m is not None)
        self.retry_button.setEnabled(m is not None and m.status == "failed")
