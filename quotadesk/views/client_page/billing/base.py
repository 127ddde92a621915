"""What every Billing sub-tab shares: the loaded page data, an inline refusal, writes."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QWidget

from quotadesk.services.client_page import ClientPageData
from quotadesk.services.errors import QuotaDeskError
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.widgets import Notice, refusal_text


class ClientTab(QWidget):
    """A tab of the client page: it renders `ClientPageData` and refuses inline."""

    message = Signal(str)

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.data: ClientPageData | None = None
        self.error = Notice("danger")
        self.error.setObjectName("tabError")
        self.error.hide()

    def render(self, data: ClientPageData) -> None:
        if self.data is None or self.data.client_id != data.client_id:
            self.error.hide()
        self.data = data

    def show_refusal(self, refusal: QuotaDeskError) -> None:
        self.error.set(self.tr("Not done"), refusal_text(refusal))
        self.error.show()

    def clear_refusal(self) -> None:
        self.error.hide()

    def run_write(self, fn: Any, on_done: Any = None, label: str = "") -> None:
        self.clear_refusal()
        self.ctx.run_op(self, fn, on_done, label=label)
