"""File ▸ Settings…: the agency, the mail server (its password to the credential store), what
is mailed and when, tax and invoice numbers, and the mail templates (SPEC §9, §10)."""

from __future__ import annotations

from collections.abc import Mapping

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QWidget,
)

from quotadesk.services import mail_sender
from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.settings import KEYS, change_settings, show_settings
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.dialogs.mail_templates import TemplatesTab
from quotadesk.views.widgets import FormDialog, column_layout, plain_label, refusal_text

SECURITY = (("starttls", "STARTTLS (port 587)"), ("ssl", "SSL/TLS (port 465)"),
            ("none", "None (a trusted local relay only)"))


class SettingsDialog(FormDialog):
    """Every setting of the desk on five tabs; Save writes them all at once (or none)."""

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(ctx, self.tr("Settings"), parent)
        self.setObjectName("settingsDialog")
        self.values: dict[str, str] = {}
        self.tabs = QTabWidget()
        self.tabs.setObjectName("settingsTabs")
        self.edits: dict[str, QWidget] = {}

        agency = self._tab(self.tr("Agency"))
        self.agency_name = self._line("agency.name", self.tr("&Name"), agency)
        self.address = QPlainTextEdit()
        self.address.setObjectName("agency.address")
        self.address.setTabChangesFocus(True)
        self.address.setFixedHeight(84)
        self._add(agency, "agency.address", self.tr("&Address"), self.address,
                  self.tr("As it is printed on invoices, one line per line."))
        self._line("agency.email", self.tr("&E-mail"), agency)
        self._line("agency.tax_id", self.tr("&Tax id"), agency)

        server = self._tab(self.tr("Mail server"))
        self._line("smtp.host", self.tr("SMTP &server"), server,
                   placeholder="smtp.example.com")
        self.port = QSpinBox()
        self.port.setObjectName("smtp.port")
        self.port.setRange(1, 65535)
        self._add(server, "smtp.port", self.tr("&Port"), self.port)
        self.security = QComboBox()
        self.security.setObjectName("smtp.security")
        for value, label in SECURITY:
            self.security.addItem(self.tr(label), value)
        self.security.currentIndexChanged.connect(self._suggest_port)
        self._add(server, "smtp.security", self.tr("Se&curity"), self.security)
        self._line("smtp.user", self.tr("&User"), server,
                   help_text=self.tr("Empty: the server takes mail without a login."))
        self.password = QLineEdit()
        self.password.setObjectName("smtp.password")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self._add(server, "smtp.password", self.tr("Pass&word"), self.password,
                  self.tr("Kept in this computer's credential store, never in the database. "
                          "Leave empty to keep the one stored."))
        self._line("smtp.from", self.tr("&From address"), server,
                   placeholder="billing@your-agency.com")
        self.timeout = QSpinBox()
        self.timeout.setObjectName("smtp.timeout")
        self.timeout.setRange(1, 600)
        self.timeout.setSuffix(self.tr(" s"))
        self._add(server, "smtp.timeout", self.tr("&Wait for the server"), self.timeout)
        test_row = QWidget()
        row = QHBoxLayout(test_row)
        row.setContentsMargins(0, 0, 0, 0)
        self.test_to = QLineEdit()
        self.test_to.setObjectName("testTo")
        self.test_to.setPlaceholderText(self.tr("send to…"))
        self.test_button = QPushButton(self.tr("Send &test e-mail"))
        self.test_button.setObjectName("sendTest")
        self.test_button.setAutoDefault(False)
        self.test_button.clicked.connect(self.send_test)
        row.addWidget(self.test_to, 1)
        row.addWidget(self.test_button)
        self._add(server, "to", self.tr("Test"), test_row)
        self.test_result = plain_label("", wrap=True, name="testResult", selectable=True)
        server.addRow("", self.test_result)

        mail = self._tab(self.tr("What is mailed"))
        self.alerts = QCheckBox(self.tr("Usage alerts (80 %, 95 %, used up, blocked)"))
        self.alerts.setObjectName("mail.alerts")
        self._add(mail, "mail.alerts", self.tr("Alerts"), self.alerts)
        self.requests = QCheckBox(self.tr("Every new payment request, with its invoice"))
        self.requests.setObjectName("mail.requests")
        self._add(mail, "mail.requests", self.tr("Requests"), self.requests)
        self._line("mail.reminders", self.tr("&Reminders"), mail, placeholder="3,10",
                   help_text=self.tr("Days after the due date when a still-pending request "
                                     "is reminded, each once. Empty: no reminders."))

        tax = self._tab(self.tr("Tax and invoices"))
        self._line("tax.rate", self.tr("Tax &rate (%)"), tax, placeholder="0",
                   help_text=self.tr("Copied onto each new payment request; 0 for none."))
        self._line("tax.name", self.tr("Tax &name"), tax, placeholder="VAT")
        self._line("invoice.prefix", self.tr("Invoice &prefix"), tax, placeholder="INV-",
                   help_text=self.tr("Numbers follow it with six digits: INV-000001."))

        self.templates = TemplatesTab(ctx, self)
        self.tabs.addTab(self.templates, self.tr("Templates"))
        for key in ("subject", "body"):
            self.fields[f"template.{key}"] = self.templates.fields[key]

        self.layout_.addWidget(self.tabs, 1)
        self.finish_layout(self.tr("Save"), place_form=False)
        self.resize(800, 660)
        self.load()

    # -- building ------------------------------------------------------------------------
    def _tab(self, title: str) -> QFormLayout:
        page = QWidget()
        layout = column_layout(page, (16, 14, 16, 10), 8)
        form = QFormLayout()
        form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.ExpandingFieldsGrow)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        form.setHorizontalSpacing(12)
        form.setVerticalSpacing(6)
        layout.addLayout(form)
        layout.addStretch(1)
        self.tabs.addTab(page, title)
        return form

    def _add(self, form: QFormLayout, key: str, label: str, widget: QWidget,
             help_text: str = "") -> None:
        self.form = form  # FormDialog.add_field places rows in `self.form`
        self.add_field(key, label, widget, help_text)
        self.edits[key] = widget

    def _line(self, key: str, label: str, form: QFormLayout, *, placeholder: str = "",
              help_text: str = "") -> QLineEdit:
        edit = QLineEdit()
        edit.setObjectName(key)
        edit.setPlaceholderText(placeholder)
        self._add(form, key, label, edit, help_text)
        return edit

    # -- loading and saving --------------------------------------------------------------
    def load(self) -> None:
        desk = self.ctx.desk
        if desk is None:
            return
        self.ctx.run_op(self, lambda: dict(show_settings(desk)), self._loaded,
                        label=self.tr("Loading the settings"))

    def _loaded(self, values: Mapping[str, str]) -> None:
        self.values = dict(values)
        for key, widget in self.edits.items():
            value = values.get(key, "")
            if isinstance(widget, QLineEdit) and key != "smtp.password":
                widget.setText(value)
            elif isinstance(widget, QPlainTextEdit):
                widget.setPlainText(value)
            elif isinstance(widget, QSpinBox):
                widget.setValue(int(value or KEYS[key].default))
            elif isinstance(widget, QCheckBox):
                widget.setChecked(value == "on")
            elif isinstance(widget, QComboBox):
                widget.setCurrentIndex(max(0, widget.findData(value)))
        self.test_to.setText(values.get("agency.email", ""))
        self.templates.load(values)

    def edited(self) -> dict[str, str]:
        """Every setting whose value in the dialog differs from the stored one."""
        now: dict[str, str] = {}
        for key, widget in self.edits.items():
            if key in ("smtp.password", "to"):
                continue
            if isinstance(widget, QLineEdit):
                now[key] = widget.text()
            elif isinstance(widget, QPlainTextEdit):
                now[key] = widget.toPlainText()
            elif isinstance(widget, QSpinBox):
                now[key] = str(widget.value())
            elif isinstance(widget, QCheckBox):
                now[key] = "on" if widget.isChecked() else "off"
            elif isinstance(widget, QComboBox):
                now[key] = str(widget.currentData())
        now.update(self.templates.edited())
        return {k: v for k, v in now.items() if v.strip() != self.values.get(k, "").strip()}

    def submit(self) -> None:
        desk = self.ctx.desk
        if desk is None:
            return
        changes, password = self.edited(), self.password.text()

        def save() -> dict[str, str]:
            saved = change_settings(desk, changes) if changes else {}
            if password:
                values = show_settings(desk)
                mail_sender.store_password(values["smtp.user"], values["smtp.host"], password)
            return saved

        self.run(save, self._saved)

    def _saved(self, _saved: object) -> None:
        self.done(FormDialog.DialogCode.Accepted)

    def show_refusal(self, refusal: QuotaDeskError) -> None:
        field = refusal.field
        if field.startswith("template."):
            kind, _, part = field.removeprefix("template.").partition(".")
            self.tabs.setCurrentWidget(self.templates)
            self.templates.show_kind(kind)
            refusal.field = f"template.{part}"
        super().show_refusal(refusal)
        entry = self.fields.get(refusal.field)
        if entry is not None:
            page = entry[0]
            while page is not None and self.tabs.indexOf(page) < 0:
                page = page.parentWidget()
            if page is not None:
                self.tabs.setCurrentWidget(page)

    # -- the test e-mail -----------------------------------------------------------------
    def _suggest_port(self, _index: int) -> None:
        wanted = {"ssl": 465, "starttls": 587}.get(str(self.security.currentData()))
        if wanted and self.port.value() in (25, 465, 587):
            self.port.setValue(wanted)

    def send_test(self) -> None:
        desk = self.ctx.desk
        if desk is None:
            return
        changes = {k: v for k, v in self.edited().items() if k.startswith(("smtp.", "agency."))}
        to, password = self.test_to.text(), self.password.text()
        self.test_result.setText(self.tr("Sending…"))
        self.test_button.setEnabled(False)
        self.ctx.run_op(self, lambda: mail_sender.send_test(
            desk, to, changes, (lambda: password) if password else None), self._tested,
            label=self.tr("Send test e-mail"), on_refused=self._test_refused,
            on_settled=lambda: self.test_button.setEnabled(True))

    def _tested(self, reply: str) -> None:
        self.test_result.setText(self.tr("Sent. The server answered: {reply}").format(
            reply=reply))

    def _test_refused(self, refusal: QuotaDeskError) -> None:
        self.test_result.setText(refusal_text(refusal))
