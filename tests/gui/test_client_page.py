"""The client page: the usage card and its blocked banner, campaigns, alerts, and the
Subscription tab with subscribe / change plan / cancel."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QDialog

from quotadesk.services import catalog, clients, usage, wallet
from quotadesk.views.dialogs.client import CampaignDialog
from quotadesk.views.dialogs.subscription import CancelSubscriptionDialog, SubscribeDialog
from tests.gui.conftest import (
    click,
    click_row,
    column_texts,
    dialog_of,
    open_client,
    open_tab,
    row_of,
    settle,
)


def test_usage_card_bars_addon_balance_and_overage(qtbot, desk, acme, window):
    catalog.add_plan(desk, name="Voice Pro", fee="99.00", included={"minutes": "1500"},
                     overage={"minutes": "0.045"})
    pro = clients.add_client(desk, name="Pro Co")
    clients.subscribe(desk, client=pro.id, plan="Voice Pro")
    usage.record_usage(desk, client=pro.id, resource="minutes", quantity="1510")
    wallet.apply_pack(desk, client=acme, pack="100 Minutes Pack", status="paid")
    usage.record_usage(desk, client=acme, resource="minutes", quantity="400")
    window.client_list.reload()
    settle(qtbot, window.ctx)

    open_client(qtbot, window, "Acme")
    overview = window.client_page.overview
    meter = overview.meters["minutes"]
    assert meter.bar.value() == 800  # 400 of 500, in thousandths
    assert meter.bar.text() == "400 of 500 minutes used (80 %)"
    assert meter.bar.property("level") == "warn"
    assert meter.addon.text() == "Add-on balance: 100 minutes · Never expires"
    assert meter.overage.text().startswith("Overage so far: none")
    assert not overview.blocked.isVisibleTo(overview)
    assert not overview.meters["sms"].isVisibleTo(overview)  # no sms allowance nor credits
    assert column_texts(overview.alert_view, 1) == ["80 % of included Minutes used"]

    open_client(qtbot, window, "Pro Co")
    meter = overview.meters["minutes"]
    assert meter.bar.value() == 1000 and meter.bar.property("level") == "bad"
    assert meter.overage.text() == (
        "Overage so far: 10 minutes · $0.45 (at $0.045 per minute)")
    assert not overview.blocked.isVisibleTo(overview)


def test_blocked_banner_names_the_resource_and_the_remedy(qtbot, desk, acme, window):
    campaign = clients.add_campaign(desk, client=acme, name="Calls", resource="minutes")
    usage.record_usage(desk, client=acme, resource="minutes", quantity="512.5")
    window.client_list.reload()
    settle(qtbot, window.ctx)
    open_client(qtbot, window, "Acme")
    page, overview = window.client_page, window.client_page.overview
    assert overview.blocked.isVisibleTo(overview)
    assert overview.blocked.property("kind") == "danger"
    assert overview.blocked.title.text() == "Blocked: Minutes"
    assert "Apply an add-on pack" in overview.blocked.text.text()
    assert overview.meters["minutes"].unserved.text() == "Unserved: 12.5 minutes"
    assert overview.meters["minutes"].chip.text() == "Blocked"
    assert page.status_chip.text() == "Blocked: Minutes"
    view = overview.campaign_view
    assert column_texts(view, 2) == ["Paused · quota"]
    assert campaign.id == clients.client_detail(desk, acme).campaigns[0].id


@pytest.mark.slow
def test_campaigns_pause_resume_finish_and_add(qtbot, desk, acme, window):
    clients.add_campaign(desk, client=acme, name="Calls", resource="minutes")
    open_client(qtbot, window, "Acme")
    overview = window.client_page.overview
    view = overview.campaign_view
    click_row(qtbot, view, row_of(view, "Calls"))
    assert not overview.resume_button.isEnabled()
    click(qtbot, overview.pause_button)
    settle(qtbot, window.ctx)
    assert [c.status for c in clients.list_campaigns(desk, acme)] == ["paused"]
    assert column_texts(view, 2) == ["Paused"]
    click_row(qtbot, view, 0)
    click(qtbot, overview.resume_button)
    settle(qtbot, window.ctx)
    assert [c.status for c in clients.list_campaigns(desk, acme)] == ["running"]
    click_row(qtbot, view, 0)
    click(qtbot, overview.finish_button)
    settle(qtbot, window.ctx)
    assert column_texts(view, 2) == ["Finished"]

    click(qtbot, overview.add_campaign_button)
    dialog = dialog_of(window, CampaignDialog)
    qtbot.keyClicks(dialog.name, "Reminders")
    dialog.resource.setCurrentIndex(dialog.resource.findData("sms"))
    with qtbot.waitSignal(dialog.finished):
        click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert [(c.name, c.resource) for c in clients.list_campaigns(desk, acme)][-1] == (
        "Reminders", "sms")
    assert sorted(column_texts(view, 0)) == ["Calls", "Reminders"]


@pytest.mark.slow
def test_subscription_tab_shows_the_plan_snapshot(qtbot, desk, acme, window):
    catalog.edit_plan(desk, plan="Voice 500", fee="59.00")  # later edit: snapshot unchanged
    open_client(qtbot, window, "Acme")
    open_tab(qtbot, window.client_page.tabs, "Billing")
    tab = open_tab(qtbot, window.client_page.billing, "Subscription")
    v = tab.values
    assert v["plan"].text() == "Voice 500"
    assert v["fee"].text() == "$49.00 per period"
    assert v["period"].text() == "2026-01-10 – 2026-01-31"
    assert v["included"].text().splitlines()[0] == "Minutes: 500 minutes"
    assert v["overage"].text().splitlines()[0] == (
        "Minutes: None (blocked when free units run out)")
    assert v["addons"].text() == "Add-on packs · On"
    assert v["due"].text() == "1 day(s)"
    assert v["alerts"].text() == "80 %, 95 %"
    assert not tab.subscribe_button.isVisible() and tab.change_button.isVisible()


@pytest.mark.slow
def test_subscribe_change_plan_and_cancel_through_dialogs(qtbot, desk, clock, acme, window):
    new = clients.add_client(desk, name="Newco")
    window.client_list.reload()
    settle(qtbot, window.ctx)
    open_client(qtbot, window, "Newco")
    open_tab(qtbot, window.client_page.tabs, "Billing")
    tab = open_tab(qtbot, window.client_page.billing, "Subscription")
    assert tab.none_notice.isVisible()
    click(qtbot, tab.subscribe_button)
    dialog = dialog_of(window, SubscribeDialog)
    qtbot.waitUntil(lambda: dialog.plan.count() == 2)
    dialog.plan.setCurrentIndex(dialog.plan.findText("Voice 500"))
    assert "Add-on packs · On" in dialog.summary.text()
    with qtbot.waitSignal(dialog.finished):
        click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert clients.client_detail(desk, new.id).subscription.plan == "Voice 500"
    assert tab.values["plan"].text() == "Voice 500"

    clock.advance(hours=1)
    click(qtbot, tab.change_button)
    dialog = dialog_of(window, SubscribeDialog)
    qtbot.waitUntil(lambda: dialog.plan.count() == 2)
    assert dialog.plan.currentText() == "Voice 500"
    dialog.plan.setCurrentIndex(dialog.plan.findText("Voice Basic (no add-ons)"))
    with qtbot.waitSignal(dialog.finished):
        click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert clients.client_detail(desk, new.id).subscription.addons is False
    assert tab.values["addons"].text() == "Add-on packs · Off"

    click(qtbot, tab.cancel_button)
    dialog = dialog_of(window, CancelSubscriptionDialog)
    assert dialog.cancel_button.text() == "Keep subscription"
    with qtbot.waitSignal(dialog.finished) as done:
        click(qtbot, dialog.accept_button)
    assert done.args == [QDialog.DialogCode.Accepted]
    settle(qtbot, window.ctx)
    assert clients.client_detail(desk, new.id).subscription is None
    assert tab.none_notice.isVisible()
    assert window.client_page.overview.no_subscription.isVisibleTo(window.client_page.overview)
