"""Billing ▸ Audit log…: who changed what, when (SPEC §12), filtered by client, day and action;
its table model is the client page's Audit log tab too."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QWidget,
)

from quotadesk.services import audit, clients
from quotadesk.services.audit import AuditRow
from quotadesk.services.errors import QuotaDeskError
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.formatting import tr
from quotadesk.views.ops import Changes
from quotadesk.views.tables import DeskRowModel, fit_columns, make_table, refit_soon
from quotadesk.views.widgets import Notice, column_layout, plain_label, refusal_text

#: What each action means, in the product's words.
ACTIONS = {
    "init": "Database set up", "settings.change": "Settings changed",
    "plan.add": "Plan added", "plan.edit": "Plan edited", "pack.add": "Pack added",
    "pack.edit": "Pack edited", "client.add": "Client added", "client.edit": "Client edited",
    "subscribe": "Subscribed", "cancel": "Subscription cancelled", "assign": "Packs assigned",
    "unassign": "Assignment removed", "pack.apply": "Pack applied",
    "lot.revoke": "Unused units revoked", "payment.paid": "Marked paid",
    "payment.failed": "Marked failed", "payment.undo_paid": "Mark paid undone",
    "usage.record": "Usage recorded", "usage.import": "Usage file imported",
    "rollover": "Period rollover", "topup.set": "Top-up rule set",
    "topup.clear": "Top-up rule removed", "campaign.add": "Campaign added",
    "campaign.pause": "Campaign paused", "campaign.resume": "Campaign resumed",
    "campaign.finish": "Campaign finished",
    "mail.send": "E-mails sent", "mail.retry": "E-mail queued again",
    "mail.statement": "Statement e-mailed",
}


def action_text(action: str) -> str:
    words = ACTIONS.get(action)
    return tr(words) if words else action


def on_text(row: AuditRow) -> str:
    """What the entry is about: "Charlie", "payment request 12 · Charlie", "import · 3
    clients"."""
    if row.entity == "client" and len(row.clients) == 1:
        return row.clients[0]
    what = row.entity.replace("_", " ") + ("" if row.entity_id is None else f" {row.entity_id}")
    if len(row.clients) == 1:
        return f"{what} · {row.clients[0]}"
    if row.clients:
        return tr("{what} · {count} clients").format(what=what, count=len(row.clients))
    return what


class AuditModel(DeskRowModel[AuditRow]):
    Column = IntEnum("Column", "AT ACTOR ACTION ENTITY DETAIL", start=0)

    def headers(self) -> list[str]:
        return [self.tr("When"), self.tr("Who"), self.tr("What"), self.tr("On"),
                self.tr("Detail")]

    def display(self, row: AuditRow, column: int) -> str:
        c = self.Column
        match c(column):
            case c.AT:
                return self.ctx.fmt.when(row.at)
            case c.ACTOR:
                return row.actor
            case c.ACTION:
                return action_text(row.action)
            case c.ENTITY:
                return on_text(row)
            case _:
                return row.detail_line()

    def raw(self, row: AuditRow, column: int) -> Any:
        c = self.Column
        if column == c.AT:
            return (row.at, row.id)
        return self.display(row, column).casefold()

    def tooltip(self, row: AuditRow, column: int) -> str | None:
        return row.detail_line() if column == self.Column.DETAIL else row.action

    def tone(self, row: AuditRow, column: int) -> str:
        if column == self.Column.ACTOR and row.actor == "auto top-up":
            return "ok"
        return ""


def audit_table(model: AuditModel, name: str) -> Any:
    view = make_table(model, name, stretch=AuditModel.Column.DETAIL)
    fit_columns(view, {0: 125, 1: 90, 2: 150, 3: 170})
    return view


class AuditLogDialog(QDialog):
    """The whole trail with its filters; it follows every write while open."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("auditLogDialog")
        self.setWindowTitle(self.tr("Audit log"))
        self.setAccessibleName(self.tr("Audit log"))
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        layout = column_layout(self, 16, 10)
        layout.addWidget(plain_label(self.tr(
            "Every change made on this desk: who made it, when, and to what. Automatic "
            "top-ups are listed with the actor “auto top-up”."), wrap=True, name="hint"))
        filters = QHBoxLayout()
        filters.setSpacing(8)
        self.client = QComboBox()
        self.client.setObjectName("auditClient")
        self.client.setAccessibleName(self.tr("Client"))
        self.client.addItem(self.tr("All clients"), None)
        self.client.setMinimumWidth(180)
        self.since_on = QCheckBox(self.tr("&Since"))
        self.since_on.setObjectName("auditSinceOn")
        self.since = QDateEdit()
        self.since.setObjectName("auditSince")
        self.since.setAccessibleName(self.tr("Since"))
        self.since.setCalendarPopup(True)
        self.since.setDisplayFormat("yyyy-MM-dd")
        self.since.setDate(QDate.currentDate().addDays(-30))
        self.since.setEnabled(False)
        self.action = QComboBox()
        self.action.setObjectName("auditAction")
        self.action.setAccessibleName(self.tr("Action"))
        self.action.addItem(self.tr("All actions"), None)
        self.action.setMinimumWidth(170)
        client_label = QLabel(self.tr("&Client"))
        client_label.setBuddy(self.client)
        action_label = QLabel(self.tr("&Action"))
        action_label.setBuddy(self.action)
        for widget in (client_label, self.client, self.since_on, self.since, action_label,
                       self.action):
            filters.addWidget(widget)
        filters.addStretch(1)
        layout.addLayout(filters)
        self.error = Notice("danger")
        self.error.hide()
        layout.addWidget(self.error)
        self.model = AuditModel(ctx, self)
        self.view = audit_table(self.model, self.tr("Audit log"))
        layout.addWidget(self.view, 1)
        self.count = plain_label("", name="summaryLine")
        layout.addWidget(self.count)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.resize(980, 600)

        self.client.currentIndexChanged.connect(self.reload)
        self.action.currentIndexChanged.connect(self.reload)
        self.since_on.toggled.connect(self.since.setEnabled)
        self.since_on.toggled.connect(self.reload)
        self.since.dateChanged.connect(self.reload)
        ctx.changed.connect(self._changed)
        desk = ctx.desk
        if desk is not None:
            ctx.run_op(self, lambda: (clients.client_names(desk), audit.audit_actions(desk)),
                       self._choices, label=self.tr("Loading the audit log"))
        self.reload()

    def _choices(self, found: tuple[list[tuple[int, str]], list[str]]) -> None:
        names, actions = found
        for client_id, name in names:
            self.client.addItem(name, client_id)
        for action in actions:
            self.action.addItem(action_text(action), action)

    def filters(self) -> dict[str, Any]:
        since = self.since.date().toString("yyyy-MM-dd") if self.since_on.isChecked() else None
        return {"client": self.client.currentData(), "since": since,
                "action": self.action.currentData()}

    def reload(self, *_args: object) -> None:
        desk = self.ctx.desk
        if desk is None:
            return
        wanted = self.filters()
        self.error.hide()
        self.ctx.run_op(self, lambda: audit.list_audit(desk, **wanted), self._loaded,
                        latest="audit", label=self.tr("Loading the audit log"))

    def _loaded(self, rows: list[AuditRow]) -> None:
        self.model.set_rows(rows)
        refit_soon(self.view, self.model)
        shown = self.ctx.fmt.count(len(rows))
        self.count.setText(self.tr("{count} entries (the newest {limit} at most)").format(
            count=shown, limit=self.ctx.fmt.count(audit.MAX_ROWS))
            if len(rows) >= audit.MAX_ROWS else self.tr("{count} entries").format(count=shown))

    def _changed(self, changes: Changes) -> None:
        if changes:
            self.reload()

    def open(self) -> None:
        """A screen beside the window, not over it: the client list stays usable."""
        self.show()

    def show_refusal(self, refusal: QuotaDeskError) -> None:
        self.error.set(self.tr("Not done"), refusal_text(refusal))
        self.error.show()
