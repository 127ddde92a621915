"""Add-on pack dialogs on a client: apply a pack (seed 000), revoke a lot's unused units."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QDialog, QGridLayout, QLabel, QLineEdit, QWidget

from quotadesk.services import wallet
from quotadesk.services.results import ApplyResult, PackInfo
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.formatting import unit_word
from quotadesk.views.widgets import FormDialog, exclusive_choice, plain_label, section_title

#: The three things applying does, in seed 000's words.
APPLY_BULLETS = (
    "Credit the selected addon pack minutes to this client’s wallet immediately.",
    "Set the payment request due date per the plan’s ‘Payment due after period start’ setting "
    "(e.g. 1 day after application).",
    "Create a payment request for this addon pack.",
)


class ApplyPackDialog(FormDialog):
    """Seed 000, steps 2-3: review, choose Pending or Paid, credit once."""

    applied = Signal(object)

    def __init__(self, ctx: DeskContext, client_id: int, client_name: str, pack: PackInfo,
                 parent: QWidget | None = None, due_days: int | None = None) -> None:
        super().__init__(ctx, self.tr("Apply addon pack to client?"), parent)
        self.setObjectName("applyPackDialog")
        self.client_id = client_id
        self.pack = pack
        # One key per dialog: a double click, Enter twice or a retry after an error credits once.
        self.key = wallet.new_application_key()
        heading = plain_label(self.tr("Apply addon pack to client?"), name="dialogTitle")
        self.layout_.addWidget(heading)
        self.pack_line = plain_label(pack.name, name="applyPackName")
        self.count_line = plain_label(self.tr("{count} {unit} to be credited to {client}").format(
            count=ctx.fmt.qty(pack.units), unit=unit_word(pack.resource), client=client_name),
            wrap=True, name="applyPackCount")
        self.layout_.addWidget(self.pack_line)
        self.layout_.addWidget(self.count_line)
        self.layout_.addWidget(plain_label(self.tr("Applying this pack will:"), name="strong"))
        self.bullets: list[QLabel] = []
        for text in APPLY_BULLETS:
            bullet = plain_label("•  " + self.tr(text), wrap=True, name="bullet")
            self.bullets.append(bullet)
            self.layout_.addWidget(bullet)
            if text is APPLY_BULLETS[1] and due_days is not None:
                # Beside seed 000's sentence, which stays word for word: the real date.
                self.due_line = plain_label(self.due_text(due_days), wrap=True, name="dueLine")
                self.due_line.setIndent(18)
                self.layout_.addWidget(self.due_line)
        self.layout_.addWidget(section_title(self.tr("Payment request status")))
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setColumnStretch(1, 1)
        self.pending, self.paid = exclusive_choice(
            self, (self.tr("Pending"), "statusPending"), (self.tr("Paid"), "statusPaid"))
        pending_text = self.tr("the pack is credited now; the payment request stays open until "
                               "you mark it paid.")
        paid_text = self.tr("the pack is credited and the payment request is immediately "
                            "recorded as paid.")
        for row, (radio, text) in enumerate(((self.pending, pending_text),
                                             (self.paid, paid_text))):
            radio.setAccessibleName(radio.text())
            radio.setAccessibleDescription(text)
            grid.addWidget(radio, row, 0, Qt.AlignmentFlag.AlignTop)
            explanation = plain_label("- " + text, wrap=True, name="radioHelp")
            grid.addWidget(explanation, row, 1)
        self.layout_.addLayout(grid)
        self.finish_layout(self.tr("Credit addon & create request"))
        self.setMinimumWidth(520)
        self.resize(560, self.sizeHint().height())

    def due_text(self, due_days: int) -> str:
        """"Due 2026-12-19, 14 days after application" (the local date of applying now)."""
        desk = self.ctx.desk
        today = self.ctx.fmt.local(desk.clock() if desk is not None else datetime.now(UTC)).date()
        day = (today + timedelta(days=due_days)).isoformat()
        if due_days == 0:
            return self.tr("Due {date}, the day of application").format(date=day)
        if due_days == 1:
            return self.tr("Due {date}, 1 day after application").format(date=day)
        return self.tr("Due {date}, {days} days after application").format(date=day,
                                                                           days=due_days)

    def status(self) -> str:
        return "paid" if self.paid.isChecked() else "pending"

    def submit(self) -> None:
        desk, client_id, pack_id, key, status = (self.ctx.desk, self.client_id, self.pack.id,
                                                 self.key, self.status())
        self.run(lambda: wallet.apply_pack(desk, client=client_id, pack=pack_id, status=status,
                                           key=key),
                 self._done,
                 label=self.tr("Apply addon pack"))

    def _done(self, result: object) -> None:
        assert isinstance(result, ApplyResult)
        self.applied.emit(result)
        self.done(QDialog.DialogCode.Accepted)


class RevokeDialog(FormDialog):
    """Take back a lot's unused units, with a reason (SPEC §3)."""

    def __init__(self, ctx: DeskContext, client_id: int, lot_id: int, pack: str,
                 remaining_text: str, parent: QWidget | None = None) -> None:
        super().__init__(ctx, self.tr("Revoke unused units"), parent)
        self.setObjectName("revokeDialog")
        self.client_id = client_id
        self.lot_id = lot_id
        self.layout_.addWidget(plain_label(self.tr(
            "Take back the {remaining} still unused in lot {lot} ({pack})? Units already "
            "consumed are never taken back. The ledger records the revocation with your reason."
        ).format(remaining=remaining_text, lot=lot_id, pack=pack), wrap=True))
        self.reason = QLineEdit()
        self.reason.setObjectName("revokeReason")
        self.reason.setPlaceholderText(self.tr("e.g. payment failed"))
        self.add_field("reason", self.tr("&Reason"), self.reason)
        self.fields["lot"] = self.fields["reason"]
        self.finish_layout(self.tr("Revoke unused units"))
        self.resize(480, self.sizeHint().height())

    def submit(self) -> None:
        desk, lot_id, reason = self.ctx.desk, self.lot_id, self.reason.text()
        self.run(lambda: wallet.revoke_lot(desk, lot_id=lot_id, reason=reason),
                 lambda _r: self.done(QDialog.DialogCode.Accepted))

