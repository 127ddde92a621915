"""Wallet (lots, ledger, revoke), Payment requests (mark paid / failed, overdue) and Billing
history (seed 002's columns, expired credits with their expiry date)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from quotadesk.services import billing, clients, usage, wallet
from quotadesk.views.client_page.billing.history import HistoryModel
from quotadesk.views.client_page.billing.payments import PaymentModel
from quotadesk.views.client_page.billing.wallet import LedgerModel, LotModel
from quotadesk.views.dialogs.packs import RevokeDialog
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


def billing_tab(qtbot, window, title, client="Acme"):
    open_client(qtbot, window, client)
    open_tab(qtbot, window.client_page.tabs, "Billing")
    return open_tab(qtbot, window.client_page.billing, title)


def test_wallet_balances_lots_ledger_and_revoke(qtbot, desk, acme, window):
    clients.assign_packs(desk, client=acme, packs=["Additional SMS"])
    wallet.apply_pack(desk, client=acme, pack="100 Minutes Pack", status="pending")
    wallet.apply_pack(desk, client=acme, pack="Additional SMS", status="paid")
    usage.record_usage(desk, client=acme, resource="minutes", quantity="530")  # 30 from wallet
    tab = billing_tab(qtbot, window, "Wallet")
    assert tab.tiles["minutes"].value.text() == "70 minutes"
    assert tab.tiles["minutes"].detail.text() == "Never expires"
    assert tab.tiles["sms"].value.text() == "500 credits"
    assert tab.tiles["sms"].detail.text() == "Next expiry 2027-01-10"
    lots = tab.lot_view
    minutes_row = row_of(lots, "100 Minutes Pack")
    model = lots.model()
    assert model.index(minutes_row, LotModel.Column.REMAINING).data() == "70"
    assert model.index(minutes_row, LotModel.Column.EXPIRES).data() == "Never expires"
    assert sorted(column_texts(tab.ledger_view, LedgerModel.Column.KIND)) == [
        "Consume", "Credit", "Credit"]

    assert not tab.revoke_button.isEnabled()
    click_row(qtbot, lots, minutes_row)
    click(qtbot, tab.revoke_button)
    dialog = dialog_of(window, RevokeDialog)
    click(qtbot, dialog.accept_button)  # no reason: refused beside the field
    settle(qtbot, window.ctx)
    # Beside the field, without the command line's "reason: " (issue 16).
    assert dialog.isVisible() and dialog.error_text("reason") == "Say why the units are revoked"
    qtbot.keyClicks(dialog.reason, "payment failed")
    with qtbot.waitSignal(dialog.finished):
        click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    entries = wallet.ledger(desk, acme)
    assert [(e.kind, e.units, e.reason) for e in entries if e.kind == "revoke"] == [
        ("revoke", Decimal(70), "payment failed")]
    assert clients.client_detail(desk, acme).resources["minutes"].wallet == 0
    assert tab.tiles["minutes"].value.text() == "0 minutes"
    assert model.index(row_of(lots, "100 Minutes Pack"), LotModel.Column.STATE).data() == (
        "Revoked")
    assert column_texts(tab.ledger_view, LedgerModel.Column.REASON)[0] == "payment failed"


def confirm_it(qtbot, tab):
    from PySide6.QtWidgets import QPushButton

    click(qtbot, tab.confirm_box.findChild(QPushButton, "confirmButton"))


def test_payment_requests_mark_paid_failed_and_overdue(qtbot, desk, clock, acme, window):
    wallet.apply_pack(desk, client=acme, pack="100 Minutes Pack", status="pending")
    clock.set(datetime(2026, 1, 20, 9, 0, tzinfo=UTC))  # both due 2026-01-11: overdue
    tab = billing_tab(qtbot, window, "Payment requests")
    view, C = tab.view, PaymentModel.Column
    assert sorted(column_texts(view, C.TYPE)) == ["Pack", "Plan"]
    assert column_texts(view, C.STATUS) == ["Pending · overdue", "Pending · overdue"]
    assert tab.summary.text() == "Pending: $64.00 (2) · Overdue: $64.00 (2)"
    pack_row = row_of(view, "Pack", C.TYPE)
    assert view.model().index(pack_row, C.AMOUNT).data() == "$15.00"
    assert view.model().index(pack_row, C.DUE).data() == "2026-01-11"

    click_row(qtbot, view, pack_row)
    click(qtbot, tab.fail_button)
    confirm_it(qtbot, tab)  # one confirmation (issue 16)
    settle(qtbot, window.ctx)
    pack = next(p for p in billing.list_payments(desk, acme) if p.type == "Pack")
    assert pack.status == "failed"
    # The credits stay after a failed payment (SPEC §3).
    assert clients.client_detail(desk, acme).resources["minutes"].wallet == 100
    tab.select_request(pack.id)
    assert not tab.fail_button.isEnabled() and tab.pay_button.isEnabled()
    click(qtbot, tab.pay_button)
    confirm_it(qtbot, tab)
    settle(qtbot, window.ctx)
    assert next(p for p in billing.list_payments(desk, acme) if p.id == pack.id).status == "paid"
    assert view.model().index(row_of(view, "Pack", C.TYPE), C.STATUS).data() == "Paid"
    assert tab.summary.text() == "Pending: $49.00 (1) · Overdue: $49.00 (1)"
    # The client list's pending amount follows.
    assert window.client_list.row(acme).pending_text == "$49.00"


@pytest.mark.slow
def test_billing_history_with_expired_credits(qtbot, desk, clock, acme, window):
    clients.assign_packs(desk, client=acme, packs=["Additional SMS"])
    wallet.apply_pack(desk, client=acme, pack="Additional SMS", status="pending")
    wallet.apply_pack(desk, client=acme, pack="100 Minutes Pack", status="paid")
    clock.set(datetime(2027, 1, 15, 9, 0, tzinfo=UTC))  # the SMS lot expired on 2027-01-10
    billing.run_rollover(desk)
    tab = billing_tab(qtbot, window, "Billing history")
    C = HistoryModel.Column
    words = ["Purchase date", "Package type", "Credits purchased", "Amount paid", "Status",
             "Expiry date"]  # seed 002, word for word
    shown = [tab.model.headerData(c, _horizontal()) for c in C]
    assert [text.replace("\n", " ") for text in shown] == words  # some on two lines
    assert [tab.model.headerData(c, _horizontal(), Qt.ItemDataRole.AccessibleTextRole)
            for c in C] == words
    rows = {(r[C.PACKAGE_TYPE], r[C.STATUS]): r for r in _rows(tab.view)}
    sms = rows[("Additional SMS", "Pending")]
    assert sms[C.PURCHASE_DATE] == "2026-01-10" and sms[C.CREDITS] == "500 credits"
    assert sms[C.AMOUNT] == "$20.00" and sms[C.EXPIRES] == "2027-01-10"
    assert rows[("100 Minutes Pack", "Paid")][C.EXPIRES] == "Never expires"
    expired = rows[("Additional SMS", "Expired")]
    assert expired[C.CREDITS] == "−500 credits" and expired[C.EXPIRES] == "2027-01-10"
    assert expired[C.AMOUNT] == "—"
    assert {h.kind for h in billing.billing_history(desk, acme)} == {"purchase", "expired"}


def _horizontal():
    from PySide6.QtCore import Qt

    return Qt.Orientation.Horizontal


def _rows(view):
    model = view.model()
    return [[model.index(r, c).data() for c in range(model.columnCount())]
            for r in range(model.rowCount())]
