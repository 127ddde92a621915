"""The first-run choice for a new database: demo data, or an empty desk."""

from __future__ import annotations

import zoneinfo

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QDialog,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from quotadesk.services import setup
from quotadesk.services.demo import load_demo
from quotadesk.services.unit_of_work import Desk
from quotadesk.views.desk_context import DeskContext, DeskFacts, read_desk_facts
from quotadesk.views.widgets import FormDialog, exclusive_choice, plain_label

CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "JPY", "SEK", "NOK", "DKK",
              "PLN", "CZK", "BRL", "MXN", "INR", "ZAR", "SGD", "HKD")


class FirstRunDialog(FormDialog):
    """A database that is not set up yet: open the demo data, or start empty."""

    ready = Signal(object)

    def __init__(self, ctx: DeskContext, desk: Desk, parent: QWidget | None = None) -> None:
        super().__init__(ctx, self.tr("Set up this database"), parent)
        self.setObjectName("firstRunDialog")
        self.desk = desk
        self.layout_.addWidget(plain_label(self.tr("Welcome to QuotaDesk"), name="dialogTitle"))
        self.layout_.addWidget(plain_label(self.tr(
            "This database is new. Open it with demo data to look around, or start empty with "
            "your agency's currency and time zone (period boundaries follow the time zone)."),
            wrap=True))
        self.demo, self.empty = exclusive_choice(
            self, (self.tr("Open the &demo data"), "choiceDemo"),
            (self.tr("Start &empty"), "choiceEmpty"), checked=1)
        choice = QWidget()
        column = QVBoxLayout(choice)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.demo)
        column.addWidget(self.empty)
        self.layout_.addWidget(choice)
        self.clients = QSpinBox()
        self.clients.setObjectName("demoClients")
        self.clients.setRange(1, 100_000)
        self.clients.setValue(36)
        self.currency = QComboBox()
        self.currency.setObjectName("currency")
        self.currency.setEditable(True)
        self.currency.addItems(list(CURRENCIES))
        self.timezone = QComboBox()
        self.timezone.setObjectName("timezone")
        self.timezone.setEditable(True)
        zones = sorted(zoneinfo.available_timezones())
        self.timezone.addItems(zones)
        completer = QCompleter(zones, self.timezone)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.timezone.setCompleter(completer)
        self.timezone.setCurrentText(setup.machine_timezone())
        self.add_field("clients", self.tr("Demo &clients"), self.clients)
        self.add_field("currency", self.tr("C&urrency"), self.currency)
        self.add_field("timezone", self.tr("&Time zone"), self.timezone)
        self.fields["database"] = self.fields["currency"]
        self.finish_layout(self.tr("Continue"), cancel_text=self.tr("Not now"))
        self.demo.toggled.connect(self._choice_changed)
        self._choice_changed()
        self.resize(520, self.sizeHint().height())

    def _choice_changed(self) -> None:
        self.clients.setEnabled(self.demo.isChecked())

    def submit(self) -> None:
        desk = self.desk
        currency, timezone = self.currency.currentText(), self.timezone.currentText()
        demo_clients = self.clients.value() if self.demo.isChecked() else 0

        def fn(_progress: object = None) -> DeskFacts:
            setup.init_database(desk, currency=currency, timezone=timezone)
            if demo_clients:
                load_demo(desk, clients=demo_clients)
            return read_desk_facts(desk)

        self.run(fn, self._done, progress=self.tr("Preparing the demo data…")
                 if demo_clients else None, label=self.tr("Set up the database"))

    def _done(self, facts: object) -> None:
        self.ready.emit(facts)
        self.done(QDialog.DialogCode.Accepted)
