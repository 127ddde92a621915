"""One pack assigned to the client, with its Apply and Remove buttons (seed 000)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from quotadesk.services.results import PackInfo
from quotadesk.views.formatting import validity_text
from quotadesk.views.widgets import plain_label

if TYPE_CHECKING:
    from quotadesk.views.formatting import Formatter


class PackCard(QFrame):
    """One "Currently assigned to client" entry: Apply Addon Pack and Remove Assignment."""

    def __init__(self, pack: PackInfo, fmt: Formatter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.pack = pack
        self.setObjectName("packCard")
        self.setAccessibleName(pack.name)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 10, 10, 10)
        text = QVBoxLayout()
        text.setSpacing(2)
        self.name = plain_label(pack.name, wrap=True, name="packName")
        self.detail = plain_label(" · ".join([
            fmt.units(pack.resource, pack.units), fmt.money(pack.price),
            validity_text(pack.expires_months)]), wrap=True, name="packDetail")
        text.addWidget(self.name)
        text.addWidget(self.detail)
        if pack.description:
            text.addWidget(plain_label(pack.description, wrap=True, name="packDescription"))
        layout.addLayout(text, 1)
        self.apply_button = QPushButton(self.tr("Apply Addon Pack"))
        self.apply_button.setObjectName("primaryButton")
        self.apply_button.setAccessibleName(self.tr("Apply Addon Pack {name}").format(
            name=pack.name))
        self.remove_button = QPushButton(self.tr("Remove Assignment"))
        self.remove_button.setAccessibleName(self.tr("Remove Assignment {name}").format(
            name=pack.name))
        layout.addWidget(self.apply_button, 0, Qt.AlignmentFlag.AlignVCenter)
        layout.addWidget(self.remove_button, 0, Qt.AlignmentFlag.AlignVCenter)
