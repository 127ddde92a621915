"""SPEC §2 — usage events and the order of consumption, against a real SQLite file.

Each test is one rule: included allowance first, then wallet lots (soonest expiry first,
never-expiring last, ties oldest applied first), then overage or unserved; the split is recorded
on the event; late usage is charged to the current period; future usage and usage without an
active subscription are refused; a repeated event id changes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from quotadesk.models import LedgerEntry, Period, PeriodUsage, UsageEvent, WalletLot
from quotadesk.services import billing, catalog, clients, reports, usage, wallet
from quotadesk.services.errors import FutureUsage, NoActiveSubscription
from tests.integration.test_rules_support import db_url, table_dump  # noqa: F401 (db_url: fixture)

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)  # the `clock` fixture's starting moment
D = Decimal


# -- helpers ------------------------------------------------------------------------------
def subscribed(desk, *, included=None, overage=None, name="Acme", plan="Voice", fee="10.00"):
    catalog.add_plan(desk, name=plan, fee=fee, included=included or {}, overage=overage or {})
    clients.add_client(desk, name=name, email="ops@acme.test")
    clients.subscribe(desk, client=name, plan=plan)


def give_pack(desk, *, pack, units, resource="minutes", months=None, client="Acme",
              price="5.00", key=None):
    """Create (once), assign and apply a pack; return the new lot id."""
    if pack not in {p.name for p in catalog.list_packs(desk)}:
        catalog.add_pack(desk, name=pack, resource=resource, units=units, price=price,
                         expires_months=months)
    clients.assign_packs(desk, client=client, packs=[pack])
    return wallet.apply_pack(desk, client=client, pack=pack, status="paid",
                             key=key or f"{pack}-{units}").lot_id


def rows(desk, model, *where, order=None):
    with desk.database.session(write=False) as session:
        query = select(model).where(*where)
        if order is not None:
            query = query.order_by(order)
        return list(session.scalars(query))


def events(desk):
    return rows(desk, UsageEvent, order=UsageEvent.id)


def consumes(desk):
    return [(e.lot_id, e.units, e.usage_event_id) for e in rows(
        desk, LedgerEntry, LedgerEntry.kind == "consume", order=LedgerEntry.id)]


def open_period(desk):
    (period,) = rows(desk, Period, Period.closed_at.is_(None))
    return period


def counters(desk, period_id, resource):
    (row,) = rows(desk, PeriodUsage, PeriodUsage.period_id == period_id,
                  PeriodUsage.resource == resource)
    return row




def split_of(event):
    return (event.included, event.wallet, event.overage_units, event.overage_amount,
            event.unserved)


# -- 1. included allowance first ----------------------------------------------------------
def test_usage_draws_included_allowance_before_the_wallet(desk):
    subscribed(desk, included={"minutes": "100"})
    lot_id = give_pack(desk, pack="Wallet 50", units="50")

    result = usage.record_usage(desk, client="Acme", resource="minutes", quantity="30")

    assert (result.included, result.wallet, result.overage_units, result.unserved) == (
        D(30), D(0), D(0), D(0))
    assert result.duplicate is False and result.late is False and result.blocked is False
    minutes = clients.client_detail(desk, "Acme").resources["minutes"]
    assert (minutes.included_used, minutes.included_left, minutes.wallet) == (D(30), D(70), D(50))
    assert rows(desk, WalletLot)[0].remaining == D(50)
    assert consumes(desk) == []
    assert [e.kind for e in wallet.ledger(desk, "Acme")] == ["credit"]
    assert lot_id == rows(desk, WalletLot)[0].id
    assert reports.verify(desk).ok


# -- 2. wallet lots after the included allowance -----------------------------------------
def test_usage_draws_wallet_after_included_allowance_is_exhausted(desk):
    subscribed(desk, included={"minutes": "100"})
    lot_id = give_pack(desk, pack="Wallet 50", units="50")

    result = usage.record_usage(desk, client="Acme", resource="minutes", quantity="120")

    assert (result.included, result.wallet, result.overage_units, result.unserved) == (
        D(100), D(20), D(0), D(0))
    minutes = clients.client_detail(desk, "Acme").resources["minutes"]
    assert (minutes.included_used, minutes.included_left, minutes.wallet) == (D(100), D(0), D(30))
    (event,) = events(desk)
    assert consumes(desk) == [(lot_id, D(20), event.id)]
    assert wallet.ledger(desk, "Acme")[0].kind == "consume"
    assert wallet.ledger(desk, "Acme")[0].units == D(20)
    assert counters(desk, open_period(desk).id, "minutes").wallet_used == D(20)
    assert reports.verify(desk).ok


def test_wallet_lots_soonest_expiry_first_never_expiring_last(desk, clock):
    subscribed(desk, overage={"minutes": "1"})  # no allowance: everything comes from lots
    never = give_pack(desk, pack="Never", units="10")                # applied first
    clock.advance(hours=1)
    twelve = give_pack(desk, pack="Twelve", units="10", months=12)   # expires 2027-01-10
    clock.advance(hours=1)
    six = give_pack(desk, pack="Six", units="10", months=6)          # expires 2026-07-10
    clock.advance(hours=1)

    first = usage.record_usage(desk, client="Acme", resource="minutes", quantity="8")
    second = usage.record_usage(desk, client="Acme", resource="minutes", quantity="8")
    third = usage.record_usage(desk, client="Acme", resource="minutes", quantity="8")

    e1, e2, e3 = events(desk)
    assert consumes(desk) == [
        (six, D(8), e1.id),
        (six, D(2), e2.id), (twelve, D(6), e2.id),
        (twelve, D(4), e3.id), (never, D(4), e3.id),
    ]
    assert (first.wallet, second.wallet, third.wallet) == (D(8), D(8), D(8))
    remaining = {lot.id: lot.remaining for lot in rows(desk, WalletLot)}
    assert remaining == {never: D(6), twelve: D(0), six: D(0)}
    assert clients.client_detail(desk, "Acme").resources["minutes"].wallet == D(6)
    assert reports.verify(desk).ok


def test_wallet_lots_with_equal_expiry_draw_oldest_applied_first(desk, clock):
    subscribed(desk, overage={"minutes": "1"})
    catalog.add_pack(desk, name="Twelve", resource="minutes", units="10", price="5.00",
                     expires_months=12)
    catalog.add_pack(desk, name="Six", resource="minutes", units="10", price="5.00",
                     expires_months=6)
    clients.assign_packs(desk, client="Acme", packs=["Twelve", "Six"])
    older = wallet.apply_pack(desk, client="Acme", pack="Twelve", status="paid",
                              key="k1").lot_id          # 2026-01-10 09:00 + 12 months
    clock.set(datetime(2026, 7, 10, 9, 0, tzinfo=UTC))
    newer = wallet.apply_pack(desk, client="Acme", pack="Six", status="paid",
                              key="k2").lot_id          # 2026-07-10 09:00 + 6 months
    expiries = {lot.id: lot.expires_at for lot in rows(desk, WalletLot)}
    assert expiries[older] == expiries[newer] == datetime(2027, 1, 10, 9, 0, tzinfo=UTC)

    usage.record_usage(desk, client="Acme", resource="minutes", quantity="12")

    (event,) = events(desk)
    assert consumes(desk) == [(older, D(10), event.id), (newer, D(2), event.id)]
    assert reports.verify(desk).ok


def test_never_expiring_lots_tie_broken_by_oldest_applied_first(desk, clock):
    subscribed(desk, overage={"minutes": "1"})
    first = give_pack(desk, pack="Never A", units="10")
    clock.advance(minutes=5)
    second = give_pack(desk, pack="Never B", units="10")

    usage.record_usage(desk, client="Acme", resource="minutes", quantity="15")

    (event,) = events(desk)
    assert consumes(desk) == [(first, D(10), event.id), (second, D(5), event.id)]
    assert {lot.id: lot.remaining for lot in rows(desk, WalletLot)} == {first: D(0), second: D(5)}


def test_one_event_draws_from_several_lots(desk, clock):
    subscribed(desk, included={"sms": "5"})
    a = give_pack(desk, pack="SMS A", units="3", resource="sms")
    clock.advance(minutes=1)
    b = give_pack(desk, pack="SMS B", units="3", resource="sms")
    clock.advance(minutes=1)
    c = give_pack(desk, pack="SMS C", units="3", resource="sms")

    result = usage.record_usage(desk, client="Acme", resource="sms", quantity="12",
                                event_id="sms-1")

    assert (result.included, result.wallet, result.unserved) == (D(5), D(7), D(0))
    (event,) = events(desk)
    assert event.wallet == D(7)
    assert consumes(desk) == [(a, D(3), event.id), (b, D(3), event.id), (c, D(1), event.id)]
    ledger = wallet.ledger(desk, "Acme")
    assert sorted((r.lot_id, r.units) for r in ledger if r.kind == "consume") == [
        (a, D(3)), (b, D(3)), (c, D(1))]
    assert clients.client_detail(desk, "Acme").resources["sms"].wallet == D(2)
    assert reports.verify(desk).ok


# -- 3. overage ---------------------------------------------------------------------------
def test_overage_is_exact_units_times_rate(desk):
    subscribed(desk, included={"minutes": "10"}, overage={"minutes": "0.0125"})

    result = usage.record_usage(desk, client="Acme", resource="minutes", quantity="12.5")

    assert (result.included, result.wallet, result.overage_units, result.overage_amount,
            result.unserved) == (D(10), D(0), D("2.5"), D("0.03125"), D(0))
    assert result.blocked is False
    minutes = clients.client_detail(desk, "Acme").resources["minutes"]
    assert (minutes.overage_units, minutes.overage_amount) == (D("2.5"), D("0.03125"))
    (event,) = events(desk)
    assert split_of(event) == (D(10), D(0), D("2.5"), D("0.03125"), D(0))
    # nothing is billed (or rounded) before the period closes
    assert [p.type for p in billing.list_payments(desk, "Acme")] == ["Plan"]
    assert reports.verify(desk).ok


def test_overage_rate_of_zero_is_a_rate_and_never_blocks(desk, clock):
    subscribed(desk, included={"minutes": "10"}, overage={"minutes": "0"})
    campaign = clients.add_campaign(desk, client="Acme", name="Calls", resource="minutes")

    result = usage.record_usage(desk, client="Acme", resource="minutes", quantity="15")

    assert (result.included, result.overage_units, result.overage_amount, result.unserved) == (
        D(10), D(5), D(0), D(0))
    assert result.blocked is False
    detail = clients.client_detail(desk, "Acme")
    assert detail.blocked == ()
    assert detail.resources["minutes"].unserved == D(0)
    assert detail.campaigns[0].id == campaign.id and detail.campaigns[0].status == "running"
    assert [a.kind for a in billing.list_alerts(desk, "Acme")
            if a.kind == "blocked"] == []
    clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    billing.run_rollover(desk)
    assert [p.type for p in billing.list_payments(desk, "Acme")] == ["Plan", "Plan"]
    assert reports.verify(desk).ok



def test_overage_amount_is_exact_even_for_the_largest_quantity_and_rate(desk):
    subscribed(desk, overage={"minutes": "999999999.999999"})

    result = usage.record_usage(desk, client="Acme", resource="minutes",
                                quantity="999999999.999999")

    exact = D("999999999999998000.000000000001")   # 999999999.999999² to the last digit
    assert result.overage_amount == exact
    (event,) = events(desk)
    assert event.overage_amount == exact
    assert clients.client_detail(desk, "Acme").resources["minutes"].overage_amount == exact

# -- 4. unserved --------------------------------------------------------------------------
def test_rest_without_overage_rate_is_unserved_and_blocks_the_resource(desk):
    subscribed(desk, included={"minutes": "10"})

    result = usage.record_usage(desk, client="Acme", resource="minutes", quantity="14")
    assert (result.included, result.wallet, result.overage_units, result.unserved) == (
        D(10), D(0), D(0), D(4))
    assert result.blocked is True
    later = usage.record_usage(desk, client="Acme", resource="minutes", quantity="3")
    assert (later.included, later.unserved, later.blocked) == (D(0), D(3), True)

    detail = clients.client_detail(desk, "Acme")
    assert detail.blocked == ("minutes",)
    assert detail.resources["minutes"].unserved == D(7)
    assert detail.resources["minutes"].blocked is True
    assert [split_of(e) for e in events(desk)] == [
        (D(10), D(0), D(0), D(0), D(4)), (D(0), D(0), D(0), D(0), D(3))]
    assert [c.blocked for c in clients.list_clients(desk)] == [("minutes",)]
    assert reports.verify(desk).ok


def test_split_is_recorded_on_the_event(desk):
    subscribed(desk, included={"minutes": "10"}, overage={"minutes": "0.5"})
    lot_id = give_pack(desk, pack="Five", units="5")

    result = usage.record_usage(desk, client="Acme", resource="minutes", quantity="20",
                                event_id="call-1")

    (event,) = events(desk)
    assert event.id == result.id
    assert event.event_id == "call-1"
    assert (event.resource, event.quantity, event.occurred_at) == ("minutes", D(20), T0)
    assert event.period_id == open_period(desk).id
    assert event.late is False
    assert split_of(event) == (D(10), D(5), D(5), D("2.5"), D(0))
    assert (result.included, result.wallet, result.overage_units, result.overage_amount,
            result.unserved) == split_of(event)
    assert consumes(desk) == [(lot_id, D(5), event.id)]
    c = counters(desk, event.period_id, "minutes")
    assert (c.included_used, c.wallet_used, c.overage_units, c.overage_amount, c.unserved) == (
        D(10), D(5), D(5), D("2.5"), D(0))
    assert reports.verify(desk).ok


def test_fractional_minutes_are_split_exactly(desk):
    subscribed(desk, included={"minutes": "1"}, overage={"minutes": "0.1"})

    result = usage.record_usage(desk, client="Acme", resource="minutes", quantity="1.333333")

    assert (result.included, result.overage_units, result.overage_amount) == (
        D(1), D("0.333333"), D("0.0333333"))
    (event,) = events(desk)
    assert event.quantity == D("1.333333")
    assert split_of(event) == (D(1), D(0), D("0.333333"), D("0.0333333"), D(0))


# -- late and future usage ----------------------------------------------------------------
def test_late_usage_is_charged_to_the_current_period_and_marked_late(desk, clock):
    subscribed(desk, included={"minutes": "100"})
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="10")
    clock.set(datetime(2026, 2, 3, 12, 0, tzinfo=UTC))
    billing.run_rollover(desk)
    january, february = rows(desk, Period, order=Period.start)
    assert february.start == datetime(2026, 2, 1, tzinfo=UTC)

    late_at = datetime(2026, 1, 20, 8, 0, tzinfo=UTC)
    result = usage.record_usage(desk, client="Acme", resource="minutes", quantity="7",
                                at=late_at, event_id="late-1")

    assert result.late is True
    assert result.included == D(7)
    event = events(desk)[-1]
    assert (event.event_id, event.occurred_at, event.late, event.period_id) == (
        "late-1", late_at, True, february.id)
    assert counters(desk, february.id, "minutes").included_used == D(7)
    assert counters(desk, january.id, "minutes").included_used == D(10)  # closed summary intact
    minutes = clients.client_detail(desk, "Acme").resources["minutes"]
    assert (minutes.included_used, minutes.included_left) == (D(7), D(93))
    assert reports.verify(desk).ok


def test_usage_before_subscription_start_is_late_in_the_first_period(desk):
    subscribed(desk, included={"minutes": "100"})

    result = usage.record_usage(desk, client="Acme", resource="minutes", quantity="2",
                                at=T0 - timedelta(days=3))

    assert result.late is True
    (event,) = events(desk)
    assert event.late is True and event.period_id == open_period(desk).id


def test_usage_dated_in_the_future_is_refused(desk):
    subscribed(desk, included={"minutes": "100"})
    before = table_dump(desk)

    with pytest.raises(FutureUsage) as refused:
        usage.record_usage(desk, client="Acme", resource="minutes", quantity="1",
                           at=T0 + timedelta(seconds=1), event_id="future-1")

    assert refused.value.field == "occurred_at"
    assert table_dump(desk) == before
    assert events(desk) == []
    # the id was not seen: the corrected event records
    assert usage.record_usage(desk, client="Acme", resource="minutes", quantity="1",
                              at=T0, event_id="future-1").duplicate is False


def test_usage_without_an_active_subscription_is_refused(desk):
    catalog.add_plan(desk, name="Voice", fee="10.00", included={"minutes": "100"})
    clients.add_client(desk, name="Acme")
    before = table_dump(desk)

    with pytest.raises(NoActiveSubscription) as refused:
        usage.record_usage(desk, client="Acme", resource="minutes", quantity="1",
                           event_id="e-1")

    assert refused.value.field == "subscription"
    assert table_dump(desk) == before
    # a refused event is not "seen": once subscribed, the same id records
    clients.subscribe(desk, client="Acme", plan="Voice")
    result = usage.record_usage(desk, client="Acme", resource="minutes", quantity="1",
                                event_id="e-1")
    assert result.duplicate is False and result.included == D(1)


# -- duplicates ---------------------------------------------------------------------------
def test_duplicate_event_id_is_ignored_and_changes_nothing(desk, clock):
    subscribed(desk, included={"minutes": "10"})
    give_pack(desk, pack="Five", units="5")
    first = usage.record_usage(desk, client="Acme", resource="minutes", quantity="12",
                               event_id="call-7")
    assert first.duplicate is False
    before_dump = table_dump(desk)
    before_detail = clients.client_detail(desk, "Acme")

    clock.advance(minutes=3)
    again = usage.record_usage(desk, client="Acme", resource="minutes", quantity="99",
                               event_id="call-7")

    assert again.duplicate is True
    assert again.id is None
    assert (again.included, again.wallet, again.overage_units, again.unserved) == (
        D(0), D(0), D(0), D(0))
    assert table_dump(desk) == before_dump
    assert clients.client_detail(desk, "Acme") == before_detail
    assert len(events(desk)) == 1


def test_importing_the_same_usage_file_twice_changes_nothing(desk, tmp_path):
    subscribed(desk, included={"sms": "100"})
    export = tmp_path / "usage.csv"
    export.write_text(
        "event_id,client,resource,quantity,occurred_at\n"
        "u-1,Acme,sms,10,2026-01-10T08:00:00\n"
        "u-2,acme,sms,5,2026-01-10T08:30:00\n"
        "u-3,Acme,sms,1,2026-01-10T08:45:00\n", encoding="utf-8")

    first = usage.import_usage(desk, export)
    assert (first.recorded, first.duplicates, first.rejected) == (3, 0, ())
    after_first = table_dump(desk)
    second = usage.import_usage(desk, export)

    assert (second.recorded, second.duplicates, second.rejected) == (0, 3, ())
    assert table_dump(desk) == after_first
    assert clients.client_detail(desk, "Acme").resources["sms"].included_used == D(16)
    assert reports.verify(desk).ok
