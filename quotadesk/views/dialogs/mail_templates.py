"""The Settings dialog's Templates tab: one subject and body per kind of e-mail, with a
preview as a real client would receive it (SPEC §9)."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QWidget,
)

from quotadesk.services import outbox
from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.rules.mail_text import DEFAULTS, KIND_LABELS, KINDS
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.widgets import column_layout, plain_label, refusal_text

PARTS = ("subject", "body")


class TemplatesTab(QWidget):
    """Edits are kept per kind while the dialog is open and saved with the other settings."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("templatesTab")
        self.stored: dict[str, str] = {}
        self.texts: dict[str, str] = {}
        self.kind = KINDS[0]
        layout = column_layout(self, (16, 14, 16, 10), 8)
        layout.addWidget(plain_label(self.tr(
            "Jinja templates: {{ client.name }}, {{ request.number }}, {{ request.amount }}, "
            "{{ request.due_date }}, {{ alert.resource }}, {{ alert.state }}, "
            "{{ period.start }}, {{ agency.name }} … A template that does not render is "
            "refused when saved."), wrap=True, name="hint"))
        top = QHBoxLayout()
        self.kinds = QComboBox()
        self.kinds.setObjectName("templateKind")
        self.kinds.setAccessibleName(self.tr("E-mail"))
        for kind in KINDS:
            self.kinds.addItem(self.tr(KIND_LABELS[kind]), kind)
        self.reset = QPushButton(self.tr("Restore &default"))
        self.reset.setObjectName("restoreTemplate")
        self.reset.setAutoDefault(False)
        top.addWidget(QLabel(self.tr("E-mail")))
        top.addWidget(self.kinds, 1)
        top.addWidget(self.reset)
        layout.addLayout(top)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        self.subject = QLineEdit()
        self.subject.setObjectName("templateSubject")
        self.body = QPlainTextEdit()
        self.body.setObjectName("templateBody")
        self.body.setTabChangesFocus(True)
        self.body.setMinimumHeight(150)
        self.fields: dict[str, tuple[QWidget, QLabel]] = {}
        for key, label, widget in (("subject", self.tr("&Subject"), self.subject),
                                   ("body", self.tr("&Body"), self.body)):
            box = QWidget()
            column = column_layout(box, 0, 2)
            column.addWidget(widget)
            error = plain_label("", wrap=True, name="fieldError")
            error.hide()
            column.addWidget(error)
            caption = QLabel(label)
            caption.setBuddy(widget)
            widget.setAccessibleName(label.replace("&", ""))
            form.addRow(caption, box)
            self.fields[key] = (widget, error)
        layout.addLayout(form, 2)
        preview_row = QHBoxLayout()
        self.client = QComboBox()
        self.client.setObjectName("previewClient")
        self.client.setAccessibleName(self.tr("Preview for"))
        self.client.addItem(self.tr("A sample client"), None)
        preview_row.addWidget(QLabel(self.tr("Preview for")))
        preview_row.addWidget(self.client, 1)
        layout.addLayout(preview_row)
        self.preview_subject = plain_label("", wrap=True, name="previewSubject", selectable=True)
        self.preview = QTextBrowser()
        self.preview.setObjectName("templatePreview")
        self.preview.setMinimumHeight(140)
        layout.addWidget(self.preview_subject)
        layout.addWidget(self.preview, 2)
        self._timer = QTimer(self, singleShot=True, interval=300)
        self._timer.timeout.connect(self.refresh_preview)
        self.kinds.currentIndexChanged.connect(lambda _i: self.show_kind(
            str(self.kinds.currentData())))
        self.subject.textChanged.connect(self._edited)
        self.body.textChanged.connect(self._edited)
        self.client.currentIndexChanged.connect(lambda _i: self._timer.start())
        self.reset.clicked.connect(self.restore_default)

    def load(self, values: Mapping[str, str]) -> None:
        self.stored = {f"template.{k}.{p}": values[f"template.{k}.{p}"]
                       for k in KINDS for p in PARTS}
        self.texts = dict(self.stored)
        self._show(self.kind)
        desk = self.ctx.desk
        if desk is not None:
            self.ctx.run_op(self, lambda: outbox.preview_clients(desk), self._clients,
                            label=self.tr("Loading the clients"))

    def _clients(self, rows: list[tuple[int, str]]) -> None:
        for client_id, name in rows:
            self.client.addItem(name, client_id)
        if self.client.count() > 1:
            self.client.setCurrentIndex(1)

    def show_kind(self, kind: str) -> None:
        if kind not in KINDS:
            return
        self.kinds.blockSignals(True)
        self.kinds.setCurrentIndex(self.kinds.findData(kind))
        self.kinds.blockSignals(False)
        self._show(kind)

    def _show(self, kind: str) -> None:
        self.kind = kind
        for widget in (self.subject, self.body):
            widget.blockSignals(True)
        self.subject.setText(self.texts.get(f"template.{kind}.subject", ""))
        self.body.setPlainText(self.texts.get(f"template.{kind}.body", ""))
        for widget in (self.subject, self.body):
            widget.blockSignals(False)
        self.refresh_preview()

    def _edited(self) -> None:
        self.texts[f"template.{self.kind}.subject"] = self.subject.text()
        self.texts[f"template.{self.kind}.body"] = self.body.toPlainText()
        self._timer.start()

    def restore_default(self) -> None:
        self.subject.setText(DEFAULTS[self.kind]["subject"])
        self.body.setPlainText(DEFAULTS[self.kind]["body"])

    def edited(self) -> dict[str, str]:
        return {k: v for k, v in self.texts.items() if v != self.stored.get(k)}

    def refresh_preview(self) -> None:
        desk = self.ctx.desk
        if desk is None:
            return
        kind, subject, body = self.kind, self.subject.text(), self.body.toPlainText()
        client = self.client.currentData()
        self.ctx.run_op(self, lambda: outbox.preview_message(desk, kind, subject, body, client),
                        self._previewed, latest="template-preview", on_refused=self._broken,
                        label=self.tr("Preview"))

    def _previewed(self, rendered: tuple[str, str, str]) -> None:
        subject, _text, html = rendered
        self.preview_subject.setText(self.tr("Subject: {subject}").format(subject=subject))
        self.preview.setHtml(html)

    def _broken(self, refusal: QuotaDeskError) -> None:
        self.preview_subject.setText(self.tr("This template does not render:"))
        self.preview.setPlainText(refusal_text(refusal))
