"""The Addon Packs tab's automatic top-up card (SPEC §12): the client's rules, why one does
nothing, and the editor that reads as a sentence ("When the wallet falls below 100 minutes,
apply 500 Minutes Pack, payment pending")."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from quotadesk.services import topup
from quotadesk.services.client_page import ClientPageData
from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.topup import TopupInfo
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.formatting import Formatter, tr, unit_word
from quotadesk.views.widgets import Card, plain_label, refusal_text

RESOURCE_ROLE = Qt.ItemDataRole.UserRole + 1  # a pack option's resource


def rule_sentence(rule: TopupInfo, fmt: Formatter) -> str:
    return tr("When the wallet falls below {units}, apply {pack}, payment {status}").format(
        units=fmt.units(rule.resource, rule.below), pack=rule.pack,
        status=tr("pending") if rule.status == "pending" else tr("paid"))


def idle_text(reason: str) -> str:
    return tr("Kept, but does nothing now: {reason}.").format(reason=tr(reason))


class TopupRuleRow(QFrame):
    def __init__(self, rule: TopupInfo, fmt: Formatter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rule = rule
        self.setObjectName("topupRule")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(12, 8, 8, 8)
        text = QVBoxLayout()
        text.setSpacing(2)
        self.sentence = plain_label(rule_sentence(rule, fmt), wrap=True, name="packName")
        self.state = plain_label(idle_text(rule.idle) if rule.idle else tr(
            "Active: applied automatically, once per fall below the threshold."), wrap=True,
            name="topupIdle" if rule.idle else "hint")
        text.addWidget(self.sentence)
        text.addWidget(self.state)
        layout.addLayout(text, 1)
        self.remove_button = QPushButton(tr("Remove rule"))
        self.remove_button.setAccessibleName(tr("Remove the top-up rule for {pack}").format(
            pack=rule.pack))
        layout.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignVCenter)
        self.setAccessibleName(self.sentence.text())
        self.setAccessibleDescription(self.state.text())


class TopupCard(Card):
    """Rules and their editor; a refusal shows under the editor, where the user is."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(tr("Automatic top-up"), parent)
        self.setObjectName("topupCard")
        self.ctx = ctx
        self.data: ClientPageData | None = None
        self.rows: list[TopupRuleRow] = []
        self.add(plain_label(tr(
            "Apply a pack by itself when usage leaves the wallet below a threshold: once per "
            "fall below it, again only after the wallet was back at the threshold. It needs "
            "add-on packs on and the pack assigned."), wrap=True, name="hint"))
        self.rules_box = QVBoxLayout()
        self.rules_box.setSpacing(6)
        self.outer.addLayout(self.rules_box)
        # The editor reads as the rule's sentence, on three short lines (a narrow pane).
        first, second, third = QHBoxLayout(), QHBoxLayout(), QHBoxLayout()
        for line in (first, second, third):
            line.setSpacing(6)
        self.below = QLineEdit("100")
        self.below.setObjectName("topupBelow")
        self.below.setAccessibleName(tr("Threshold"))
        self.below.setMaximumWidth(90)
        self.unit = plain_label(tr("minutes"), name="topupWords")
        self.pack = QComboBox()
        self.pack.setObjectName("topupPack")
        self.pack.setAccessibleName(tr("Pack to apply"))
        self.pack.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.pack.setMinimumContentsLength(16)
        self.status = QComboBox()
        self.status.setObjectName("topupStatus")
        self.status.setAccessibleName(tr("Payment request status"))
        self.status.addItem(tr("pending"), "pending")
        self.status.addItem(tr("paid"), "paid")
        self.save_button = QPushButton(tr("Save rule"))
        self.save_button.setObjectName("primaryButton")
        self.save_button.setAccessibleName(tr("Save the top-up rule"))
        for widget in (plain_label(tr("When the wallet falls below"), name="topupWords"),
                       self.below, self.unit):
            first.addWidget(widget)
        for widget in (plain_label(tr("apply"), name="topupWords"), self.pack,
                       plain_label(tr("payment"), name="topupWords"), self.status):
            second.addWidget(widget)
        third.addWidget(self.save_button)
        for line in (first, second, third):
            line.addStretch(1)
            self.outer.addLayout(line)
        self.error = plain_label("", wrap=True, name="fieldError")
        self.error.hide()
        self.outer.addWidget(self.error)
        self.pack.currentIndexChanged.connect(self._pack_changed)
        self.save_button.clicked.connect(self.save)
        self.below.returnPressed.connect(self.save)

    def render(self, data: ClientPageData, fmt: Formatter) -> None:
        first = self.data is None or self.data.client_id != data.client_id
        self.data = data
        for row in self.rows:
            row.hide()
            row.deleteLater()
        self.rows = []
        for rule in data.topups:
            row = TopupRuleRow(rule, fmt)
            row.remove_button.clicked.connect(lambda _=False, r=rule: self.clear(r))
            self.rules_box.addWidget(row)
            self.rows.append(row)
        assigned = {p.id for p in data.detail.assigned_packs}
        chosen = self.pack.currentData()
        self.pack.blockSignals(True)
        self.pack.clear()
        # The client's assigned packs first: only they can be applied.
        for pack in sorted(data.catalog, key=lambda p: (p.id not in assigned, p.name.casefold())):
            self.pack.addItem(pack.name, pack.id)
            self.pack.setItemData(self.pack.count() - 1, pack.resource, RESOURCE_ROLE)
        index = self.pack.findData(chosen) if chosen is not None and not first else -1
        self.pack.setCurrentIndex(max(0, index))
        self.pack.blockSignals(False)
        self._pack_changed()
        self.save_button.setEnabled(self.pack.count() > 0)

    def _pack_changed(self, *_args: object) -> None:
        resource = self.pack.currentData(RESOURCE_ROLE)
        self.unit.setText(unit_word(resource) if isinstance(resource, str) else "")

    def save(self) -> None:
        data = self.data
        pack_id = self.pack.currentData()
        if data is None or pack_id is None:
            return
        desk = self.ctx.desk
        client_id, below, status = data.client_id, self.below.text(), self.status.currentData()
        self.run_write(lambda: topup.set_topup(desk, client=client_id, pack=pack_id,
                                               below=below, status=status),
                       label=tr("Save the top-up rule"))

    def run_write(self, fn: Callable[[], object], label: str) -> None:
        self.error.hide()
        self.ctx.run_op(self, fn, label=label)

    def show_refusal(self, refusal: QuotaDeskError) -> None:
        self.error.setText(refusal_text(refusal))
        self.error.show()
        self.below.setFocus(Qt.FocusReason.OtherFocusReason)

    def clear(self, rule: TopupInfo) -> None:
        desk = self.ctx.desk
        client_id, pack_id = rule.client_id, rule.pack_id
        self.run_write(lambda: topup.clear_topup(desk, client=client_id, pack=pack_id),
                       label=tr("Remove the top-up rule"))
