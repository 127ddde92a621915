"""Catalog editors: every plan field, add-on packs with their validity, and refusals shown
beside the field at fault with what was typed kept."""

from __future__ import annotations

from decimal import Decimal

import pytest
from PySide6.QtCore import Qt

from quotadesk.services import catalog
from quotadesk.views.dialogs.catalog import PacksDialog, PlansDialog
from tests.gui.conftest import click, click_row, dialog_of, row_of, settle


def open_plans(qtbot, window) -> PlansDialog:
    window.plans_action.trigger()
    dialog = dialog_of(window, PlansDialog)
    settle(qtbot, window.ctx)
    return dialog


def test_add_a_plan_with_every_field(qtbot, desk, window):
    dialog = open_plans(qtbot, window)
    qtbot.keyClicks(dialog.name, "Omnichannel")
    qtbot.keyClicks(dialog.fee, "149.00")
    dialog.anchor.setCurrentIndex(dialog.anchor.findData("anniversary"))
    qtbot.keyClicks(dialog.included["minutes"], "1000")
    qtbot.keyClicks(dialog.included["sms"], "1000")
    qtbot.keyClicks(dialog.included["email"], "5000")
    qtbot.keyClicks(dialog.overage["minutes"], "0.05")
    qtbot.keyClicks(dialog.overage["sms"], "0.02")
    dialog.addons.setFocus()
    qtbot.keyClick(dialog.addons, Qt.Key.Key_Space)  # Add-on packs · Off
    assert dialog.addons.text() == "Add-on packs · Off"
    dialog.due_days.setValue(14)
    dialog.alerts.selectAll()
    qtbot.keyClicks(dialog.alerts, "75, 90")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    [plan] = catalog.list_plans(desk)
    assert (plan.name, plan.fee, plan.anchor, plan.addons, plan.due_days, plan.alerts) == (
        "Omnichannel", Decimal("149.00"), "anniversary", False, 14, (75, 90))
    assert plan.included == {"minutes": Decimal(1000), "sms": Decimal(1000),
                             "email": Decimal(5000)}
    assert plan.overage == {"minutes": Decimal("0.05"), "sms": Decimal("0.02")}
    assert "saved" in dialog.saved_notice.text.text()
    assert row_of(dialog.view, "Omnichannel") == 0


def test_refused_plan_shows_the_message_beside_the_field(qtbot, desk, window):
    dialog = open_plans(qtbot, window)
    qtbot.keyClicks(dialog.name, "Cheap")
    qtbot.keyClicks(dialog.fee, "9.999")
    qtbot.keyClicks(dialog.overage["sms"], "-1")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert "at most 2 decimal places" in dialog.error_text("fee")
    assert dialog.fee.property("invalid") is True
    assert dialog.name.text() == "Cheap" and dialog.fee.text() == "9.999"
    dialog.fee.clear()
    qtbot.keyClicks(dialog.fee, "9.99")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert dialog.error_text("fee") == ""
    assert "Must not be negative" in dialog.error_text("overage sms")  # no "overage sms: "
    assert catalog.list_plans(desk) == []


@pytest.mark.slow
def test_edit_a_plan(qtbot, desk, acme, window):
    dialog = open_plans(qtbot, window)
    click_row(qtbot, dialog.view, row_of(dialog.view, "Voice 500"))
    assert dialog.fee.text() == "49.00" and dialog.included["minutes"].text() == "500"
    dialog.fee.selectAll()
    qtbot.keyClicks(dialog.fee, "59.00")
    qtbot.keyClicks(dialog.overage["minutes"], "0.04")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    plan = catalog.get_plan(desk, "Voice 500")
    assert plan.fee == Decimal("59.00") and plan.overage == {"minutes": Decimal("0.04")}


@pytest.mark.slow
def test_add_and_edit_add_on_packs(qtbot, desk, window):
    window.packs_action.trigger()
    dialog = dialog_of(window, PacksDialog)
    settle(qtbot, window.ctx)
    qtbot.keyClicks(dialog.name, "Additional SMS")
    dialog.resource.setCurrentIndex(dialog.resource.findData("sms"))
    qtbot.keyClicks(dialog.units, "500.5")
    qtbot.keyClicks(dialog.price, "20.00")
    click(qtbot, dialog.expires)
    dialog.months.setValue(12)
    qtbot.keyClicks(dialog.description, "Batch of extra SMS credits")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert "whole units" in dialog.error_text("units")
    assert catalog.list_packs(desk) == []
    dialog.units.clear()
    qtbot.keyClicks(dialog.units, "500")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    [pack] = catalog.list_packs(desk)
    assert (pack.name, pack.resource, pack.units, pack.price, pack.expires_months,
            pack.description) == ("Additional SMS", "sms", Decimal(500), Decimal("20.00"), 12,
                                  "Batch of extra SMS credits")
    # Edit: never expires, then archive it.
    assert not dialog.resource.isEnabled()
    click(qtbot, dialog.never)
    dialog.archived.setFocus()
    qtbot.keyClick(dialog.archived, Qt.Key.Key_Space)
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    [pack] = catalog.list_packs(desk, include_archived=True)
    assert pack.expires_months is None and pack.archived
    assert catalog.list_packs(desk) == []
    dialog.show_archived.setFocus()
    qtbot.keyClick(dialog.show_archived, Qt.Key.Key_Space)
    settle(qtbot, window.ctx)
    assert dialog.view.model().rowCount() == 1
