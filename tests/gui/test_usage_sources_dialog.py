"""The import dialog's usage sources (SPEC §11): pick a format or a mapping, see the first
records as they will be recorded before anything is written, save a mapping, import with
skipped and rejected counts. QUOTADESK_SHOTS=DIR saves what each preview looks like."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from quotadesk.services import catalog, clients
from quotadesk.services.usage_sources import identifiers, mappings
from quotadesk.views.dialogs.usage import ImportUsageDialog
from quotadesk.views.dialogs.usage_sources import NEW_MAPPING, PreviewModel
from tests.gui.conftest import TIMEOUT, click, column_texts, dialog_of, settle
from tests.integration.test_usage_sources_files import (
    Call,
    asterisk_csv,
    freeswitch_csv,
    twilio_csv,
)

C = PreviewModel.Column


@pytest.fixture
def agency(desk, clock):
    """Acme (accountcode `acme-pbx`, AccountSid AC123) on a 30/6 plan since Jan 1st."""
    clock.set(datetime(2026, 1, 1, tzinfo=UTC))
    catalog.add_plan(desk, name="Voice 30/6", fee="10", included={"minutes": "500",
                                                                   "sms": "500"},
                     increments="30/6")
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Voice 30/6")
    identifiers.identify_client(desk, client="Acme", identifiers=["acme-pbx", "AC123"])
    clock.set(datetime(2026, 1, 10, 9, 0, tzinfo=UTC))
    return desk


def _shot(dialog, name: str) -> None:
    folder = os.environ.get("QUOTADESK_SHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        dialog.grab().save(str(Path(folder) / f"import-{name}.png"))


def _open(qtbot, window, path: Path, format_value: str) -> ImportUsageDialog:
    window.import_action.trigger()
    dialog = dialog_of(window, ImportUsageDialog)
    qtbot.waitUntil(lambda: dialog.sources.format.count() > 0, timeout=TIMEOUT)
    settle(qtbot, window.ctx)
    combo = dialog.sources.format
    combo.setCurrentIndex(combo.findData(format_value))
    qtbot.keyClicks(dialog.path, str(path))
    _previewed(qtbot, window, dialog)
    return dialog


def _previewed(qtbot, window, dialog: ImportUsageDialog) -> None:
    """Wait for the preview of what was just typed (it follows typing after a pause)."""
    qtbot.waitUntil(lambda: not dialog.sources._timer.isActive(), timeout=TIMEOUT)
    settle(qtbot, window.ctx)


def test_asterisk_preview_then_import_with_skipped_and_rejected(qtbot, agency, window,
                                                                tmp_path):
    path = tmp_path / "Master.csv"
    when = datetime(2026, 1, 5, 9, 30)
    path.write_bytes(asterisk_csv([
        Call("acme-pbx", when, 61, uniqueid="1.1"),
        Call("acme-pbx", when, 0, "NO ANSWER", uniqueid="1.2", layout=21, linkedid="1.1"),
        Call("nobody", when, 12, uniqueid="1.3")]) + b"garbage\n")
    dialog = _open(qtbot, window, path, "asterisk")
    table = dialog.sources.table
    assert column_texts(table, C.OUTCOME) == ["Recorded", "Skipped", "Rejected", "Rejected"]
    assert column_texts(table, C.CLIENT) == ["Acme", "", "", ""]
    assert column_texts(table, C.QUANTITY)[0] == "1.1"  # 61 s at 30/6: 66 s
    assert column_texts(table, C.TIME)[0].startswith("2026-01-05")
    reasons = column_texts(table, C.REASON)
    assert reasons[1] == "not answered (NO ANSWER)"
    assert "nobody" in reasons[2] and "16, 17, 18 or 21" in reasons[3]
    _shot(dialog, "asterisk")
    assert clients.client_detail(agency, "Acme").resources["minutes"].included_used == 0
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert dialog.summary.text.text().splitlines()[:4] == [
        "Recorded: 1", "Duplicates: 0", "Skipped (not billable): 1", "Rejected: 2"]
    assert clients.client_detail(agency, "Acme").resources["minutes"].included_used == \
        Decimal("1.1")
    qtbot.waitUntil(lambda: column_texts(table, C.OUTCOME)[0] == "Duplicate", timeout=TIMEOUT)
    _shot(dialog, "asterisk-after-import")


def test_freeswitch_and_twilio_previews(qtbot, agency, window, tmp_path):
    fs = tmp_path / "cdr.csv"
    fs.write_bytes(freeswitch_csv([
        ("acme-pbx", datetime(2026, 1, 5, 9, 0), 7, "NORMAL_CLEARING", "a1b2"),
        ("acme-pbx", datetime(2026, 1, 5, 9, 5), 0, "NO_ANSWER", "c3d4")]))
    dialog = _open(qtbot, window, fs, "freeswitch")
    assert column_texts(dialog.sources.table, C.OUTCOME) == ["Recorded", "Skipped"]
    assert column_texts(dialog.sources.table, C.QUANTITY)[0] == "0.5"
    assert column_texts(dialog.sources.table, C.REASON)[1] == "billsec 0 (NO_ANSWER)"
    _shot(dialog, "freeswitch")
    dialog.close()
    tw = tmp_path / "messages.csv"
    tw.write_bytes(twilio_csv([
        ("AC123", "SM1", "2026-01-05T09:00:00Z", "delivered", 3, "outbound-api",
         "a long message,\nwith \"quotes\""),
        ("AC123", "SM2", "Mon, 05 Jan 2026 09:01:00 +0000", "failed", 1, "outbound-api", "x")]))
    dialog = _open(qtbot, window, tw, "twilio-messages")
    assert column_texts(dialog.sources.table, C.OUTCOME) == ["Recorded", "Skipped"]
    assert column_texts(dialog.sources.table, C.RESOURCE)[0] == "SMS"
    assert column_texts(dialog.sources.table, C.QUANTITY)[0] == "3"
    _shot(dialog, "twilio")


def test_a_new_mapping_previews_as_typed_then_is_saved_and_imported(qtbot, agency, window,
                                                                    tmp_path):
    path = tmp_path / "carrier.csv"
    path.write_text("Call ID;Account;Seconds;Start;Status\n"
                    "c1;acme-pbx;61;05/01/2026 10:00;ANSWERED\n"
                    "c2;acme-pbx;40;05/01/2026 10:05;NO ANSWER\n")
    dialog = _open(qtbot, window, path, NEW_MAPPING)
    editor = dialog.sources.editor
    assert editor.isVisible()
    assert "Cannot preview" in dialog.sources.notice.title.text()  # no columns chosen yet
    editor.delimiter.setText(";")
    editor.delimiter.editingFinished.emit()
    qtbot.waitUntil(lambda: editor.client.count() == 5, timeout=TIMEOUT)
    editor.name.setText("Carrier X")
    editor.client.setCurrentText("Account")
    editor.quantity.setCurrentText("Seconds")
    editor.time.setCurrentText("Start")
    editor.event_id.setCurrentText("Call ID")
    editor.time_format.setText("%d/%m/%Y %H:%M")
    editor.skip_if.setText("Status=no answer")
    editor.skip_if.editingFinished.emit()
    _previewed(qtbot, window, dialog)
    assert column_texts(dialog.sources.table, C.OUTCOME) == ["Recorded", "Skipped"]
    assert column_texts(dialog.sources.table, C.QUANTITY) == ["1.1", ""]
    _shot(dialog, "new-mapping")
    click(qtbot, dialog.accept_button)  # not saved yet: refused beside the format
    settle(qtbot, window.ctx)
    assert "save the mapping first" in dialog.error_text("format").lower()
    click(qtbot, editor.save)
    settle(qtbot, window.ctx)
    assert [m.name for m in mappings.list_sources(agency)] == ["Carrier X"]
    assert dialog.sources.format.currentData() == "Carrier X"
    assert not editor.isVisible()
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert dialog.summary.text.text().splitlines()[:4] == [
        "Recorded: 1", "Duplicates: 0", "Skipped (not billable): 1", "Rejected: 0"]
    _shot(dialog, "mapping-imported")


def test_the_preview_model_passes_the_model_tester(qtmodeltester, agency, window, qtbot,
                                                   tmp_path):
    path = tmp_path / "Master.csv"
    path.write_bytes(asterisk_csv([Call("acme-pbx", datetime(2026, 1, 5, 9), 61,
                                        uniqueid="1")]))
    dialog = _open(qtbot, window, path, "asterisk")
    qtmodeltester.check(dialog.sources.model)


def test_the_plan_editor_edits_the_increments(qtbot, agency, window):
    from tests.gui.conftest import click_row, row_of
    from tests.gui.test_catalog import open_plans

    dialog = open_plans(qtbot, window)
    click_row(qtbot, dialog.view, row_of(dialog.view, "Voice 30/6"))
    assert dialog.increments.text() == "30/6"
    dialog.increments.selectAll()
    qtbot.keyClicks(dialog.increments, "60/0")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert "out of range" in dialog.error_text("increments")
    dialog.increments.selectAll()
    qtbot.keyClicks(dialog.increments, "60/60")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert catalog.get_plan(agency, "Voice 30/6").increments == (60, 60)
    # The running subscription keeps its snapshot.
    assert clients.client_detail(agency, "Acme").subscription.terms.increments == (30, 6)


def test_the_client_page_edits_the_identifiers(qtbot, agency, window):
    from tests.gui.conftest import open_client

    clients.add_client(agency, name="Beta")
    open_client(qtbot, window, "Acme")
    card = window.client_page.overview.identifiers
    assert card.edit.text() == "acme-pbx, AC123"
    card.edit.clear()
    qtbot.keyClicks(card.edit, "acme-pbx, +14155550100")
    click(qtbot, card.save)
    settle(qtbot, window.ctx)
    assert clients.client_detail(agency, "Acme").identifiers == ("acme-pbx", "+14155550100")
    assert card.edit.text() == "acme-pbx, +14155550100"
    _shot(window.client_page, "client-identifiers")
    open_client(qtbot, window, "Beta")
    card.edit.clear()
    qtbot.keyClicks(card.edit, "ACME-PBX")
    click(qtbot, card.save)
    settle(qtbot, window.ctx)
    assert card.error.isVisible() and "already identifies client 'Acme'" in \
        card.error.text.text()
    assert clients.client_detail(agency, "Beta").identifiers == ()


def test_an_asterisk_import_can_be_cancelled_between_batches(qtbot, agency, window, tmp_path,
                                                             monkeypatch):
    import threading

    from PySide6.QtWidgets import QProgressDialog, QPushButton

    from quotadesk.services import usage
    from quotadesk.views.dialogs import usage as usage_dialogs

    path = tmp_path / "Master.csv"
    path.write_bytes(asterisk_csv([Call("acme-pbx", datetime(2026, 1, 5, 9, i), 60,
                                        uniqueid=f"1.{i}") for i in range(12)]))
    monkeypatch.setattr(usage_dialogs, "IMPORT_BATCH_SIZE", 5)
    started, gate = threading.Event(), threading.Event()
    real = usage.import_usage

    def gated(*args, **kwargs):
        started.set()
        gate.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(usage, "import_usage", gated)
    dialog = _open(qtbot, window, path, "asterisk")
    click(qtbot, dialog.accept_button)
    qtbot.waitUntil(started.is_set)
    progress = dialog_of(dialog, QProgressDialog)
    click(qtbot, progress.findChild(QPushButton))
    gate.set()
    settle(qtbot, window.ctx)
    assert dialog.summary.title.text() == "Import cancelled"
    assert dialog.summary.text.text().splitlines()[:4] == [
        "Recorded: 5", "Duplicates: 0", "Skipped (not billable): 0", "Rejected: 0"]
    assert clients.client_detail(agency, "Acme").resources["minutes"].included_used == 5
