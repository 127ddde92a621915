"""Record usage, import a usage file and run the rollover: off the UI thread, with progress
dialogs that can be cancelled, and the panels following."""

from __future__ import annotations

import sqlite3
import threading
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtWidgets import QProgressDialog, QPushButton

from quotadesk.services import billing, catalog, clients, usage, wallet
from quotadesk.services.changes import Area
from quotadesk.views.dialogs import usage as usage_dialogs
from quotadesk.views.dialogs.usage import ImportUsageDialog, RecordUsageDialog
from tests.gui.conftest import click, dialog_of, open_client, settle


def test_record_usage_updates_the_usage_card(qtbot, desk, acme, window):
    open_client(qtbot, window, "Acme")
    window.record_action.trigger()
    dialog = dialog_of(window, RecordUsageDialog)
    assert dialog.client.currentText() == "Acme"  # the open client is preselected
    qtbot.keyClicks(dialog.quantity, "12.5")
    qtbot.keyClicks(dialog.event_id, "call-1")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert dialog.isVisible()
    assert dialog.result.text.text() == "Recorded Minutes: included 12.5, wallet 0."
    assert dialog.quantity.text() == ""  # ready for the next one
    assert clients.client_detail(desk, acme).resources["minutes"].included_used == Decimal(
        "12.5")
    assert window.client_page.overview.meters["minutes"].bar.text().startswith(
        "12.5 of 500 minutes used")
    assert window.client_list.row(acme).minutes_text == "487.5"
    # The same event id again is a duplicate and changes nothing.
    qtbot.keyClicks(dialog.quantity, "12.5")
    qtbot.keyClicks(dialog.event_id, "call-1")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert "Duplicate" in dialog.result.text.text()
    assert clients.client_detail(desk, acme).resources["minutes"].included_used == Decimal(
        "12.5")


def test_refused_usage_keeps_the_dialog_and_names_the_field(qtbot, desk, acme, window):
    window.record_action.trigger()
    dialog = dialog_of(window, RecordUsageDialog)
    dialog.client.setCurrentText("Acme")
    qtbot.keyClicks(dialog.quantity, "ten")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert "not a number" in dialog.error_text("quantity")
    dialog.quantity.clear()
    qtbot.keyClicks(dialog.quantity, "10")
    qtbot.keyClicks(dialog.at, "2030-01-01 10:00")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert "future" in dialog.error_text("occurred_at")
    assert dialog.at.text() == "2030-01-01 10:00"
    assert clients.client_detail(desk, acme).resources["minutes"].included_used == 0


def _write(tmp_path, lines):
    path = tmp_path / "usage.csv"
    path.write_text("event_id,client,resource,quantity,occurred_at\n" + "\n".join(lines) + "\n",
                    encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("writer", ["never", "always"],
                         ids=["in one process", "with its writer process"])
def test_import_usage_file_with_progress_and_rejected_lines(qtbot, desk, acme, window,
                                                            tmp_path, monkeypatch, writer):
    monkeypatch.setenv("QUOTADESK_IMPORT_WRITER", writer)  # (a large file's default)
    path = _write(tmp_path, [
        "e1,Acme,minutes,100,2026-01-10T08:00:00",
        "e2,Nobody,minutes,1,2026-01-10T08:00:00",
        "e3,acme,minutes,450,2026-01-10T08:30:00",
    ])
    window.import_action.trigger()
    dialog = dialog_of(window, ImportUsageDialog)
    qtbot.keyClicks(dialog.path, path)
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert dialog.summary.title.text() == "Import finished"
    assert dialog.summary.text.text().splitlines()[:3] == [
        "Recorded: 2", "Duplicates: 0", "Rejected: 1"]
    assert dialog.rejected.toPlainText() == "line 3: client: unknown client 'Nobody'"
    detail = clients.client_detail(desk, acme)
    assert detail.blocked == ("minutes",)
    assert window.client_list.row(acme).status_text == "Blocked: Minutes"
    # Again: all duplicates, nothing changes.
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert dialog.summary.text.text().splitlines()[:2] == ["Recorded: 0", "Duplicates: 2"]


@pytest.mark.slow
def test_import_can_be_cancelled_between_batches(qtbot, desk, acme, window, tmp_path,
                                                 monkeypatch):
    path = _write(tmp_path, [f"e{i},Acme,minutes,1,2026-01-10T08:00:00" for i in range(12)])
    monkeypatch.setattr(usage_dialogs, "IMPORT_BATCH_SIZE", 5)
    started, gate = threading.Event(), threading.Event()
    real = usage.import_usage

    def gated(*args, **kwargs):
        started.set()
        gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(usage, "import_usage", gated)
    window.import_action.trigger()
    dialog = dialog_of(window, ImportUsageDialog)
    qtbot.keyClicks(dialog.path, path)
    click(qtbot, dialog.accept_button)
    qtbot.waitUntil(started.is_set)
    progress = dialog_of(dialog, QProgressDialog)
    assert progress.isVisible()
    cancel = progress.findChild(QPushButton)
    click(qtbot, cancel)
    gate.set()
    settle(qtbot, window.ctx)
    assert dialog.summary.title.text() == "Import cancelled"
    assert dialog.summary.text.text().splitlines()[0] == "Recorded: 5"
    assert clients.client_detail(desk, acme).resources["minutes"].included_used == 5
    assert not shiboken6.isValid(progress)  # closed and gone


@pytest.mark.parametrize("writer", ["never", "always"],
                         ids=["in one process", "with its writer process"])
@pytest.mark.slow
def test_an_import_the_database_stops_shows_what_was_recorded_before_the_stop(
        qtbot, desk, acme, window, tmp_path, monkeypatch, writer):
    """The disk fills up part-way (here the database refuses the 8th event as SQLite does
    then): the dialog shows the counts kept, and why it stopped; it used to show an
    unexpected-failure report and no counts."""
    monkeypatch.setenv("QUOTADESK_IMPORT_WRITER", writer)
    monkeypatch.setattr(usage_dialogs, "IMPORT_BATCH_SIZE", 5)
    with sqlite3.connect(desk.database.url.removeprefix("sqlite:///")) as conn:
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON usage_events WHEN "
                     "NEW.event_id = 'e7' BEGIN SELECT RAISE(FAIL, 'database or disk is full'); "
                     "END")
    path = _write(tmp_path, [f"e{i},Acme,minutes,1,2026-01-10T08:00:00" for i in range(12)])
    window.import_action.trigger()
    dialog = dialog_of(window, ImportUsageDialog)
    qtbot.keyClicks(dialog.path, path)
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert window.ctx.failures == []
    assert dialog.summary.title.text() == "Import stopped"
    text = dialog.summary.text.text()
    assert text.splitlines()[:4] == [
        "Recorded: 5", "Duplicates: 0", "Rejected: 0",
        "Stopped: database: the disk is full: free some space, then try again"]
    assert "nothing was written" not in text
    assert clients.client_detail(desk, acme).resources["minutes"].included_used == 5


def test_the_progress_bar_counts_the_lines_of_a_regular_file_only(tmp_path):
    path = _write(tmp_path, ["a", "b", "c"])
    assert usage_dialogs._line_count(path) == 4
    assert usage_dialogs._line_count(str(tmp_path)) == 0
    assert usage_dialogs._line_count(str(tmp_path / "missing.csv")) == 0
    if Path("/dev/zero").exists():  # no end: never read to count its lines
        assert usage_dialogs._line_count("/dev/zero") == 0


def test_rollover_from_the_menu(qtbot, desk, clock, acme, window):
    usage.record_usage(desk, client=acme, resource="minutes", quantity="100")
    clock.set(datetime(2026, 2, 1, 0, 30, tzinfo=UTC))
    window.rollover_action.trigger()
    settle(qtbot, window.ctx)
    assert "1 period(s) closed" in window.statusBar().currentMessage()
    detail = clients.client_detail(desk, acme)
    assert detail.resources["minutes"].included_used == 0
    assert window.client_list.row(acme).minutes_text == "500"
    assert [p.type for p in billing.list_payments(desk, acme)].count("Plan") == 2
    window.rollover_action.trigger()
    settle(qtbot, window.ctx)
    assert window.statusBar().currentMessage() == (
        "Rollover: no period has ended since the last run.")


@pytest.mark.slow
def test_rollover_can_be_cancelled(qtbot, desk, clock, acme, window, monkeypatch):
    clock.set(datetime(2026, 2, 1, 0, 30, tzinfo=UTC))
    started, gate = threading.Event(), threading.Event()
    real = billing.run_rollover

    def gated(*args, **kwargs):
        started.set()
        gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(billing, "run_rollover", gated)
    window.rollover_action.trigger()
    qtbot.waitUntil(started.is_set)
    progress = dialog_of(window, QProgressDialog)
    click(qtbot, progress.findChild(QPushButton))
    gate.set()
    settle(qtbot, window.ctx)
    assert window.statusBar().currentMessage().startswith("Rollover stopped")
    assert not shiboken6.isValid(progress)  # closed and gone


@pytest.mark.slow
def test_a_rollover_that_closes_no_period_still_refreshes_what_it_changed(
        qtbot, desk, clock, acme, window):
    """Issue 11's finding: the rollover broadcast nothing when no period closed, although it
    also expires lots (and blocks what they fed). The window now broadcasts what it wrote."""
    catalog.add_pack(desk, name="Minutes for a month", resource="minutes", units="50",
                     price="5.00", expires_months=1)
    clients.assign_packs(desk, client=acme, packs=["Minutes for a month"])
    wallet.apply_pack(desk, client=acme, pack="Minutes for a month", status="paid", key="m-1")
    clock.set(datetime(2026, 2, 1, 0, 30, tzinfo=UTC))  # January's period closes
    window.rollover_action.trigger()
    settle(qtbot, window.ctx)
    open_client(qtbot, window, "Acme")
    page = window.client_page
    assert page.billing.wallet.tiles["minutes"].value.text() == "50 minutes"
    assert window.client_list.row(acme).wallet[0] == Decimal(50)
    clock.set(datetime(2026, 2, 11, 9, 0, tzinfo=UTC))  # the lot expired on Feb 10, 09:00
    with qtbot.waitSignal(window.ctx.changed, timeout=10_000) as broadcast:
        window.rollover_action.trigger()
    settle(qtbot, window.ctx)
    assert window.statusBar().currentMessage() == (
        "Rollover: no period has ended since the last run.")
    changes = broadcast.args[0]
    assert changes.touches(Area.WALLET) and changes.touches_client(acme)
    qtbot.waitUntil(lambda: page.billing.wallet.tiles["minutes"].value.text() == "0 minutes",
                    timeout=10_000)
    assert window.client_list.row(acme).wallet[0] == Decimal(0)
    assert clients.client_detail(desk, acme).resources["minutes"].wallet == 0
