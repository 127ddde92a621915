"""The client page: a header, the Overview tab (usage card, campaigns, alerts), the Billing
tab and the client portal preview. One load per client fills every tab."""

from __future__ import annotations

from enum import IntEnum
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QProgressBar,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from quotadesk.services import clients
from quotadesk.services.client_page import ClientPageData, load_client_page
from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.results import AlertInfo, CampaignInfo, ResourceUsage
from quotadesk.views.client_page.audit_tab import ClientAuditTab
from quotadesk.views.client_page.billing.tabs import BillingTab
from quotadesk.views.client_page.identifiers import IdentifiersCard
from quotadesk.views.client_page.mail_tab import ClientMailTab
from quotadesk.views.client_page.portal_preview import PortalPreview
from quotadesk.views.client_page.usage_charts import UsageChartsTab
from quotadesk.views.desk_context import DeskContext
from quotadesk.views.dialogs.client import CampaignDialog
from quotadesk.views.documents import statement_button
from quotadesk.views.formatting import (
    RESOURCES,
    Formatter,
    alert_text,
    blocked_list,
    campaign_status,
    percent_text,
    permille,
    resource_label,
)
from quotadesk.views.ops import Area, Changes
from quotadesk.views.tables import DeskRowModel, RowModel, fit_columns, make_table, selected_row
from quotadesk.views.widgets import (
    Card,
    Notice,
    column_layout,
    plain_label,
    refusal_text,
    scroll_content,
)


def shown_resources(data: ClientPageData) -> list[str]:
    """The resources worth a row: with an allowance, credits, usage, a block or a pack."""
    detail = data.detail
    wanted = []
    for r in RESOURCES:
        u = detail.resources[r]
        if (u.included or u.wallet or u.overage_units or u.unserved or u.blocked
                or any(lot.resource == r for lot in detail.lots)
                or any(p.resource == r for p in detail.assigned_packs)):
            wanted.append(r)
    return wanted or list(RESOURCES)


class UsageMeter(QFrame):
    """One resource on the usage card: included used/total, Add-on balance, overage."""

    def __init__(self, resource: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.resource = resource
        self.setObjectName("usageRow")
        self.setAccessibleName(resource_label(resource))
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 6, 0, 6)
        layout.setHorizontalSpacing(12)
        layout.setVerticalSpacing(4)
        self.name = plain_label(resource_label(resource), name="usageName")
        self.chip = plain_label("", name="chip")
        self.bar = QProgressBar()
        self.bar.setObjectName("usageBar")
        self.bar.setRange(0, 1000)
        self.bar.setTextVisible(True)
        self.bar.setAccessibleName(self.tr("Included {resource} used").format(
            resource=resource_label(resource)))
        self.included = plain_label("", name="usageLine")
        self.addon = plain_label("", name="addonBalance", selectable=True)
        self.overage = plain_label("", name="usageLine")
        self.unserved = plain_label("", name="unservedLine")
        layout.addWidget(self.name, 0, 0)
        layout.addWidget(self.chip, 0, 1, Qt.AlignmentFlag.AlignRight)
        layout.addWidget(self.bar, 1, 0, 1, 2)
        layout.addWidget(self.included, 2, 0, 1, 2)
        layout.addWidget(self.addon, 3, 0, 1, 2)
        layout.addWidget(self.overage, 4, 0, 1, 2)
        layout.addWidget(self.unserved, 5, 0, 1, 2)
        layout.setColumnStretch(0, 1)

    def render(self, u: ResourceUsage, fmt: Formatter, subscribed: bool) -> None:
        level = permille(u.included_used, u.included)
        self.bar.setValue(level)
        if u.included > 0:
            self.bar.setFormat(self.tr("{used} of {total} used ({percent})").format(
                used=fmt.qty(u.included_used), total=fmt.units(self.resource, u.included),
                percent=percent_text(u.included_used, u.included)))
            self.included.setText(self.tr("{left} of the included allowance left this period"
                                          ).format(left=fmt.units(self.resource, u.included_left)))
        else:
            self.bar.setFormat(self.tr("No included allowance") if subscribed
                               else self.tr("No subscription"))
            self.included.setText("")
        tone = "bad" if u.blocked or level >= 950 else ("warn" if level >= 800 else "ok")
        self._set_prop(self.bar, "level", tone)
        self.included.setVisible(bool(self.included.text()))
        balance = fmt.units(self.resource, u.wallet)
        if u.wallet and u.wallet_never_expires:
            balance += " · " + self.tr("Never expires")
        elif u.next_expiry is not None:
            balance += " · " + self.tr("next expiry {day}").format(day=fmt.day(u.next_expiry))
        self.addon.setText(self.tr("Add-on balance: {balance}").format(balance=balance))
        if u.overage_rate is not None:
            self.overage.setText(self.tr("Overage so far: {units} · {amount} (at {rate})").format(
                units=fmt.units(self.resource, u.overage_units),
                amount=fmt.money(u.overage_amount), rate=fmt.rate(u.overage_rate, self.resource)))
        else:
            self.overage.setText(self.tr("Overage so far: none (no overage rate: usage beyond "
                                         "the free units is unserved)"))
        self.unserved.setText(self.tr("Unserved: {units}").format(
            units=fmt.units(self.resource, u.unserved)) if u.unserved else "")
        self.unserved.setVisible(bool(u.unserved))
        self.chip.setText(self.tr("Blocked") if u.blocked else "")
        self._set_prop(self.chip, "tone", "bad" if u.blocked else "")
        self.chip.setVisible(u.blocked)

    @staticmethod
    def _set_prop(widget: QWidget, name: str, value: str) -> None:
        if widget.property(name) != value:
            widget.setProperty(name, value)
            widget.style().unpolish(widget)
            widget.style().polish(widget)


class CampaignModel(RowModel[CampaignInfo]):
    Column = IntEnum("Column", "NAME RESOURCE STATUS", start=0)

    def headers(self) -> list[str]:
        return [self.tr("Campaign"), self.tr("Resource"), self.tr("Status")]

    def display(self, c: CampaignInfo, column: int) -> str:
        return [c.name, resource_label(c.resource), campaign_status(c.status)][column]

    def raw(self, c: CampaignInfo, column: int) -> Any:
        return [c.name.casefold(), c.resource, c.status][column]

    def tone(self, c: CampaignInfo, column: int) -> str:
        if column == self.Column.STATUS:
            return {"running": "ok", "paused_quota": "bad", "paused": "warn",
                    "finished": "muted"}.get(c.status, "")
        return ""


class AlertModel(DeskRowModel[AlertInfo]):
    Column = IntEnum("Column", "AT ALERT", start=0)

    def headers(self) -> list[str]:
        return [self.tr("When"), self.tr("Alert")]

    def display(self, a: AlertInfo, column: int) -> str:
        if column == self.Column.AT:
            return self.ctx.fmt.when(a.at)
        return alert_text(a.resource, a.kind, a.threshold)

    def raw(self, a: AlertInfo, column: int) -> Any:
        return (a.at, a.id) if column == self.Column.AT else (a.kind, a.resource, a.threshold)

    def tone(self, a: AlertInfo, column: int) -> str:
        if column == self.Column.ALERT:
            return {"blocked": "bad", "exhausted": "bad", "threshold": "warn"}.get(a.kind, "")
        return ""


class OverviewTab(QWidget):
    """The usage card with its blocked banner, campaigns with pause/resume, recent alerts."""

    message = Signal(str)

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.data: ClientPageData | None = None
        self.setObjectName("overviewTab")
        inner = QWidget()
        layout = column_layout(inner, 16, 12)
        self.blocked = Notice("danger")
        self.blocked.setObjectName("blockedBanner")
        layout.addWidget(self.blocked)
        self.error = Notice("danger")
        self.error.hide()
        layout.addWidget(self.error)
        self.no_subscription = Notice("info", self.tr("No active subscription"), self.tr(
            "Usage is refused until the client subscribes (Billing ▸ Subscription). The wallet "
            "is kept."))
        layout.addWidget(self.no_subscription)

        self.usage_card = Card(self.tr("Usage this period"))
        self.usage_card.setObjectName("usageCard")
        self.period = plain_label("", name="hint")
        self.usage_card.add(self.period)
        self.meters: dict[str, UsageMeter] = {}
        for r in RESOURCES:
            meter = UsageMeter(r)
            self.meters[r] = meter
            self.usage_card.add(meter)
        layout.addWidget(self.usage_card)
        self.identifiers = IdentifiersCard(ctx)
        self.identifiers.message.connect(self.message)
        layout.addWidget(self.identifiers)

        lower = QVBoxLayout()
        lower.setSpacing(12)
        campaigns = Card(self.tr("Campaigns"))
        campaigns.setObjectName("campaignCard")
        self.campaigns = CampaignModel(self)
        self.campaign_view = make_table(self.campaigns, self.tr("Campaigns"), stretch=0)
        fit_columns(self.campaign_view, {1: 100, 2: 130})
        self.campaign_view.setMinimumHeight(130)
        campaigns.add(self.campaign_view, 1)
        buttons = QHBoxLayout()
        self.pause_button = QPushButton(self.tr("&Pause"))
        self.resume_button = QPushButton(self.tr("&Resume"))
        self.finish_button = QPushButton(self.tr("&Finish"))
        self.add_campaign_button = QPushButton(self.tr("Add &campaign…"))
        for button, name in ((self.pause_button, self.tr("Pause campaign")),
                             (self.resume_button, self.tr("Resume campaign")),
                             (self.finish_button, self.tr("Finish campaign")),
                             (self.add_campaign_button, self.tr("Add campaign"))):
            button.setAccessibleName(name)
            buttons.addWidget(button)
        buttons.addStretch(1)
        campaigns.outer.addLayout(buttons)
        lower.addWidget(campaigns)
        alerts = Card(self.tr("Recent alerts"))
        alerts.setObjectName("alertCard")
        self.alerts = AlertModel(ctx, self)
        self.alert_view = make_table(self.alerts, self.tr("Recent alerts"), stretch=1)
        fit_columns(self.alert_view, {0: 140})
        self.alert_view.setMinimumHeight(180)
        alerts.add(self.alert_view, 1)
        lower.addWidget(alerts)
        layout.addLayout(lower, 1)
        scroll_content(self, inner)

        self.pause_button.clicked.connect(lambda: self.change_campaign("pause"))
        self.resume_button.clicked.connect(lambda: self.change_campaign("resume"))
        self.finish_button.clicked.connect(lambda: self.change_campaign("finish"))
        self.add_campaign_button.clicked.connect(self.add_campaign)
        self.campaign_view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.campaigns.modelReset.connect(self._update_buttons)
        self.campaigns.dataChanged.connect(self._update_buttons)

    def render(self, data: ClientPageData) -> None:
        if self.data is None or self.data.client_id != data.client_id:
            self.error.hide()
        self.data = data
        detail, fmt = data.detail, self.ctx.fmt
        sub = detail.subscription
        if detail.blocked:
            names = blocked_list(detail.blocked)
            remedy = (self.tr("Apply an add-on pack (Billing ▸ Addon Packs) to restore access "
                              "at once, or wait for the next period's allowance.")
                      if data.addons_on else
                      self.tr("Add-on packs are off for this plan, so access returns with the "
                              "next period's allowance, or once add-on packs are turned on for "
                              "the plan (Catalog ▸ Plans) and a pack is applied."))
            self.blocked.set(self.tr("Blocked: {resources}").format(resources=names), self.tr(
                "All free units are used up and the plan has no overage rate for {resources}: "
                "further usage is recorded as unserved and campaigns on it are paused · quota. "
                ).format(resources=names) + remedy)
        self.blocked.setVisible(bool(detail.blocked))
        self.no_subscription.setVisible(sub is None)
        if sub is not None:
            self.period.setText(self.tr("{plan} · period {period}").format(
                plan=sub.plan, period=fmt.period(sub.period_start, sub.period_end)))
        else:
            self.period.setText(self.tr("No current period"))
        shown = shown_resources(data)
        for r, meter in self.meters.items():
            meter.setVisible(r in shown)
            meter.render(detail.resources[r], fmt, sub is not None)
        self.campaigns.set_rows(detail.campaigns)
        self.alerts.set_rows(detail.alerts)
        self.identifiers.render(data)
        self._update_buttons()

    def selected_campaign(self) -> CampaignInfo | None:
        return selected_row(self.campaign_view, CampaignInfo)

    def _update_buttons(self, *_args: object) -> None:
        c = self.selected_campaign()
        status = c.status if c else None
        self.pause_button.setEnabled(status in ("running", "paused_quota"))
        self.resume_button.setEnabled(status == "paused")
        self.finish_button.setEnabled(status in ("running", "paused", "paused_quota"))
        self.add_campaign_button.setEnabled(self.data is not None)

    def change_campaign(self, action: str) -> None:
        c = self.selected_campaign()
        if c is None:
            return
        desk, campaign_id = self.ctx.desk, c.id
        self.error.hide()
        self.ctx.run_op(self, lambda: clients.change_campaign(desk, campaign_id=campaign_id,
                                                              action=action),
                        lambda info: self.message.emit(self.tr("{name}: {status}").format(
                            name=info.name, status=campaign_status(info.status))),
                        label=self.tr("Change campaign"))

    def add_campaign(self) -> CampaignDialog | None:
        if self.data is None:
            return None
        dialog = CampaignDialog(self.ctx, self.data.client_id, self)
        dialog.open()
        return dialog

    def show_refusal(self, refusal: QuotaDeskError) -> None:
        self.error.set(self.tr("Not done"), refusal_text(refusal))
        self.error.show()


class ClientPage(QWidget):
    """Everything about one client. `show_client(id)` loads it; writes reload it."""

    loaded = Signal(int)
    message = Signal(str)

    def __init__(self, ctx: DeskContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.client_id: int | None = None
        self.data: ClientPageData | None = None
        self.setObjectName("clientPage")
        layout = column_layout(self, (6, 12, 12, 12), 8)
        header = QHBoxLayout()
        titles = QVBoxLayout()
        titles.setSpacing(2)
        self.name = plain_label("", name="clientTitle", selectable=True)
        self.subtitle = plain_label("", name="clientSubtitle", selectable=True)
        titles.addWidget(self.name)
        titles.addWidget(self.subtitle)
        header.addLayout(titles, 1)
        self.status_chip = plain_label("", name="chip")
        header.addWidget(self.status_chip, 0, Qt.AlignmentFlag.AlignVCenter)
        header.addWidget(statement_button(self), 0, Qt.AlignmentFlag.AlignVCenter)  # SPEC §10
        layout.addLayout(header)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("clientTabs")
        self.overview = OverviewTab(ctx)
        self.billing = BillingTab(ctx)
        self.portal = PortalPreview(ctx)
        self.audit = ClientAuditTab(ctx)
        self.charts = UsageChartsTab(ctx)
        self.mail = ClientMailTab(ctx)
        self.tabs.addTab(self.overview, self.tr("Overview"))
        self.tabs.addTab(self.charts, self.tr("Usage charts"))
        self.tabs.addTab(self.billing, self.tr("Billing"))
        self.tabs.addTab(self.portal, self.tr("Client portal preview"))
        self.tabs.addTab(self.mail, self.tr("Mail"))
        self.tabs.addTab(self.audit, self.tr("Audit log"))
        layout.addWidget(self.tabs, 1)
        for source in [self.overview, *self.billing.tabs()]:
            source.message.connect(self.message)
        ctx.changed.connect(self._on_changed)

    def show_client(self, client_id: int | None, name: str = "") -> None:
        self.client_id = client_id
        if client_id is None:
            self.data = None
            return
        if self.data is None or self.data.client_id != client_id:
            self.name.setText(name)
            self.subtitle.setText(self.tr("Loading…"))
            self.tabs.setEnabled(False)
        self.reload()

    def reload(self) -> None:
        desk, client_id = self.ctx.desk, self.client_id
        if desk is None or client_id is None:
            return
        self.ctx.run_op(self, lambda: load_client_page(desk, client_id), self._loaded,
                        latest="client-page", label=self.tr("Loading the client"))

    def _on_changed(self, changes: Changes) -> None:
        if self.client_id is None:
            return
        if changes.touches(Area.CATALOG) or (
                changes.touches_client(self.client_id) and changes.touches(
                    Area.CLIENTS, Area.SUBSCRIPTION, Area.ASSIGNMENTS, Area.WALLET, Area.USAGE,
                    Area.CAMPAIGNS, Area.PAYMENTS)):
            self.reload()

    def _loaded(self, data: ClientPageData) -> None:
        if data.client_id != self.client_id:
            return
        self.data = data
        detail = data.detail
        sub = detail.subscription
        self.name.setText(detail.name)
        parts = [detail.email or self.tr("no e-mail")]
        parts.append(sub.plan if sub else self.tr("no subscription"))
        self.subtitle.setText(" · ".join(parts))
        if sub is None:
            chip, tone = self.tr("No subscription"), "muted"
        elif detail.blocked:
            chip, tone = self.tr("Blocked: {resources}").format(
                resources=blocked_list(detail.blocked)), "bad"
        else:
            chip, tone = self.tr("Active"), "ok"
        self.status_chip.setText(chip)
        UsageMeter._set_prop(self.status_chip, "tone", tone)
        self.tabs.setEnabled(True)
        self.overview.render(data)
        self.billing.render(data)
        self.portal.render(data)
        self.mail.render(data)
        self.audit.render(data)
        self.charts.render(data)
        self.loaded.emit(data.client_id)

    def show_portal(self) -> None:
        self.tabs.setCurrentWidget(self.portal)
