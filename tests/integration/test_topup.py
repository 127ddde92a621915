"""SPEC §12 — automatic top-up: one top-up per crossing, re-armed only once the wallet was at
the threshold again, revokes and expiries neither fire nor use up a crossing, add-ons off or
the pack unassigned keep the rule idle; applied exactly as an operator's apply, in the same
transaction as the usage; an import in batches equals the same lines one by one."""

from __future__ import annotations

import io
from datetime import timedelta
from decimal import Decimal

import pytest

from quotadesk.services import audit, billing, catalog, clients, reports, topup, usage, wallet
from quotadesk.services.errors import InvalidValue, NotFound
from quotadesk.services.rules.topup import AUTO_TOPUP, Decision, PackTerms, TopupRule, decide
from tests.integration.test_rules_support import db_url, table_dump  # noqa: F401 (db_url: fixture)

D = Decimal
PACK = "500 Minutes Pack"


def setup(desk, *, addons=True, price="50.00", units="500", expires_months=None,
          below="100", status="pending"):
    catalog.add_plan(desk, name="Voice", fee="10.00", included={"minutes": "100"},
                     addons=addons)
    catalog.add_pack(desk, name=PACK, resource="minutes", units=units, price=price,
                     expires_months=expires_months)
    clients.add_client(desk, name="Charlie", email="c@example.test")
    clients.subscribe(desk, client="Charlie", plan="Voice")
    if addons:
        clients.assign_packs(desk, client="Charlie", packs=[PACK])
    topup.set_topup(desk, client="Charlie", pack=PACK, below=below, status=status)


def use(desk, quantity):
    return usage.record_usage(desk, client="Charlie", resource="minutes", quantity=str(quantity))


def wallet_of(desk):
    return clients.client_detail(desk, "Charlie").resources["minutes"].wallet


def shown(desk):
    detail = clients.client_detail(desk, "Charlie")
    return (detail.resources, detail.blocked, [(lot.units, lot.remaining) for lot in detail.lots],
            [(h.kind, h.credits, h.amount, h.status, h.automatic)
             for h in billing.billing_history(desk, "Charlie")],
            [(p.type, p.amount, p.status, p.reference) for p in billing.list_payments(desk)],
            [(r.armed, r.below) for r in topup.list_topups(desk)])


def top_ups(desk):
    return [h for h in billing.billing_history(desk, "Charlie") if h.automatic]


# -- the pure rule -------------------------------------------------------------------------
def rule(armed=True, below="100"):
    return TopupRule(1, PackTerms(1, PACK, "minutes", D(500), D(50), None), D(below), "pending",
                     armed, True)


@pytest.mark.parametrize(("armed", "wallet", "decision"), [
    (True, "99.999999", Decision.FIRE), (True, "100", Decision.NOTHING),
    (False, "50", Decision.NOTHING), (False, "100", Decision.REARM),
    (True, "0", Decision.FIRE), (False, "600", Decision.REARM)])
def test_the_crossing_rule(armed, wallet, decision):
    assert decide(rule(armed), D(wallet)) is decision


# -- through the services, on every backend ------------------------------------------------
def test_one_top_up_per_crossing_and_again_after_the_wallet_was_back_at_n(desk, clock):
    setup(desk)
    use(desk, 100)  # the allowance: the wallet (0) is below 100 and the rule is armed
    assert wallet_of(desk) == 500 and len(top_ups(desk)) == 1
    use(desk, 350)  # 150 left: at or above 100, nothing
    assert wallet_of(desk) == 150 and len(top_ups(desk)) == 1
    use(desk, 60)  # 90: a crossing, one top-up (590: re-armed by the top-up itself)
    assert wallet_of(desk) == 590 and len(top_ups(desk)) == 2
    use(desk, 1)
    assert len(top_ups(desk)) == 2
    assert reports.verify(desk).ok


def test_a_top_up_that_leaves_the_wallet_below_n_waits_until_it_was_at_n_again(desk, clock):
    setup(desk, units="30", price="5.00")
    use(desk, 100)  # 0 < 100: fires, 30 < 100: not re-armed
    assert wallet_of(desk) == 30 and len(top_ups(desk)) == 1
    use(desk, 10)
    use(desk, 10)
    assert wallet_of(desk) == 10 and len(top_ups(desk)) == 1
    wallet.apply_pack(desk, client="Charlie", pack=PACK, status="paid")  # 40
    use(desk, 1)
    assert len(top_ups(desk)) == 1  # never at 100 since
    catalog.add_pack(desk, name="Big", resource="minutes", units="200", price="1.00")
    clients.assign_packs(desk, client="Charlie", packs=["Big"])
    wallet.apply_pack(desk, client="Charlie", pack="Big", status="paid")  # 239: re-armed
    use(desk, 140)  # 99
    assert len(top_ups(desk)) == 2


def test_revoke_and_expiry_neither_fire_nor_use_up_a_crossing(desk, clock):
    setup(desk, expires_months=1)
    use(desk, 100)  # top-up 1: wallet 500, expiring in a month
    lot = clients.client_detail(desk, "Charlie").lots[0]
    wallet.revoke_lot(desk, lot_id=lot.id, reason="payment failed")
    assert wallet_of(desk) == 0 and len(top_ups(desk)) == 1  # the revoke fired nothing
    use(desk, 1)  # unserved; usage leaves it below 100, the crossing was not used up: fires
    assert wallet_of(desk) == 500 and len(top_ups(desk)) == 2
    clock.advance(days=40)
    billing.run_rollover(desk)  # the lot expired: 0 left, no top-up
    assert wallet_of(desk) == 0 and len(top_ups(desk)) == 2
    use(desk, 1)
    assert len(top_ups(desk)) == 3
    assert reports.verify(desk).ok


def test_addons_off_or_pack_unassigned_keep_the_rule_and_do_nothing(desk, clock):
    setup(desk)
    clients.unassign_pack(desk, client="Charlie", pack=PACK)
    [info] = topup.list_topups(desk, "Charlie")
    assert info.idle == f"{PACK!r} is not assigned to the client"
    use(desk, 150)  # blocked, no top-up
    detail = clients.client_detail(desk, "Charlie")
    assert detail.blocked == ("minutes",) and top_ups(desk) == []
    clients.assign_packs(desk, client="Charlie", packs=[PACK])
    catalog.edit_plan(desk, plan="Voice", addons=False)
    assert topup.list_topups(desk, "Charlie")[0].idle == \
        "add-ons packs are off for this client's plan".replace("add-ons packs", "add-on packs")
    use(desk, 1)
    assert top_ups(desk) == []
    catalog.edit_plan(desk, plan="Voice", addons=True)
    assert topup.list_topups(desk, "Charlie")[0].idle is None
    use(desk, 1)  # still armed: fires now, and unblocks
    detail = clients.client_detail(desk, "Charlie")
    assert len(top_ups(desk)) == 1 and detail.blocked == ()


def test_a_top_up_is_an_operators_apply_marked_auto_top_up(desk, clock):
    setup(desk, status="paid")
    clients.add_campaign(desk, client="Charlie", name="Calls", resource="minutes")
    result = use(desk, 130)  # 30 unserved, blocked, then topped up: unblocked, resumed
    assert result.unserved == 30 and not clients.client_detail(desk, "Charlie").blocked
    assert clients.list_campaigns(desk, "Charlie")[0].status == "running"
    [request] = [p for p in billing.list_payments(desk, "Charlie") if p.type == "Pack"]
    assert request.automatic and request.status == "paid" and request.amount == D("50.00")
    assert request.reference.endswith("· auto top-up")
    [entry] = audit.list_audit(desk, "Charlie", action="pack.apply")
    assert entry.actor == AUTO_TOPUP and entry.detail["payment_request"] == request.id
    [purchase] = top_ups(desk)
    assert purchase.status == "paid" and purchase.credits == 500


def test_topup_set_refuses_bad_values_and_clear_needs_a_rule(desk):
    setup(desk)
    with pytest.raises(InvalidValue):
        topup.set_topup(desk, client="Charlie", pack=PACK, below="-1")
    with pytest.raises(InvalidValue):
        topup.set_topup(desk, client="Charlie", pack=PACK, below="10", status="failed")
    topup.clear_topup(desk, client="Charlie", pack=PACK)
    with pytest.raises(NotFound):
        topup.clear_topup(desk, client="Charlie", pack=PACK)
    assert topup.list_topups(desk) == []


def test_an_import_in_batches_equals_the_same_lines_one_by_one(make_database, clock, backend):
    from tests.conftest import new_desk

    lines = [("minutes", q) for q in ("60", "50", "45.5", "300", "99", "1", "250", "2", "120")]
    lines += [("sms", "1")]
    # In turn, and (SQLite) through the writer process: the rules' state is carried from one
    # batch to the next there.
    for batch_size, pipelined in ((1, False), (3, True), (100, False)):
        imported = new_desk(make_database(), clock)
        recorded = new_desk(make_database(), clock)
        try:
            for d in (imported, recorded):
                setup(d, units="120", price="5.00")
            csv = "event_id,client,resource,quantity,occurred_at\n" + "".join(
                f"e{i},Charlie,{res},{q},{clock().isoformat()}\n"
                for i, (res, q) in enumerate(lines))
            result = usage.import_usage(imported, io.BytesIO(csv.encode()),
                                        batch_size=batch_size, pipelined=pipelined)
            assert result.recorded == len(lines)  # the sms line is unserved
            for i, (res, q) in enumerate(lines):
                usage.record_usage(recorded, client="Charlie", resource=res, quantity=q,
                                   at=clock(), event_id=f"e{i}")
            # The audit log differs by design (an import is one entry); the outbox's
            # messages carry Message-IDs from a per-database seed in the settings (the mail's
            # own tests compare them).
            skip = ("audit_log", "audit_clients", "email_outbox", "settings")
            if backend == "sqlite":  # row by row, ids included
                assert table_dump(imported, skip) == table_dump(recorded, skip)
            else:  # PostgreSQL's sequences number a batch's rows in chunks: no ids
                assert shown(imported) == shown(recorded)
            assert len(top_ups(imported)) >= 2
        finally:
            imported.close()
            recorded.close()
        clock.advance(minutes=1)


def test_a_rule_set_again_is_armed_and_audited(desk, clock):
    setup(desk, units="30", price="5.00")
    use(desk, 100)
    assert not topup.list_topups(desk)[0].armed
    topup.set_topup(desk, client="Charlie", pack=PACK, below="50")
    assert topup.list_topups(desk)[0].armed
    entries = [e.action for e in audit.list_audit(desk, "Charlie", action="topup")]
    assert entries == ["topup.set", "topup.set"]
    clock.advance(days=1)
    assert audit.list_audit(desk, since=(clock() + timedelta(days=1)).date()) == []
