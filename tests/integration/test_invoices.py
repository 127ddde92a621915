"""Every payment request is an invoice (SPEC §10): a gapless number from one count per
database, net + tax = amount at the rate in force, and a PDF whose every figure is the
services' own, read back with a text extractor. On SQLite and PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
import uuid
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from quotadesk.db import alembic_config, make_engine
from quotadesk.services import billing, catalog, clients, documents, reports, settings, usage, wallet
from quotadesk.services.account_store import PendingWrites
from quotadesk.services.results import PaymentInfo
from quotadesk.services.rules.document_text import DocumentText, paper_for
from quotadesk.services.rules.tax import invoice_number, tax_on
from quotadesk.services.unit_of_work import Desk, Tx, write_op

from .documents_support import Figures, flat, pages, paper, text_of

D = Decimal
DATA = Path(__file__).resolve().parents[1] / "data"


def agency(desk: Desk, *, rate: str | None = None) -> None:
    settings.change_settings(desk, {
        "agency.name": "Northwind Telecom", "agency.address": "1 Quay Road\\nDublin 2",
        "agency.email": "billing@northwind.test", "agency.tax_id": "IE1234567T",
        **({"tax.rate": rate} if rate is not None else {})})
    catalog.add_plan(desk, name="Voice", fee="30.00", included={"minutes": "100"},
                     overage={"minutes": "0.05"})
    catalog.add_plan(desk, name="Voice Pro", fee="45.00", included={"minutes": "100"},
                     overage={"minutes": "0.035"})
    catalog.add_pack(desk, name="100 Minutes Pack", resource="minutes", units="100",
                     price="15.55")
    catalog.add_pack(desk, name="Tiny", resource="minutes", units="1", price="0.10")
    clients.add_client(desk, name="Zoë Café", email="zoe@example.test")
    clients.subscribe(desk, client="Zoë Café", plan="Voice")
    clients.assign_packs(desk, client="Zoë Café", packs=["100 Minutes Pack", "Tiny"])


def by_number(desk: Desk) -> list[PaymentInfo]:
    return sorted(billing.list_payments(desk), key=lambda p: p.invoice_number)


def test_with_the_default_rate_amounts_are_as_before_and_every_request_is_numbered(desk, clock):
    agency(desk)
    wallet.apply_pack(desk, client="Zoë Café", pack="100 Minutes Pack", status="paid")
    usage.record_usage(desk, client="Zoë Café", resource="minutes", quantity="250.5")
    clock.set(datetime(2026, 2, 2, 9, tzinfo=UTC))
    billing.run_rollover(desk)
    rows = sorted(billing.list_payments(desk), key=lambda p: (p.created_at, p.id))
    assert [(p.type, p.amount) for p in rows] == [
        ("Plan", D("30")), ("Pack", D("15.55")), ("Overage", D("2.53")), ("Plan", D("30"))]
    assert [p.invoice_number for p in rows] == [f"INV-{n:06d}" for n in range(1, 5)]
    for p in rows:
        assert (p.net, p.tax, p.tax_rate, p.tax_name) == (p.amount, 0, 0, "VAT")
    history = billing.billing_history(desk, "Zoë Café")
    assert [h.amount for h in history if h.kind == "purchase"] == [D("15.55")]
    assert reports.verify(desk).ok


def test_tax_is_net_times_the_rate_half_up_and_the_rate_is_copied(desk, clock):
    agency(desk, rate="25")
    first = wallet.apply_pack(desk, client="Zoë Café", pack="Tiny", status="pending")
    settings.change_settings(desk, {"tax.rate": "7.5", "tax.name": "GST"})
    second = wallet.apply_pack(desk, client="Zoë Café", pack="100 Minutes Pack",
                               status="pending")
    rows = {p.id: p for p in billing.list_payments(desk)}
    plan = next(p for p in rows.values() if p.type == "Plan")
    # 30.00 × 25 % = 7.50; 0.10 × 25 % = 0.025, half-up 0.03 (half-even would say 0.02)
    assert (plan.net, plan.tax, plan.amount, plan.tax_rate, plan.tax_name) == \
        (D("30"), D("7.5"), D("37.5"), D("25"), "VAT")
    tiny = rows[first.payment_request_id]
    assert (tiny.net, tiny.tax, tiny.amount, tiny.tax_rate) == (D("0.1"), D("0.03"), D("0.13"),
                                                                D("25"))
    # 15.55 × 7.5 % = 1.16625 → 1.17; the earlier requests keep their rate and amounts.
    pack = rows[second.payment_request_id]
    assert (pack.net, pack.tax, pack.amount, pack.tax_rate, pack.tax_name) == \
        (D("15.55"), D("1.17"), D("16.72"), D("7.5"), "GST")
    # SPEC §8: a purchase's amount in the history is the price plus tax.
    purchases = sorted(h.amount for h in billing.billing_history(desk, "Zoë Café")
                       if h.kind == "purchase")
    assert purchases == [D("0.13"), D("16.72")]
    assert billing.payment_totals(billing.list_payments(desk)).pending == D("54.35")


def test_the_overage_is_rounded_once_then_taxed(desk, clock):
    agency(desk, rate="20")
    usage.record_usage(desk, client="Zoë Café", resource="minutes", quantity="100")
    usage.record_usage(desk, client="Zoë Café", resource="minutes", quantity="12.345")
    clock.set(datetime(2026, 2, 1, 0, 0, 1, tzinfo=UTC))
    billing.run_rollover(desk)
    overage = next(p for p in billing.list_payments(desk) if p.type == "Overage")
    # 12.345 × 0.05 = 0.61725 → net 0.62; tax 0.124 → 0.12
    assert (overage.net, overage.tax, overage.amount) == (D("0.62"), D("0.12"), D("0.74"))
    data = documents.invoice_data(desk, overage.id)
    assert [(line.quantity, line.unit_price, line.amount) for line in data.lines] == [
        (D("12.345"), D("0.05"), D("0.61725"))]
    assert (data.subtotal, data.rounding, data.net) == (D("0.61725"), D("0.00275"), D("0.62"))
    text = text_of(documents.invoice_pdf(desk, overage.id, locale="en_US"))
    f = Figures()
    assert (f"Overage: Voice minutes {f.qty('12.345')} minutes {f.money('0.05')} "
            f"{f.money('0.61725')}") in text
    assert f"Lines {f.money('0.61725')}" in text
    assert f"Rounding to USD's minor unit {f.money('0.00275')}" in text
    assert (f"Net {f.money('0.62')} VAT at {f.rate('20')} {f.money('0.12')} "
            f"Total {f.money('0.74')}") in text


def test_an_overage_at_two_rates_has_a_line_per_rate(desk, clock):
    agency(desk)
    usage.record_usage(desk, client="Zoë Café", resource="minutes", quantity="110")
    clock.set(datetime(2026, 1, 20, 9, tzinfo=UTC))
    clients.subscribe(desk, client="Zoë Café", plan="Voice Pro")  # new rate from now
    usage.record_usage(desk, client="Zoë Café", resource="minutes", quantity="20")
    clock.set(datetime(2026, 2, 1, 9, tzinfo=UTC))
    billing.run_rollover(desk)
    overage = next(p for p in billing.list_payments(desk) if p.type == "Overage")
    data = documents.invoice_data(desk, overage.id)
    lines = sorted((line.unit_price, line.quantity, line.amount) for line in data.lines)
    assert lines == [(D("0.035"), D("20"), D("0.7")), (D("0.05"), D("10"), D("0.5"))]
    assert data.subtotal == data.net == overage.amount == D("1.2")


def test_the_invoice_pdf_says_every_figure_of_the_request(desk, clock):
    agency(desk, rate="20")
    applied = wallet.apply_pack(desk, client="Zoë Café", pack="100 Minutes Pack",
                                status="pending")
    requests = {p.id: p for p in billing.list_payments(desk)}
    plan = next(p for p in requests.values() if p.type == "Plan")
    pack = requests[applied.payment_request_id]
    f = Figures()
    content = documents.invoice_pdf(desk, pack.id, locale="en_US")
    assert paper(content) == (612, 792)  # a US locale prints on Letter
    [text] = pages(content)
    for words in ("Northwind Telecom", "1 Quay Road Dublin 2", "billing@northwind.test",
                  "Tax ID: IE1234567T", "Bill to Zoë Café zoe@example.test",
                  f"Invoice number {pack.invoice_number}",
                  f"Issue date {f.day(date(2026, 1, 10))}",
                  f"Due date {f.day(pack.due_date)}", "Status Pending",
                  f"Add-on pack: 100 Minutes Pack {f.qty('100')} minutes {f.money('15.55')} "
                  f"{f.money('15.55')}",
                  f"Net {f.money(pack.net)} VAT at {f.rate('20')} {f.money(pack.tax)} "
                  f"Total {f.money(pack.amount)}", "Page 1 of 1"):
        assert words in text, words
    assert (pack.net, pack.tax, pack.amount) == (D("15.55"), D("3.11"), D("18.66"))

    billing.mark_paid(desk, request_id=plan.id)
    text = text_of(documents.invoice_pdf(desk, plan.id, locale="de_DE"))
    de = Figures(locale="de_DE")
    assert f"Plan fee: Voice 1 {de.money('30')} {de.money('30')}" in text
    assert f"Period {de.days(date(2026, 1, 10), date(2026, 1, 31))}" in text
    assert f"Status Paid on {de.day(date(2026, 1, 10))}" in text
    assert f"Total {de.money('36')}" in text and "36,00 €" not in text  # USD, German format
    assert paper(documents.invoice_pdf(desk, plan.id, locale="de_DE")) == (595, 842)

    clock.set(datetime(2026, 1, 13, 9, tzinfo=UTC))
    assert "Status Overdue" in text_of(documents.invoice_pdf(desk, pack.id, locale="en_US"))
    billing.mark_failed(desk, request_id=pack.id)
    assert "Status Failed" in text_of(documents.invoice_pdf(desk, pack.id, locale="en_US"))


@write_op
def _request_then_refuse(tx: Tx, client_id: int) -> None:
    journal = PendingWrites(tx)
    journal.payment_request(client_id=client_id, type="Plan", amount=D("1.00"),
                            created_at=tx.now, due=tx.now.date(), status="pending",
                            paid_at=None, reference="rolled back")
    journal.flush()
    raise RuntimeError("refused after the number was taken")


def test_numbers_are_never_reused_and_a_rollback_leaves_no_gap(desk, clock):
    agency(desk)
    client_id = clients.client_detail(desk, "Zoë Café").id
    with pytest.raises(RuntimeError):
        _request_then_refuse(desk, client_id)
    wallet.apply_pack(desk, client="Zoë Café", pack="Tiny", status="paid")
    settings.change_settings(desk, {"invoice.prefix": "NW/2026/"})
    wallet.apply_pack(desk, client="Zoë Café", pack="Tiny", status="paid")
    assert [p.invoice_number for p in by_number(desk)] == [
        "INV-000001", "INV-000002", "NW/2026/000003"]


def test_a_migrated_database_numbers_its_requests_in_creation_order(tmp_path: Path):
    """The saved 0003 database, upgraded by migration 0006: its requests numbered 1..N by
    creation time (ties by id), their amounts kept as their net, with no tax."""
    path = tmp_path / "old.db"
    shutil.copy(DATA / "quotadesk-0003.db", path)
    with closing(sqlite3.connect(path)) as conn, conn:  # the first request made last
        conn.execute("UPDATE payment_requests SET created_at = '2026-11-21 08:00:00.000000' "
                     "WHERE id = 1")
        before = dict(conn.execute("SELECT id, amount FROM payment_requests"))
    engine = make_engine(f"sqlite:///{path}")
    command.upgrade(alembic_config(engine), "0006")
    engine.dispose()
    with closing(sqlite3.connect(path)) as conn:
        rows = {r[0]: r[1:] for r in conn.execute(
            "SELECT id, invoice_seq, invoice_number, net, tax, tax_rate, tax_name, amount "
            "FROM payment_requests")}
        with pytest.raises(sqlite3.IntegrityError):  # the count is unique
            conn.execute("UPDATE payment_requests SET invoice_seq = 1 WHERE id = 3")
    assert {i: r[:2] for i, r in rows.items()} == {
        2: (1, "INV-000001"), 3: (2, "INV-000002"), 4: (3, "INV-000003"), 1: (4, "INV-000004")}
    for request_id, (_seq, _number, net, tax, rate, name, amount) in rows.items():
        assert (net, tax, rate, name, amount) == (before[request_id], "0", "0", "VAT",
                                                  before[request_id])


@pytest.mark.postgres
def test_the_numbering_migration_on_postgresql(postgres_databases):
    """0006 on a PostgreSQL database at 0005 with requests: numbered by creation time, the
    columns made NOT NULL and the count unique."""
    if postgres_databases is None:
        pytest.skip("no PostgreSQL server: set QUOTADESK_TEST_PG_URL (see .ci/postgres.sh)")
    name = f"quotadesk_mig_{uuid.uuid4().hex[:10]}"
    postgres_databases._sql(f'CREATE DATABASE "{name}"')
    postgres_databases.created.append(name)
    engine = make_engine(postgres_databases.url_of(name))
    try:
        config = alembic_config(engine)
        command.upgrade(config, "0005")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO clients (id, name, name_key, email, created_at) "
                              "VALUES (1, 'Zoë', 'zoë', NULL, '2026-01-01')"))
            for request_id, created in ((1, "2026-01-03"), (2, "2026-01-01"), (3, "2026-01-02")):
                conn.execute(text(
                    "INSERT INTO payment_requests (id, client_id, type, amount, created_at, "
                    "due_date, status, reference) VALUES (:id, 1, 'Plan', 12.5, :at, :day, "
                    "'pending', 'r')"), {"id": request_id, "at": created, "day": created})
            conn.execute(text("INSERT INTO settings (key, value) VALUES "
                              "('invoice.prefix', 'A-')"))
        command.upgrade(config, "0006")
        with engine.connect() as conn:
            rows = conn.execute(text(
                "SELECT id, invoice_seq, invoice_number, net, tax, tax_rate, tax_name, amount "
                "FROM payment_requests ORDER BY id")).all()
            nullable = dict(conn.execute(text(
                "SELECT column_name, is_nullable FROM information_schema.columns "
                "WHERE table_name = 'payment_requests'")).all())
        assert [(r[0], r[1], r[2]) for r in rows] == [
            (1, 3, "A-000003"), (2, 1, "A-000001"), (3, 2, "A-000002")]
        assert all((r[3], r[4], r[5], r[6]) == (D("12.5"), 0, 0, "VAT") for r in rows)
        assert all(r[3] == r[7] for r in rows)
        assert {nullable[c] for c in ("invoice_seq", "invoice_number", "net", "tax",
                                      "tax_rate", "tax_name")} == {"NO"}
        with pytest.raises(IntegrityError), engine.begin() as conn:
            conn.execute(text("UPDATE payment_requests SET invoice_seq = 1 WHERE id = 1"))
        command.downgrade(config, "0005")
        command.upgrade(config, "0006")
    finally:
        engine.dispose()


# -- the pure rules the documents use (no database) ----------------------------------------
@pytest.mark.parametrize(("net", "rate", "currency", "tax"), [
    ("30.00", "20", "USD", "6.00"),
    ("0.10", "25", "USD", "0.03"),  # 0.025: half-up, not half-even
    ("0.05", "7.5", "USD", "0.00"),  # 0.00375
    ("15.55", "7.5", "EUR", "1.17"),  # 1.16625
    ("999", "10", "JPY", "100"),  # 99.9: yen have no minor unit
    ("1.005", "7.5", "BHD", "0.075"),  # 0.075375: three places
    ("1000000000", "100", "USD", "1000000000.00"),
    ("12.34", "0", "USD", "0.00"),
    ("12.34", "19.2525", "USD", "2.38"),  # 2.3757585
])
def test_tax_is_half_up_to_the_minor_unit(net, rate, currency, tax):
    assert tax_on(D(net), D(rate), currency) == D(tax)
    assert str(tax_on(D(net), D(rate), currency)) == tax


def test_invoice_numbers_have_six_digits_at_least():
    assert invoice_number("INV-", 1) == "INV-000001"
    assert invoice_number("", 999_999) == "999999"
    assert invoice_number("NW/2026/", 1_234_567) == "NW/2026/1234567"


@pytest.mark.parametrize(("locale", "paper_name", "money"), [
    ("en_US", "Letter", "$1,234.50"), ("en_CA", "Letter", "US$1,234.50"),
    ("fr_FR", "A4", "1 234,50 $US"), ("de_DE", "A4", "1.234,50 $"), ("de", "A4", "1.234,50 $"),
    ("en_GB", "A4", "US$1,234.50"), ("C", "Letter", "$1,234.50"), ("", "Letter", "$1,234.50"),
    ("xx_YY", "Letter", "$1,234.50"),
])
def test_paper_and_money_follow_the_locale(locale, paper_name, money):
    assert paper_for(locale) == paper_name
    assert Figures(locale=locale or "en_US").money("1234.5") == money
    assert flat(DocumentText("USD", locale).money(D("1234.5"))) == money


def test_documents_are_made_on_several_threads_at_once(desk, clock):
    """The mail sender and the window make documents off the main thread (once the process
    has its Qt application): at once, each the same as one made alone."""
    agency(desk, rate="20")
    wallet.apply_pack(desk, client="Zoë Café", pack="100 Minutes Pack", status="paid")
    alone = [text_of(documents.invoice_pdf(desk, p.id, locale="en_US"))
             for p in by_number(desk)]
    with ThreadPoolExecutor(max_workers=4) as pool:
        made = list(pool.map(lambda n: text_of(documents.invoice_pdf(
            desk, by_number(desk)[n % 2].id, locale="en_US")), range(8)))
    assert made == [alone[n % 2] for n in range(8)]
