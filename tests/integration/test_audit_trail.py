"""SPEC §12 — the audit trail: one entry per write (an import is one), who acted (the OS user
on SQLite, the database role on PostgreSQL), filters by client, day and action; add-ons follow
the plan product (SPEC §8) with an entry about every client whose snapshot changed; payments
marked several at once and a mistaken Mark paid undone."""

from __future__ import annotations

import getpass
import io
from datetime import timedelta
from decimal import Decimal

import pytest

from quotadesk.services import audit, billing, catalog, clients, payments, usage, wallet
from quotadesk.services.errors import InvalidTransition, InvalidValue
from tests.integration.test_rules_support import db_url, table_dump  # noqa: F401 (db_url: fixture)


def setup(desk):
    catalog.add_plan(desk, name="NoAdd", fee="10.00", included={"minutes": "100"}, addons=False)
    catalog.add_pack(desk, name="100 Minutes Pack", resource="minutes", units="100",
                     price="15.00")
    for name in ("Charlie", "Dana"):
        clients.add_client(desk, name=name)
        clients.subscribe(desk, client=name, plan="NoAdd")


def entries(desk, **filters):
    return [(e.action, e.entity) for e in audit.list_audit(desk, **filters)]


def test_seed_000s_advice_works_add_ons_follow_the_plan_product(desk):
    setup(desk)
    catalog.edit_plan(desk, plan="NoAdd", addons="on")
    assert clients.assign_packs(desk, client="Charlie", packs=["100 Minutes Pack"])
    wallet.apply_pack(desk, client="Charlie", pack="100 Minutes Pack", status="paid")
    [edit] = audit.list_audit(desk, "Dana", action="plan.edit")
    assert edit.detail["addons"] is True and edit.detail["subscriptions_changed"] == 2
    # Turning them off again keeps the assignment and the credited lot (SPEC §8).
    catalog.edit_plan(desk, plan="NoAdd", addons="off")
    detail = clients.client_detail(desk, "Charlie")
    assert not detail.subscription.addons and detail.assigned_packs and detail.lots


def test_every_write_records_one_entry_and_an_import_one_in_all(desk, clock):
    setup(desk)
    before = len(audit.list_audit(desk))
    usage.record_usage(desk, client="Charlie", resource="minutes", quantity="5")
    data = "event_id,client,resource,quantity,occurred_at\n" + "".join(
        f"e{i},{'Charlie' if i % 2 else 'Dana'},minutes,1,{clock().isoformat()}\n"
        for i in range(7))
    usage.import_usage(desk, io.BytesIO(data.encode()), batch_size=2)
    usage.import_usage(desk, io.BytesIO(data.encode()), batch_size=2)  # duplicates: no write
    rows = audit.list_audit(desk)
    assert len(rows) == before + 2
    assert [r.action for r in rows[:2]] == ["usage.import", "usage.record"]
    assert rows[0].detail["recorded"] == 7 and rows[0].entity_id is None
    assert entries(desk, client="Dana", action="usage") == [("usage.import", "import")]
    actor = rows[0].actor
    if desk.database.engine.dialect.name == "sqlite":
        assert actor == getpass.getuser()
    else:
        assert actor == (desk.database.engine.url.username or actor)


def test_filters_by_client_day_and_action(desk, clock):
    setup(desk)
    clock.advance(days=2)
    day = clock().date()
    payment = billing.list_payments(desk, "Charlie")[0]
    billing.mark_paid(desk, request_id=payment.id)
    assert entries(desk, since=day) == [("payment.paid", "payment_request")]
    assert entries(desk, client="Charlie", action="payment") == [
        ("payment.paid", "payment_request")]
    assert entries(desk, client="Dana", action="payment") == []
    assert entries(desk, since=day + timedelta(days=1)) == []
    with pytest.raises(InvalidValue):
        audit.list_audit(desk, since="2026-13-01")


def test_the_revoke_reason_shows_in_the_billing_history(desk):
    setup(desk)
    catalog.edit_plan(desk, plan="NoAdd", addons=True)
    clients.assign_packs(desk, client="Charlie", packs=["100 Minutes Pack"])
    result = wallet.apply_pack(desk, client="Charlie", pack="100 Minutes Pack", status="pending")
    wallet.revoke_lot(desk, lot_id=result.lot_id, reason="card declined")
    revoked = [h for h in billing.billing_history(desk, "Charlie") if h.kind == "revoked"]
    assert [h.reason for h in revoked] == ["card declined"]
    assert entries(desk, client="Charlie", action="lot.revoke") == [("lot.revoke", "lot")]


def test_marking_several_requests_is_all_or_nothing_and_one_entry(desk):
    setup(desk)
    ids = [p.id for p in billing.list_payments(desk)]
    billing.mark_paid(desk, request_id=ids[0])
    before = table_dump(desk)
    with pytest.raises(InvalidTransition):
        payments.mark_requests(desk, request_ids=ids, status="paid")
    assert table_dump(desk) == before
    billing.mark_failed(desk, request_id=ids[1])  # paid again from failed
    done = payments.mark_requests(desk, request_ids=ids[1:], status="paid")
    assert {p.status for p in done} == {"paid"}
    [entry] = audit.list_audit(desk, action="payment.paid", limit=1)
    assert entry.detail["requests"] == ids[1:]


def test_a_mistaken_mark_paid_is_undone(desk):
    setup(desk)
    request = billing.list_payments(desk, "Charlie")[0]
    with pytest.raises(InvalidTransition):
        payments.undo_paid(desk, request_id=request.id)
    billing.mark_paid(desk, request_id=request.id)
    back = payments.undo_paid(desk, request_id=request.id)
    assert back.status == "pending" and back.paid_at is None
    assert [e.action for e in audit.list_audit(desk, "Charlie", action="payment")] == [
        "payment.undo_paid", "payment.paid"]


def test_the_payment_screens_filter_and_totals(desk, clock):
    setup(desk)
    clock.advance(days=5)
    wanted = payments.PaymentFilter(overdue=True)
    rows = payments.search_payments(desk, wanted)
    assert len(rows) == 2 and all(p.overdue for p in rows)
    totals = payments.totals_of(rows)
    assert totals.overdue == Decimal("20.00") and totals.count == 2
    only = payments.search_payments(desk, payments.PaymentFilter(type="Pack"))
    assert only == []
