"""The window's bootstrap: first run (demo or empty), opening databases, --now, remembered
geometry, the error report dialog, keyboard reach and accessible names, and --self-test."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QLabel,
    QLineEdit,
    QMessageBox,
    QWidget,
)

from quotadesk.app import run_gui
from quotadesk.services import clients
from quotadesk.services.unit_of_work import Desk
from quotadesk.views.dialogs.first_run import FirstRunDialog
from quotadesk.views.main_window import MainWindow
from quotadesk.views.ops import ErrorReportDialog
from tests.gui.conftest import TIMEOUT, click, dialog_of, open_client, settle


def test_first_run_start_empty(qtbot, ctx, bare_window, tmp_path):
    path = str(tmp_path / "new.db")
    assert not bare_window.record_action.isEnabled()  # nothing to act on yet
    bare_window.open_database(path)
    qtbot.waitUntil(lambda: bare_window.findChild(FirstRunDialog) is not None, timeout=TIMEOUT)
    dialog = dialog_of(bare_window, FirstRunDialog)
    assert dialog.empty.isChecked()
    dialog.currency.setCurrentText("XYZ")
    click(qtbot, dialog.accept_button)
    settle(qtbot, ctx)
    assert "Unknown ISO 4217 code" in dialog.error_text("currency")  # no "currency: " (issue 16)
    dialog.currency.setCurrentText("EUR")
    dialog.timezone.setCurrentText("Europe/Paris")
    with qtbot.waitSignal(bare_window.client_list.loaded, timeout=TIMEOUT):
        click(qtbot, dialog.accept_button)
    settle(qtbot, ctx)
    assert ctx.desk is not None and ctx.fmt.currency == "EUR"
    assert bare_window.desk_label.text() == "EUR · Europe/Paris"
    assert bare_window.record_action.isEnabled()
    check = Desk.open(path)
    assert (check.currency, str(check.timezone)) == ("EUR", "Europe/Paris")
    check.close()


@pytest.mark.slow
def test_first_run_opens_the_demo_data(qtbot, ctx, bare_window, tmp_path):
    bare_window.open_database(str(tmp_path / "demo.db"))
    qtbot.waitUntil(lambda: bare_window.findChild(FirstRunDialog) is not None, timeout=TIMEOUT)
    dialog = dialog_of(bare_window, FirstRunDialog)
    click(qtbot, dialog.demo)
    dialog.clients.setValue(2)
    with qtbot.waitSignal(bare_window.client_list.loaded, timeout=60_000):
        click(qtbot, dialog.accept_button)
    settle(qtbot, ctx)
    assert bare_window.client_list.model.rowCount() == 2
    assert [c.name for c in clients.list_clients(ctx.desk)] == ["Bluebird Dental",
                                                               "Northwind Traders"]


def test_opening_something_that_is_not_a_database_is_refused(qtbot, ctx, bare_window,
                                                             tmp_path):
    junk = tmp_path / "notes.db"
    junk.write_bytes(b"this is not SQLite" * 100)
    bare_window.open_database(str(junk))
    qtbot.waitUntil(lambda: bare_window.dialogs.get("refusal") is not None, timeout=TIMEOUT)
    box = bare_window.dialogs["refusal"]
    assert isinstance(box, QMessageBox)
    # SPEC §8: a file that is not SQLite at all is "not a QuotaDesk database" (not damaged).
    assert "notes.db is not a QuotaDesk database" in box.text()
    assert "damaged" not in box.text()
    assert junk.read_bytes() == b"this is not SQLite" * 100  # never "repaired"
    assert ctx.desk is None and bare_window.db_label.text() == "No database open"
    box.close()


@pytest.mark.slow
def test_now_fixes_the_clock(qtbot, ctx, bare_window, desk):
    bare_window.open_database(desk.database.url, now="2026-03-01T10:00")
    qtbot.waitUntil(lambda: ctx.desk is not None, timeout=TIMEOUT)
    settle(qtbot, ctx)
    assert ctx.desk.clock() == datetime(2026, 3, 1, 10, 0, tzinfo=UTC)
    assert bare_window.clock_label.text() == "Clock fixed at 2026-03-01 10:00"


@pytest.mark.slow
def test_geometry_and_splitter_are_remembered(qtbot, ctx, desk, settings, tmp_path):
    first = MainWindow(ctx, settings)
    qtbot.addWidget(first)
    first.show()
    first.resize(780, 640)  # the offscreen screen is 800 x 800
    first.splitter.setSizes([250, 500])
    size, sizes = first.size(), first.splitter.sizes()
    first.close()
    again = MainWindow(ctx, QSettings(settings.fileName(), QSettings.Format.IniFormat))
    qtbot.addWidget(again)
    again.show()
    assert again.size() == size and size.height() == 640
    assert again.splitter.sizes() == sizes


def test_unexpected_errors_reach_the_report_dialog(qtbot, ctx, window):
    def broken():
        raise RuntimeError("disk on fire")

    ctx.run_op(window, broken, label="a broken operation")
    settle(qtbot, ctx)
    dialog = dialog_of(window, ErrorReportDialog)
    report = dialog.report.toPlainText()
    assert "a broken operation" in report and "RuntimeError: disk on fire" in report
    click(qtbot, dialog.copy_button)
    assert QGuiApplication.clipboard().text() == report
    dialog.close()
    assert len(ctx.failures) == 1
    ctx.failures.clear()


def test_keyboard_reaches_the_list_and_opens_a_client(qtbot, desk, acme, window):
    panel = window.client_list
    panel.search.setFocus()
    qtbot.keyClicks(panel.search, "ac")
    with qtbot.waitSignal(window.client_page.loaded, timeout=TIMEOUT):
        qtbot.keyClick(panel.search, Qt.Key.Key_Down)
    assert panel.table.hasFocus()
    assert window.client_page.name.text() == "Acme"
    qtbot.keyClick(window, Qt.Key.Key_0, Qt.KeyboardModifier.ControlModifier)
    assert window.stack.currentWidget() is window.agency


def test_every_control_has_an_accessible_name(qtbot, desk, acme, window):
    open_client(qtbot, window, "Acme")
    dialogs = [window.add_client(), window.record_usage(), window.import_usage(),
               window.open_plans(), window.open_packs(),
               window.client_page.billing.addon_packs.apply(
                   window.client_page.data.detail.assigned_packs[0])]
    settle(qtbot, window.ctx)
    missing = []
    for root in [window, *dialogs]:
        for widget in root.findChildren(QWidget):
            if not isinstance(widget, (QAbstractButton, QLineEdit, QComboBox,
                                       QAbstractItemView)):
                continue
            if widget.focusPolicy() == Qt.FocusPolicy.NoFocus or _inside_combo(widget) \
                    or widget.objectName().startswith("qt_"):
                continue
            name = widget.accessibleName() or (
                widget.text() if isinstance(widget, QAbstractButton) else "")
            if not name.replace("&", "").strip():
                missing.append(f"{type(widget).__name__} {widget.objectName()!r}")
    for dialog in dialogs:
        dialog.close()
    assert not missing, missing


def _inside_combo(widget):
    parent = widget.parentWidget()
    while parent is not None:
        if isinstance(parent, QComboBox):
            return True  # the combo's own pop-up list: the combo carries the name
        parent = parent.parentWidget()
    return False


@pytest.mark.slow
def test_self_test_passes(capsys):
    assert run_gui(self_test=True) == 0
    assert "self-test passed" in capsys.readouterr().out


@pytest.mark.slow
def test_restore_brings_back_the_backup_and_every_panel_reloads(qtbot, ctx, window, desk,
                                                                 tmp_path):
    from quotadesk.services.setup import backup

    client_services = clients
    settle(qtbot, ctx)  # the window's first load is done: the list shows no client
    model = window.client_list.model
    assert model.rowCount() == 0
    client_services.add_client(desk, name="Kept in the backup")
    saved = backup(desk, tmp_path / "saved.db")
    client_services.add_client(desk, name="Added after the backup")
    window.restore_from(str(saved))
    # The list reloads from the restored file (the status bar may already show the
    # rollover that follows every open, so the rows are what we wait on).
    qtbot.waitUntil(lambda: model.rowCount() == 1, timeout=TIMEOUT)
    settle(qtbot, ctx)
    assert model.index(0, 0).data() == "Kept in the backup"
    assert [c.name for c in client_services.list_clients(desk)] == ["Kept in the backup"]


def test_about_names_the_version_the_data_location_and_the_licences(qtbot, window, desk):
    from quotadesk import __version__

    dialog = window.about()
    qtbot.addWidget(dialog)
    texts = " ".join(label.text() for label in dialog.findChildren(QLabel))
    assert f"QuotaDesk {__version__}" in texts
    # The open database's own path (the blurb says "desk" too, so a bare "desk" proved nothing).
    assert desk.database.path is not None
    assert f"Database: {desk.database.path}\n" in texts
    assert "LGPL-3.0" in texts and "SQLAlchemy and Alembic (MIT)" in texts
