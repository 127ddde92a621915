"""SPEC §3 — add-on packs: assigning, applying (exactly once), payment status, revoking,
renewals and expiry (seed 000 and seed 002), against a real SQLite file."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from quotadesk.models import LedgerEntry, WalletLot
from quotadesk.services import billing, catalog, clients, reports, usage, wallet
from quotadesk.services.errors import (
    ADDONS_DISABLED_TEXT,
    AddonsDisabled,
    IdempotencyConflict,
    InvalidValue,
    NoActiveSubscription,
    PackNotAssigned,
)
from tests.conftest import new_desk
from tests.integration.test_rules_support import db_url, table_dump  # noqa: F401 (db_url: fixture)

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
D = Decimal
PENDING_TEXT = "Addon pack credited. Payment request created as pending."
PAID_TEXT = "Addon pack credited. Payment request created and marked as paid."


def setup(desk, *, addons=True, due_days=1, included=None, overage=None):
    catalog.add_plan(desk, name="Voice", fee="49.00", included=included or {"minutes": "500"},
                     overage=overage or {}, addons=addons, due_days=due_days)
    catalog.add_pack(desk, name="100 Minutes Pack", resource="minutes", units="100",
                     price="15.00", description="100 minutes for a fixed price")
    catalog.add_pack(desk, name="Additional SMS", resource="sms", units="500", price="20.00",
                     expires_months=12)
    clients.add_client(desk, name="Acme", email="ops@acme.test")
    clients.subscribe(desk, client="Acme", plan="Voice")




def lots(desk):
    with desk.database.session(write=False) as session:
        return list(session.scalars(select(WalletLot).order_by(WalletLot.id)))


def ledger_kinds(desk):
    return [(r.kind, r.lot_id, r.units, r.reason) for r in reversed(wallet.ledger(desk, "Acme"))]


def pack_requests(desk):
    return [p for p in billing.list_payments(desk, "Acme") if p.type == "Pack"]


# -- assigning and applying need add-ons on -----------------------------------------------
def test_assign_is_refused_with_the_amber_text_when_the_snapshot_has_addons_off(desk):
    setup(desk, addons=False)
    before = table_dump(desk)

    with pytest.raises(AddonsDisabled) as refused:
        clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])

    assert refused.value.message == ADDONS_DISABLED_TEXT
    assert str(refused.value) == (
        "Add-on packs are disabled for this subscription. The plan snapshot for this client "
        "has add-ons turned off. Turn on add-ons on the billing plan product (or re-subscribe "
        "after changing the plan), then refresh - you cannot assign packs or apply credits "
        "until add-ons are enabled on the plan.")
    assert refused.value.field == "addons"
    assert table_dump(desk) == before
    assert clients.client_detail(desk, "Acme").assigned_packs == ()


def test_apply_is_refused_with_the_amber_text_when_the_snapshot_has_addons_off(desk):
    setup(desk)
    clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])
    catalog.add_plan(desk, name="No add-ons", fee="49.00", addons=False)
    clients.subscribe(desk, client="Acme", plan="No add-ons")   # fresh snapshot: add-ons off
    before = table_dump(desk)

    with pytest.raises(AddonsDisabled) as refused:
        wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="paid", key="k")

    assert refused.value.message == ADDONS_DISABLED_TEXT
    assert table_dump(desk) == before
    assert clients.client_detail(desk, "Acme").lots == ()


def test_turning_addons_on_in_the_plan_applies_to_current_subscribers(desk):
    # SPEC §1, §8 (issue 16): add-ons follow the plan product; no re-subscribe needed.
    setup(desk, addons=False)
    with pytest.raises(AddonsDisabled):
        clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])
    catalog.edit_plan(desk, plan="Voice", addons=True)

    assert clients.client_detail(desk, "Acme").subscription.addons
    added = clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])

    assert [p.name for p in added] == ["100 Minutes Pack"]
    assert [p.name for p in clients.client_detail(desk, "Acme").assigned_packs] == [
        "100 Minutes Pack"]


def test_apply_needs_an_active_subscription(desk):
    catalog.add_pack(desk, name="100 Minutes Pack", resource="minutes", units="100",
                     price="15.00")
    clients.add_client(desk, name="Acme")
    before = table_dump(desk)

    with pytest.raises(NoActiveSubscription):
        clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])
    with pytest.raises(NoActiveSubscription):
        wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="paid", key="k")

    assert table_dump(desk) == before


def test_apply_needs_the_pack_assigned_to_the_client(desk):
    setup(desk)
    clients.assign_packs(desk, client="Acme", packs=["Additional SMS"])
    before = table_dump(desk)

    with pytest.raises(PackNotAssigned) as refused:
        wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="pending",
                          key="k")

    assert refused.value.field == "pack"
    assert table_dump(desk) == before


def test_unassigned_pack_can_no_longer_be_applied(desk):
    setup(desk)
    clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])
    clients.unassign_pack(desk, client="Acme", pack="100 Minutes Pack")

    with pytest.raises(PackNotAssigned):
        wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="paid", key="k")
    assert clients.client_detail(desk, "Acme").assigned_packs == ()


# -- applying -----------------------------------------------------------------------------
def test_apply_pending_credits_a_lot_writes_a_credit_and_a_pending_pack_request(desk):
    setup(desk, due_days=3)
    clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])

    result = wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="pending",
                               key="dialog-1")

    assert result.message == PENDING_TEXT
    assert result.repeated is False
    detail = clients.client_detail(desk, "Acme")
    (lot,) = detail.lots
    assert (lot.id, lot.resource, lot.pack, lot.units, lot.remaining, lot.applied_at,
            lot.expires_at, lot.expired) == (
        result.lot_id, "minutes", "100 Minutes Pack", D(100), D(100), T0, None, False)
    assert detail.resources["minutes"].wallet == D(100)
    assert detail.resources["minutes"].wallet_never_expires is True
    assert ledger_kinds(desk) == [("credit", result.lot_id, D(100), None)]
    (request,) = pack_requests(desk)
    assert (request.id, request.amount, request.created_at, request.due_date, request.status,
            request.paid_at, request.overdue) == (
        result.payment_request_id, D("15.00"), T0, date(2026, 1, 13), "pending", None, False)
    (purchase,) = billing.billing_history(desk, "Acme")
    assert (purchase.date, purchase.kind, purchase.package_type, purchase.resource,
            purchase.credits, purchase.amount, purchase.status, purchase.expires_at) == (
        T0, "purchase", "100 Minutes Pack", "minutes", D(100), D("15.00"), "pending", None)
    assert reports.verify(desk).ok


def test_apply_paid_records_the_pack_request_as_paid_at_once(desk):
    setup(desk)
    clients.assign_packs(desk, client="Acme", packs=["Additional SMS"])

    result = wallet.apply_pack(desk, client="Acme", pack="Additional SMS", status="paid",
                               key="dialog-1")

    assert result.message == PAID_TEXT
    (request,) = pack_requests(desk)
    assert (request.id, request.amount, request.status, request.paid_at, request.due_date) == (
        result.payment_request_id, D("20.00"), "paid", T0, date(2026, 1, 11))
    assert clients.client_detail(desk, "Acme").resources["sms"].wallet == D(500)
    assert billing.billing_history(desk, "Acme")[0].status == "paid"


def test_the_same_key_applies_the_pack_exactly_once(desk, clock):
    setup(desk)
    clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])
    first = wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="pending",
                              key="dialog-1")
    after_first = table_dump(desk, skip=("audit_entries",))

    clock.advance(seconds=2)  # a double click, a retry
    again = wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="pending",
                              key="dialog-1")

    assert (again.lot_id, again.payment_request_id, again.message) == (
        first.lot_id, first.payment_request_id, PENDING_TEXT)
    assert again.repeated is True
    assert table_dump(desk, skip=("audit_entries",)) == after_first
    assert len(clients.client_detail(desk, "Acme").lots) == 1
    assert len(pack_requests(desk)) == 1
    assert ledger_kinds(desk) == [("credit", first.lot_id, D(100), None)]
    assert clients.client_detail(desk, "Acme").resources["minutes"].wallet == D(100)


@pytest.mark.parametrize("pack, status", [("Additional SMS", "pending"),
                                          ("100 Minutes Pack", "paid")])
def test_the_same_key_with_a_different_pack_or_status_is_a_conflict(desk, pack, status):
    setup(desk)
    clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack", "Additional SMS"])
    wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="pending",
                      key="dialog-1")
    before = table_dump(desk)

    with pytest.raises(IdempotencyConflict) as refused:
        wallet.apply_pack(desk, client="Acme", pack=pack, status=status, key="dialog-1")

    assert refused.value.field == "key"
    assert table_dump(desk) == before


def test_the_same_key_for_another_client_is_a_conflict(desk):
    setup(desk)
    clients.add_client(desk, name="Beta")
    clients.subscribe(desk, client="Beta", plan="Voice")
    for name in ("Acme", "Beta"):
        clients.assign_packs(desk, client=name, packs=["100 Minutes Pack"])
    wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="paid", key="k")
    before = table_dump(desk)

    with pytest.raises(IdempotencyConflict):
        wallet.apply_pack(desk, client="Beta", pack="100 Minutes Pack", status="paid", key="k")
    assert table_dump(desk) == before


def test_different_keys_apply_the_pack_again_and_credits_accumulate(desk):
    setup(desk)
    clients.assign_packs(desk, client="Acme", packs=["Additional SMS"])
    a = wallet.apply_pack(desk, client="Acme", pack="Additional SMS", status="paid", key="a")
    usage.record_usage(desk, client="Acme", resource="sms", quantity="300")   # 200 left
    b = wallet.apply_pack(desk, client="Acme", pack="Additional SMS", status="paid", key="b")

    assert a.lot_id != b.lot_id
    assert clients.client_detail(desk, "Acme").resources["sms"].wallet == D(700)
    assert len(pack_requests(desk)) == 2


def test_wallet_is_credited_whatever_the_payment_status(desk):
    setup(desk, included={"minutes": "0"})
    clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])

    wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="pending", key="k")
    result = usage.record_usage(desk, client="Acme", resource="minutes", quantity="40")

    assert (result.wallet, result.unserved) == (D(40), D(0))
    assert pack_requests(desk)[0].status == "pending"
    assert clients.client_detail(desk, "Acme").resources["minutes"].wallet == D(60)


def test_a_failed_payment_keeps_the_credits(desk):
    setup(desk)
    clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])
    result = wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="pending",
                               key="k")

    failed = billing.mark_failed(desk, request_id=result.payment_request_id)

    assert failed.status == "failed"
    detail = clients.client_detail(desk, "Acme")
    assert detail.resources["minutes"].wallet == D(100)
    assert detail.lots[0].remaining == D(100)
    assert ledger_kinds(desk) == [("credit", result.lot_id, D(100), None)]
    assert billing.billing_history(desk, "Acme")[0].status == "failed"
    assert reports.verify(desk).ok


def test_a_free_pack_makes_no_payment_request(desk):
    setup(desk)
    catalog.add_pack(desk, name="Goodwill", resource="minutes", units="25", price="0")
    clients.assign_packs(desk, client="Acme", packs=["Goodwill"])

    result = wallet.apply_pack(desk, client="Acme", pack="Goodwill", status="pending", key="k")

    assert result.payment_request_id is None
    assert pack_requests(desk) == []
    assert clients.client_detail(desk, "Acme").resources["minutes"].wallet == D(25)
    assert ledger_kinds(desk) == [("credit", result.lot_id, D(25), None)]
    (purchase,) = billing.billing_history(desk, "Acme")
    assert (purchase.kind, purchase.credits, purchase.amount) == ("purchase", D(25), D(0))
    assert reports.verify(desk).ok


# -- revoking -----------------------------------------------------------------------------
def test_revoke_takes_back_only_the_unused_units_with_a_reason(desk, clock):
    setup(desk, included={"minutes": "0"}, overage={"minutes": "0.10"})
    clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])
    applied = wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack",
                                status="pending", key="k")
    used = usage.record_usage(desk, client="Acme", resource="minutes", quantity="30")
    billing.mark_failed(desk, request_id=applied.payment_request_id)
    clock.advance(hours=1)

    revoked = wallet.revoke_lot(desk, lot_id=applied.lot_id, reason="  card declined  ")

    assert (revoked.lot_id, revoked.units) == (applied.lot_id, D(70))
    assert ledger_kinds(desk) == [
        ("credit", applied.lot_id, D(100), None),
        ("consume", applied.lot_id, D(30), None),
        ("revoke", applied.lot_id, D(70), "card declined"),
    ]
    detail = clients.client_detail(desk, "Acme")
    assert detail.lots[0].remaining == D(0)
    assert detail.resources["minutes"].wallet == D(0)
    assert used.wallet == D(30)  # the consumed units stay consumed
    history = billing.billing_history(desk, "Acme")
    assert [(h.kind, h.credits, h.amount, h.status, h.date) for h in history] == [
        ("revoked", D(70), None, None, T0 + timedelta(hours=1)),
        ("purchase", D(100), D("15.00"), "failed", T0),
    ]
    assert reports.verify(desk).ok


def test_revoking_the_last_free_units_blocks_the_resource(desk):
    setup(desk, included={"minutes": "0"})
    clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])
    applied = wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack",
                                status="pending", key="k")
    clients.add_campaign(desk, client="Acme", name="Calls", resource="minutes")
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="1")
    assert clients.client_detail(desk, "Acme").blocked == ()

    wallet.revoke_lot(desk, lot_id=applied.lot_id, reason="chargeback")

    detail = clients.client_detail(desk, "Acme")
    assert detail.blocked == ("minutes",)
    assert detail.campaigns[0].status == "paused_quota"
    assert reports.verify(desk).ok


def test_revoke_of_a_lot_with_no_unused_units_is_refused(desk):
    setup(desk, included={"minutes": "0"})
    clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])
    spent = wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="paid",
                              key="spent")
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="100")
    revoked = wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="paid",
                                key="revoked")
    wallet.revoke_lot(desk, lot_id=revoked.lot_id, reason="mistake")
    before = table_dump(desk)

    for lot_id in (spent.lot_id, revoked.lot_id):
        with pytest.raises(InvalidValue) as refused:
            wallet.revoke_lot(desk, lot_id=lot_id, reason="again")
        assert refused.value.field == "lot"
    with pytest.raises(InvalidValue) as no_reason:
        wallet.revoke_lot(desk, lot_id=spent.lot_id, reason="   ")
    assert no_reason.value.field == "reason"

    assert table_dump(desk) == before


# -- renewals and expiry ------------------------------------------------------------------
def test_wallet_lots_survive_period_renewals(desk, clock):
    setup(desk)
    clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])
    applied = wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="paid",
                                key="k")
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="520")  # 20 from lot

    clock.set(datetime(2026, 4, 15, tzinfo=UTC))
    assert billing.run_rollover(desk).periods_closed == 3

    detail = clients.client_detail(desk, "Acme")
    assert detail.resources["minutes"].wallet == D(80)
    assert detail.resources["minutes"].included_left == D(500)
    assert [(lot.id, lot.remaining, lot.expired) for lot in detail.lots] == [
        (applied.lot_id, D(80), False)]
    result = usage.record_usage(desk, client="Acme", resource="minutes", quantity="510")
    assert (result.included, result.wallet) == (D(500), D(10))
    assert [k for k, *_ in ledger_kinds(desk)] == ["credit", "consume", "consume"]
    assert reports.verify(desk).ok


def test_twelve_month_pack_expires_exactly_at_applied_time_plus_twelve_months(desk, clock):
    setup(desk, included={"minutes": "500"})   # no sms allowance, no sms rate
    clients.assign_packs(desk, client="Acme", packs=["Additional SMS"])
    applied = wallet.apply_pack(desk, client="Acme", pack="Additional SMS", status="paid",
                                key="k")
    expiry = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)
    assert clients.client_detail(desk, "Acme").lots[0].expires_at == expiry

    clock.set(expiry - timedelta(microseconds=1))
    before = usage.record_usage(desk, client="Acme", resource="sms", quantity="100")
    assert (before.wallet, before.unserved) == (D(100), D(0))
    assert clients.client_detail(desk, "Acme").resources["sms"].wallet == D(400)

    clock.set(expiry)
    assert clients.client_detail(desk, "Acme").resources["sms"].wallet == D(0)
    assert clients.client_detail(desk, "Acme").lots[0].expired is True
    at_expiry = usage.record_usage(desk, client="Acme", resource="sms", quantity="1")

    assert (at_expiry.wallet, at_expiry.unserved, at_expiry.blocked) == (D(0), D(1), True)
    assert ledger_kinds(desk)[-1] == ("expire", applied.lot_id, D(400), None)
    assert wallet.ledger(desk, "Acme")[0].at == expiry
    assert reports.verify(desk).ok


def test_lot_expiry_is_counted_in_local_wall_clock_time(tmp_path, clock):
    paris = new_desk(tmp_path / "paris.db", clock, timezone="Europe/Paris")
    try:
        catalog.add_plan(paris, name="Voice", fee="10.00", included={"minutes": "10"})
        catalog.add_pack(paris, name="Six months", resource="minutes", units="10",
                         price="1.00", expires_months=6)
        clients.add_client(paris, name="Acme")
        clients.subscribe(paris, client="Acme", plan="Voice")
        clients.assign_packs(paris, client="Acme", packs=["Six months"])
        # 2026-01-10 10:00 in Paris (CET) + 6 months = 2026-07-10 10:00 in Paris (CEST)
        wallet.apply_pack(paris, client="Acme", pack="Six months", status="paid", key="k")

        (lot,) = clients.client_detail(paris, "Acme").lots
        assert lot.expires_at == datetime(2026, 7, 10, 8, 0, tzinfo=UTC)
    finally:
        paris.close()


def test_lot_expiry_is_clamped_to_the_end_of_the_month(desk, clock):
    clock.set(datetime(2028, 2, 29, 15, 30, tzinfo=UTC))
    setup(desk)
    clients.assign_packs(desk, client="Acme", packs=["Additional SMS"])

    wallet.apply_pack(desk, client="Acme", pack="Additional SMS", status="paid", key="k")

    (lot,) = clients.client_detail(desk, "Acme").lots
    assert lot.expires_at == datetime(2029, 2, 28, 15, 30, tzinfo=UTC)


def test_expired_units_show_in_billing_history_with_their_expiry_date(desk, clock):
    setup(desk)
    clients.assign_packs(desk, client="Acme", packs=["Additional SMS"])
    applied = wallet.apply_pack(desk, client="Acme", pack="Additional SMS", status="pending",
                                key="k")
    usage.record_usage(desk, client="Acme", resource="sms", quantity="120")
    expiry = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)

    clock.set(datetime(2027, 2, 1, tzinfo=UTC))
    billing.run_rollover(desk)   # the rollover writes the expire entry, dated at the expiry

    history = billing.billing_history(desk, "Acme")
    assert [(h.date, h.kind, h.package_type, h.resource, h.credits, h.amount, h.status,
             h.expires_at) for h in history] == [
        (expiry, "expired", "Additional SMS", "sms", D(380), None, None, expiry),
        (T0, "purchase", "Additional SMS", "sms", D(500), D("20.00"), "pending", expiry),
    ]
    assert ledger_kinds(desk) == [("credit", applied.lot_id, D(500), None),
                                  ("consume", applied.lot_id, D(120), None),
                                  ("expire", applied.lot_id, D(380), None)]
    assert wallet.ledger(desk, "Acme")[0].at == expiry
    detail = clients.client_detail(desk, "Acme")
    assert detail.resources["sms"].wallet == D(0)
    assert detail.lots[0].remaining == D(0)
    assert reports.verify(desk).ok


def test_consumption_never_draws_from_an_expired_lot(desk, clock):
    setup(desk, included={"minutes": "0"}, overage={"sms": "0.01"})
    catalog.add_pack(desk, name="One month SMS", resource="sms", units="50", price="1.00",
                     expires_months=1)
    clients.assign_packs(desk, client="Acme", packs=["One month SMS", "Additional SMS"])
    short = wallet.apply_pack(desk, client="Acme", pack="One month SMS", status="paid",
                              key="short")
    long = wallet.apply_pack(desk, client="Acme", pack="Additional SMS", status="paid",
                             key="long")
    short_expiry = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)

    clock.set(short_expiry)
    result = usage.record_usage(desk, client="Acme", resource="sms", quantity="60")

    assert (result.wallet, result.overage_units) == (D(60), D(0))
    with desk.database.session(write=False) as session:
        consumed = list(session.execute(select(LedgerEntry.lot_id, LedgerEntry.units).where(
            LedgerEntry.kind == "consume")))
    assert [tuple(r) for r in consumed] == [(long.lot_id, D(60))]
    remaining = {lot.id: lot.remaining for lot in lots(desk)}
    assert remaining == {short.lot_id: D(0), long.lot_id: D(440)}
    assert ("expire", short.lot_id, D(50), None) in ledger_kinds(desk)
    assert reports.verify(desk).ok


def test_never_expiring_pack_has_no_expiry_and_never_expires(desk, clock):
    setup(desk)
    clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])
    wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="paid", key="k")

    clock.set(datetime(2029, 6, 1, tzinfo=UTC))
    billing.run_rollover(desk)

    detail = clients.client_detail(desk, "Acme")
    assert detail.lots[0].expires_at is None
    assert detail.resources["minutes"].wallet == D(100)
    assert detail.resources["minutes"].wallet_never_expires is True
    assert [k for k, *_ in ledger_kinds(desk)] == ["credit"]


def test_the_next_rollover_records_a_lot_that_expired_mid_period(desk, clock):
    setup(desk)
    catalog.add_pack(desk, name="One month SMS", resource="sms", units="50", price="1.00",
                     expires_months=1)
    clients.assign_packs(desk, client="Acme", packs=["One month SMS"])
    applied = wallet.apply_pack(desk, client="Acme", pack="One month SMS", status="paid",
                                key="k")
    expiry = datetime(2026, 2, 10, 9, 0, tzinfo=UTC)
    clock.set(datetime(2026, 2, 1, tzinfo=UTC))
    billing.run_rollover(desk)                       # closes January; the lot is still live

    clock.set(datetime(2026, 2, 15, tzinfo=UTC))     # the lot expired on Feb 10, mid-period
    billing.run_rollover(desk)

    assert ledger_kinds(desk) == [("credit", applied.lot_id, D(50), None),
                                  ("expire", applied.lot_id, D(50), None)]
    assert wallet.ledger(desk, "Acme")[0].at == expiry
    assert [(h.kind, h.date, h.credits) for h in billing.billing_history(desk, "Acme")] == [
        ("expired", expiry, D(50)), ("purchase", T0, D(50))]
    assert reports.verify(desk).ok


def test_the_next_rollover_records_the_expiry_of_a_cancelled_clients_lot(desk, clock):
    setup(desk)
    clients.assign_packs(desk, client="Acme", packs=["Additional SMS"])
    applied = wallet.apply_pack(desk, client="Acme", pack="Additional SMS", status="paid",
                                key="k")
    clients.cancel(desk, client="Acme")
    expiry = datetime(2027, 1, 10, 9, 0, tzinfo=UTC)

    clock.set(datetime(2027, 2, 1, tzinfo=UTC))
    billing.run_rollover(desk)

    assert ledger_kinds(desk) == [("credit", applied.lot_id, D(500), None),
                                  ("expire", applied.lot_id, D(500), None)]
    assert wallet.ledger(desk, "Acme")[0].at == expiry
    assert billing.billing_history(desk, "Acme")[0].kind == "expired"
    assert clients.client_detail(desk, "Acme").lots[0].remaining == D(0)


def test_a_retry_after_a_refusal_applies_with_the_same_key(desk):
    setup(desk)
    with pytest.raises(PackNotAssigned):
        wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="paid",
                          key="dialog-1")
    clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])

    result = wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="paid",
                               key="dialog-1")

    assert result.repeated is False
    assert result.message == PAID_TEXT
    assert clients.client_detail(desk, "Acme").resources["minutes"].wallet == D(100)
