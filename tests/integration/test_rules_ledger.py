"""SPEC §1 "ledger" — append-only movements; every balance equals the sum of the ledger, and
`verify` recomputes and reports what disagrees."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from quotadesk.models import Period
from quotadesk.services import billing, catalog, clients, reports, usage, wallet
from tests.integration.test_rules_support import (  # noqa: F401 (db_url: fixture)
    db_url,
    read_rows,
    table_dump,
)

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
D = Decimal
SIGN = {"credit": 1, "consume": -1, "expire": -1, "revoke": -1}


def busy_client(desk, clock):
    """Credits, consumption over several lots, a revoke and an expiry, across periods."""
    catalog.add_plan(desk, name="Mixed", fee="10.00", included={"minutes": "10", "sms": "10"},
                     overage={"minutes": "0.05"})
    catalog.add_pack(desk, name="Minutes", resource="minutes", units="100", price="9.00")
    catalog.add_pack(desk, name="SMS year", resource="sms", units="50", price="4.00",
                     expires_months=12)
    catalog.add_pack(desk, name="SMS month", resource="sms", units="20", price="2.00",
                     expires_months=1)
    clients.add_client(desk, name="Acme", email="ops@acme.test")
    clients.subscribe(desk, client="Acme", plan="Mixed")
    clients.assign_packs(desk, client="Acme", packs=["Minutes", "SMS year", "SMS month"])
    lots = {}
    lots["minutes"] = wallet.apply_pack(desk, client="Acme", pack="Minutes", status="paid",
                                        key="m").lot_id
    lots["year"] = wallet.apply_pack(desk, client="Acme", pack="SMS year", status="pending",
                                     key="y").lot_id
    lots["month"] = wallet.apply_pack(desk, client="Acme", pack="SMS month", status="pending",
                                      key="mo").lot_id
    clock.advance(hours=1)
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="42.5")
    usage.record_usage(desk, client="Acme", resource="sms", quantity="25")     # 10 + 15 month
    clock.advance(hours=1)
    lots["revoked"] = wallet.apply_pack(desk, client="Acme", pack="Minutes", status="pending",
                                        key="m2").lot_id
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="100")
    wallet.revoke_lot(desk, lot_id=lots["revoked"], reason="payment failed")
    clock.set(datetime(2026, 3, 2, tzinfo=UTC))   # the month lot expired on Feb 10
    billing.run_rollover(desk)
    usage.record_usage(desk, client="Acme", resource="sms", quantity="12")
    return lots


def test_every_balance_equals_the_sum_of_the_ledger(desk, clock):
    lots = busy_client(desk, clock)

    ledger = wallet.ledger(desk, "Acme")
    by_lot: dict[int, Decimal] = defaultdict(lambda: D(0))
    by_resource: dict[str, Decimal] = defaultdict(lambda: D(0))
    for row in ledger:
        by_lot[row.lot_id] += SIGN[row.kind] * row.units
        by_resource[row.resource] += SIGN[row.kind] * row.units
    detail = clients.client_detail(desk, "Acme")

    assert {lot.id: lot.remaining for lot in detail.lots} == dict(by_lot)
    assert {r: u.wallet for r, u in detail.resources.items()} == {
        "minutes": by_resource["minutes"], "sms": by_resource["sms"], "email": D(0)}
    assert dict(by_lot) == {lots["minutes"]: D(0), lots["year"]: D(48),
                            lots["month"]: D(0), lots["revoked"]: D(0)}
    assert {r: u.wallet for r, u in detail.resources.items()} == {
        "minutes": D(0), "sms": D(48), "email": D(0)}
    assert clients.list_clients(desk)[0].wallet == {"sms": D(48)}
    assert reports.agency_totals(desk).wallet == {"minutes": D(0), "sms": D(48), "email": D(0)}
    assert sorted((r.kind, r.lot_id, r.units) for r in ledger) == sorted([
        ("credit", lots["minutes"], D(100)), ("credit", lots["year"], D(50)),
        ("credit", lots["month"], D(20)), ("credit", lots["revoked"], D(100)),
        ("consume", lots["minutes"], D("32.5")), ("consume", lots["month"], D(15)),
        ("consume", lots["minutes"], D("67.5")), ("consume", lots["revoked"], D("32.5")),
        ("revoke", lots["revoked"], D("67.5")), ("expire", lots["month"], D(5)),
        ("consume", lots["year"], D(2)),
    ])
    report = reports.verify(desk)
    assert report.ok, report.problems
    assert report.checked["lots"] == 4


def test_ledger_rows_cannot_be_updated_the_database_refuses(desk, clock):
    busy_client(desk, clock)
    before = table_dump(desk)

    with pytest.raises(DBAPIError, match="append-only"), desk.database.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET units = 1000"))
    with pytest.raises(DBAPIError, match="append-only"), desk.database.engine.begin() as conn:
        conn.execute(text("UPDATE ledger_entries SET reason = 'edited' "
                          "WHERE kind = 'revoke'"))

    assert table_dump(desk) == before
    assert reports.verify(desk).ok


def test_ledger_rows_cannot_be_deleted_the_database_refuses(desk, clock):
    busy_client(desk, clock)
    before = table_dump(desk)

    with pytest.raises(DBAPIError, match="append-only"), desk.database.engine.begin() as conn:
        conn.execute(text("DELETE FROM ledger_entries WHERE kind = 'consume'"))

    assert table_dump(desk) == before


def test_a_correction_is_a_new_ledger_row(desk, clock):
    catalog.add_plan(desk, name="Voice", fee="1.00")
    catalog.add_pack(desk, name="Minutes", resource="minutes", units="100", price="9.00")
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Voice")
    clients.assign_packs(desk, client="Acme", packs=["Minutes"])
    lot = wallet.apply_pack(desk, client="Acme", pack="Minutes", status="pending",
                            key="k").lot_id
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="40")
    before = wallet.ledger(desk, "Acme")
    clock.advance(minutes=5)

    wallet.revoke_lot(desk, lot_id=lot, reason="wrong client")

    after = wallet.ledger(desk, "Acme")
    assert after[1:] == before                       # earlier rows untouched
    newest = after[0]
    assert (newest.kind, newest.lot_id, newest.units, newest.reason, newest.at) == (
        "revoke", lot, D(60), "wrong client", T0 + timedelta(minutes=5))
    assert newest.id > max(r.id for r in before)


def test_verify_detects_a_tampered_lot_remaining(desk, clock):
    lots = busy_client(desk, clock)
    assert reports.verify(desk).ok

    with desk.database.engine.begin() as conn:
        conn.execute(text("UPDATE wallet_lots SET remaining = 7 WHERE id = :id"),
                     {"id": lots["year"]})

    report = reports.verify(desk)
    assert report.ok is False
    (problem,) = report.problems
    assert f"lot {lots['year']}" in problem
    assert "7" in problem and "48" in problem      # what it holds, what the ledger says
    assert clients.client_detail(desk, "Acme").resources["sms"].wallet == D(7)


def test_verify_detects_a_tampered_period_counter(desk, clock):
    busy_client(desk, clock)

    (period_id,) = [p.id for p in read_rows(desk, Period, Period.closed_at.is_(None))]

    with desk.database.engine.begin() as conn:
        conn.execute(text("UPDATE period_usage SET unserved = 3 "
                          "WHERE resource = 'email' AND period_id = :id"), {"id": period_id})

    report = reports.verify(desk)
    assert report.ok is False
    (problem,) = report.problems
    assert f"period {period_id}" in problem
    assert "email" in problem and "unserved" in problem
