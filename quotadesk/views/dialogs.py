"""The dialogs that change a client: add/edit, subscribe, cancel, apply a pack (seed 000),
revoke a lot, add a campaign; and the first-run choice between demo data and an empty desk."""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QCompleter,
    QDialog,
    QGridLayout,
    QLabel,
    QLineEdit,
    QRadioButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from quotadesk.services import catalog, clients, setup, wallet
from quotadesk.services.demo import load_demo
from quotadesk.services.desk import Desk
from quotadesk.services.dto import ApplyResult, ClientInfo, PackInfo, PlanInfo
from quotadesk.views.context import DeskContext, DeskFacts, read_desk_facts
from quotadesk.views.fmt import resource_label, unit_word
from quotadesk.views.ops import Area, Changes
from quotadesk.views.widgets import FormDialog, plain_label, section_title

CURRENCIES = ("USD", "EUR", "GBP", "CAD", "AUD", "NZD", "CHF", "JPY", "SEK", "NOK", "DKK",
              "PLN", "CZK", "BRL", "MXN", "INR", "ZAR", "SGD", "HKD")

#: The three things applying does, in seed 000's words.
APPLY_BULLETS = (
    "Credit the selected addon pack minutes to this client’s wallet immediately.",
    "Set the payment request due date per the plan’s ‘Payment due after period start’ setting "
    "(e.g. 1 day after application).",
    "Create a payment request for this addon pack.",
)


class ClientDialog(FormDialog):
    """Add a client, or edit one's name and e-mail."""

    saved = Signal(object)

    def __init__(self, ctx: DeskContext, client: ClientInfo | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, self.tr("Edit client") if client else self.tr("Add client"), parent)
        self.setObjectName("clientDialog")
        self.client = client
        self.name = QLineEdit(client.name if client else "")
        self.name.setObjectName("clientName")
        self.email = QLineEdit((client.email or "") if client else "")
        self.email.setObjectName("clientEmail")
        self.email.setPlaceholderText(self.tr("billing@example.com (for usage alerts)"))
        self.add_field("name", self.tr("&Name"), self.name)
        self.add_field("email", self.tr("E-&mail"), self.email)
        self.finish_layout(self.tr("Save") if client else self.tr("Add client"))
        self.resize(460, self.sizeHint().height())

    def submit(self) -> None:
        desk = self.ctx.desk
        name, email = self.name.text(), self.email.text()
        if self.client is None:
            def fn() -> ClientInfo:
                return clients.add_client(desk, name=name, email=email)
        else:
            client_id = self.client.id

            def fn() -> ClientInfo:
                return clients.edit_client(desk, client=client_id, name=name, email=email)
        self.run(fn, self._done, changes=lambda info: Changes.of(Area.CLIENTS,
                                                                  clients=[info.id]))

    def _done(self, info: object) -> None:
        self.saved.emit(info)
        self.done(QDialog.DialogCode.Accepted)


def plan_summary(plan: PlanInfo | None, ctx: DeskContext) -> str:
    if plan is None:
        return ""
    fmt = ctx.fmt
    included = ", ".join(fmt.units(r, q) for r, q in plan.included.items()) or ctx.tr(
        "no included allowance")
    overage = ", ".join(fmt.rate(v, r) for r, v in plan.overage.items()) or ctx.tr("none")
    return "\n".join([
        ctx.tr("Fee: {fee} per period · {anchor} periods").format(
            fee=fmt.money(plan.fee), anchor=anchor_text(plan.anchor)),
        ctx.tr("Included: {included}").format(included=included),
        ctx.tr("Overage: {overage}").format(overage=overage),
        addons_text(plan.addons) + " · " + ctx.tr(
            "Payment due after period start: {days} day(s)").format(days=plan.due_days),
    ])


def anchor_text(anchor: str) -> str:
    from quotadesk.views.fmt import tr

    return tr("calendar") if anchor == "calendar" else tr("anniversary")


def addons_text(on: bool) -> str:
    from quotadesk.views.fmt import tr

    return tr("Add-on packs · On") if on else tr("Add-on packs · Off")


class SubscribeDialog(FormDialog):
    """Subscribe, or change plan (a fresh plan snapshot; the wallet is kept)."""

    def __init__(self, ctx: DeskContext, client_id: int, client_name: str,
                 current_plan: str | None = None, parent: QWidget | None = None) -> None:
        title = self.tr("Change plan") if current_plan else self.tr("Subscribe")
        super().__init__(ctx, title, parent)
        self.setObjectName("subscribeDialog")
        self.client_id = client_id
        self.current_plan = current_plan
        self.plans: list[PlanInfo] = []
        intro = plain_label(
            self.tr("Choose the plan for {client}. The client gets a snapshot of the plan's "
                    "terms now; later edits to the plan do not change it.").format(
                client=client_name) if not current_plan else
            self.tr("Move {client} from {plan} to another plan (or re-subscribe to take a "
                    "fresh snapshot). The current period runs on with its usage; the new terms "
                    "apply from now and the new fee from the next period. The wallet is kept."
                    ).format(client=client_name, plan=current_plan), wrap=True)
        self.layout_.addWidget(intro)
        self.plan = QComboBox()
        self.plan.setObjectName("planCombo")
        self.plan.setMinimumWidth(280)
        self.add_field("plan", self.tr("&Plan"), self.plan)
        self.summary = plain_label("", wrap=True, name="planSummary")
        self.form.addRow("", self.summary)
        self.finish_layout(self.tr("Change plan") if current_plan else self.tr("Subscribe"))
        self.accept_button.setEnabled(False)  # type: ignore[union-attr]
        self.plan.currentIndexChanged.connect(self._show_summary)
        self.resize(520, 320)
        desk = ctx.desk
        ctx.run_op(self, lambda: catalog.list_plans(desk), self._plans_loaded,
                   label=self.tr("Loading plans"))

    def _plans_loaded(self, plans: list[PlanInfo]) -> None:
        self.plans = plans
        self.plan.clear()
        for p in plans:
            self.plan.addItem(p.name, p.id)
        if self.current_plan is not None:
            index = self.plan.findText(self.current_plan)
            if index >= 0:
                self.plan.setCurrentIndex(index)
        if not plans:
            self.banner.set(self.tr("No plans yet"),
                            self.tr("Add a billing plan first (Catalog ▸ Plans)."), kind="info")
            self.banner.show()
        self.accept_button.setEnabled(bool(plans))  # type: ignore[union-attr]
        self._show_summary()

    def selected_plan(self) -> PlanInfo | None:
        index = self.plan.currentIndex()
        return self.plans[index] if 0 <= index < len(self.plans) else None

    def _show_summary(self) -> None:
        self.summary.setText(plan_summary(self.selected_plan(), self.ctx))

    def submit(self) -> None:
        plan = self.selected_plan()
        if plan is None:
            return
        desk, client_id = self.ctx.desk, self.client_id
        self.run(lambda: clients.subscribe(desk, client=client_id, plan=plan.id),
                 lambda _r: self.done(QDialog.DialogCode.Accepted),
                 changes=Changes.of(Area.SUBSCRIPTION, Area.USAGE, Area.PAYMENTS,
                                    Area.CAMPAIGNS, Area.ASSIGNMENTS, clients=[client_id]))


class CancelSubscriptionDialog(FormDialog):
    def __init__(self, ctx: DeskContext, client_id: int, client_name: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(ctx, self.tr("Cancel subscription"), parent)
        self.setObjectName("cancelSubscriptionDialog")
        self.client_id = client_id
        text = plain_label(self.tr(
            "Cancel the subscription of {client}?\n\nThe current period closes now and its "
            "overage is billed. Usage, assigning and applying packs are refused until the "
            "client subscribes again. The wallet is kept.").format(client=client_name),
            wrap=True)
        self.layout_.addWidget(text)
        self.finish_layout(self.tr("Cancel subscription"),
                           cancel_text=self.tr("Keep subscription"))
        self.resize(440, self.sizeHint().height())

    def submit(self) -> None:
        desk, client_id = self.ctx.desk, self.client_id
        self.run(lambda: clients.cancel(desk, client=client_id),
                 lambda _r: self.done(QDialog.DialogCode.Accepted),
                 changes=Changes.of(Area.SUBSCRIPTION, Area.USAGE, Area.PAYMENTS,
                                    Area.CAMPAIGNS, clients=[client_id]))


class ApplyPackDialog(FormDialog):
    """Seed 000, steps 2-3: review, choose Pending or Paid, credit once."""

    applied = Signal(object)

    def __init__(self, ctx: DeskContext, client_id: int, client_name: str, pack: PackInfo,
                 parent: QWidget | None = None) -> None:
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
        self.layout_.addWidget(section_title(self.tr("Payment request status")))
        grid = QGridLayout()
        grid.setHorizontalSpacing(12)
        grid.setColumnStretch(1, 1)
        self.pending = QRadioButton(self.tr("Pending"))
        self.pending.setObjectName("statusPending")
        self.paid = QRadioButton(self.tr("Paid"))
        self.paid.setObjectName("statusPaid")
        self.pending.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.pending)
        group.addButton(self.paid)
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

    def status(self) -> str:
        return "paid" if self.paid.isChecked() else "pending"

    def submit(self) -> None:
        desk, client_id, pack_id, key, status = (self.ctx.desk, self.client_id, self.pack.id,
                                                 self.key, self.status())
        self.run(lambda: wallet.apply_pack(desk, client=client_id, pack=pack_id, status=status,
                                           key=key),
                 self._done,
                 changes=Changes.of(Area.WALLET, Area.PAYMENTS, Area.USAGE, Area.CAMPAIGNS,
                                    clients=[client_id]),
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
                 lambda _r: self.done(QDialog.DialogCode.Accepted),
                 changes=Changes.of(Area.WALLET, Area.USAGE, Area.CAMPAIGNS,
                                    clients=[self.client_id]))


class CampaignDialog(FormDialog):
    def __init__(self, ctx: DeskContext, client_id: int, parent: QWidget | None = None) -> None:
        super().__init__(ctx, self.tr("Add campaign"), parent)
        self.setObjectName("campaignDialog")
        self.client_id = client_id
        self.name = QLineEdit()
        self.name.setObjectName("campaignName")
        self.resource = QComboBox()
        self.resource.setObjectName("campaignResource")
        for r in ("minutes", "sms", "email"):
            self.resource.addItem(resource_label(r), r)
        self.add_field("name", self.tr("&Name"), self.name)
        self.add_field("resource", self.tr("&Resource"), self.resource)
        self.finish_layout(self.tr("Add campaign"))
        self.resize(420, self.sizeHint().height())

    def submit(self) -> None:
        desk, client_id = self.ctx.desk, self.client_id
        name, resource = self.name.text(), self.resource.currentData()
        self.run(lambda: clients.add_campaign(desk, client=client_id, name=name,
                                              resource=resource),
                 lambda _r: self.done(QDialog.DialogCode.Accepted),
                 changes=Changes.of(Area.CAMPAIGNS, clients=[client_id]))


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
        self.demo = QRadioButton(self.tr("Open the &demo data"))
        self.demo.setObjectName("choiceDemo")
        self.empty = QRadioButton(self.tr("Start &empty"))
        self.empty.setObjectName("choiceEmpty")
        self.empty.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.demo)
        group.addButton(self.empty)
        choice = QWidget()
        column = QVBoxLayout(choice)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.demo)
        column.addWidget(self.empty)
        self.layout_.addWidget(choice)
        self.clients = QSpinBox()
        self.clients.setObjectName("demoClients")
        self.clients.setRange(1, 5000)
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


def pack_names(packs: Sequence[PackInfo]) -> str:
    return ", ".join(p.name for p in packs)
