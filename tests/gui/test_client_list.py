"""The client list: what it shows, search and status filter, sorting on raw values, and the
add / edit / cancel actions driven through their dialogs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from quotadesk.services import catalog, clients, usage, wallet
from quotadesk.views.client_list import ClientListModel
from quotadesk.views.dialogs.client import ClientDialog
from quotadesk.views.dialogs.subscription import CancelSubscriptionDialog
from tests.gui.conftest import click, click_row, column_texts, dialog_of, row_of, settle

C = ClientListModel.Column


def test_rows_show_plan_status_minutes_wallet_and_pending(qtbot, desk, acme, window):
    clients.add_client(desk, name="Zed Dental")
    wallet.apply_pack(desk, client=acme, pack="100 Minutes Pack", status="pending")
    usage.record_usage(desk, client=acme, resource="minutes", quantity="120")
    window.client_list.reload()
    settle(qtbot, window.ctx)
    table = window.client_list.table
    acme_row = row_of(table, "Acme")
    model = table.model()
    assert model.index(acme_row, C.PLAN).data() == "Voice 500"
    assert model.index(acme_row, C.STATUS).data() == "Active"
    assert model.index(acme_row, C.MINUTES_LEFT).data() == "380 min"
    assert model.index(acme_row, C.WALLET).data() == "100 min"
    # The Plan fee (49.00) and the pack (15.00) are both pending.
    assert model.index(acme_row, C.PENDING).data() == "$64.00"
    assert model.index(acme_row, C.PENDING).data(Qt.ItemDataRole.UserRole) == Decimal("64.00")
    zed = row_of(table, "Zed Dental")
    assert model.index(zed, C.STATUS).data() == "No subscription"
    assert window.client_list.count.text() == "2 clients"


@pytest.mark.slow
def test_blocked_status_names_the_resources(qtbot, desk, acme, window):
    usage.record_usage(desk, client=acme, resource="minutes", quantity="501")
    window.client_list.reload()
    settle(qtbot, window.ctx)
    table = window.client_list.table
    assert table.model().index(row_of(table, "Acme"), C.STATUS).data() == "Blocked: Minutes"


def test_search_filters_as_you_type_and_status_filter(qtbot, desk, acme, window):
    for name in ("Bluebird Dental", "Harbor & Pine Realty", "Blue Ocean"):
        clients.add_client(desk, name=name)
    usage.record_usage(desk, client=acme, resource="minutes", quantity="600")
    window.client_list.reload()
    settle(qtbot, window.ctx)
    panel, table = window.client_list, window.client_list.table
    qtbot.keyClicks(panel.search, "blue")
    assert sorted(column_texts(table, C.NAME)) == ["Blue Ocean", "Bluebird Dental"]
    assert panel.count.text() == "2 of 4 clients"
    qtbot.keyClicks(panel.search, "b")
    assert column_texts(table, C.NAME) == ["Bluebird Dental"]
    panel.search.clear()
    assert table.model().rowCount() == 4
    panel.status_filter.setFocus()
    panel.status_filter.setCurrentIndex(panel.status_filter.findData("blocked"))
    assert column_texts(table, C.NAME) == ["Acme"]
    panel.status_filter.setCurrentIndex(panel.status_filter.findData("none"))
    assert sorted(column_texts(table, C.NAME)) == ["Blue Ocean", "Bluebird Dental",
                                                   "Harbor & Pine Realty"]
    # Search and status combine; the client's e-mail and plan are searchable too.
    panel.status_filter.setCurrentIndex(panel.status_filter.findData("all"))
    qtbot.keyClicks(panel.search, "acme.test")
    assert column_texts(table, C.NAME) == ["Acme"]


@pytest.mark.slow
def test_sorting_uses_raw_values_not_text(qtbot, desk, window):
    catalog.add_plan(desk, name="Tiny", fee="9.00")
    catalog.add_plan(desk, name="Big", fee="10.00")
    for name, plan in (("Alpha", "Big"), ("Beta", "Tiny"), ("Gamma", None)):
        c = clients.add_client(desk, name=name)
        if plan:
            clients.subscribe(desk, client=c.id, plan=plan)
    window.client_list.reload()
    settle(qtbot, window.ctx)
    table = window.client_list.table
    header = table.horizontalHeader()
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=header.rect().topLeft() + _section_center(header, C.PENDING))
    # By amount: nothing, $9.00, $10.00 (as text "$10.00" would sort before "$9.00").
    assert column_texts(table, C.NAME) == ["Gamma", "Beta", "Alpha"]
    assert column_texts(table, C.PENDING) == ["—", "$9.00", "$10.00"]
    qtbot.mouseClick(header.viewport(), Qt.MouseButton.LeftButton,
                     pos=header.rect().topLeft() + _section_center(header, C.PENDING))
    assert column_texts(table, C.NAME) == ["Alpha", "Beta", "Gamma"]


def _section_center(header, section):
    from PySide6.QtCore import QPoint

    x = header.sectionViewportPosition(section) + header.sectionSize(section) // 2
    return QPoint(x, header.height() // 2)


def test_add_client_through_the_dialog(qtbot, desk, window):
    click(qtbot, window.client_list.add_button)
    dialog = dialog_of(window, ClientDialog)
    qtbot.keyClicks(dialog.name, "  Caf")
    dialog.name.insert("é")  # QTest types ASCII only; what an input method would insert
    qtbot.keyClicks(dialog.name, " Mirabelle ")
    qtbot.keyClicks(dialog.email, "hello@cafe.test")
    with qtbot.waitSignal(window.client_list.loaded):
        click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert [(c.name, c.email) for c in clients.list_clients(desk)] == [
        ("Café Mirabelle", "hello@cafe.test")]
    assert window.client_list.selected_id() == clients.list_clients(desk)[0].id
    assert window.client_page.name.text() == "Café Mirabelle"


@pytest.mark.slow
def test_refused_client_keeps_the_dialog_open_with_the_reason_by_the_field(
        qtbot, desk, acme, window):
    click(qtbot, window.client_list.add_button)
    dialog = dialog_of(window, ClientDialog)
    qtbot.keyClicks(dialog.name, "ACME")
    qtbot.keyClicks(dialog.email, "not-an-address")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert dialog.isVisible()
    # The name clash is refused first: its message sits under the name field.
    assert "already exists" in dialog.error_text("name")
    assert dialog.name.text() == "ACME" and dialog.email.text() == "not-an-address"
    dialog.name.clear()
    qtbot.keyClicks(dialog.name, "Acme Two")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert dialog.isVisible()
    assert dialog.error_text("name") == ""
    assert "not an email address" in dialog.error_text("email")
    assert [c.name for c in clients.list_clients(desk)] == ["Acme"]


@pytest.mark.slow
def test_edit_client(qtbot, desk, acme, window):
    click_row(qtbot, window.client_list.table, row_of(window.client_list.table, "Acme"))
    settle(qtbot, window.ctx)
    click(qtbot, window.client_list.edit_button)
    dialog = dialog_of(window, ClientDialog)
    dialog.name.selectAll()
    qtbot.keyClicks(dialog.name, "Acme Corp")
    with qtbot.waitSignal(dialog.finished):
        qtbot.keyClick(dialog.name, Qt.Key.Key_Return)
    settle(qtbot, window.ctx)
    assert clients.client_detail(desk, acme).name == "Acme Corp"
    assert window.client_list.row(acme).name == "Acme Corp"
    assert window.client_page.name.text() == "Acme Corp"


@pytest.mark.slow
def test_cancel_subscription_from_the_list(qtbot, desk, acme, window):
    click_row(qtbot, window.client_list.table, row_of(window.client_list.table, "Acme"))
    settle(qtbot, window.ctx)
    click(qtbot, window.client_list.cancel_button)
    dialog = dialog_of(window, CancelSubscriptionDialog)
    with qtbot.waitSignal(dialog.finished) as blocker:
        click(qtbot, dialog.accept_button)
    assert blocker.args == [QDialog.DialogCode.Accepted]
    settle(qtbot, window.ctx)
    assert clients.client_detail(desk, acme).subscription is None
    table = window.client_list.table
    assert table.model().index(row_of(table, "Acme"), C.STATUS).data() == "No subscription"
    assert not window.client_list.cancel_button.isEnabled()
