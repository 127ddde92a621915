"""SPEC §4 and §8 "Periods and time" — the period rollover, Plan and Overage requests,
calendar and anniversary anchors, time zones, against a real SQLite file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from quotadesk.models import Period, PeriodUsage
from quotadesk.services import billing, catalog, clients, reports, usage, wallet
from tests.conftest import new_desk
from tests.integration.test_rules_support import db_url  # noqa: F401 (fixture)

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
FEB_1 = datetime(2026, 2, 1, tzinfo=UTC)
MAR_1 = datetime(2026, 3, 1, tzinfo=UTC)
APR_1 = datetime(2026, 4, 1, tzinfo=UTC)
D = Decimal


def subscribed(desk, *, fee="49.00", included=None, overage=None, anchor="calendar",
               due_days=1, name="Acme"):
    catalog.add_plan(desk, name=f"Plan {name}", fee=fee, included=included or {},
                     overage=overage or {}, anchor=anchor, due_days=due_days)
    clients.add_client(desk, name=name)
    clients.subscribe(desk, client=name, plan=f"Plan {name}")


def periods(desk):
    with desk.database.session(write=False) as session:
        return [(p.start, p.end, p.closed_at) for p in
                session.scalars(select(Period).order_by(Period.start))]


def summary(desk, start, resource):
    with desk.database.session(write=False) as session:
        row = session.scalars(select(PeriodUsage).join(Period).where(
            Period.start == start, PeriodUsage.resource == resource)).one()
        return (row.included, row.included_used, row.wallet_used, row.overage_units,
                row.overage_amount, row.unserved)


def requests(desk, client="Acme", type=None):
    """(type, amount, created_at, due_date, status) oldest first."""
    return [(p.type, p.amount, p.created_at, p.due_date, p.status)
            for p in reversed(billing.list_payments(desk, client))
            if type is None or p.type == type]


# -- exactly once -------------------------------------------------------------------------
def test_rollover_closes_each_period_exactly_once_however_often_it_runs(desk, clock):
    subscribed(desk, included={"minutes": "100"}, overage={"minutes": "0.10"})
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="150")
    clock.set(FEB_1 + timedelta(hours=1))

    first = billing.run_rollover(desk)
    after_first = (periods(desk), requests(desk))
    second = billing.run_rollover(desk)

    assert (first.clients, first.periods_closed, first.payment_requests) == (1, 1, 2)
    assert (second.clients, second.periods_closed, second.payment_requests) == (0, 0, 0)
    assert (periods(desk), requests(desk)) == after_first
    assert periods(desk) == [(T0, FEB_1, FEB_1), (FEB_1, MAR_1, None)]
    assert requests(desk) == [
        ("Plan", D("49.00"), T0, date(2026, 1, 11), "pending"),
        ("Overage", D("5.00"), FEB_1, date(2026, 2, 2), "pending"),
        ("Plan", D("49.00"), FEB_1, date(2026, 2, 2), "pending"),
    ]
    assert reports.verify(desk).ok


def test_a_write_closes_the_clients_ended_periods_exactly_like_the_rollover(desk, clock):
    subscribed(desk, included={"minutes": "100"})
    clock.set(FEB_1 + timedelta(hours=1))

    usage.record_usage(desk, client="Acme", resource="minutes", quantity="1")
    assert billing.run_rollover(desk).periods_closed == 0

    assert periods(desk) == [(T0, FEB_1, FEB_1), (FEB_1, MAR_1, None)]
    assert [r[0] for r in requests(desk)] == ["Plan", "Plan"]
    assert summary(desk, FEB_1, "minutes")[1] == D(1)


def test_rollover_after_two_missed_periods_closes_both(desk, clock):
    subscribed(desk, included={"sms": "10"})
    clock.set(datetime(2026, 3, 5, 12, 0, tzinfo=UTC))

    result = billing.run_rollover(desk)

    assert (result.clients, result.periods_closed, result.payment_requests) == (1, 2, 2)
    assert periods(desk) == [(T0, FEB_1, FEB_1), (FEB_1, MAR_1, MAR_1), (MAR_1, APR_1, None)]
    assert requests(desk) == [
        ("Plan", D("49.00"), T0, date(2026, 1, 11), "pending"),
        ("Plan", D("49.00"), FEB_1, date(2026, 2, 2), "pending"),
        ("Plan", D("49.00"), MAR_1, date(2026, 3, 2), "pending"),
    ]
    assert billing.run_rollover(desk).periods_closed == 0
    assert reports.verify(desk).ok


def test_closing_a_period_keeps_its_usage_summary(desk, clock):
    subscribed(desk, included={"minutes": "10", "sms": "5"}, overage={"minutes": "0.5"})
    catalog.add_pack(desk, name="SMS", resource="sms", units="3", price="1.00")
    clients.assign_packs(desk, client="Acme", packs=["SMS"])
    wallet.apply_pack(desk, client="Acme", pack="SMS", status="paid", key="k")
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="12")
    usage.record_usage(desk, client="Acme", resource="sms", quantity="10")

    clock.set(FEB_1)
    billing.run_rollover(desk)

    assert summary(desk, T0, "minutes") == (D(10), D(10), D(0), D(2), D(1), D(0))
    assert summary(desk, T0, "sms") == (D(5), D(5), D(3), D(0), D(0), D(2))
    assert summary(desk, FEB_1, "minutes") == (D(10), D(0), D(0), D(0), D(0), D(0))
    assert summary(desk, FEB_1, "sms") == (D(5), D(0), D(0), D(0), D(0), D(0))


# -- the Overage request ------------------------------------------------------------------
def test_overage_request_sums_every_resource_exactly_and_rounds_once_half_up(desk, clock):
    # 1 minute × 0.005 + 1 sms × 0.005 = 0.010 → 0.01 (rounding per resource would give 0.02)
    subscribed(desk, fee="0", overage={"minutes": "0.005", "sms": "0.005"})
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="1")
    usage.record_usage(desk, client="Acme", resource="sms", quantity="1")

    clock.set(FEB_1)
    billing.run_rollover(desk)

    assert requests(desk) == [("Overage", D("0.01"), FEB_1, date(2026, 2, 2), "pending")]
    assert reports.verify(desk).ok


def test_overage_below_the_minor_unit_per_resource_is_still_billed_once_summed(desk, clock):
    # 0.004 + 0.004 = 0.008 → 0.01; per-resource rounding would give 0.00 + 0.00 = no request
    subscribed(desk, fee="0", overage={"minutes": "0.004", "email": "0.004"})
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="1")
    usage.record_usage(desk, client="Acme", resource="email", quantity="1")

    clock.set(FEB_1)
    billing.run_rollover(desk)

    assert requests(desk, type="Overage") == [
        ("Overage", D("0.01"), FEB_1, date(2026, 2, 2), "pending")]


def test_overage_request_rounds_half_up_not_half_even(desk, clock):
    subscribed(desk, fee="0", overage={"minutes": "0.125"})
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="1")  # 0.125

    clock.set(FEB_1)
    billing.run_rollover(desk)

    assert [r[1] for r in requests(desk, type="Overage")] == [D("0.13")]


def test_overage_request_is_due_at_the_period_end_date_plus_due_days(desk, clock):
    subscribed(desk, overage={"sms": "0.25"}, due_days=7)
    usage.record_usage(desk, client="Acme", resource="sms", quantity="9")   # 2.25

    clock.set(FEB_1 + timedelta(days=3))
    billing.run_rollover(desk)

    assert requests(desk, type="Overage") == [
        ("Overage", D("2.25"), FEB_1, date(2026, 2, 8), "pending")]


def test_no_overage_request_for_an_amount_that_rounds_to_zero(desk, clock):
    subscribed(desk, overage={"minutes": "0.004"})
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="1")  # 0.004

    clock.set(FEB_1)
    billing.run_rollover(desk)

    assert requests(desk, type="Overage") == []
    assert summary(desk, T0, "minutes")[4] == D("0.004")
    assert reports.verify(desk).ok


def test_no_overage_request_for_a_period_without_overage(desk, clock):
    subscribed(desk, included={"minutes": "100"}, overage={"minutes": "1"})
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="100")

    clock.set(FEB_1)
    billing.run_rollover(desk)

    assert [r[0] for r in requests(desk)] == ["Plan", "Plan"]


# -- the new period -----------------------------------------------------------------------
def test_new_period_starts_with_the_full_included_allowance(desk, clock):
    subscribed(desk, included={"minutes": "500", "sms": "200", "email": "1000"})
    for resource, quantity in (("minutes", "499.5"), ("sms", "200"), ("email", "1")):
        usage.record_usage(desk, client="Acme", resource=resource, quantity=quantity)

    clock.set(FEB_1)
    billing.run_rollover(desk)

    resources = clients.client_detail(desk, "Acme").resources
    assert {r: (u.included, u.included_used, u.included_left, u.unserved)
            for r, u in resources.items()} == {
        "minutes": (D(500), D(0), D(500), D(0)),
        "sms": (D(200), D(0), D(200), D(0)),
        "email": (D(1000), D(0), D(1000), D(0)),
    }
    sub = clients.client_detail(desk, "Acme").subscription
    assert (sub.period_start, sub.period_end) == (FEB_1, MAR_1)


def test_plan_request_is_due_at_period_start_plus_due_days(desk, clock):
    subscribed(desk, fee="20.00", due_days=10)

    clock.set(FEB_1)
    billing.run_rollover(desk)

    assert requests(desk) == [("Plan", D("20.00"), T0, date(2026, 1, 20), "pending"),
                              ("Plan", D("20.00"), FEB_1, date(2026, 2, 11), "pending")]


def test_no_plan_request_for_a_zero_fee(desk, clock):
    subscribed(desk, fee="0.00", included={"minutes": "10"})

    clock.set(FEB_1)
    result = billing.run_rollover(desk)

    assert (result.periods_closed, result.payment_requests) == (1, 0)
    assert requests(desk) == []


def test_first_period_mid_month_gets_the_full_allowance_and_fee(desk):
    subscribed(desk, fee="49.00", included={"minutes": "500"})   # subscribed on Jan 10

    detail = clients.client_detail(desk, "Acme")
    assert (detail.subscription.period_start, detail.subscription.period_end) == (T0, FEB_1)
    assert detail.resources["minutes"].included == D(500)
    assert detail.resources["minutes"].included_left == D(500)
    assert requests(desk) == [("Plan", D("49.00"), T0, date(2026, 1, 11), "pending")]
    assert usage.record_usage(desk, client="Acme", resource="minutes",
                              quantity="500").unserved == D(0)


# -- anchors and time zones ---------------------------------------------------------------
def test_calendar_periods_start_on_the_first_of_each_month(desk, clock):
    subscribed(desk, anchor="calendar")

    clock.set(datetime(2026, 4, 20, tzinfo=UTC))
    billing.run_rollover(desk)

    assert [(s, e) for s, e, _ in periods(desk)] == [
        (T0, FEB_1), (FEB_1, MAR_1), (MAR_1, APR_1),
        (APR_1, datetime(2026, 5, 1, tzinfo=UTC))]


def test_anniversary_periods_start_on_the_subscription_day_clamped_to_month_end(desk, clock):
    clock.set(datetime(2026, 1, 31, 14, 0, tzinfo=UTC))
    subscribed(desk, anchor="anniversary", fee="5.00", due_days=0)

    clock.set(datetime(2026, 5, 15, tzinfo=UTC))
    assert billing.run_rollover(desk).periods_closed == 3

    feb_28 = datetime(2026, 2, 28, tzinfo=UTC)
    mar_31 = datetime(2026, 3, 31, tzinfo=UTC)
    apr_30 = datetime(2026, 4, 30, tzinfo=UTC)
    may_31 = datetime(2026, 5, 31, tzinfo=UTC)
    assert periods(desk) == [
        (datetime(2026, 1, 31, 14, 0, tzinfo=UTC), feb_28, feb_28),
        (feb_28, mar_31, mar_31),
        (mar_31, apr_30, apr_30),
        (apr_30, may_31, None),
    ]
    assert [(r[2], r[3]) for r in requests(desk)] == [
        (datetime(2026, 1, 31, 14, 0, tzinfo=UTC), date(2026, 1, 31)),
        (feb_28, date(2026, 2, 28)), (mar_31, date(2026, 3, 31)), (apr_30, date(2026, 4, 30))]


def test_anniversary_periods_start_at_local_midnight_of_the_anniversary_day(desk, clock):
    clock.set(datetime(2026, 1, 15, 17, 45, tzinfo=UTC))
    subscribed(desk, anchor="anniversary")

    sub = clients.client_detail(desk, "Acme").subscription
    assert (sub.period_start, sub.period_end) == (
        datetime(2026, 1, 15, 17, 45, tzinfo=UTC), datetime(2026, 2, 15, tzinfo=UTC))


def test_period_boundaries_are_at_local_midnight_in_the_database_time_zone(tmp_path, clock):
    paris = new_desk(tmp_path / "paris.db", clock, timezone="Europe/Paris")
    try:
        catalog.add_plan(paris, name="Voice", fee="10.00", included={"minutes": "100"},
                         due_days=1)
        clients.add_client(paris, name="Acme")
        clients.subscribe(paris, client="Acme", plan="Voice")
        feb_1_paris = datetime(2026, 1, 31, 23, 0, tzinfo=UTC)     # Feb 1 00:00 CET
        mar_1_paris = datetime(2026, 2, 28, 23, 0, tzinfo=UTC)     # Mar 1 00:00 CET
        apr_1_paris = datetime(2026, 3, 31, 22, 0, tzinfo=UTC)     # Apr 1 00:00 CEST
        sub = clients.client_detail(paris, "Acme").subscription
        assert (sub.period_start, sub.period_end) == (T0, feb_1_paris)

        clock.set(feb_1_paris - timedelta(seconds=1))
        last = usage.record_usage(paris, client="Acme", resource="minutes", quantity="30")
        assert last.late is False
        assert billing.run_rollover(paris).periods_closed == 0

        clock.set(feb_1_paris)
        assert billing.run_rollover(paris).periods_closed == 1
        clock.set(apr_1_paris + timedelta(minutes=1))
        assert billing.run_rollover(paris).periods_closed == 2

        assert [(s, e) for s, e, _ in periods(paris)] == [
            (T0, feb_1_paris), (feb_1_paris, mar_1_paris), (mar_1_paris, apr_1_paris),
            (apr_1_paris, datetime(2026, 4, 30, 22, 0, tzinfo=UTC))]
        assert summary(paris, T0, "minutes")[1] == D(30)
        assert [(r[2], r[3]) for r in requests(paris)] == [
            (T0, date(2026, 1, 11)), (feb_1_paris, date(2026, 2, 2)),
            (mar_1_paris, date(2026, 3, 2)), (apr_1_paris, date(2026, 4, 2))]
        assert reports.verify(paris).ok
    finally:
        paris.close()


def test_a_period_is_half_open_usage_at_its_end_belongs_to_the_next_period(desk, clock):
    subscribed(desk, included={"sms": "100"})

    clock.set(FEB_1 - timedelta(microseconds=1))
    usage.record_usage(desk, client="Acme", resource="sms", quantity="5")
    clock.set(FEB_1)
    at_end = usage.record_usage(desk, client="Acme", resource="sms", quantity="7")

    assert at_end.late is False
    assert periods(desk) == [(T0, FEB_1, FEB_1), (FEB_1, MAR_1, None)]
    assert summary(desk, T0, "sms")[1] == D(5)
    assert summary(desk, FEB_1, "sms")[1] == D(7)
