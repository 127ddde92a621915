"""Documents in the window (SPEC §10): "Invoice PDF…" on a payment request and "Statement…"
on a client, made off the UI thread (the op helper's worker) and written 0600."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

from PySide6.QtCore import QDate

from quotadesk.services import billing, settings, wallet
from quotadesk.views import documents as document_views
from quotadesk.views.client_page.billing.payments import PaymentModel
from quotadesk.views.documents import StatementDialog
from tests.gui.conftest import click, click_row, dialog_of, open_client, open_tab, row_of, settle
from tests.integration.documents_support import Figures, text_of


def saving_to(monkeypatch, path: Path) -> list[str]:
    asked: list[str] = []

    def ask(_parent, _title, suggested):  # type: ignore[no-untyped-def]
        asked.append(suggested)
        return str(path)

    monkeypatch.setattr(document_views, "ask_save_path", ask)
    return asked


def test_invoice_pdf_on_a_payment_request(qtbot, desk, acme, window, tmp_path, monkeypatch):
    settings.change_settings(desk, {"tax.rate": "20", "agency.name": "Northwind Telecom"})
    applied = wallet.apply_pack(desk, client=acme, pack="100 Minutes Pack", status="pending")
    request = next(p for p in billing.list_payments(desk)
                   if p.id == applied.payment_request_id)
    open_client(qtbot, window, "Acme")
    open_tab(qtbot, window.client_page.tabs, "Billing")
    tab = open_tab(qtbot, window.client_page.billing, "Payment requests")
    assert not tab.invoice_button.isEnabled()
    click_row(qtbot, tab.view, row_of(tab.view, "Pack", PaymentModel.Column.TYPE))
    target = tmp_path / "out" / "invoice.pdf"
    target.parent.mkdir()
    asked = saving_to(monkeypatch, target)
    with qtbot.waitSignal(tab.message, timeout=15_000) as said:
        click(qtbot, tab.invoice_button)
    settle(qtbot, window.ctx)
    assert asked == [f"{request.invoice_number}.pdf"]
    assert said.args == [f"Invoice {request.invoice_number} saved to {target}"]
    assert target.stat().st_mode & 0o777 == 0o600
    text = text_of(target.read_bytes())
    f = Figures()
    assert f"Net {f.money('15')} VAT at {f.rate('20')} {f.money('3')} Total {f.money('18')}" \
        in text
    assert request.amount == 18 and "Northwind Telecom" in text

    # Over the open database: refused in the tab, nothing written.
    saving_to(monkeypatch, Path(desk.database.path))
    click(qtbot, tab.invoice_button)
    settle(qtbot, window.ctx)
    assert tab.error.isVisible()


def test_statement_dialog_saves_the_days_asked_for(qtbot, desk, acme, window, clock, tmp_path,
                                                    monkeypatch):
    wallet.apply_pack(desk, client=acme, pack="100 Minutes Pack", status="paid")
    clock.set(datetime(2026, 2, 3, 9, tzinfo=UTC))
    billing.run_rollover(desk)
    open_client(qtbot, window, "Acme")
    page = window.client_page
    click(qtbot, page.statement_button)
    dialog = dialog_of(window, StatementDialog)
    assert dialog.last_period.isChecked()
    dialog.start.setDate(QDate(2026, 1, 1))
    dialog.end.setDate(QDate(2025, 12, 1))  # before the start: refused beside the days
    assert dialog.these_days.isChecked()
    saving_to(monkeypatch, tmp_path / "refused.pdf")
    click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert dialog.isVisible() and not (tmp_path / "refused.pdf").exists()
    assert "before" in dialog.fields["to"][1].text()

    dialog.end.setDate(QDate(2026, 2, 3))
    asked = saving_to(monkeypatch, tmp_path / "statement.pdf")
    with qtbot.waitSignal(page.message, timeout=15_000) as said:
        click(qtbot, dialog.accept_button)
    settle(qtbot, window.ctx)
    assert asked == ["statement-Acme.pdf"]
    assert said.args[0].startswith("Statement of Acme saved to")
    assert not dialog.isVisible()
    text = text_of((tmp_path / "statement.pdf").read_bytes())
    f = Figures()
    pending = billing.payment_totals(billing.list_payments(desk, "Acme")).pending
    assert f"Total still due {f.money(pending)}" in text
    assert f"{f.day(date(2026, 1, 1))}" in text and "Acme" in text


def test_send_statement_queues_a_statement_email(qtbot, desk, acme, window, clock):
    if not document_views.can_send_statements():
        return  # the mail issue's queue is not there: nothing to send with
    from quotadesk.services import outbox

    clock.set(datetime(2026, 2, 3, 9, tzinfo=UTC))
    billing.run_rollover(desk)
    open_client(qtbot, window, "Acme")
    click(qtbot, window.client_page.statement_button)
    dialog = dialog_of(window, StatementDialog)
    assert dialog.send_button is not None
    click(qtbot, dialog.send_button)
    settle(qtbot, window.ctx)
    [message] = [m for m in outbox.list_messages(desk, "Acme") if m.kind == "statement"]
    assert message.attachment == f"statement:{acme}:2026-01-10:2026-01-31"
