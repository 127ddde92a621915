"""The Addon Packs sub-tab's multi-select of catalog packs (seed 000)."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QListWidget,
    QListWidgetItem,
    QMenu,
    QPushButton,
    QSizePolicy,
    QWidget,
    QWidgetAction,
)

from quotadesk.views.widgets import button_text


class PackPicker(QPushButton):
    """Seed 000's multi-select: "Select addon packs…", options `Name - price (count unit)`.
    A drop-down list of check boxes: arrows move, Space ticks, Escape closes."""

    selection_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("packPicker")
        self.placeholder = self.tr("Select addon packs…")
        self.setAccessibleName(self.tr("Select addon packs"))
        self.setAutoDefault(False)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.list = QListWidget()
        self.list.setObjectName("packPickerList")
        self.list.setAccessibleName(self.tr("Addon packs"))
        self.list.setMinimumWidth(360)
        menu = QMenu(self)
        action = QWidgetAction(menu)
        action.setDefaultWidget(self.list)
        menu.addAction(action)
        menu.aboutToShow.connect(self._about_to_show)
        self.setMenu(menu)
        self.list.itemChanged.connect(self._changed)
        self.list.itemActivated.connect(self._toggle)
        # Return closes the list (Space ticks): the picked packs show on the button, and the
        # next Tab reaches Assign Addon Packs.
        self.list.installEventFilter(self)
        self._update_text()

    def set_packs(self, options: list[tuple[int, str]], checked: set[int]) -> None:
        self.list.blockSignals(True)
        self.list.clear()
        for pack_id, text in options:
            item = QListWidgetItem(text)
            item.setData(Qt.ItemDataRole.UserRole, pack_id)
            item.setFlags(Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsUserCheckable
                          | Qt.ItemFlag.ItemIsSelectable)
            item.setCheckState(Qt.CheckState.Checked if pack_id in checked
                               else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        self.list.blockSignals(False)
        rows = max(1, min(8, self.list.count()))
        self.list.setFixedHeight(rows * 30 + 8)
        self._update_text()

    def options(self) -> list[str]:
        return [self.list.item(i).text() for i in range(self.list.count())]

    def checked_ids(self) -> list[int]:
        return [self.list.item(i).data(Qt.ItemDataRole.UserRole) for i in range(self.list.count())
                if self.list.item(i).checkState() == Qt.CheckState.Checked]

    def set_checked(self, pack_ids: set[int]) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole)
                               in pack_ids else Qt.CheckState.Unchecked)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (watched is self.list and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            self.menu().close()
            self.setFocus(Qt.FocusReason.PopupFocusReason)
            return True
        return super().eventFilter(watched, event)

    def _about_to_show(self) -> None:
        self.list.setFocus(Qt.FocusReason.PopupFocusReason)
        if self.list.currentRow() < 0 and self.list.count():
            self.list.setCurrentRow(0)

    def _toggle(self, item: QListWidgetItem) -> None:
        item.setCheckState(Qt.CheckState.Unchecked if item.checkState() == Qt.CheckState.Checked
                           else Qt.CheckState.Checked)

    def _changed(self, _item: QListWidgetItem) -> None:
        self._update_text()
        self.selection_changed.emit()

    def _update_text(self) -> None:
        names = [self.list.item(i).text().split(" - ")[0] for i in range(self.list.count())
                 if self.list.item(i).checkState() == Qt.CheckState.Checked]
        text = self.placeholder if not names else ", ".join(names)
        metrics = self.fontMetrics()
        self.setText(button_text(metrics.elidedText(text, Qt.TextElideMode.ElideRight, 420)))
        self.setToolTip(text)
        self.setAccessibleDescription(text)
