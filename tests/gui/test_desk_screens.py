"""Issue 16 through the window: add-ons that follow the plan, the apply dialog's real due
date, the portal's blocked banner, the payments screen, the audit log, the top-up editor, and
the keyboard (Ctrl+U from the search box, Return in the multi-select, the seed 000 flow)."""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QPushButton

from quotadesk.services import billing, catalog, clients, topup, usage, wallet
from quotadesk.views.dialogs.packs import ApplyPackDialog
from quotadesk.views.dialogs.usage import RecordUsageDialog
from quotadesk.views.ops import Changes
from tests.gui.conftest import TIMEOUT, click, dialog_of, open_client, open_tab, settle
from tests.gui.test_addon_packs import BULLETS, addon_tab


def refresh(qtbot, window) -> None:
    """Data written behind the window's back (by the test): every panel reloads."""
    with qtbot.waitSignal(window.client_list.loaded, timeout=TIMEOUT):
        window.ctx.changed.emit(Changes.everything())
    settle(qtbot, window.ctx)


def no_addons_client(desk) -> int:
    client = clients.add_client(desk, name="Charlie")
    clients.subscribe(desk, client=client.id, plan="Voice Basic (no add-ons)")
    return client.id


def test_the_amber_advice_works_add_ons_follow_the_plan(qtbot, desk, acme, window):
    charlie = no_addons_client(desk)
    refresh(qtbot, window)
    tab = addon_tab(qtbot, window, "Charlie")
    assert tab.addons_off.isVisible() and not tab.assign_button.isEnabled()
    # Turn on add-ons on the billing plan product, in the plan editor…
    dialog = window.open_plans()
    settle(qtbot, window.ctx)
    plan = next(p for p in dialog.model.rows if p.name == "Voice Basic (no add-ons)")
    dialog.fill(plan)
    dialog.addons.setChecked(True)
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    dialog.close()
    # … then refresh: the tab follows, and assigning works.
    qtbot.waitUntil(lambda: not tab.addons_off.isVisibleTo(tab), timeout=TIMEOUT)
    assert tab.assign_button.isEnabled()
    tab.picker.set_checked({p.id for p in window.client_page.data.catalog
                            if p.name == "100 Minutes Pack"})
    click(qtbot, tab.assign_button)
    settle(qtbot, window.ctx)
    assert [p.name for p in clients.client_detail(desk, charlie).assigned_packs] == [
        "100 Minutes Pack"]


def test_the_apply_dialog_shows_the_real_due_date(qtbot, desk, clock, window):
    catalog.add_plan(desk, name="Net 14", fee="10.00", due_days=14)
    catalog.add_pack(desk, name="100 Minutes Pack", resource="minutes", units="100",
                     price="15.00", expires_months=1)
    client = clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client=client.id, plan="Net 14")
    clients.assign_packs(desk, client=client.id, packs=["100 Minutes Pack"])
    refresh(qtbot, window)
    tab = addon_tab(qtbot, window)
    assert tab.cards[0].detail.text().endswith("Expires 1 month after applying")
    click(qtbot, tab.cards[0].apply_button)
    dialog = dialog_of(window, ApplyPackDialog)
    # Seed 000's sentence word for word, and beside it the date (2026-01-10 + 14 days).
    assert [b.text().removeprefix("•  ") for b in dialog.bullets] == BULLETS
    assert dialog.due_line.text() == "Due 2026-01-24, 14 days after application"
    dialog.reject()


def test_the_portal_banner_says_only_what_is_true(qtbot, desk, acme, window):
    charlie = no_addons_client(desk)
    usage.record_usage(desk, client=charlie, resource="minutes", quantity="250")  # blocked
    refresh(qtbot, window)
    open_client(qtbot, window, "Charlie")
    portal = open_tab(qtbot, window.client_page.tabs, "Client portal preview")
    assert portal.blocked.isVisibleTo(portal)
    assert portal.blocked.text.text() == (
        "You reached your limit. Sends stay blocked until the next monthly reset "
        "(2026-02-01).")
    assert "purchase" not in portal.blocked.text.text()


def test_payments_screen_filters_totals_marks_undoes_and_exports(qtbot, desk, clock, acme,
                                                                  window, tmp_path: Path):
    other = clients.add_client(desk, name="Bolt")
    clients.subscribe(desk, client=other.id, plan="Voice 500")
    wallet.apply_pack(desk, client=acme, pack="100 Minutes Pack", status="pending")
    clock.advance(days=3)  # the Plan requests (due in a day) are overdue now
    refresh(qtbot, window)
    screen = window.open_payments()
    settle(qtbot, window.ctx)
    assert screen.model.rowCount() == 3
    screen.overdue.setChecked(True)
    settle(qtbot, window.ctx)
    assert {p.client for p in screen.model.rows} == {"Acme", "Bolt"}
    assert all(p.overdue for p in screen.model.rows)
    assert screen.totals.text().startswith("3 requests shown · total $113.00") or \
        "overdue $113.00 (3)" in screen.totals.text()
    screen.type.setCurrentIndex(screen.type.findData("Plan"))
    settle(qtbot, window.ctx)
    assert [p.type for p in screen.model.rows] == ["Plan", "Plan"]
    assert "total $98.00" in screen.totals.text()
    # Mark both paid: one confirmation for the two.
    screen.view.selectAll()
    click(qtbot, screen.pay_button)
    box = screen.confirm_box
    assert box.text() == "Mark 2 payment request(s) paid? Together $98.00."
    click(qtbot, box.findChild(QPushButton, "confirmButton"))
    settle(qtbot, window.ctx)
    assert {p.status for p in billing.list_payments(desk) if p.type == "Plan"} == {"paid"}
    # Undo a mistaken Mark paid.
    screen.overdue.setChecked(False)
    screen.status.setCurrentIndex(screen.status.findData("paid"))
    settle(qtbot, window.ctx)
    screen.view.selectRow(0)
    undone = screen.model.rows[0].id
    click(qtbot, screen.undo_button)
    click(qtbot, screen.confirm_box.findChild(QPushButton, "confirmButton"))
    settle(qtbot, window.ctx)
    assert next(p for p in billing.list_payments(desk) if p.id == undone).status == "pending"
    # Export what is shown.
    screen.status.setCurrentIndex(0)
    screen.type.setCurrentIndex(0)
    settle(qtbot, window.ctx)
    target = tmp_path / "shown.csv"
    screen.export_to(str(target))
    settle(qtbot, window.ctx)
    with target.open(encoding="utf-8-sig") as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 3 and {r["client"] for r in rows} == {"Acme", "Bolt"}
    screen.close()


def test_the_audit_log_and_the_client_audit_tab(qtbot, desk, acme, window):
    wallet.apply_pack(desk, client=acme, pack="100 Minutes Pack", status="paid")
    log = window.open_audit()
    settle(qtbot, window.ctx)
    actions = [r.action for r in log.model.rows]
    assert actions[0] == "pack.apply" and "client.add" in actions
    log.action.setCurrentIndex(log.action.findData("pack.apply"))
    settle(qtbot, window.ctx)
    assert [r.action for r in log.model.rows] == ["pack.apply"]
    assert log.view.model().index(0, 3).data() == "Acme"
    log.close()
    open_client(qtbot, window, "Acme")
    tab = open_tab(qtbot, window.client_page.tabs, "Audit log")
    texts = [tab.view.model().index(r, 2).data() for r in range(tab.view.model().rowCount())]
    assert texts[0] == "Pack applied" and "Subscribed" in texts


def test_the_top_up_rule_editor(qtbot, desk, acme, window):
    tab = addon_tab(qtbot, window)
    card = tab.topup
    card.below.setText("-5")  # refused beside the editor, where the user is
    click(qtbot, card.save_button)
    settle(qtbot, window.ctx)
    assert card.error.isVisibleTo(card) and not card.error.text().startswith("below:")
    card.below.setText("50")
    card.pack.setCurrentIndex(card.pack.findText("100 Minutes Pack"))
    assert card.unit.text() == "minutes"
    card.status.setCurrentIndex(card.status.findData("paid"))
    click(qtbot, card.save_button)
    settle(qtbot, window.ctx)
    [row] = card.rows
    assert row.sentence.text() == (
        "When the wallet falls below 50 minutes, apply 100 Minutes Pack, payment paid")
    clients.unassign_pack(desk, client=acme, pack="100 Minutes Pack")
    window.ctx.changed.emit(Changes.everything())
    settle(qtbot, window.ctx)
    qtbot.waitUntil(lambda: "not assigned" in card.rows[0].state.text(), timeout=TIMEOUT)
    assert card.rows[0].state.text() == (
        "Kept, but does nothing now: '100 Minutes Pack' is not assigned to the client.")
    click(qtbot, card.rows[0].remove_button)
    settle(qtbot, window.ctx)
    assert topup.list_topups(desk) == [] and card.rows == []


def test_ctrl_u_works_from_the_search_box(qtbot, desk, acme, window):
    search = window.client_list.search
    search.setFocus()
    qtbot.waitUntil(search.hasFocus, timeout=TIMEOUT)
    qtbot.keyClick(search, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: isinstance(window.dialogs.get("record"), RecordUsageDialog),
                    timeout=TIMEOUT)
    window.dialogs["record"].reject()


FOCUS: list = []  # the window whose focus the keys go to (a dialog while one is open)


def focused():
    """Where a keyboard's keys go: the focus widget of the window on top (offscreen, no
    window is ever "active", so QApplication.focusWidget() is not asked)."""
    return FOCUS[-1].focusWidget()


def _key(qtbot, key, modifier=Qt.KeyboardModifier.NoModifier):
    """A key press sent where the focus is, as a keyboard would."""
    widget = focused()
    assert widget is not None
    qtbot.keyClick(widget, key, modifier)


def _tab_to(qtbot, predicate, limit=80):
    for _ in range(limit):
        if predicate(focused()):
            return focused()
        _key(qtbot, Qt.Key.Key_Tab)
    raise AssertionError(f"Tab never reached it; focus on {focused()}")


# The drop-down is a real popup: the offscreen platform says it cannot raise it or grab the
# keyboard for it (a desktop does both); the keys are sent to it all the same.
@pytest.mark.qt_log_ignore("^This plugin does not support (raise|grabbing the keyboard)")
def test_seed_000_with_the_keyboard_only(qtbot, desk, clock, acme, window):
    no_addons_client(desk)  # a second client: the search has to find Acme
    catalog.edit_plan(desk, plan="Voice Basic (no add-ons)", addons=True)
    clients.unassign_pack(desk, client=acme, pack="100 Minutes Pack")
    refresh(qtbot, window)
    FOCUS[:] = [window]
    search = window.client_list.search
    search.setFocus()
    qtbot.waitUntil(lambda: focused() is search, timeout=TIMEOUT)
    # Find the client: type, go down into the list, the page opens.
    qtbot.keyClicks(search, "Acme")
    with qtbot.waitSignal(window.client_page.loaded, timeout=TIMEOUT):
        _key(qtbot, Qt.Key.Key_Down)
    settle(qtbot, window.ctx)
    page = window.client_page
    # Billing, then Addon Packs: Tab to each tab bar, arrows to the tab.
    _tab_to(qtbot, lambda w: w is page.tabs.tabBar())
    while page.tabs.currentWidget() is not page.billing:
        _key(qtbot, Qt.Key.Key_Right)
    _tab_to(qtbot, lambda w: w is page.billing.tabBar())
    while page.billing.currentWidget() is not page.billing.addon_packs:
        _key(qtbot, Qt.Key.Key_Right)
    tab = page.billing.addon_packs
    # Assign: open the multi-select, Space ticks, Return closes, Tab to the button.
    _tab_to(qtbot, lambda w: w is tab.picker)
    _key(qtbot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: tab.picker.menu().isVisible(), timeout=TIMEOUT)
    FOCUS.append(tab.picker.menu())  # the drop-down is a popup: the keys go there
    qtbot.waitUntil(lambda: focused() is tab.picker.list, timeout=TIMEOUT)
    _key(qtbot, Qt.Key.Key_Space)
    _key(qtbot, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: not tab.picker.menu().isVisible(), timeout=TIMEOUT)
    FOCUS.pop()
    assert tab.picker.checked_ids()
    _tab_to(qtbot, lambda w: w is tab.assign_button)
    _key(qtbot, Qt.Key.Key_Space)
    settle(qtbot, window.ctx)
    qtbot.waitUntil(lambda: bool(tab.cards), timeout=TIMEOUT)
    # Apply: Tab to Apply Addon Pack, Space; in the dialog choose Paid, confirm with Return.
    _tab_to(qtbot, lambda w: w is tab.cards[0].apply_button)
    _key(qtbot, Qt.Key.Key_Space)
    qtbot.waitUntil(lambda: any(isinstance(w, ApplyPackDialog) and w.isVisible()
                                for w in window.findChildren(ApplyPackDialog)),
                    timeout=TIMEOUT)
    dialog = dialog_of(window, ApplyPackDialog)
    FOCUS.append(dialog)
    qtbot.waitUntil(lambda: focused() is not None, timeout=TIMEOUT)
    _tab_to(qtbot, lambda w: w is dialog.pending or w is dialog.paid)
    _key(qtbot, Qt.Key.Key_Down)
    assert dialog.paid.isChecked()
    with qtbot.waitSignal(dialog.finished, timeout=TIMEOUT):
        _key(qtbot, Qt.Key.Key_Return)
    settle(qtbot, window.ctx)
    assert tab.result.text.text() == (
        "Addon pack credited. Payment request created and marked as paid.")
    packs = [p for p in billing.list_payments(desk, acme) if p.type == "Pack"]
    assert [(p.amount, p.status) for p in packs] == [(Decimal("15.00"), "paid")]


def test_confirmations_are_message_boxes(qtbot, desk, acme, window):
    screen = window.open_payments()
    settle(qtbot, window.ctx)
    screen.view.selectRow(0)
    click(qtbot, screen.pay_button)
    assert isinstance(screen.confirm_box, QMessageBox) and screen.confirm_box.isVisible()
    screen.confirm_box.reject()
    settle(qtbot, window.ctx)
    assert {p.status for p in billing.list_payments(desk)} == {"pending"}
    screen.close()


def test_the_client_tab_confirms_and_undoes_mark_paid(qtbot, desk, acme, window):
    open_client(qtbot, window, "Acme")
    open_tab(qtbot, window.client_page.tabs, "Billing")
    tab = open_tab(qtbot, window.client_page.billing, "Payment requests")
    tab.view.selectRow(0)
    click(qtbot, tab.pay_button)
    assert tab.confirm_box.text().startswith("Mark payment request ")
    click(qtbot, tab.confirm_box.findChild(QPushButton, "confirmButton"))
    settle(qtbot, window.ctx)
    assert [p.status for p in billing.list_payments(desk, acme)] == ["paid"]
    tab.view.selectRow(0)
    assert tab.undo_button.isEnabled()
    click(qtbot, tab.undo_button)
    click(qtbot, tab.confirm_box.findChild(QPushButton, "confirmButton"))
    settle(qtbot, window.ctx)
    assert [(p.status, p.paid_at) for p in billing.list_payments(desk, acme)] == [
        ("pending", None)]


def test_usage_charts_per_day_and_per_period(qtbot, desk, clock, acme, window):
    pytest.importorskip("PySide6.QtCharts", reason="QtCharts comes with PySide6-Addons")
    usage.record_usage(desk, client=acme, resource="minutes", quantity="120")
    clock.advance(days=2)
    usage.record_usage(desk, client=acme, resource="minutes", quantity="30")
    refresh(qtbot, window)
    open_client(qtbot, window, "Acme")
    tab = open_tab(qtbot, window.client_page.tabs, "Usage charts")
    qtbot.waitUntil(lambda: tab.loaded is not None, timeout=TIMEOUT)
    charts = tab.loaded
    assert charts.resource == "minutes" and charts.allowance == 500
    assert charts.days[0].label.isoformat() == "2026-01-10" and len(charts.days) == 22
    assert [d.total for d in charts.days[:3]] == [120, 0, 30]
    assert [(p.label.isoformat(), p.included) for p in charts.periods] == [("2026-01-10", 150)]
    daily = tab.day_view.chart()
    assert [s.name() for s in daily.series()] == ["", "Used so far", "Included allowance"]
    assert tab.period_view.chart().series()[0].count() == 4  # included, wallet, overage, unserved
