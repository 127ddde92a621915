"""File ▸ Settings…, Billing ▸ Outbox…, the client's Mail tab and the status bar's count, driven
as a user would (SPEC §9), against a real SMTP server on loopback."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from quotadesk.services import clients, mail_sender, outbox, usage
from quotadesk.services.settings import change_settings, show_settings
from quotadesk.views.dialogs.settings import SettingsDialog
from quotadesk.views.mail_status import MailStatus
from quotadesk.views.outbox_screen import MessageDialog, OutboxDialog
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
from tests.mail_server import smtp_server

SHOTS = os.environ.get("QUOTADESK_SHOTS")


def shot(widget, name: str) -> None:
    """Screenshots for people to look at, when QUOTADESK_SHOTS names a folder."""
    if SHOTS:
        QApplication.processEvents()  # the layout a click asked for, as a person sees it
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        widget.grab().save(str(Path(SHOTS) / f"{name}.png"))


def open_settings(qtbot, window) -> SettingsDialog:
    window.settings_action.trigger()
    dialog = dialog_of(window, SettingsDialog)
    settle(qtbot, window.ctx)
    return dialog


def test_settings_are_edited_saved_and_refused_beside_the_field(qtbot, desk, window):
    dialog = open_settings(qtbot, window)
    dialog.agency_name.setText("Northwind Agency")
    dialog.address.setPlainText("1 Harbour Road\nPortsmouth PO1 2AB")
    dialog.edits["smtp.host"].setText("smtp.northwind.test")
    dialog.edits["smtp.from"].setText("not an address")
    shot(dialog, "settings-agency")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert dialog.isVisible()  # refused: nothing written, the dialog stays with the message
    assert "is not an e-mail address" in dialog.error_text("smtp.from")
    assert dialog.tabs.currentIndex() == 1  # the Mail server tab, where the field is
    assert show_settings(desk)["agency.name"] == ""
    shot(dialog, "settings-refused")

    dialog.edits["smtp.from"].setText("billing@northwind.test")
    dialog.edits["mail.reminders"].setText("5, 2")
    for title, name in (("What is mailed", "settings-mailed"), ("Tax and invoices", "settings-tax")):
        open_tab(qtbot, dialog.tabs, title)
        shot(dialog, name)
    with qtbot.waitSignal(dialog.finished, timeout=10_000):
        click(qtbot, dialog.accept_button)
    saved = show_settings(desk)
    assert (saved["agency.name"], saved["agency.address"], saved["smtp.host"],
            saved["smtp.from"], saved["mail.reminders"]) == (
        "Northwind Agency", "1 Harbour Road\nPortsmouth PO1 2AB", "smtp.northwind.test",
        "billing@northwind.test", "2,5")


def test_a_template_that_does_not_render_is_refused_and_the_preview_shows_a_real_client(
        qtbot, desk, acme, window):
    dialog = open_settings(qtbot, window)
    open_tab(qtbot, dialog.tabs, "Templates")
    tab = dialog.templates
    tab.show_kind("request")
    qtbot.waitUntil(lambda: tab.client.count() > 1, timeout=10_000)
    tab.client.setCurrentIndex(tab.client.findText("Acme"))
    qtbot.waitUntil(lambda: "Acme" in tab.preview.toPlainText(), timeout=10_000)
    assert "49.00" in tab.preview.toPlainText()
    shot(dialog, "settings-templates")

    tab.subject.setText("Invoice {{ request.number")
    qtbot.waitUntil(lambda: "does not render" in tab.preview_subject.text(), timeout=10_000)
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert "does not render" in dialog.error_text("template.subject")
    assert show_settings(desk)["template.request.subject"].startswith("Invoice {{ request.number }}")


def test_send_test_email_reaches_the_server_with_the_settings_typed(qtbot, desk, window,
                                                                    tmp_path):
    with smtp_server(tmp_path) as server:
        dialog = open_settings(qtbot, window)
        open_tab(qtbot, dialog.tabs, "Mail server")
        dialog.edits["smtp.host"].setText(server.host)
        dialog.port.setValue(server.port)
        dialog.security.setCurrentIndex(dialog.security.findData("none"))
        dialog.edits["smtp.from"].setText("billing@northwind.test")
        dialog.test_to.setText("me@northwind.test")
        click(qtbot, dialog.test_button)
        qtbot.waitUntil(lambda: "Sent." in dialog.test_result.text(), timeout=10_000)
        assert [r.recipients for r in server.received] == [["me@northwind.test"]]
        assert "250 2.0.0 Ok: queued as Q00001" in dialog.test_result.text()
        shot(dialog, "settings-mail-server")
    assert show_settings(desk)["smtp.host"] == ""  # a test sends; it saves nothing


def test_outbox_lists_filters_opens_and_retries(qtbot, desk, acme, window):
    clients.add_client(desk, name="Quiet Ltd")  # no address: its mail fails at once
    clients.subscribe(desk, client="Quiet Ltd", plan="Voice 500")
    usage.record_usage(desk, client=acme, resource="minutes", quantity="420")
    window.outbox_action.trigger()
    dialog = dialog_of(window, OutboxDialog)
    settle(qtbot, window.ctx)
    view = dialog.view
    assert sorted(column_texts(view, 1)) == ["Acme", "Acme", "Quiet Ltd"]
    assert "Failed" in column_texts(view, 0) and "no e-mail address" in column_texts(view, 7)
    shot(dialog, "outbox")

    click_row(qtbot, view, row_of(view, "Quiet Ltd", 1))
    assert dialog.retry_button.isEnabled()  # a failed message
    clients.edit_client(desk, client="Quiet Ltd", email="hello@quiet.test")
    click(qtbot, dialog.retry_button)
    settle(qtbot, window.ctx)
    assert dialog.notice.title.text() == "Queued again"
    assert "hello@quiet.test" in dialog.notice.text.text()
    assert outbox.list_messages(desk, "Quiet Ltd")[0].status == "queued"

    dialog.status.setCurrentIndex(dialog.status.findData("queued"))
    settle(qtbot, window.ctx)
    assert len(column_texts(view, 0)) == 3
    dialog.client.setText("quiet")
    assert column_texts(view, 1) == ["Quiet Ltd"]
    dialog.client.clear()

    click_row(qtbot, view, row_of(view, "You have used 80% of your voice minutes for this period", 3))
    click(qtbot, dialog.open_button)
    message = dialog_of(window, MessageDialog)
    text = message.body.toPlainText()
    assert "You have used 80% of the voice minutes" in text and "add-on package" in text
    shot(message, "message-alert")
    message.close()
    requests = [r for r in range(view.model().rowCount())
                if view.model().index(r, 4).data() == "Payment request"
                and view.model().index(r, 1).data() == "Acme"]
    click_row(qtbot, view, requests[0])
    click(qtbot, dialog.open_button)
    message = dialog_of(window, MessageDialog)
    assert "49.00 USD" in message.body.toPlainText()
    shot(message, "message-request")
    message.close()


def test_the_client_page_shows_its_mail_and_says_when_nothing_can_be_sent(qtbot, desk, acme,
                                                                         window):
    clients.add_client(desk, name="Quiet Ltd")
    clients.subscribe(desk, client="Quiet Ltd", plan="Voice 500")
    window.client_list.reload()
    settle(qtbot, window.ctx)
    open_client(qtbot, window, "Acme")
    tab = open_tab(qtbot, window.client_page.tabs, "Mail")
    settle(qtbot, window.ctx)
    assert tab.model.rowCount() == 1 and "ops@acme.test" in tab.hint.text()
    shot(window.client_page, "client-mail")
    open_client(qtbot, window, "Quiet Ltd")
    settle(qtbot, window.ctx)
    assert "has no e-mail address: nothing is sent" in tab.hint.text()
    assert tab.model.rows[0].error == "no e-mail address"


def test_the_status_bar_counts_waiting_mail_and_the_background_sender_sends_it(
        qtbot, desk, acme, window, tmp_path):
    status: MailStatus = window.mail
    settle(qtbot, window.ctx)
    qtbot.waitUntil(lambda: "1 e-mail waiting" in window.mail_label.text(), timeout=10_000)
    assert "no mail server set" in window.mail_label.text()
    with smtp_server(tmp_path) as server:
        change_settings(desk, server.settings())
        status.send_now()
        settle(qtbot, window.ctx)
        qtbot.waitUntil(lambda: len(server.received) == 1, timeout=10_000)
        attached = [part for part in server.received[0].message.iter_attachments()]
        assert [(a.get_content_type(), a.get_filename()) for a in attached] == [
            ("application/pdf", "INV-000001.pdf")]  # made off the UI thread
        assert attached[0].get_content().startswith(b"%PDF")
        qtbot.waitUntil(lambda: "last sent" in window.mail_label.text(), timeout=10_000)
    assert "waiting" not in window.mail_label.text()
    assert outbox.list_messages(desk)[0].status == "sent"
    shot(window, "status-bar")


@pytest.mark.parametrize("key", [Qt.Key.Key_Escape])
def test_settings_close_with_escape_and_write_nothing(qtbot, desk, window, key):
    dialog = open_settings(qtbot, window)
    dialog.agency_name.setText("Not saved")
    qtbot.keyClick(dialog, key)
    assert not dialog.isVisible()
    assert show_settings(desk)["agency.name"] == ""
    assert mail_sender.current_settings(desk)["agency.name"] == ""
