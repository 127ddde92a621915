"""A client page is one read: everything it shows from one transaction (issue 11)."""

from __future__ import annotations

from quotadesk.services import billing, catalog, clients, usage, wallet
from quotadesk.services.client_page import load_client_page


def test_the_page_holds_what_each_read_returns(desk, clock):
    catalog.add_plan(desk, name="Voice", fee="10.00", included={"minutes": "10"},
                     overage={"minutes": "0.10"})
    catalog.add_pack(desk, name="Top-up", resource="minutes", units="20", price="3.00")
    acme = clients.add_client(desk, name="Acme").id
    clients.subscribe(desk, client=acme, plan="Voice")
    clients.assign_packs(desk, client=acme, packs=["Top-up"])
    wallet.apply_pack(desk, client=acme, pack="Top-up", status="pending", key="k")
    usage.record_usage(desk, client=acme, resource="minutes", quantity="15")
    page = load_client_page(desk, "acme")
    assert page.client_id == acme and page.active and page.addons_on
    assert page.detail == clients.client_detail(desk, acme)
    assert page.payments == tuple(billing.list_payments(desk, acme))
    assert page.history == tuple(billing.billing_history(desk, acme))
    assert page.ledger == tuple(wallet.ledger(desk, acme))
    assert page.catalog == tuple(catalog.list_packs(desk))
    assert page.now == clock()
    assert page.detail.resources["minutes"].wallet == 15  # 20 credited, 5 drawn
    assert sorted(p.type for p in page.payments) == ["Pack", "Plan"]


def test_lot_states_ledger_signs_and_totals_come_from_the_services(desk, clock):
    from datetime import timedelta

    catalog.add_plan(desk, name="Voice", fee="10.00", included={"minutes": "10"})
    catalog.add_pack(desk, name="Month", resource="minutes", units="20", price="3.00",
                     expires_months=1)
    catalog.add_pack(desk, name="Keep", resource="minutes", units="5", price="2.50")
    acme = clients.add_client(desk, name="Acme").id
    clients.subscribe(desk, client=acme, plan="Voice")
    clients.assign_packs(desk, client=acme, packs=["Month", "Keep"])
    month = wallet.apply_pack(desk, client=acme, pack="Month", status="pending", key="m")
    keep = wallet.apply_pack(desk, client=acme, pack="Keep", status="paid", key="k")
    kept = wallet.apply_pack(desk, client=acme, pack="Keep", status="pending", key="k2")
    wallet.revoke_lot(desk, lot_id=keep.lot_id, reason="sold by mistake")
    usage.record_usage(desk, client=acme, resource="minutes", quantity="15")  # 10 + 5 of a lot
    clock.advance(days=45)  # the Month lot has expired; periods and requests go on
    billing.run_rollover(desk)
    fresh = wallet.apply_pack(desk, client=acme, pack="Keep", status="pending", key="k3")
    page = load_client_page(desk, acme)
    states = {lot.id: lot.state for lot in page.detail.lots}
    assert states == {month.lot_id: "expired", keep.lot_id: "revoked",
                      kept.lot_id: "available", fresh.lot_id: "available"}
    by_kind = {(row.kind, row.lot_id): row.change for row in page.ledger}
    assert by_kind[("credit", month.lot_id)] == 20
    assert by_kind[("revoke", keep.lot_id)] == -5
    assert by_kind[("consume", month.lot_id)] == -5
    assert by_kind[("expire", month.lot_id)] == -15
    pending = [p for p in page.payments if p.status == "pending"]
    overdue = [p for p in pending if p.overdue]
    assert overdue and len(pending) > len(overdue)
    assert page.totals.pending == sum((p.amount for p in pending), start=0)
    assert (page.totals.pending_count, page.totals.overdue_count) == (len(pending), len(overdue))
    assert page.totals.overdue == sum((p.amount for p in overdue), start=0)
    assert clock() - page.now == timedelta(0)
