"""Subscribe a client, change their plan or cancel; the plan wording they share."""

from __future__ import annotations

from decimal import Decimal

from PySide6.QtWidgets import QComboBox, QDialog, QWidget

from quotadesk.services import catalog, clients
from quotadesk.services.results import PlanInfo
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.formatting import Formatter
from quotadesk.views.widgets import FormDialog, plain_label


def plan_summary(plan: PlanInfo | None, ctx: DeskContext) -> str:
    if plan is None:
        return ""
    fmt = ctx.fmt
    included = ", ".join(included_text(r, q, fmt) for r, q in plan.included.items()) or ctx.tr(
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


def included_text(resource: str, quantity: Decimal, fmt: Formatter) -> str:
    """An allowance that names its resource: "500 minutes", "100 SMS credits", "2,000 email
    credits" (a bare "100 credits" does not say of what)."""
    from quotadesk.views.formatting import tr

    if resource == "minutes":
        return fmt.units(resource, quantity)
    word = tr("SMS credits") if resource == "sms" else tr("email credits")
    return f"{fmt.qty(quantity)} {word}"


def anchor_text(anchor: str) -> str:
    from quotadesk.views.formatting import tr

    return tr("calendar") if anchor == "calendar" else tr("anniversary")


def addons_text(on: bool) -> str:
    from quotadesk.views.formatting import tr

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
                 lambda _r: self.done(QDialog.DialogCode.Accepted))


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
                 lambda _r: self.done(QDialog.DialogCode.Accepted))
