"""A client's statement (SPEC §10): per period and resource the usage as it was rated, per
resource the wallet's opening + credited − consumed − expired − revoked = closing (agreeing
with the wallet `verify` checks), the requests of the range and what is still due; read
back from the PDF. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest

from quotadesk.services import billing, catalog, clients, documents, reports, settings, usage, wallet
from quotadesk.services.errors import InvalidValue, NotFound
from quotadesk.services.unit_of_work import Desk

from .documents_support import Figures, pages, paper, text_of

D = Decimal
ZERO = D(0)


class Story:
    """A client whose wallet credits, consumes, expires and revokes across months, with
    what each call returned kept: the services' own numbers to check the statement by."""

    def __init__(self, desk: Desk, clock) -> None:  # type: ignore[no-untyped-def]
        self.desk, self.clock = desk, clock
        self.used: dict[date, dict[str, D]] = defaultdict(lambda: defaultdict(D))
        self.credited: dict[date, D] = defaultdict(D)  # by the local day it happened
        self.revoked: dict[date, D] = defaultdict(D)
        settings.change_settings(desk, {"agency.name": "Northwind Telecom", "tax.rate": "21",
                                        "agency.tax_id": "NL001234567B01"})
        catalog.add_plan(desk, name="Messaging", fee="20.00", included={"sms": "100"},
                         overage={"sms": "0.02"})
        catalog.add_pack(desk, name="SMS 500", resource="sms", units="500", price="20",
                         expires_months=1)
        catalog.add_pack(desk, name="SMS 200", resource="sms", units="200", price="9.99")
        clients.add_client(desk, name="Zoë Café", email="zoe@example.test")
        clients.subscribe(desk, client="Zoë Café", plan="Messaging")
        clients.assign_packs(desk, client="Zoë Café", packs=["SMS 500", "SMS 200"])

    def at(self, *when: int) -> date:
        self.clock.set(datetime(*when, tzinfo=UTC))  # type: ignore[misc]
        return self.clock().date()

    def apply(self, pack: str, units: str, status: str = "pending") -> int:
        result = wallet.apply_pack(self.desk, client="Zoë Café", pack=pack, status=status)
        self.credited[self.clock().date()] += D(units)
        return result.lot_id

    def use(self, quantity: str, period: date) -> None:
        r = usage.record_usage(self.desk, client="Zoë Café", resource="sms", quantity=quantity)
        figures = self.used[period]
        figures["included"] += r.included
        figures["wallet"] += r.wallet
        figures["overage_units"] += r.overage_units
        figures["overage_amount"] += r.overage_amount
        figures["unserved"] += r.unserved

    def revoke(self, lot_id: int) -> None:
        r = wallet.revoke_lot(self.desk, lot_id=lot_id, reason="payment failed")
        self.revoked[self.clock().date()] += r.units


def three_months(desk: Desk, clock) -> Story:  # type: ignore[no-untyped-def]
    """Jan 10: subscribe, SMS 500 (expires Feb 10). Jan 15: 150 SMS. Jan 20: SMS 200, paid.
    Feb 3: 120 SMS; SMS 200 applied, its payment fails, revoked. Feb 10: the SMS 500 lot
    expires with 430 left. Mar 5: 700 SMS (100 included, 200 wallet, 400 overage)."""
    s = Story(desk, clock)
    s.apply("SMS 500", "500")
    s.at(2026, 1, 15, 10)
    s.use("150", date(2026, 1, 10))
    s.at(2026, 1, 20, 10)
    s.apply("SMS 200", "200", status="paid")
    s.at(2026, 2, 3, 10)
    s.use("120", date(2026, 2, 1))
    lot = s.apply("SMS 200", "200")
    pending = next(p for p in billing.list_payments(desk) if p.status == "pending"
                   and p.type == "Pack" and p.created_at.date() == date(2026, 2, 3))
    billing.mark_failed(desk, request_id=pending.id)
    s.at(2026, 2, 4, 9)
    s.revoke(lot)
    s.at(2026, 3, 5, 10)
    s.use("700", date(2026, 3, 1))
    s.at(2026, 4, 2, 9)
    billing.run_rollover(desk)
    return s


def test_a_one_period_statement_adds_up_and_agrees_with_the_services(desk, clock):
    s = three_months(desk, clock)
    data = documents.statement_data(desk, "Zoë Café")  # the last closed period: March
    assert (data.first_day, data.last_day) == (date(2026, 3, 1), date(2026, 3, 31))
    [period] = data.periods
    sms = next(u for u in period.usage if u.resource == "sms")
    march = s.used[date(2026, 3, 1)]
    assert (sms.included_used, sms.wallet_used, sms.overage_units, sms.overage_amount,
            sms.unserved) == (march["included"], march["wallet"], march["overage_units"],
                              march["overage_amount"], march["unserved"]) == \
        (D(100), D(200), D(400), D(8), ZERO)
    [moves] = data.wallet
    assert (moves.opening, moves.credited, moves.consumed, moves.expired, moves.revoked,
            moves.closing) == (D(200), ZERO, D(200), ZERO, ZERO, ZERO)
    detail = clients.client_detail(desk, "Zoë Café")
    assert moves.closing == detail.resources["sms"].wallet
    payments = billing.list_payments(desk, "Zoë Café")
    # March's plan fee (made Mar 1) and its overage (made when it closed, Apr 1).
    assert [(r.number, r.type, r.amount) for r in data.requests] == sorted(
        ((p.invoice_number, p.type, p.amount) for p in payments
         if p.reference.endswith("2026-03-01 – 2026-03-31")), key=lambda x: x[0])
    overage = next(r for r in data.requests if r.type == "Overage")
    assert (overage.net, overage.tax, overage.amount) == (D(8), D("1.68"), D("9.68"))
    assert data.total_due == billing.payment_totals(payments).pending
    assert reports.verify(desk).ok

    content = documents.statement_pdf(desk, "Zoë Café", locale="en_GB")
    assert paper(content) == (595, 842)  # A4 in the United Kingdom
    text = text_of(content)
    f = Figures(locale="en_GB")
    assert (f"{f.days(date(2026, 3, 1), date(2026, 3, 31))} SMS 100 / 100 200 400 "
            f"{f.money('8')} 0") in text
    assert "SMS 200 0 200 0 0 0" in text
    for r in data.requests:
        assert (f"{r.number} {f.day(r.issued)} {r.type} {f.day(r.due)} "
                f"{f.text.status(r.status, r.paid_on)} {f.money(r.net)} {f.money(r.tax)} "
                f"{f.money(r.amount)}") in text
    assert f"Total still due {f.money(data.total_due)}" in text
    assert "Northwind Telecom" in text and "Tax ID: NL001234567B01" in text


def test_the_wallet_over_several_periods_credits_consumes_expires_and_revokes(desk, clock):
    s = three_months(desk, clock)
    data = documents.statement_data(desk, "Zoë Café", "2026-01-01", "2026-03-31")
    assert len(data.periods) == 3 and not any(p.open for p in data.periods)
    for period in data.periods:
        sms = next(u for u in period.usage if u.resource == "sms")
        mine = s.used[period.first_day if period.first_day.day == 1 else date(2026, 1, 10)]
        assert (sms.included_used, sms.wallet_used, sms.overage_units, sms.overage_amount,
                sms.unserved) == (mine["included"], mine["wallet"], mine["overage_units"],
                                  mine["overage_amount"], mine["unserved"])
    [moves] = data.wallet
    expired = sum((h.credits for h in billing.billing_history(desk, "Zoë Café")
                   if h.kind == "expired"), ZERO)
    consumed = sum((m["wallet"] for m in s.used.values()), ZERO)
    assert (moves.opening, moves.credited, moves.consumed, moves.expired, moves.revoked) == (
        ZERO, sum(s.credited.values(), ZERO), consumed, expired, sum(s.revoked.values(), ZERO))
    assert (moves.credited, moves.consumed, moves.expired, moves.revoked) == (
        D(900), D(270), D(430), D(200))
    assert moves.opening + moves.credited - moves.consumed - moves.expired - moves.revoked \
        == moves.closing == clients.client_detail(desk, "Zoë Café").resources["sms"].wallet
    assert reports.verify(desk).ok
    # February alone: opening is January's closing, and the expiry is dated Feb 10.
    feb = documents.statement_data(desk, "Zoë Café", date(2026, 2, 1), date(2026, 2, 28))
    [m] = feb.wallet
    assert (m.opening, m.credited, m.consumed, m.expired, m.revoked, m.closing) == (
        D(650), D(200), D(20), D(430), D(200), D(200))
    statuses = {r.number: r.status for r in feb.requests}
    assert "failed" in statuses.values()
    text = text_of(documents.statement_pdf(desk, "Zoë Café", date(2026, 2, 1),
                                           date(2026, 2, 28), locale="en_US"))
    assert "SMS 650 200 20 430 200 200" in text
    for r in feb.requests:
        assert r.number in text


def test_a_long_statement_breaks_its_tables_across_pages_with_their_headers(desk, clock):
    s = Story(desk, clock)
    catalog.add_plan(desk, name="Everything", fee="50", included={
        "minutes": "100", "sms": "100", "email": "100"})
    clients.subscribe(desk, client="Zoë Café", plan="Everything")  # three rows a period
    s.apply("SMS 200", "200", status="paid")
    for month in range(2, 13):
        s.at(2026, month, 3, 9)
        s.use("150", date(2026, month, 1))
    for year, month in ((2027, m) for m in range(1, 13)):
        s.at(year, month, 3, 9)
        s.use("90", date(year, month, 1))
    s.at(2028, 1, 2, 9)
    billing.run_rollover(desk)
    content = documents.statement_pdf(desk, "Zoë Café", "2026-01-01", "2027-12-31",
                                      locale="en_US")
    texts = pages(content)
    assert len(texts) >= 2
    header = "Period Resource Included used Wallet used Overage Overage net Unserved"
    for number, text in enumerate(texts, start=1):
        assert text.startswith("Northwind Telecom") or "Northwind Telecom Statement" in text
        assert text.endswith(f"Page {number} of {len(texts)}")
    # Every page that carries rows of the usage table starts that table with its header.
    rows_on = [n for n, text in enumerate(texts) if " / 100 " in text]
    assert len(rows_on) >= 2
    for n in rows_on:
        assert header in texts[n]
    data = documents.statement_data(desk, "Zoë Café", "2026-01-01", "2027-12-31")
    assert len(data.periods) == 24
    assert len(data.requests) == len([p for p in billing.list_payments(desk)
                                      if p.created_at < datetime(2028, 1, 1, tzinfo=UTC)])


def test_bad_ranges_and_unknown_clients_are_refused(desk, clock, tmp_path: Path):
    Story(desk, clock)
    with pytest.raises(InvalidValue, match="no closed period"):
        documents.statement_data(desk, "Zoë Café")
    with pytest.raises(InvalidValue, match="to:"):
        documents.statement_data(desk, "Zoë Café", "2026-02-01", "2026-01-01")
    with pytest.raises(InvalidValue, match="from:"):
        documents.statement_data(desk, "Zoë Café", "2026-02-30")
    with pytest.raises(InvalidValue, match="from:"):
        documents.statement_data(desk, "Zoë Café", "２０２６-01-01")
    with pytest.raises(NotFound):
        documents.statement_data(desk, "Nobody", "2026-01-01")
    # Only --from: up to today, the open period so far.
    data = documents.statement_data(desk, "Zoë Café", "2026-01-01")
    assert data.last_day == date(2026, 1, 10) and data.periods[0].open
    path, _ = documents.write_statement(desk, "Zoë Café", tmp_path / "s.pdf", "2026-01-01")
    assert path.stat().st_mode & 0o777 == 0o600
    assert "(open: so far)" in text_of(path.read_bytes())
