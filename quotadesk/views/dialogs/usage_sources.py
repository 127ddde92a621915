"""The import dialog's usage sources (SPEC §11): the format or mapping a file is read in, a
mapping editor that can save what was mapped, and a preview of the first records as they
will be recorded, before anything is written."""

from __future__ import annotations

import os
from collections.abc import Sequence
from enum import IntEnum
from typing import Any, ClassVar

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from quotadesk.services.errors import InvalidValue, QuotaDeskError
from quotadesk.services.usage_sources import mappings
from quotadesk.services.usage_sources.mappings import SourceMapping
from quotadesk.services.usage_sources.preview import (
    PREVIEW_ROWS,
    PreviewRow,
    UsagePreview,
    file_columns,
    preview_usage,
)
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.formatting import Formatter, resource_label, tr
from quotadesk.views.tables import RowModel, fit_to_contents, make_table
from quotadesk.views.widgets import Notice, plain_label, refusal_text

#: The built-in formats, as the format list offers them: (value, label).
BUILT_IN = (("quotadesk", "QuotaDesk CSV (event_id,client,resource,quantity,occurred_at)"),
            ("asterisk", "Asterisk CDR (Master.csv)"),
            ("freeswitch", "FreeSWITCH CDR (mod_cdr_csv)"),
            ("twilio-messages", "Twilio message log"))
NEW_MAPPING = "\x00new"  # the format list's "New mapping…" entry


class PreviewModel(RowModel[PreviewRow]):
    """The preview's rows: each record's line, what becomes of it, and what it records."""

    class Column(IntEnum):
        LINE = 0
        OUTCOME = 1
        CLIENT = 2
        RESOURCE = 3
        QUANTITY = 4
        TIME = 5
        REASON = 6

    numeric = frozenset({Column.LINE, Column.QUANTITY})
    OUTCOMES: ClassVar[dict[str, str]] = {"record": "Recorded", "duplicate": "Duplicate",
                                          "skip": "Skipped", "reject": "Rejected"}

    def __init__(self, fmt: Formatter, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.fmt = fmt

    def headers(self) -> Sequence[str]:
        return [self.tr("Line"), self.tr("Outcome"), self.tr("Client"), self.tr("Resource"),
                self.tr("Quantity"), self.tr("Time"), self.tr("Reason")]

    def display(self, row: PreviewRow, column: int) -> str:
        c = self.Column
        if column == c.LINE:
            return str(row.line)
        if column == c.OUTCOME:
            return tr(self.OUTCOMES[row.outcome])
        if column == c.CLIENT:
            return row.client or ""
        if column == c.RESOURCE:
            return resource_label(row.resource) if row.resource else ""
        if column == c.QUANTITY:
            return self.fmt.qty(row.quantity) if row.quantity is not None else ""
        if column == c.TIME:
            return self.fmt.when(row.at) if row.at is not None else ""
        return row.reason

    def raw(self, row: PreviewRow, column: int) -> Any:
        if column == self.Column.LINE:
            return row.line
        if column == self.Column.QUANTITY:
            return row.quantity
        return super().raw(row, column)

    def tone(self, row: PreviewRow, column: int) -> str:
        if column != self.Column.OUTCOME:
            return ""
        return {"record": "ok", "reject": "bad", "skip": "muted"}.get(row.outcome, "warn")

    def tooltip(self, row: PreviewRow, column: int) -> str | None:
        return row.reason or None

    def key(self, row: PreviewRow) -> int:
        return row.line


class MappingEditor(QGroupBox):
    """A mapping's settings: which columns hold what (offered from the file's first line),
    and how to read them; `Save mapping` keeps it for the next import."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setTitle(self.tr("Mapping"))
        self.setObjectName("mappingEditor")
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        self.name = self._line("mappingName", self.tr("e.g. Carrier X CDRs"))
        self.client = self._column("mappingClient")
        self.quantity = self._column("mappingQuantity")
        self.time = self._column("mappingTime")
        self.event_id = self._column("mappingEventId", optional=True)
        self.resource = QComboBox()
        self.resource.setObjectName("mappingResource")
        for value in ("minutes", "sms", "email"):
            self.resource.addItem(resource_label(value), value)
        self.resource.addItem(self.tr("From a column"), "")
        self.resource_column = self._column("mappingResourceColumn", optional=True)
        self.unit = QComboBox()
        self.unit.setObjectName("mappingUnit")
        for value, label in (("seconds", self.tr("Seconds (billing increments apply)")),
                             ("minutes", self.tr("Minutes")), ("units", self.tr("Units"))):
            self.unit.addItem(label, value)
        self.header = QCheckBox(self.tr("First line is a &header"))
        self.header.setObjectName("mappingHeader")
        self.header.setChecked(True)
        self.header.setAccessibleName(self.tr("First line is a header"))
        self.delimiter = self._line("mappingDelimiter", ",")
        self.delimiter.setText(",")
        self.time_format = self._line("mappingTimeFormat", self.tr("ISO 8601 (default)"))
        self.timezone = self._line("mappingTimezone", self.tr("the database's"))
        self.skip_if = self._line("mappingSkipIf", self.tr("e.g. Status=NO ANSWER; Status=BUSY"))
        self.save = QPushButton(self.tr("&Save mapping"))
        self.save.setObjectName("saveMapping")
        self.save.setAutoDefault(False)
        self.save.setAccessibleName(self.tr("Save mapping"))
        # (Mnemonics unique in the dialog, which has &File, F&ormat and &Browse.)
        rows = [((self.tr("&Name"), self.name), (self.tr("&Delimiter"), self.delimiter)),
                ((self.tr("C&lient column"), self.client), ("", self.header)),
                ((self.tr("&Quantity column"), self.quantity), (self.tr("&Unit"), self.unit)),
                ((self.tr("&Time column"), self.time),
                 (self.tr("Time &format"), self.time_format)),
                ((self.tr("&Resource"), self.resource), (self.tr("Time &zone"), self.timezone)),
                ((self.tr("Resource colu&mn"), self.resource_column),
                 (self.tr("Event &id column"), self.event_id)),
                ((self.tr("S&kip if"), self.skip_if), ("", self.save))]
        for r, pair in enumerate(rows):
            for c, (label, widget) in enumerate(pair):
                if label:
                    caption = QLabel(label)
                    caption.setBuddy(widget)
                    caption.setAlignment(Qt.AlignmentFlag.AlignRight |
                                         Qt.AlignmentFlag.AlignVCenter)
                    grid.addWidget(caption, r, 2 * c)
                    widget.setAccessibleName(label.replace("&", ""))
                grid.addWidget(widget, r, 2 * c + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        self.resource.currentIndexChanged.connect(self._resource_chosen)
        self.unit.currentIndexChanged.connect(self.changed)
        self.header.toggled.connect(self.changed)
        self._resource_chosen()

    def _line(self, name: str, placeholder: str) -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(name)
        edit.setPlaceholderText(placeholder)
        edit.editingFinished.connect(self.changed)
        return edit

    def _column(self, name: str, optional: bool = False) -> QComboBox:
        box = QComboBox()
        box.setObjectName(name)
        box.setEditable(True)
        box.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        box.setMinimumContentsLength(10)
        box.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        box.setProperty("optional", optional)
        box.currentTextChanged.connect(lambda _text: self.changed.emit())
        return box

    def _resource_chosen(self) -> None:
        from_column = self.resource.currentData() == ""
        self.resource_column.setEnabled(from_column)
        self.changed.emit()

    def set_columns(self, columns: Sequence[str]) -> None:
        """Offer the file's columns (its header's names, else their numbers)."""
        header = self.header.isChecked()
        choices = list(columns) if header else [str(i + 1) for i in range(len(columns))]
        for box in (self.client, self.quantity, self.time, self.event_id,
                    self.resource_column):
            text = box.currentText()
            box.blockSignals(True)
            box.clear()
            if box.property("optional"):
                box.addItem("")
            for i, choice in enumerate(choices):
                shown = choice if header else f"{choice}: {columns[i][:30]}"
                box.addItem(shown, choice)
            box.setEditText(text)
            box.blockSignals(False)

    @staticmethod
    def _value(box: QComboBox) -> str:
        index = box.findText(box.currentText())
        data = box.itemData(index) if index >= 0 else None
        return str(data) if data else box.currentText().strip()

    def mapping(self) -> SourceMapping:
        """The settings as typed, checked as `source add` checks them."""
        resource = self.resource.currentData()
        if not resource and not self._value(self.resource_column):
            raise InvalidValue("resource_column: choose the column that names each record's "
                               "resource", "resource_column")
        skip = [part.strip() for part in self.skip_if.text().replace("\n", ";").split(";")
                if part.strip()]
        return mappings.check_mapping(
            name=self.name.text() or "new mapping", client=self._value(self.client),
            quantity=self._value(self.quantity), time=self._value(self.time),
            resource=resource or None, resource_column=self._value(self.resource_column)
            if not resource else None, unit=self.unit.currentData(),
            event_id=self._value(self.event_id) or None, header=self.header.isChecked(),
            delimiter=self.delimiter.text() or ",", time_format=self.time_format.text(),
            timezone=self.timezone.text(), skip_if=skip)


class SourcePanel(QWidget):
    """The format list, the mapping editor (for a new mapping) and the preview."""

    saved = Signal(object)

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.path = ""
        self.format = QComboBox()
        self.format.setObjectName("importFormat")
        self.format.setAccessibleName(self.tr("Format"))
        for value, label in BUILT_IN:
            self.format.addItem(tr(label), value)
        self.format.addItem(self.tr("New mapping…"), NEW_MAPPING)
        self.editor = MappingEditor()
        self.editor.hide()
        self.preview_title = plain_label(self.tr(
            "Preview: the first {n} records as they will be recorded (nothing is written "
            "until you import)").format(n=PREVIEW_ROWS), wrap=True, name="fieldHint")
        self.notice = Notice("warning")
        self.notice.setObjectName("previewNotice")
        self.notice.hide()
        self.model = PreviewModel(ctx.fmt, self)
        self.table = make_table(self.model, self.tr("Preview"), sortable=False,
                                stretch=PreviewModel.Column.REASON)
        self.table.setObjectName("importPreview")
        self.table.setMinimumHeight(200)
        column = QVBoxLayout(self)
        column.setContentsMargins(0, 0, 0, 0)
        column.setSpacing(8)
        column.addWidget(self.editor)
        column.addWidget(self.preview_title)
        column.addWidget(self.notice)
        column.addWidget(self.table, 1)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(250)
        self._timer.timeout.connect(self.refresh)
        self.format.currentIndexChanged.connect(self._format_chosen)
        self.editor.changed.connect(self._timer.start)
        self.editor.save.clicked.connect(self._save)
        self._load_mappings()

    # -- the format ---------------------------------------------------------------------
    def _load_mappings(self, select: str | None = None) -> None:
        desk = self.ctx.desk
        if desk is None:
            return
        self.ctx.run_op(self, lambda: mappings.list_sources(desk),
                        lambda found: self._mappings_loaded(found, select))

    def _mappings_loaded(self, found: list[SourceMapping], select: str | None) -> None:
        current = select or self.format.currentData()
        self.format.blockSignals(True)
        while self.format.count() > len(BUILT_IN) + 1:
            self.format.removeItem(len(BUILT_IN))
        for i, m in enumerate(found):
            self.format.insertItem(len(BUILT_IN) + i, self.tr("Mapping: {name}").format(
                name=m.name), m.name)
        index = self.format.findData(current)
        self.format.setCurrentIndex(max(0, index))
        self.format.blockSignals(False)
        self._format_chosen()

    def _format_chosen(self) -> None:
        self.editor.setVisible(self.format.currentData() == NEW_MAPPING)
        self.refresh()

    def chosen(self) -> str:
        """The format to import in: a built-in one's name or a saved mapping's."""
        value = self.format.currentData()
        if value == NEW_MAPPING:
            raise InvalidValue("format: save the mapping first (its saved name keeps its "
                               "event ids apart from every other source's)", "format")
        return str(value)

    def set_path(self, path: str) -> None:
        if path != self.path:
            self.path = path
            self._timer.start()

    # -- the preview --------------------------------------------------------------------
    def refresh(self) -> None:
        desk, path = self.ctx.desk, self.path
        if desk is None or not path or not os.path.isfile(path):
            # Only a regular file is previewed (opening a pipe would wait for its writer);
            # the import itself says what is wrong with anything else.
            self.model.set_rows([])
            self.notice.set("", self.tr("Choose a usage file to see its first records.")
                            if not path else self.tr("No file at this path."), kind="info")
            self.notice.show()
            return
        value = self.format.currentData()
        if value == NEW_MAPPING:
            try:
                delimiter = mappings.parse_delimiter(self.editor.delimiter.text() or ",")
            except QuotaDeskError:
                delimiter = ","  # (said when the mapping is checked, just below)
            self.editor.set_columns(file_columns(path, delimiter))
            try:
                chosen: str | SourceMapping = self.editor.mapping()
            except QuotaDeskError as refusal:
                self._refused(refusal)
                return
        else:
            chosen = str(value)
        self.ctx.run_op(self, lambda: preview_usage(desk, path, chosen), self._previewed,
                        on_refused=self._refused, latest="import-preview")

    def _previewed(self, preview: UsagePreview) -> None:
        self.notice.hide()
        self.model.set_rows(list(preview.rows))
        if not preview.rows:
            self.notice.set("", self.tr("The file holds no records."), kind="info")
            self.notice.show()
        fit_to_contents(self.table, self.model)

    def _refused(self, refusal: QuotaDeskError) -> None:
        self.model.set_rows([])
        self.notice.set(self.tr("Cannot preview"), refusal_text(refusal), kind="warning")
        self.notice.show()

    def _save(self) -> None:
        desk = self.ctx.desk
        try:
            mapping = self.editor.mapping()
        except QuotaDeskError as refusal:
            self._refused(refusal)
            return
        if not self.editor.name.text().strip():
            self._refused(InvalidValue("name: give the mapping a name", "name"))
            return
        settings = {key: getattr(mapping, key) for key in (
            "name", "client", "quantity", "time", "resource", "resource_column", "unit",
            "event_id", "header", "delimiter", "time_format", "timezone")}
        settings["skip_if"] = list(mapping.skip_if)

        def done(saved: SourceMapping) -> None:
            self._load_mappings(select=saved.name)
            self.saved.emit(saved)

        self.ctx.run_op(self, lambda: mappings.add_source(desk, **settings), done,
                        on_refused=self._refused)


__all__ = ["BUILT_IN", "MappingEditor", "PreviewModel", "SourcePanel"]
