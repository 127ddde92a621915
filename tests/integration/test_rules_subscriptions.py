"""SPEC §8 "Subscriptions" — re-subscribing, plan snapshots, cancelling; against SQLite."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from quotadesk.models import Period
from quotadesk.services import billing, catalog, clients, reports, usage, wallet
from quotadesk.services.errors import AddonsDisabled, NoActiveSubscription
from tests.integration.test_rules_support import db_url, table_dump  # noqa: F401 (db_url: fixture)

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
JAN_20 = datetime(2026, 1, 20, 12, 0, tzinfo=UTC)
FEB_1 = datetime(2026, 2, 1, tzinfo=UTC)
MAR_1 = datetime(2026, 3, 1, tzinfo=UTC)
D = Decimal


def plans(desk):
    catalog.add_plan(desk, name="Small", fee="10.00", included={"minutes": "100"},
                     addons=False, due_days=1)
    catalog.add_plan(desk, name="Large", fee="30.00", included={"minutes": "300"},
                     overage={"minutes": "0.10"}, addons=True, due_days=5)
    catalog.add_pack(desk, name="Top-up", resource="minutes", units="50", price="5.00")


def requests(desk, client="Acme", type=None):
    return [(p.type, p.amount, p.created_at, p.due_date) for p in
            reversed(billing.list_payments(desk, client)) if type is None or p.type == type]


def periods(desk):
    with desk.database.session(write=False) as session:
        return [(p.start, p.end, p.closed_at) for p in
                session.scalars(select(Period).order_by(Period.start))]




# -- re-subscribing -----------------------------------------------------------------------
def test_resubscribe_mid_period_keeps_the_usage_so_far(desk, clock):
    plans(desk)
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Small")
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="60")
    clock.set(JAN_20)

    info = clients.subscribe(desk, client="Acme", plan="Large")

    assert (info.plan, info.status, info.period_start, info.period_end) == (
        "Large", "active", T0, FEB_1)
    minutes = clients.client_detail(desk, "Acme").resources["minutes"]
    assert (minutes.included, minutes.included_used, minutes.included_left) == (
        D(300), D(60), D(240))
    assert periods(desk) == [(T0, FEB_1, None)]
    assert reports.verify(desk).ok


def test_resubscribe_applies_the_new_terms_at_once(desk, clock):
    plans(desk)
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Small")
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="100")
    with pytest.raises(AddonsDisabled):
        clients.assign_packs(desk, client="Acme", packs=["Top-up"])   # Small: add-ons off
    clock.set(JAN_20)

    clients.subscribe(desk, client="Acme", plan="Large")

    sub = clients.client_detail(desk, "Acme").subscription
    assert (sub.fee, sub.addons, sub.due_days, sub.overage["minutes"]) == (
        D("30.00"), True, 5, D("0.10"))
    assert [p.name for p in clients.assign_packs(desk, client="Acme", packs=["Top-up"])] == [
        "Top-up"]
    applied = wallet.apply_pack(desk, client="Acme", pack="Top-up", status="pending", key="k")
    (pack_request,) = [p for p in billing.list_payments(desk, "Acme") if p.type == "Pack"]
    assert pack_request.id == applied.payment_request_id
    assert pack_request.due_date == date(2026, 1, 25)          # the new due days: 5
    result = usage.record_usage(desk, client="Acme", resource="minutes", quantity="260")
    assert (result.included, result.wallet, result.overage_units, result.overage_amount) == (
        D(200), D(50), D(10), D("1.0"))
    assert result.blocked is False
    assert reports.verify(desk).ok


def test_resubscribe_requests_the_new_fee_first_at_the_next_period(desk, clock):
    plans(desk)
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Small")
    clock.set(JAN_20)

    clients.subscribe(desk, client="Acme", plan="Large")
    assert requests(desk) == [("Plan", D("10.00"), T0, date(2026, 1, 11))]

    clock.set(FEB_1)
    billing.run_rollover(desk)
    assert requests(desk) == [("Plan", D("10.00"), T0, date(2026, 1, 11)),
                              ("Plan", D("30.00"), FEB_1, date(2026, 2, 6))]
    minutes = clients.client_detail(desk, "Acme").resources["minutes"]
    assert (minutes.included, minutes.included_left) == (D(300), D(300))


def test_resubscribe_to_another_anchor_takes_effect_from_the_next_period(desk, clock):
    plans(desk)
    catalog.add_plan(desk, name="Anniversary", fee="10.00", included={"minutes": "100"},
                     anchor="anniversary")
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Small")          # calendar
    clock.set(JAN_20)

    clients.subscribe(desk, client="Acme", plan="Anniversary")    # day 20
    assert clients.client_detail(desk, "Acme").subscription.period_end == FEB_1

    clock.set(datetime(2026, 3, 25, tzinfo=UTC))
    billing.run_rollover(desk)
    feb_20 = datetime(2026, 2, 20, tzinfo=UTC)
    mar_20 = datetime(2026, 3, 20, tzinfo=UTC)
    assert periods(desk) == [(T0, FEB_1, FEB_1), (FEB_1, feb_20, feb_20),
                             (feb_20, mar_20, mar_20),
                             (mar_20, datetime(2026, 4, 20, tzinfo=UTC), None)]
    assert reports.verify(desk).ok


def test_resubscribe_keeps_the_wallet(desk, clock):
    plans(desk)
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Large")
    clients.assign_packs(desk, client="Acme", packs=["Top-up"])
    wallet.apply_pack(desk, client="Acme", pack="Top-up", status="paid", key="k")
    clock.set(JAN_20)

    clients.subscribe(desk, client="Acme", plan="Large")

    assert clients.client_detail(desk, "Acme").resources["minutes"].wallet == D(50)
    assert len(clients.client_detail(desk, "Acme").lots) == 1


# -- plan snapshots -----------------------------------------------------------------------
def test_editing_a_plan_does_not_change_existing_snapshots(desk, clock):
    plans(desk)
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Small")

    catalog.edit_plan(desk, plan="Small", fee="99.00", included={"minutes": "999"},
                      overage={"minutes": "1"}, addons=True, due_days=9, alerts="50")

    sub = clients.client_detail(desk, "Acme").subscription
    # Every term stays as subscribed but Add-on packs · On/Off, which follows the plan
    # product at once (SPEC §1, §8).
    assert (sub.fee, sub.included["minutes"], sub.overage["minutes"], sub.addons,
            sub.due_days, sub.alerts) == (D("10.00"), D(100), None, True, 1, (80, 95))
    clock.set(FEB_1)
    billing.run_rollover(desk)
    assert requests(desk)[-1] == ("Plan", D("10.00"), FEB_1, date(2026, 2, 2))
    assert clients.client_detail(desk, "Acme").resources["minutes"].included == D(100)
    result = usage.record_usage(desk, client="Acme", resource="minutes", quantity="101")
    assert (result.overage_units, result.unserved, result.blocked) == (D(0), D(1), True)

    # a new subscriber, or a re-subscription, takes the edited terms
    clients.add_client(desk, name="Beta")
    beta = clients.subscribe(desk, client="Beta", plan="Small")
    assert (beta.fee, beta.included["minutes"], beta.addons, beta.due_days) == (
        D("99.00"), D(999), True, 9)
    again = clients.subscribe(desk, client="Acme", plan="Small")
    assert (again.fee, again.included["minutes"], again.overage["minutes"]) == (
        D("99.00"), D(999), D("1"))


# -- cancelling ---------------------------------------------------------------------------
def test_cancel_closes_the_period_at_once_and_bills_its_overage(desk, clock):
    plans(desk)
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Large")
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="325.05")  # 2.505
    clock.set(JAN_20)

    clients.cancel(desk, client="Acme")

    assert clients.client_detail(desk, "Acme").subscription is None
    assert periods(desk) == [(T0, JAN_20, JAN_20)]
    assert requests(desk) == [("Plan", D("30.00"), T0, date(2026, 1, 15)),
                              ("Overage", D("2.51"), JAN_20, date(2026, 1, 25))]
    assert [c.plan for c in clients.list_clients(desk)] == [None]
    clock.set(MAR_1)
    assert billing.run_rollover(desk).periods_closed == 0
    assert len(requests(desk)) == 2
    assert reports.verify(desk).ok


def test_after_cancel_usage_assign_and_apply_are_refused(desk, clock):
    plans(desk)
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Large")
    clients.assign_packs(desk, client="Acme", packs=["Top-up"])
    catalog.add_pack(desk, name="SMS", resource="sms", units="10", price="1.00")
    clients.cancel(desk, client="Acme")
    before = table_dump(desk)

    with pytest.raises(NoActiveSubscription):
        usage.record_usage(desk, client="Acme", resource="minutes", quantity="1")
    with pytest.raises(NoActiveSubscription):
        clients.assign_packs(desk, client="Acme", packs=["SMS"])
    with pytest.raises(NoActiveSubscription):
        wallet.apply_pack(desk, client="Acme", pack="Top-up", status="paid", key="k")
    with pytest.raises(NoActiveSubscription):
        clients.cancel(desk, client="Acme")

    assert table_dump(desk) == before


def test_import_rejects_only_the_lines_of_a_cancelled_client(desk, tmp_path):
    plans(desk)
    for name in ("Acme", "Beta"):
        clients.add_client(desk, name=name)
        clients.subscribe(desk, client=name, plan="Small")
    clients.cancel(desk, client="Acme")
    export = tmp_path / "usage.csv"
    export.write_text("event_id,client,resource,quantity,occurred_at\n"
                      "a-1,Acme,minutes,5,2026-01-10T08:00:00\n"
                      "b-1,Beta,minutes,5,2026-01-10T08:00:00\n", encoding="utf-8")

    result = usage.import_usage(desk, export)

    assert (result.recorded, result.duplicates) == (1, 0)
    assert [r.line for r in result.rejected] == [2]
    assert "subscription" in result.rejected[0].reason
    assert clients.client_detail(desk, "Beta").resources["minutes"].included_used == D(5)


def test_wallet_is_kept_after_cancel_and_usable_on_resubscribe(desk, clock):
    plans(desk)
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Large")
    clients.assign_packs(desk, client="Acme", packs=["Top-up"])
    lot = wallet.apply_pack(desk, client="Acme", pack="Top-up", status="paid", key="k").lot_id
    clock.set(JAN_20)
    clients.cancel(desk, client="Acme")
    assert clients.client_detail(desk, "Acme").resources["minutes"].wallet == D(50)

    clock.set(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    info = clients.subscribe(desk, client="Acme", plan="Small")
    result = usage.record_usage(desk, client="Acme", resource="minutes", quantity="120")

    assert (info.period_start, info.period_end) == (
        datetime(2026, 3, 10, 9, 0, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))
    assert (result.included, result.wallet, result.unserved) == (D(100), D(20), D(0))
    assert [(lt.id, lt.remaining) for lt in clients.client_detail(desk, "Acme").lots] == [
        (lot, D(30))]
    assert requests(desk, type="Plan")[-1] == (
        "Plan", D("10.00"), datetime(2026, 3, 10, 9, 0, tzinfo=UTC), date(2026, 3, 11))
    assert reports.verify(desk).ok


def test_resubscribing_a_blocked_client_to_a_bigger_allowance_lifts_the_block(desk, clock):
    plans(desk)
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Small")
    clients.add_campaign(desk, client="Acme", name="Calls", resource="minutes")
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="100")
    assert clients.client_detail(desk, "Acme").blocked == ("minutes",)
    clock.set(JAN_20)

    clients.subscribe(desk, client="Acme", plan="Large")

    detail = clients.client_detail(desk, "Acme")
    assert detail.blocked == ()
    assert detail.campaigns[0].status == "running"
    assert detail.resources["minutes"].included_left == D(200)
    assert reports.verify(desk).ok


def test_subscribing_again_at_the_instant_of_cancelling_works(desk, clock):
    plans(desk)
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Large")
    clients.assign_packs(desk, client="Acme", packs=["Top-up"])
    wallet.apply_pack(desk, client="Acme", pack="Top-up", status="paid", key="k")
    clock.set(FEB_1)                          # a nightly script with --now at midnight
    clients.cancel(desk, client="Acme")        # closes January, and February at once

    info = clients.subscribe(desk, client="Acme", plan="Small")

    assert (info.plan, info.status, info.period_start, info.period_end) == (
        "Small", "active", FEB_1, MAR_1)
    assert clients.client_detail(desk, "Acme").resources["minutes"].wallet == D(50)
    assert requests(desk, type="Plan")[-1] == ("Plan", D("10.00"), FEB_1, date(2026, 2, 2))
    assert reports.verify(desk).ok
