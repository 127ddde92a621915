"""SPEC §8 "Money and requests" — paying and failing payment requests, and overdue."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from quotadesk.services import billing, catalog, clients, usage, wallet
from quotadesk.services.errors import InvalidTransition, InvalidValue, NotFound
from tests.conftest import new_desk
from tests.integration.test_rules_support import (  # noqa: F401 (db_url: fixture)
    db_url,
    read_snapshot,
    table_dump,
)

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
D = Decimal


def plan_request(desk, *, due_days=1):
    """Subscribe Acme to a 49.00 plan; return its first Plan request (due T0's date + days)."""
    catalog.add_plan(desk, name="Voice", fee="49.00", due_days=due_days)
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Voice")
    (request,) = billing.list_payments(desk, "Acme")
    return request


def state(desk):
    return table_dump(desk), read_snapshot(desk, ("Acme",))


def test_pay_works_from_pending(desk, clock):
    request = plan_request(desk)
    clock.advance(hours=2)

    paid = billing.mark_paid(desk, request_id=request.id)

    assert (paid.id, paid.status, paid.paid_at, paid.overdue) == (
        request.id, "paid", T0 + timedelta(hours=2), False)
    (row,) = billing.list_payments(desk, "Acme")
    assert (row.status, row.paid_at, row.amount) == ("paid", T0 + timedelta(hours=2), D("49.00"))
    assert billing.list_payments(desk, status="pending") == []
    assert [p.id for p in billing.list_payments(desk, status="paid")] == [request.id]


def test_pay_works_from_failed(desk, clock):
    request = plan_request(desk)
    billing.mark_failed(desk, request_id=request.id)
    clock.advance(days=3)

    paid = billing.mark_paid(desk, request_id=request.id)

    assert (paid.status, paid.paid_at) == ("paid", T0 + timedelta(days=3))
    assert [(p.status, p.paid_at) for p in billing.list_payments(desk, "Acme")] == [
        ("paid", T0 + timedelta(days=3))]


def test_fail_works_from_pending(desk):
    request = plan_request(desk)

    failed = billing.mark_failed(desk, request_id=request.id)

    assert (failed.status, failed.paid_at, failed.overdue) == ("failed", None, False)
    assert [p.id for p in billing.list_payments(desk, status="failed")] == [request.id]


def test_fail_is_refused_unless_pending_and_nothing_is_written(desk):
    request = plan_request(desk)
    billing.mark_failed(desk, request_id=request.id)
    before = state(desk)

    with pytest.raises(InvalidTransition) as refused:
        billing.mark_failed(desk, request_id=request.id)
    assert refused.value.field == "status"
    assert state(desk) == before

    billing.mark_paid(desk, request_id=request.id)
    before = state(desk)
    with pytest.raises(InvalidTransition):
        billing.mark_failed(desk, request_id=request.id)
    assert state(desk) == before


def test_pay_is_refused_when_already_paid_and_nothing_is_written(desk, clock):
    request = plan_request(desk)
    billing.mark_paid(desk, request_id=request.id)
    before = state(desk)
    clock.advance(days=1)

    with pytest.raises(InvalidTransition) as refused:
        billing.mark_paid(desk, request_id=request.id)

    assert refused.value.field == "status"
    assert state(desk) == before
    assert billing.list_payments(desk, "Acme")[0].paid_at == T0


def test_pay_or_fail_an_unknown_request_is_not_found(desk):
    request = plan_request(desk)
    before = state(desk)

    with pytest.raises(NotFound):
        billing.mark_paid(desk, request_id=request.id + 1000)
    with pytest.raises(NotFound):
        billing.mark_failed(desk, request_id=request.id + 1000)
    assert state(desk) == before


def test_overdue_is_pending_and_the_local_date_after_the_due_date(desk, clock):
    request = plan_request(desk, due_days=1)
    assert request.due_date == date(2026, 1, 11)

    clock.set(datetime(2026, 1, 11, 23, 59, 59, tzinfo=UTC))     # on the due date
    assert [p.overdue for p in billing.list_payments(desk, "Acme")] == [False]
    assert billing.list_payments(desk, status="overdue") == []

    clock.set(datetime(2026, 1, 12, 0, 0, tzinfo=UTC))           # the day after
    assert [p.overdue for p in billing.list_payments(desk, "Acme")] == [True]
    assert [p.id for p in billing.list_payments(desk, status="overdue")] == [request.id]
    summary = clients.list_clients(desk)[0]
    assert (summary.overdue, summary.pending_amount) == (1, D("49.00"))


@pytest.mark.parametrize("action, status", [("paid", "paid"), ("failed", "failed")])
def test_only_pending_requests_are_overdue(desk, clock, action, status):
    request = plan_request(desk)
    (billing.mark_paid if action == "paid" else billing.mark_failed)(desk, request_id=request.id)

    clock.set(datetime(2026, 3, 1, tzinfo=UTC))

    row = next(p for p in billing.list_payments(desk, "Acme") if p.id == request.id)
    assert (row.status, row.overdue) == (status, False)
    assert request.id not in [p.id for p in billing.list_payments(desk, status="overdue")]


def test_overdue_is_judged_on_the_local_date(tmp_path, clock):
    paris = new_desk(tmp_path / "paris.db", clock, timezone="Europe/Paris")
    try:
        request = plan_request(paris, due_days=1)
        assert request.due_date == date(2026, 1, 11)

        # 23:30 UTC on the 11th is already 00:30 on the 12th in Paris
        clock.set(datetime(2026, 1, 11, 22, 59, 59, tzinfo=UTC))
        assert [p.overdue for p in billing.list_payments(paris, "Acme")] == [False]
        clock.set(datetime(2026, 1, 11, 23, 30, tzinfo=UTC))
        assert [p.overdue for p in billing.list_payments(paris, "Acme")] == [True]
    finally:
        paris.close()


def test_a_zero_due_days_request_is_due_the_same_local_day(desk, clock):
    request = plan_request(desk, due_days=0)

    assert request.due_date == date(2026, 1, 10)
    clock.set(datetime(2026, 1, 10, 23, 59, tzinfo=UTC))
    assert billing.list_payments(desk, "Acme")[0].overdue is False
    clock.set(datetime(2026, 1, 11, 0, 0, tzinfo=UTC))
    assert billing.list_payments(desk, "Acme")[0].overdue is True


def test_money_follows_the_currency_minor_unit_and_rounds_overage_half_up(tmp_path, clock):
    yen = new_desk(tmp_path / "yen.db", clock, currency="JPY")
    try:
        with pytest.raises(InvalidValue) as refused:
            catalog.add_plan(yen, name="Voice", fee="1000.5")
        assert refused.value.field == "fee"
        plan = catalog.add_plan(yen, name="Voice", fee="1000", overage={"minutes": "0.5"})
        assert plan.fee == D(1000)
        clients.add_client(yen, name="Acme")
        clients.subscribe(yen, client="Acme", plan="Voice")
        usage.record_usage(yen, client="Acme", resource="minutes", quantity="3")  # ¥1.5

        clock.set(datetime(2026, 2, 1, tzinfo=UTC))
        billing.run_rollover(yen)

        overage = [p for p in billing.list_payments(yen, "Acme") if p.type == "Overage"]
        assert [(p.amount, p.due_date) for p in overage] == [(D(2), date(2026, 2, 2))]
    finally:
        yen.close()


def test_a_pack_request_is_due_at_the_local_applied_date_plus_due_days(tmp_path, clock):
    paris = new_desk(tmp_path / "paris.db", clock, timezone="Europe/Paris")
    try:
        catalog.add_plan(paris, name="Voice", fee="0", due_days=1)
        catalog.add_pack(paris, name="Top-up", resource="minutes", units="10", price="3.00")
        clients.add_client(paris, name="Acme")
        clients.subscribe(paris, client="Acme", plan="Voice")
        clients.assign_packs(paris, client="Acme", packs=["Top-up"])
        clock.set(datetime(2026, 1, 10, 23, 30, tzinfo=UTC))   # Jan 11, 00:30 in Paris

        wallet.apply_pack(paris, client="Acme", pack="Top-up", status="pending", key="k")

        (request,) = billing.list_payments(paris, "Acme")
        assert (request.type, request.amount, request.due_date) == (
            "Pack", D("3.00"), date(2026, 1, 12))
    finally:
        paris.close()
