"""Small building blocks shared by the panels: notices, stat tiles, section titles, and the
form dialog that keeps what the user typed and shows a refusal beside the field at fault."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QButtonGroup,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from quotadesk.services.errors import QuotaDeskError

if TYPE_CHECKING:
    from quotadesk.views.desk_context import DeskContext


def refusal_text(refusal: QuotaDeskError) -> str:
    """A refusal as the window says it: without the field id the command line starts it with
    ("packs: select at least one addon pack" reads "Select at least one addon pack"), since
    the window shows it beside that field or in the panel that made the request."""
    message = refusal.message
    head, sep, rest = message.partition(": ")
    if sep and rest and (head == refusal.field or (
            head.replace("_", "").isalpha() and head.isascii() and head.islower())):
        message = rest[:1].upper() + rest[1:]
    return message


class ShortcutsFirst(QObject):
    """Lets the window's shortcuts win over a line edit's own keys: a search box with focus
    (at start) takes Ctrl+U as "delete to the line's start" on Linux, and Record usage… never
    ran. Installed on the line edits that have focus where the window's actions apply."""

    def __init__(self, sequences: list[QKeySequence], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.sequences = {s.toString() for s in sequences if not s.isEmpty()}

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ShortcutOverride and isinstance(event, QKeyEvent):
            pressed = QKeySequence(event.keyCombination()).toString()
            if pressed in self.sequences:
                event.ignore()  # not the line edit's: the window's action runs
                return True
        return False


def confirm(parent: QWidget, title: str, text: str, accept: str,
            then: Callable[[], None]) -> QMessageBox:
    """Ask once before a write that is hard to take back (Mark paid on several requests):
    `then()` runs if the user accepts (Return does; Escape or Cancel does not). Returned, and
    kept on `parent.confirm_box`, for tests and screen readers."""
    box = QMessageBox(QMessageBox.Icon.Question, title, text, QMessageBox.StandardButton.Cancel,
                      parent)
    box.setObjectName("confirmBox")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    yes = box.addButton(button_text(accept), QMessageBox.ButtonRole.AcceptRole)
    yes.setObjectName("confirmButton")
    yes.setAccessibleName(accept)
    box.setDefaultButton(yes)
    box.buttonClicked.connect(lambda button: then() if button is yes else None)
    parent.confirm_box = box  # type: ignore[attr-defined]
    box.open()
    return box


def plain_label(text: str = "", *, wrap: bool = False, name: str = "",
                selectable: bool = False) -> QLabel:
    """A label that never interprets what it shows (client names may hold < and &)."""
    label = QLabel(text)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setWordWrap(wrap)
    if name:
        label.setObjectName(name)
    if selectable:
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    return label


def section_title(text: str) -> QLabel:
    label = plain_label(text, name="sectionTitle")
    label.setAccessibleName(text)
    return label


def button_text(text: str) -> str:
    """Button captions treat & as a mnemonic marker; the seed's "&" must show as itself."""
    return text.replace("&", "&&")


def scrolling(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    # Panels wrap their text to the pane's width instead of scrolling sideways.
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(widget)
    return area


def exclusive_choice(owner: QWidget, *choices: tuple[str, str],
                     checked: int = 0) -> list[QRadioButton]:
    """Radio buttons, each (text, object name), in one exclusive group owned by `owner`; the
    `checked`-th is checked."""
    buttons = []
    for text, name in choices:
        button = QRadioButton(text)
        button.setObjectName(name)
        buttons.append(button)
    buttons[checked].setChecked(True)
    group = QButtonGroup(owner)
    for button in buttons:
        group.addButton(button)
    return buttons


def scroll_content(owner: QWidget, inner: QWidget) -> None:
    """Fill `owner`, edge to edge, with `inner` in a vertical scroll area (`scrolling`)."""
    outer = QVBoxLayout(owner)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.addWidget(scrolling(inner))


def column_layout(widget: QWidget, margins: int | tuple[int, int, int, int],
                  spacing: int) -> QVBoxLayout:
    """`widget`'s vertical layout: `margins` pixels all round (or left, top, right, bottom),
    `spacing` between its items."""
    layout = QVBoxLayout(widget)
    if isinstance(margins, int):
        margins = (margins, margins, margins, margins)
    layout.setContentsMargins(*margins)
    layout.setSpacing(spacing)
    return layout


class Notice(QFrame):
    """A coloured box with an optional title and a text: info, warning (amber), danger (red),
    success (green). The style sheet colours it by its `kind` property."""

    def __init__(self, kind: str = "info", title: str = "", text: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("notice")
        self.setProperty("kind", kind)
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(4)
        self.title = plain_label(title, wrap=True, name="noticeTitle")
        self.text = plain_label(text, wrap=True, name="noticeText", selectable=True)
        self.text.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Minimum)
        layout.addWidget(self.title)
        layout.addWidget(self.text)
        self.set(title, text)

    def set(self, title: str = "", text: str = "", kind: str | None = None) -> None:
        kind = kind or str(self.property("kind"))
        # The frame carries `kind` (background), its labels `notice` (text colour): a QLabel
        # is a QFrame too, so one property name would give the labels a box of their own.
        for widget, name in ((self, "kind"), (self.title, "notice"), (self.text, "notice")):
            if widget.property(name) != kind:
                widget.setProperty(name, kind)
                widget.style().unpolish(widget)
                widget.style().polish(widget)
        self.title.setText(title)
        self.title.setVisible(bool(title))
        self.text.setText(text)
        self.text.setVisible(bool(text))
        self.setAccessibleName(title or text[:80])
        self.setAccessibleDescription(text)


class StatTile(QFrame):
    """A caption, a big value and a detail line; `tone` colours the value (ok/warn/bad)."""

    def __init__(self, caption: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("statTile")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 12, 14, 12)
        layout.setSpacing(2)
        self.caption = plain_label(caption, name="statCaption")
        self.value = plain_label("", name="statValue", selectable=True)
        self.detail = plain_label("", wrap=True, name="statDetail")
        layout.addWidget(self.caption)
        layout.addWidget(self.value)
        layout.addWidget(self.detail)
        layout.addStretch(1)
        self.setAccessibleName(caption)

    def set(self, value: str, detail: str = "", tone: str = "") -> None:
        self.value.setText(value)
        self.detail.setText(detail)
        self.detail.setVisible(bool(detail))
        if self.value.property("tone") != tone:
            self.value.setProperty("tone", tone)
            self.value.style().unpolish(self.value)
            self.value.style().polish(self.value)
        self.setAccessibleDescription(f"{value} {detail}".strip())


class Card(QFrame):
    """A white panel with a title row (title on the left, optional buttons on the right)."""

    def __init__(self, title: str = "", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card")
        self.outer = QVBoxLayout(self)
        self.outer.setContentsMargins(16, 14, 16, 16)
        self.outer.setSpacing(10)
        self.header = QHBoxLayout()
        self.title = section_title(title)
        self.header.addWidget(self.title)
        self.header.addStretch(1)
        self.outer.addLayout(self.header)
        self.title.setVisible(bool(title))
        self.setAccessibleName(title)

    def add(self, widget: QWidget, stretch: int = 0) -> QWidget:
        self.outer.addWidget(widget, stretch)
        return widget


class FormDialog(QDialog):
    """A dialog whose refusals stay inside it: the message goes under the field it names
    (`error.field`), or into the banner at the top; what the user typed is kept."""

    busy_changed = Signal(bool)

    def __init__(self, ctx: DeskContext, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setWindowTitle(title)
        self.setAccessibleName(title)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.layout_ = QVBoxLayout(self)
        self.layout_.setContentsMargins(20, 18, 20, 16)
        self.layout_.setSpacing(12)
        self.banner = Notice("danger")
        self.banner.setObjectName("notice")
        self.banner.hide()
        self.layout_.addWidget(self.banner)
        self.form = QFormLayout()
        self.form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        self.form.setHorizontalSpacing(12)
        self.form.setVerticalSpacing(6)
        self.fields: dict[str, tuple[QWidget, QLabel]] = {}
        self.buttons = QDialogButtonBox()
        self.accept_button: QPushButton | None = None
        self._busy = False

    # -- building ------------------------------------------------------------------------
    def add_field(self, key: str | tuple[str, ...], label: str, widget: QWidget,
                  help_text: str = "") -> QWidget:
        """A labelled field with an (initially hidden) error line under it."""
        box = QWidget()
        box.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        column = QVBoxLayout(box)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(2)
        column.addWidget(widget)
        if help_text:
            hint = plain_label(help_text, wrap=True, name="fieldHint")
            column.addWidget(hint)
        error = plain_label("", wrap=True, name="fieldError")
        error.hide()
        column.addWidget(error)
        caption = QLabel(label)
        caption.setBuddy(widget)
        self.form.addRow(caption, box)
        if not widget.accessibleName():
            widget.setAccessibleName(label.replace("&", ""))
        for k in (key,) if isinstance(key, str) else key:
            self.fields[k] = (widget, error)
        return widget

    def finish_layout(self, accept_text: str, *, cancel_text: str | None = None,
                      place_form: bool = True) -> None:
        if place_form:
            self.layout_.addLayout(self.form)
            self.layout_.addStretch(1)
        self.accept_button = self.buttons.addButton(button_text(accept_text),
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.accept_button.setAccessibleName(accept_text)
        self.accept_button.setDefault(True)
        self.accept_button.setAutoDefault(True)
        cancel = self.buttons.addButton(cancel_text or self.tr("Cancel"),
                                        QDialogButtonBox.ButtonRole.RejectRole)
        cancel.setAccessibleName(cancel_text or self.tr("Cancel"))
        cancel.setAutoDefault(False)
        self.cancel_button = cancel
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        self.layout_.addWidget(self.buttons)

    # -- behaviour -----------------------------------------------------------------------
    def submit(self) -> None:
        """Override: validate nothing here (the service does), start the operation."""
        raise NotImplementedError

    def accept(self) -> None:  # Enter on a line edit: route to submit(), never close blindly
        if not self._busy:
            self.submit()

    def set_busy(self, busy: bool) -> None:
        self._busy = busy
        if self.accept_button is not None:
            self.accept_button.setEnabled(not busy)
        self.busy_changed.emit(busy)

    @property
    def busy(self) -> bool:
        return self._busy

    def run(self, fn: Callable[..., object], on_done: Callable[[object], None], *,
            progress: str | None = None, cancellable: bool = False,
            label: str = "") -> None:
        """Run `fn` through the one op helper, the accept button disabled meanwhile."""
        self.clear_errors()
        self.set_busy(True)
        self.ctx.run_op(self, fn, on_done,
                        progress=progress, cancellable=cancellable,
                        label=label or self.windowTitle(),
                        on_settled=lambda: self.set_busy(False))

    def clear_errors(self) -> None:
        self.banner.hide()
        for widget, error in self.fields.values():
            error.hide()
            if widget.property("invalid"):
                widget.setProperty("invalid", False)
                widget.style().unpolish(widget)
                widget.style().polish(widget)

    def show_refusal(self, refusal: QuotaDeskError) -> None:
        """Beside the field the service named, else in the banner; the dialog stays open."""
        self.clear_errors()
        entry = self.fields.get(refusal.field)
        if entry is None:
            self.banner.set(self.tr("Not done"), refusal_text(refusal))
            self.banner.show()
            return
        widget, error = entry
        error.setText(refusal_text(refusal))
        error.show()
        widget.setProperty("invalid", True)
        widget.style().unpolish(widget)
        widget.style().polish(widget)
        widget.setFocus(Qt.FocusReason.OtherFocusReason)

    def error_text(self, key: str) -> str:
        """The message shown under a field ("" if none): for tests and accessibility."""
        entry = self.fields.get(key)
        return entry[1].text() if entry and not entry[1].isHidden() else ""
