"""The agency card's totals and the client portal preview (SPEC §5, seed 002's words)."""

from __future__ import annotations

from quotadesk.services import clients, reports, usage, wallet
from tests.gui.conftest import open_client, open_tab, settle


def test_agency_card_totals(qtbot, desk, clock, acme, window):
    clients.assign_packs(desk, client=acme, packs=["Additional SMS"])
    wallet.apply_pack(desk, client=acme, pack="100 Minutes Pack", status="paid")
    other = clients.add_client(desk, name="Blocked Co")
    clients.subscribe(desk, client=other.id, plan="Voice 500")
    usage.record_usage(desk, client=other.id, resource="minutes", quantity="501")
    clock.advance(days=5)  # the Plan requests (due 2026-01-11) are now overdue
    wallet.apply_pack(desk, client=acme, pack="Additional SMS", status="pending")  # due later
    window.agency.reload()
    settle(qtbot, window.ctx)
    card = window.agency
    assert window.stack.currentWidget() is card
    assert card.wallet_cards["minutes"].title.text() == "Add-on minutes (wallet)"
    assert card.wallet_total["minutes"].value.text() == "100 minutes"
    assert card.wallet_lines["minutes"][0].text() == "Never expires: 100 minutes"
    assert card.wallet_cards["sms"].title.text() == "Add-on SMS credits (wallet)"
    assert card.wallet_total["sms"].value.text() == "500 credits"
    assert card.wallet_total["email"].value.text() == "0 credits"
    assert card.blocked.value.text() == "1"
    assert card.blocked.detail.text() == "Minutes 1 · SMS 0 · Email 0"
    totals = reports.agency_totals(desk)
    assert card.pending.value.text() == "$118.00" and totals.pending_count == 3
    assert card.overdue.value.text() == "$98.00"
    assert card.clients.value.text() == "2"


def test_agency_card_follows_a_write(qtbot, desk, acme, window):
    assert window.agency.wallet_total["minutes"].value.text() == "0 minutes"
    with qtbot.waitSignal(window.agency.loaded):
        # Nothing says what changed: the write's own record of what it wrote is broadcast.
        window.ctx.run_op(window, lambda: wallet.apply_pack(
            desk, client=acme, pack="100 Minutes Pack", status="paid"))
    assert window.agency.wallet_total["minutes"].value.text() == "100 minutes"


def test_portal_preview_shows_what_the_client_sees(qtbot, desk, acme, window):
    clients.assign_packs(desk, client=acme, packs=["Additional SMS"])
    wallet.apply_pack(desk, client=acme, pack="Additional SMS", status="paid")
    usage.record_usage(desk, client=acme, resource="minutes", quantity="600")  # blocked
    open_client(qtbot, window, "Acme")
    portal = open_tab(qtbot, window.client_page.tabs, "Client portal preview")
    texts = portal.texts()
    assert "Remaining SMS credits: 500 credits available" in texts
    assert "Remaining minutes: 0 minutes available" in texts
    assert "Available Add-On Packs" in texts
    assert "Contact your provider to purchase any of these add-on packs." in texts
    assert "100 Minutes Pack" in texts and "Additional SMS" in texts
    assert portal.blocked.isVisibleTo(portal)
    assert portal.blocked.title.text() == "Sends are blocked: Minutes"
    assert "purchase an add-on package (immediate)" in portal.blocked.text.text()
    assert "Billing History" in texts
    history = portal.history_view.model()
    assert history.rowCount() == 1
    assert history.index(0, 1).data() == "Additional SMS"
    assert history.index(0, 2).data() == "500 credits"
    assert history.index(0, 4).data() == "Paid"
    # From the menu too: Clients ▸ Client portal preview.
    open_tab(qtbot, window.client_page.tabs, "Overview")
    window.portal_action.trigger()
    assert window.client_page.tabs.currentWidget() is portal
