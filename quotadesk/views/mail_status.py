"""The status bar's mail part ("3 e-mails waiting · last sent 10:42") and the window's
background sender: every minute while a mail server is set, off the UI thread through the
one operation helper, never inside a billing transaction (SPEC §9)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QLabel

from quotadesk.services import mail_sender, outbox
from quotadesk.services.attachments import attach_documents
from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.unit_of_work import Desk
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.ops import Area, Changes

log = logging.getLogger(__name__)
INTERVAL_MS = 60_000
FIRST_MS = 5_000


@dataclass(frozen=True)
class MailState:
    waiting: int
    last_sent: datetime | None
    smtp_set: bool
    problem: str = ""


def send_round(desk: Desk, send: bool) -> MailState:
    """Send what is due (when asked and a server is set), then count what still waits."""
    smtp_set = mail_sender.current_settings(desk).smtp_set
    problem = ""
    if send and smtp_set:
        try:
            mail_sender.send_due(desk, attach=attach_documents(desk))
        except QuotaDeskError as refusal:
            problem = refusal.message
        except Exception as error:  # a background round must never raise a dialog a minute
            log.exception("the background mail sender failed")
            problem = f"mail: not sent ({type(error).__name__}); see the log"
    waiting, last = outbox.outbox_summary(desk)
    return MailState(waiting, last, smtp_set, problem)


class MailStatus(QObject):
    def __init__(self, ctx: DeskContext, label: QLabel) -> None:
        super().__init__(label)
        self.ctx = ctx
        self.label = label
        self.state: MailState | None = None
        self._running = False
        self.timer = QTimer(self)
        self.timer.setInterval(INTERVAL_MS)
        self.timer.timeout.connect(self.send_now)
        self.first = QTimer(self)
        self.first.setSingleShot(True)
        self.first.setInterval(FIRST_MS)
        self.first.timeout.connect(self.send_now)
        ctx.changed.connect(self._changed)

    def start(self) -> None:
        """A desk was adopted: count now, send shortly, then every minute."""
        self.refresh()
        self.first.start()
        self.timer.start()

    def stop(self) -> None:
        """The window closes (or another database opens): no more rounds."""
        self.first.stop()
        self.timer.stop()

    def _changed(self, changes: Changes) -> None:
        if changes.touches(Area.MAIL, Area.DATABASE):
            self.refresh()

    def refresh(self) -> None:
        self._round(send=False)

    def send_now(self) -> None:
        self._round(send=True)

    def _round(self, send: bool) -> None:
        desk = self.ctx.desk
        if desk is None or (send and self._running):
            return
        self._running = self._running or send

        def settled() -> None:
            if send:
                self._running = False

        self.ctx.run_op(self.label, lambda: send_round(desk, send), self.show,
                        label=self.tr("Sending e-mail"), on_settled=settled,
                        on_refused=lambda r: self.label.setToolTip(r.message))

    def show(self, state: MailState) -> None:
        self.state = state
        fmt = self.ctx.fmt
        parts = []
        if state.waiting:
            parts.append(self.tr("1 e-mail waiting") if state.waiting == 1 else
                         self.tr("{n} e-mails waiting").format(n=fmt.count(state.waiting)))
        if state.last_sent is not None:
            parts.append(self.tr("last sent {when}").format(when=_short(fmt.local(
                state.last_sent))))
        if state.waiting and not state.smtp_set:
            parts.append(self.tr("no mail server set (File ▸ Settings…)"))
        if state.problem:
            parts.append(self.tr("not sending: see the tooltip"))
        self.label.setText(" · ".join(parts))
        self.label.setToolTip(state.problem or self.tr("Billing ▸ Outbox… lists every e-mail"))
        self.label.setVisible(bool(parts))


def _short(moment: datetime) -> str:
    today = datetime.now(moment.tzinfo).date()
    return f"{moment:%H:%M}" if moment.date() == today else f"{moment:%Y-%m-%d %H:%M}"
