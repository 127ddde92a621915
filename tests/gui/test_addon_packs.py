"""Seed 000 through the window: the Addon Packs tab, assigning, the amber warning, and the
Apply dialog that credits exactly once."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from quotadesk.services import billing, catalog, clients, usage
from quotadesk.services.errors import ADDONS_DISABLED_TEXT
from quotadesk.views.dialogs.packs import ApplyPackDialog
from quotadesk.views.ops import Area, Changes
from tests.gui.conftest import click, dialog_of, open_client, open_tab, settle

REQUIREMENTS = ("Your client can purchase addon packs when their subscription product has addon "
                "packs enabled. The client will only see addon packs that you assign here.")
BULLETS = [
    "Credit the selected addon pack minutes to this client’s wallet immediately.",
    "Set the payment request due date per the plan’s ‘Payment due after period start’ setting "
    "(e.g. 1 day after application).",
    "Create a payment request for this addon pack.",
]


def addon_tab(qtbot, window, client="Acme"):
    open_client(qtbot, window, client)
    open_tab(qtbot, window.client_page.tabs, "Billing")
    open_tab(qtbot, window.client_page.billing, "Addon Packs")
    return window.client_page.billing.addon_packs


@pytest.mark.slow
def test_requirements_notice_and_assigned_cards(qtbot, desk, acme, window):
    tab = addon_tab(qtbot, window)
    assert tab.requirements.title.text() == "Addon Pack Requirements"
    assert tab.requirements.text.text() == REQUIREMENTS
    assert not tab.addons_off.isVisible()
    assert tab.assigned_card.title.text() == "Currently assigned to client"
    [card] = tab.cards
    assert card.name.text() == "100 Minutes Pack"
    assert card.apply_button.text() == "Apply Addon Pack" and card.apply_button.isVisible()
    assert card.remove_button.text() == "Remove Assignment"
    assert tab.edit_button.text() == "Edit"
    # With packs assigned, the assign section waits behind Edit.
    assert not tab.assign_card.isVisible()


def test_assign_with_the_multi_select(qtbot, desk, clock, window):
    catalog.add_plan(desk, name="Omni", fee="10.00", included={"minutes": "100", "sms": "50"})
    catalog.add_pack(desk, name="100 Minutes Pack", resource="minutes", units="100",
                     price="15.00")
    catalog.add_pack(desk, name="Additional SMS", resource="sms", units="500", price="20.00",
                     expires_months=12)
    client = clients.add_client(desk, name="Nimbus")
    clients.subscribe(desk, client=client.id, plan="Omni")
    window.client_list.reload()
    settle(qtbot, window.ctx)
    tab = addon_tab(qtbot, window, "Nimbus")
    assert tab.assign_card.isVisible() and tab.assign_card.title.text() == "Assign Addon Packs"
    assert tab.picker.text() == "Select addon packs…"
    # Seed 000: `Pack name - {price} ({count} minutes)`; SMS and email packs say credits.
    assert tab.picker.options() == ["100 Minutes Pack - $15.00 (100 minutes)",
                                    "Additional SMS - $20.00 (500 credits)"]
    click(qtbot, tab.assign_button)  # nothing selected: refused inline, nothing written
    settle(qtbot, window.ctx)
    # Said without the command line's field id (issue 16: no "packs: …" in the window).
    assert tab.error.text.text() == "Select at least one addon pack"
    # The drop-down is a list of check boxes: Space ticks the current one.
    tab.picker.list.setCurrentRow(0)
    qtbot.keyClick(tab.picker.list, Qt.Key.Key_Space)
    tab.picker.list.setCurrentRow(1)
    qtbot.keyClick(tab.picker.list, Qt.Key.Key_Space)
    assert tab.picker.text() == "100 Minutes Pack, Additional SMS"
    click(qtbot, tab.assign_button)
    settle(qtbot, window.ctx)
    assert [p.name for p in clients.client_detail(desk, client.id).assigned_packs] == [
        "100 Minutes Pack", "Additional SMS"]
    assert [c.name.text() for c in tab.cards] == ["100 Minutes Pack", "Additional SMS"]
    assert not tab.error.isVisible() and not tab.assign_card.isVisible()


@pytest.mark.slow
def test_edit_and_remove_assignment(qtbot, desk, acme, window):
    tab = addon_tab(qtbot, window)
    click(qtbot, tab.edit_button)
    assert tab.assign_card.isVisible()
    assert tab.picker.checked_ids() == [p.id for p in catalog.list_packs(desk)
                                        if p.name == "100 Minutes Pack"]
    tab.picker.set_checked({p.id for p in catalog.list_packs(desk)
                            if p.name == "Additional SMS"})
    click(qtbot, tab.assign_button)
    settle(qtbot, window.ctx)
    assert [p.name for p in clients.client_detail(desk, acme).assigned_packs] == [
        "Additional SMS"]
    click(qtbot, tab.card_for("Additional SMS").remove_button)
    settle(qtbot, window.ctx)
    assert clients.client_detail(desk, acme).assigned_packs == ()
    assert tab.cards == [] and tab.assign_card.isVisible()
    # The portal preview follows: no packs available any more.
    assert window.client_page.portal.no_packs.isVisibleTo(window.client_page.portal)


def test_addons_off_shows_the_amber_warning_and_blocks_assign_and_apply(
        qtbot, desk, acme, window):
    basic = clients.add_client(desk, name="Basic Co")
    clients.subscribe(desk, client=basic.id, plan="Voice Basic (no add-ons)")
    window.client_list.reload()
    settle(qtbot, window.ctx)
    tab = addon_tab(qtbot, window, "Basic Co")
    assert tab.addons_off.isVisible()
    assert tab.addons_off.property("kind") == "warning"
    assert tab.addons_off.text.text() == ADDONS_DISABLED_TEXT
    assert not tab.picker.isEnabled() and not tab.assign_button.isEnabled()
    # Acme re-subscribes to the no-add-ons plan: its assigned card can no longer apply.
    clients.subscribe(desk, client=acme, plan="Voice Basic (no add-ons)")
    window.ctx.changed.emit(Changes.of(Area.SUBSCRIPTION, clients=[acme]))
    tab = addon_tab(qtbot, window, "Acme")
    assert tab.addons_off.isVisible()
    assert not tab.cards[0].apply_button.isEnabled()
    assert not tab.edit_button.isEnabled()


@pytest.mark.slow
def test_apply_hidden_without_an_active_subscription(qtbot, desk, acme, window):
    clients.cancel(desk, client=acme)
    window.client_list.reload()
    settle(qtbot, window.ctx)
    tab = addon_tab(qtbot, window)
    assert tab.no_subscription.isVisible()
    assert tab.cards and not tab.cards[0].apply_button.isVisible()
    assert tab.cards[0].remove_button.isVisible()


def test_apply_dialog_pending_credits_and_updates_every_panel(qtbot, desk, acme, window):
    usage.record_usage(desk, client=acme, resource="minutes", quantity="501")  # blocked
    campaign = clients.add_campaign(desk, client=acme, name="Calls", resource="minutes")
    window.client_list.reload()
    settle(qtbot, window.ctx)
    tab = addon_tab(qtbot, window)
    assert window.client_page.overview.blocked.isVisibleTo(window.client_page.overview)
    click(qtbot, tab.cards[0].apply_button)
    dialog = dialog_of(window, ApplyPackDialog)
    assert dialog.windowTitle() == "Apply addon pack to client?"
    assert dialog.pack_line.text() == "100 Minutes Pack"
    assert dialog.count_line.text().startswith("100 minutes to be credited")
    assert [b.text().lstrip("• ").strip() for b in dialog.bullets] == BULLETS
    assert dialog.pending.text() == "Pending" and dialog.pending.isChecked()
    assert dialog.paid.text() == "Paid"
    assert "the payment request stays open until you mark it paid." in (
        dialog.pending.accessibleDescription())
    assert dialog.accept_button.text().replace("&&", "&") == "Credit addon & create request"
    with qtbot.waitSignal(dialog.finished):
        click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    # The seed's exact success message.
    assert tab.result.text.text() == "Addon pack credited. Payment request created as pending."
    # The database: one lot, one pending Pack request, unblocked, the campaign resumed.
    detail = clients.client_detail(desk, acme)
    assert [lot.units for lot in detail.lots] == [Decimal(100)]
    assert detail.blocked == ()
    assert [c.status for c in detail.campaigns if c.id == campaign.id] == ["running"]
    packs = [p for p in billing.list_payments(desk, acme) if p.type == "Pack"]
    assert [(p.amount, p.status) for p in packs] == [(Decimal("15.00"), "pending")]
    # ... and every panel at once: wallet, usage card, payment requests, the client list.
    page = window.client_page
    assert page.billing.wallet.tiles["minutes"].value.text() == "100 minutes"
    assert page.overview.meters["minutes"].addon.text() == (
        "Add-on balance: 100 minutes · Never expires")
    assert not page.overview.blocked.isVisibleTo(page.overview)
    assert "Pack" in [page.billing.payments.model.display(p, 0)
                      for p in page.billing.payments.model.rows]
    row = window.client_list.row(acme)
    assert row.wallet_text == "100 min" and row.status_text == "Active"


@pytest.mark.slow
def test_apply_paid_message(qtbot, desk, acme, window):
    tab = addon_tab(qtbot, window)
    click(qtbot, tab.cards[0].apply_button)
    dialog = dialog_of(window, ApplyPackDialog)
    click(qtbot, dialog.paid)
    with qtbot.waitSignal(dialog.finished):
        click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert tab.result.text.text() == (
        "Addon pack credited. Payment request created and marked as paid.")
    packs = [p for p in billing.list_payments(desk, acme) if p.type == "Pack"]
    assert [p.status for p in packs] == ["paid"]


@pytest.mark.slow
def test_double_click_and_enter_twice_credit_once(qtbot, desk, acme, window):
    tab = addon_tab(qtbot, window)
    click(qtbot, tab.cards[0].apply_button)
    dialog = dialog_of(window, ApplyPackDialog)
    with qtbot.waitSignal(dialog.finished, timeout=15_000) as done:
        qtbot.mouseDClick(dialog.accept_button, Qt.MouseButton.LeftButton)
        qtbot.keyClick(dialog, Qt.Key.Key_Return)
        qtbot.keyClick(dialog, Qt.Key.Key_Enter)
        assert not dialog.accept_button.isEnabled()  # disabled while the op runs
    assert done.args == [QDialog.DialogCode.Accepted]
    settle(qtbot, window.ctx)
    assert len(clients.client_detail(desk, acme).lots) == 1
    assert len([p for p in billing.list_payments(desk, acme) if p.type == "Pack"]) == 1


@pytest.mark.slow
def test_refused_apply_keeps_the_dialog_and_a_retry_uses_the_same_key(
        qtbot, desk, clock, acme, window, monkeypatch):
    tab = addon_tab(qtbot, window)
    click(qtbot, tab.cards[0].apply_button)
    dialog = dialog_of(window, ApplyPackDialog)
    key = dialog.key
    # Another desk cancels the subscription meanwhile: applying is refused.
    clients.cancel(desk, client=acme)
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert dialog.isVisible() and dialog.accept_button.isEnabled()
    assert "no active subscription" in dialog.banner.text.text()
    assert clients.client_detail(desk, acme).lots == ()
    clock.advance(minutes=5)
    clients.subscribe(desk, client=acme, plan="Voice 500")
    seen = []
    from quotadesk.services import wallet

    real = wallet.apply_pack
    monkeypatch.setattr(wallet, "apply_pack", lambda *a, **kw: seen.append(kw["key"])
                        or real(*a, **kw))
    with qtbot.waitSignal(dialog.finished):
        click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert seen == [key]
    assert len(clients.client_detail(desk, acme).lots) == 1
