"""Billing ▸ Outbox…: every e-mail the desk owes its clients (SPEC §9), with Retry and Open;
its table and message viewer are the client page's Mail tab too."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QTableView,
    QTextBrowser,
    QWidget,
)

from quotadesk.services import outbox
from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.results import OutboxMessage
from quotadesk.services.rules.mail_text import KIND_LABELS
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.formatting import tr
from quotadesk.views.ops import Area, Changes
from quotadesk.views.tables import DeskRowModel, fit_columns, make_table, selected_row
from quotadesk.views.widgets import Notice, column_layout, plain_label, refusal_text

STATUS_WORDS = {"queued": "Waiting", "sending": "Sending", "sent": "Sent", "failed": "Failed"}


def status_text(m: OutboxMessage) -> str:
    if m.status == "queued" and m.attempts:
        return tr("Waiting · retry {n} of 5").format(n=m.attempts + 1)
    return tr(STATUS_WORDS.get(m.status, m.status))


class OutboxModel(DeskRowModel[OutboxMessage]):
    Column = IntEnum("Column", "STATUS CLIENT TO SUBJECT KIND ATTEMPTS WHEN ERROR", start=0)
    numeric = frozenset({5})

    def headers(self) -> list[str]:
        return [self.tr("Status"), self.tr("Client"), self.tr("To"), self.tr("Subject"),
                self.tr("Kind"), self.tr("Attempts"), self.tr("Queued / sent"),
                self.tr("Last error")]

    def display(self, m: OutboxMessage, column: int) -> str:
        c = self.Column
        match c(column):
            case c.STATUS:
                return status_text(m)
            case c.CLIENT:
                return m.client or "—"
            case c.TO:
                return m.to or self.tr("no e-mail address")
            case c.SUBJECT:
                return m.subject
            case c.KIND:
                return tr(KIND_LABELS.get(m.kind, m.kind))
            case c.ATTEMPTS:
                return str(m.attempts)
            case c.WHEN:
                return self.ctx.fmt.when(m.sent_at or m.created_at)
            case _:
                return "" if m.status == "sent" else (m.error or "")

    def raw(self, m: OutboxMessage, column: int) -> Any:
        if column == self.Column.ATTEMPTS:
            return m.attempts
        if column == self.Column.WHEN:
            return m.sent_at or m.created_at
        return super().raw(m, column)

    def tone(self, m: OutboxMessage, column: int) -> str:
        if column != self.Column.STATUS:
            return ""
        return {"sent": "ok", "failed": "bad"}.get(m.status, "warn" if m.attempts else "")

    def tooltip(self, m: OutboxMessage, column: int) -> str | None:
        if column == self.Column.ERROR and m.error:
            return m.error
        if column == self.Column.STATUS and m.reply:
            return self.tr("The server answered: {reply}").format(reply=m.reply)
        return None


def outbox_table(model: OutboxModel, name: str) -> QTableView:
    view = make_table(model, name, stretch=model.Column.SUBJECT)
    fit_columns(view, {0: 130, 1: 140, 2: 180, 3: 330, 4: 120, 5: 70, 6: 140})
    return view


class MessageDialog(QDialog):
    """One message as the client receives it: headers, then the HTML body."""

    def __init__(self, ctx: DeskContext, m: OutboxMessage, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("messageDialog")
        self.setWindowTitle(self.tr("E-mail {id}").format(id=m.id))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = column_layout(self, (20, 16, 20, 14), 8)
        fmt = ctx.fmt
        sent = (self.tr("sent {when}").format(when=fmt.when(m.sent_at)) if m.sent_at
                else status_text(m))
        head = [(self.tr("Subject"), m.subject),
                (self.tr("To"), m.to or self.tr("no e-mail address: nothing sent")),
                (self.tr("Status"), f"{sent} · {self.tr('attempts')}: {m.attempts}"),
                (self.tr("Queued"), fmt.when(m.created_at)),
                (self.tr("Message-ID"), m.message_id)]
        if m.attachment:
            head.append((self.tr("Attached"), self.tr("the invoice PDF") if m.attachment
                         .startswith("invoice:") else self.tr("the statement PDF")))
        if m.error and m.status != "sent":
            head.append((self.tr("Last error"), m.error))
        if m.reply:
            head.append((self.tr("Server reply"), m.reply))
        for label, value in head:
            line = plain_label(f"<b>{label}:</b> {_escape(value)}", wrap=True, selectable=True)
            line.setTextFormat(Qt.TextFormat.RichText)
            layout.addWidget(line)
        self.body = QTextBrowser()
        self.body.setObjectName("messageBody")
        self.body.setOpenExternalLinks(False)
        self.body.setHtml(m.html_body or _escape(m.body).replace("\n", "<br>"))
        layout.addWidget(self.body, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(640, 560)


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class MailActions:
    """Open and Retry on a table of messages (the outbox screen and the client's Mail tab)."""

    ctx: DeskContext
    view: QTableView
    notice: Notice

    def selected(self) -> OutboxMessage | None:
        return selected_row(self.view, OutboxMessage)

    def open_message(self) -> MessageDialog | None:
        m = self.selected()
        if m is None:
            return None
        dialog = MessageDialog(self.ctx, m, self.view.window())
        dialog.show()
        return dialog

    def retry(self) -> None:
        m, desk = self.selected(), self.ctx.desk
        if m is None or desk is None:
            return
        self.ctx.run_op(self.view, lambda: outbox.retry_message(desk, m.id), self._retried,
                        label=tr("Retry e-mail"), on_refused=self._refused)

    def _retried(self, m: OutboxMessage) -> None:
        self.notice.set(tr("Queued again"), tr("Message {id} to {to} goes out with the next "
                                               "send.").format(id=m.id, to=m.to))
        self.notice.show()

    def _refused(self, refusal: QuotaDeskError) -> None:
        self.notice.set(tr("Not done"), refusal_text(refusal))
        self.notice.show()


class OutboxDialog(QDialog, MailActions):
    """The whole desk's outbox, newest first, filtered by status and client."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("outboxDialog")
        self.setWindowTitle(self.tr("Outbox"))
        layout = column_layout(self, (18, 14, 18, 12), 10)
        layout.addWidget(plain_label(self.tr(
            "Alerts, payment requests, reminders and statements owed to clients by e-mail. "
            "Waiting messages go out with the next send (every minute while this window is "
            "open and a mail server is set, or `quotadesk mail send`)."), wrap=True, name="hint"))
        self.notice = Notice("info")
        self.notice.hide()
        layout.addWidget(self.notice)
        filters = QHBoxLayout()
        self.status = QComboBox()
        self.status.setObjectName("outboxStatus")
        self.status.setAccessibleName(self.tr("Status"))
        for label, value in ((self.tr("All"), None), (self.tr("Waiting"), "queued"),
                             (self.tr("Sent"), "sent"), (self.tr("Failed"), "failed")):
            self.status.addItem(label, value)
        self.client = QLineEdit()
        self.client.setObjectName("outboxClient")
        self.client.setPlaceholderText(self.tr("Filter by client, address or subject"))
        self.client.setClearButtonEnabled(True)
        filters.addWidget(plain_label(self.tr("Status")))
        filters.addWidget(self.status)
        filters.addWidget(self.client, 1)
        layout.addLayout(filters)
        self.model = OutboxModel(ctx, self)
        self.view = outbox_table(self.model, self.tr("Outbox"))
        layout.addWidget(self.view, 1)
        self.count = plain_label("", name="hint")
        buttons = QHBoxLayout()
        buttons.addWidget(self.count, 1)
        self.open_button = QPushButton(self.tr("&Open"))
        self.open_button.setObjectName("openMessage")
        self.retry_button = QPushButton(self.tr("&Retry"))
        self.retry_button.setObjectName("retryMessage")
        close = QPushButton(self.tr("Close"))
        for button in (self.open_button, self.retry_button, close):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        layout.addLayout(buttons)
        self.open_button.clicked.connect(self.open_message)
        self.retry_button.clicked.connect(self.retry)
        close.clicked.connect(self.reject)
        self.view.doubleClicked.connect(lambda _i: self.open_message())
        self.status.currentIndexChanged.connect(lambda _i: self.reload())
        self.client.textChanged.connect(self._filter)
        self.view.selectionModel().selectionChanged.connect(self._update_buttons)
        ctx.changed.connect(self._on_changed)
        self._all: list[OutboxMessage] = []
        self.resize(1320, 640)
        self._update_buttons()
        self.reload()

    def reload(self) -> None:
        desk = self.ctx.desk
        if desk is None:
            return
        status = self.status.currentData()
        self.ctx.run_op(self, lambda: outbox.list_messages(desk, None, status, limit=5000),
                        self._loaded, latest="outbox", label=self.tr("Loading the outbox"))

    def _loaded(self, rows: list[OutboxMessage]) -> None:
        self._all = rows
        self._filter()

    def _filter(self, *_args: object) -> None:
        words = self.client.text().casefold().split()
        rows = [m for m in self._all if all(
            w in f"{m.client or ''} {m.to or ''} {m.subject}".casefold() for w in words)]
        self.model.set_rows(rows)
        waiting = sum(1 for m in rows if m.status in ("queued", "sending"))
        failed = sum(1 for m in rows if m.status == "failed")
        self.count.setText(self.tr("{n} messages · {w} waiting · {f} failed").format(
            n=len(rows), w=waiting, f=failed))
        self._update_buttons()

    def _update_buttons(self, *_args: object) -> None:
        m = self.selected()
        self.open_button.setEnabled(m is not None)
        self.retry_button.setEnabled(m is not None and m.status == "failed")

    def _on_changed(self, changes: Changes) -> None:
        if changes.touches(Area.MAIL, Area.CLIENTS, Area.DATABASE):
            self.reload()

    def show_refusal(self, refusal: QuotaDeskError) -> None:
        self._refused(refusal)
