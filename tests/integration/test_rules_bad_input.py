"""SPEC §6 and §8 "Bounds" / "Names" — bad input is refused, names the field, and leaves the
data exactly as it was (every table, and everything the read services show).

Each rule is one test; its bad values run as subtests on one database, and the whole state is
compared after every refusal.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from quotadesk.services import billing, catalog, clients, usage, wallet
from quotadesk.services.errors import DuplicateName, InvalidValue, NotFound
from tests.integration.test_rules_support import (  # noqa: F401 (db_url: fixture)
    db_url,
    read_snapshot,
    table_dump,
)

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
D = Decimal


@pytest.fixture
def world(desk):
    """A desk with a plan, a pack, a subscribed client with a lot and one usage event."""
    catalog.add_plan(desk, name="Voice", fee="49.00", included={"minutes": "100", "sms": "100"},
                     overage={"email": "0.01"})
    catalog.add_pack(desk, name="Top-up", resource="minutes", units="50", price="5.00")
    clients.add_client(desk, name="Acme", email="ops@acme.test")
    clients.subscribe(desk, client="Acme", plan="Voice")
    clients.assign_packs(desk, client="Acme", packs=["Top-up"])
    wallet.apply_pack(desk, client="Acme", pack="Top-up", status="pending", key="k")
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="10", event_id="e-0")
    return desk


def state(desk):
    """Every row of every table, and everything the read services show."""
    return table_dump(desk), read_snapshot(desk, ("Acme",))


def assert_refused(subtests, desk, cases, error=InvalidValue, field=None):
    """Each call in `cases` raises `error` naming `field`, and the state stays as it was."""
    before_rows, before_reads = state(desk)
    for label, call in cases:
        with subtests.test(label):
            with pytest.raises(error) as info:
                call()
            if field is not None:
                assert info.value.field == field
                assert info.value.message.startswith(f"{field}: ")
            assert table_dump(desk) == before_rows
    assert read_snapshot(desk, ("Acme",)) == before_reads


def use(desk, quantity, resource="minutes"):
    return lambda: usage.record_usage(desk, client="Acme", resource=resource,
                                      quantity=quantity)


# -- numbers ------------------------------------------------------------------------------
QUANTITY_BAD = ["-1", "-0.5", "0", "-0", "0.000000", "NaN", "nan", "sNaN", "inf", "-Infinity",
                "1000000000.000001", "1000000001", "1e10", "abc", "", "   ", "1,5", "0x10",
                "12 minutes", None, D("NaN"), D("-3"), -3, 10**12]


def test_usage_quantity_must_be_finite_positive_and_at_most_one_billion(world, subtests):
    assert_refused(subtests, world, [(repr(v), use(world, v)) for v in QUANTITY_BAD],
                   field="quantity")


def test_sms_and_email_quantities_must_be_whole_units(world, subtests):
    cases = [(f"{r} {v!r}", use(world, v, r)) for r in ("sms", "email")
             for v in ("1.5", "0.5", D("2.25"), "1.000001")]
    assert_refused(subtests, world, cases, field="quantity")


def test_minutes_take_at_most_six_decimal_places(world, subtests):
    assert_refused(subtests, world, [(v, use(world, v)) for v in ("1.0000001", "1e-7",
                                                                  "0.0000005")],
                   field="quantity")
    result = usage.record_usage(world, client="Acme", resource="minutes", quantity="0.000001")
    assert result.included == D("0.000001")


def test_float_objects_are_refused_for_every_number(world, subtests):
    cases = [
        ("quantity 1.5", use(world, 1.5)),
        ("quantity 2.0", use(world, 2.0)),
        ("quantity float nan", use(world, float("nan"))),
        ("quantity True", use(world, True)),
        ("fee 10.0", lambda: catalog.add_plan(world, name="F", fee=10.0)),
        ("included 100.0", lambda: catalog.add_plan(world, name="F", fee="1",
                                                    included={"minutes": 100.0})),
        ("rate 0.1", lambda: catalog.add_plan(world, name="F", fee="1",
                                              overage={"minutes": 0.1})),
        ("units 50.0", lambda: catalog.add_pack(world, name="P", resource="sms", units=50.0,
                                                price="1")),
        ("price 5.0", lambda: catalog.add_pack(world, name="P", resource="sms", units="5",
                                               price=5.0)),
        ("edit fee 1.0", lambda: catalog.edit_plan(world, plan="Voice", fee=1.0)),
        ("edit price 1.0", lambda: catalog.edit_pack(world, pack="Top-up", price=1.0)),
    ]
    assert_refused(subtests, world, cases, error=InvalidValue)


def test_pack_units_must_be_finite_positive_whole_for_sms_and_bounded(world, subtests):
    cases = [(f"{res} {v!r}", lambda res=res, v=v: catalog.add_pack(
        world, name="New pack", resource=res, units=v, price="1.00"))
        for res, v in [("minutes", "0"), ("minutes", "-5"), ("minutes", "NaN"),
                       ("minutes", "inf"), ("minutes", "1000000000.5"), ("minutes", "1e10"),
                       ("minutes", "ten"), ("minutes", "1.0000001"), ("sms", "1.5"),
                       ("email", "0.5")]]
    assert_refused(subtests, world, cases, field="units")


def test_prices_and_fees_must_be_finite_non_negative_and_no_finer_than_the_minor_unit(
        world, subtests):
    bad = ["-0.01", "-1", "NaN", "inf", "-inf", "1.005", "0.001", "1000000000.01", "1e10",
           "abc", "", "$5"]
    cases = [(f"price {v!r}", lambda v=v: catalog.add_pack(
        world, name="New pack", resource="sms", units="10", price=v)) for v in bad]
    cases += [(f"edit price {v!r}", lambda v=v: catalog.edit_pack(world, pack="Top-up",
                                                                   price=v)) for v in bad[:6]]
    assert_refused(subtests, world, cases, field="price")
    cases = [(f"fee {v!r}", lambda v=v: catalog.add_plan(world, name="New plan", fee=v))
             for v in bad]
    cases += [(f"edit fee {v!r}", lambda v=v: catalog.edit_plan(world, plan="Voice", fee=v))
              for v in bad[:6]]
    assert_refused(subtests, world, cases, field="fee")


def test_overage_rates_must_be_finite_non_negative_with_at_most_six_places(world, subtests):
    bad = ["-0.1", "NaN", "inf", "0.0000001", "1000000000.5", "1e10", "abc"]
    cases = [(f"rate {v!r}", lambda v=v: catalog.add_plan(
        world, name="New plan", fee="1.00", overage={"sms": v})) for v in bad]
    cases += [(f"edit rate {v!r}", lambda v=v: catalog.edit_plan(
        world, plan="Voice", overage={"sms": v})) for v in bad[:5]]
    assert_refused(subtests, world, cases, field="overage sms")


def test_included_allowances_must_be_finite_non_negative_whole_for_sms_and_bounded(
        world, subtests):
    cases = [(f"{res} {v!r}", lambda res=res, v=v: catalog.add_plan(
        world, name="New plan", fee="1.00", included={res: v}))
        for res, v in [("minutes", "-1"), ("minutes", "NaN"), ("minutes", "inf"),
                       ("minutes", "1e10"), ("minutes", "1.0000001"), ("minutes", "lots")]]
    assert_refused(subtests, world, cases, field="included minutes")
    assert_refused(subtests, world, [("sms 1.5", lambda: catalog.add_plan(
        world, name="New plan", fee="1.00", included={"sms": "1.5"}))], field="included sms")


def test_due_days_expiry_months_and_alert_thresholds_are_bounded(world, subtests):
    plan = lambda **kw: lambda: catalog.add_plan(world, name="New plan", fee="1.00", **kw)  # noqa: E731
    pack = lambda v: lambda: catalog.add_pack(  # noqa: E731
        world, name="New pack", resource="sms", units="10", price="1.00", expires_months=v)
    assert_refused(subtests, world, [(f"due_days {v!r}", plan(due_days=v))
                                     for v in (-1, 366, "1.5", "x", 2.0, True)],
                   field="due_days")
    assert_refused(subtests, world, [(f"expires_months {v!r}", pack(v))
                                     for v in (0, -1, 1201, "x", "1.5", 12.0)],
                   field="expires_months")
    assert_refused(subtests, world, [(f"alerts {v!r}", plan(alerts=v))
                                     for v in ("0", "101", "x", "80,x", "50.5", [80, 0])],
                   field="alerts")
    assert_refused(subtests, world, [(f"anchor {v!r}", plan(anchor=v))
                                     for v in ("weekly", "", None)], field="anchor")


def test_values_at_the_bounds_are_accepted(world):
    plan = catalog.add_plan(world, name="Bounds", fee="1000000000", due_days=365, alerts="1,100",
                            included={"minutes": "1000000000", "sms": "0"},
                            overage={"minutes": "0.000001", "sms": "0"})
    assert (plan.fee, plan.due_days, plan.alerts, plan.included, plan.overage) == (
        D("1000000000.00"), 365, (1, 100), {"minutes": D(1000000000)},
        {"minutes": D("0.000001"), "sms": D(0)})
    free = catalog.add_pack(world, name="Free", resource="email", units="1", price="0",
                            expires_months=1)
    long = catalog.add_pack(world, name="Long", resource="minutes", units="1000000000",
                            price="0.01", expires_months=1200)
    assert (free.price, free.expires_months, long.units, long.expires_months) == (
        D("0.00"), 1, D(1000000000), 1200)
    assert catalog.add_plan(world, name="Zero", fee="0", due_days=0).due_days == 0
    result = usage.record_usage(world, client="Acme", resource="email", quantity="1000000000")
    assert (result.overage_units, result.overage_amount) == (D(1000000000), D("10000000.00"))


# -- unknown things, names ----------------------------------------------------------------
def test_unknown_client_plan_pack_lot_or_request_is_a_clear_not_found(world, subtests):
    cases = [
        ("usage, client", use_client(world, "Nobody"), "client"),
        ("usage, client id", use_client(world, 999), "client"),
        ("usage, client numeric text", use_client(world, "999"), "client"),
        ("subscribe, client", lambda: clients.subscribe(world, client="Nobody",
                                                        plan="Voice"), "client"),
        ("subscribe, plan", lambda: clients.subscribe(world, client="Acme",
                                                      plan="Nothing"), "plan"),
        ("edit plan", lambda: catalog.edit_plan(world, plan="Nothing", fee="1"), "plan"),
        ("assign, pack", lambda: clients.assign_packs(world, client="Acme",
                                                      packs=["Nothing"]), "pack"),
        ("apply, pack", lambda: wallet.apply_pack(world, client="Acme", pack="Nothing",
                                                  status="paid", key="x"), "pack"),
        ("apply, client", lambda: wallet.apply_pack(world, client="Nobody", pack="Top-up",
                                                    status="paid", key="x"), "client"),
        ("unassign, pack", lambda: clients.unassign_pack(world, client="Acme",
                                                         pack="Nothing"), "pack"),
        ("cancel, client", lambda: clients.cancel(world, client="Nobody"), "client"),
        ("revoke, lot", lambda: wallet.revoke_lot(world, lot_id=999, reason="r"), "lot"),
        ("pay, request", lambda: billing.mark_paid(world, request_id=999), "payment"),
        ("detail, client", lambda: clients.client_detail(world, "Nobody"), "client"),
        ("history, client", lambda: billing.billing_history(world, "Nobody"), "client"),
        ("payments, client", lambda: billing.list_payments(world, "Nobody"), "client"),
        ("campaign", lambda: clients.add_campaign(world, client="Nobody", name="C",
                                                  resource="sms"), "client"),
    ]
    before_rows, before_reads = state(world)
    for label, call, field in cases:
        with subtests.test(label):
            with pytest.raises(NotFound) as info:
                call()
            assert info.value.field == field
            assert info.value.message.startswith(f"{field}: ")
            assert table_dump(world) == before_rows
    assert read_snapshot(world, ("Acme",)) == before_reads


def use_client(desk, client):
    return lambda: usage.record_usage(desk, client=client, resource="sms", quantity="1")


def test_unknown_resource_or_choice_is_refused(world, subtests):
    assert_refused(subtests, world, [
        (v, lambda v=v: usage.record_usage(world, client="Acme", resource=v, quantity="1"))
        for v in ("voice", "SMSes", "", "minute")], field="resource")
    assert_refused(subtests, world, [
        (v, lambda v=v: wallet.apply_pack(world, client="Acme", pack="Top-up", status=v,
                                          key="new")) for v in ("failed", "PAID ", "")],
        field="status")


def test_duplicate_names_are_refused_ignoring_case(world, subtests):
    clients.add_client(world, name="Beta")
    catalog.add_plan(world, name="Other", fee="1.00")
    catalog.add_pack(world, name="Other pack", resource="sms", units="1", price="1.00")
    assert_refused(subtests, world, [
        ("client acme", lambda: clients.add_client(world, name="acme")),
        ("client ACME padded", lambda: clients.add_client(world, name="  ACME  ")),
        ("plan voice", lambda: catalog.add_plan(world, name="VOICE", fee="1.00")),
        ("pack top-up", lambda: catalog.add_pack(world, name="top-UP", resource="sms",
                                                 units="1", price="1.00")),
        ("rename client", lambda: clients.edit_client(world, client="Beta", name="aCmE")),
        ("rename plan", lambda: catalog.edit_plan(world, plan="Other", name="voice")),
        ("rename pack", lambda: catalog.edit_pack(world, pack="Other pack", name="TOP-UP")),
    ], error=DuplicateName, field="name")


def test_names_are_trimmed_and_may_be_any_unicode(desk):
    name = "Société Générale 株式会社 🚀 شركة"
    added = clients.add_client(desk, name=f"  {name}\t ")
    plan = catalog.add_plan(desk, name=" Ünlimited Ωmega ", fee="1.00",
                            included={"sms": "10"})
    pack = catalog.add_pack(desk, name="\u00a0Пакет SMS ", resource="sms", units="5",
                            price="1.00")

    assert (added.name, plan.name, pack.name) == (name, "Ünlimited Ωmega", "Пакет SMS")
    assert [c.name for c in clients.list_clients(desk)] == [name]
    clients.subscribe(desk, client=name.upper(), plan="ünlimited ωMEGA")
    clients.assign_packs(desk, client=f" {name} ", packs=["пакет sms"])
    detail = clients.client_detail(desk, added.id)
    assert detail.name == name
    assert detail.subscription.plan == "Ünlimited Ωmega"
    assert [p.name for p in detail.assigned_packs] == ["Пакет SMS"]
    with pytest.raises(DuplicateName):
        clients.add_client(desk, name=name.lower())


def test_empty_names_are_refused(world, subtests):
    assert_refused(subtests, world, [
        ("client", lambda: clients.add_client(world, name="   ")),
        ("plan", lambda: catalog.add_plan(world, name="", fee="1.00")),
        ("pack", lambda: catalog.add_pack(world, name="\t", resource="sms", units="1",
                                          price="1.00")),
        ("campaign", lambda: clients.add_campaign(world, client="Acme", name=" ",
                                                  resource="sms")),
        ("rename", lambda: clients.edit_client(world, client="Acme", name="  ")),
    ], field="name")


# -- no partial write ---------------------------------------------------------------------
def test_a_refused_multi_pack_assignment_assigns_none(world):
    catalog.add_pack(world, name="SMS pack", resource="sms", units="10", price="1.00")
    before = state(world)

    with pytest.raises(NotFound):
        clients.assign_packs(world, client="Acme", packs=["SMS pack", "Nothing"])

    assert state(world) == before
    assert [p.name for p in clients.client_detail(world, "Acme").assigned_packs] == ["Top-up"]


def test_a_refused_plan_with_one_bad_term_creates_no_plan(world):
    before = state(world)

    with pytest.raises(InvalidValue) as refused:
        catalog.add_plan(world, name="Half good", fee="1.00",
                         included={"minutes": "100", "sms": "-1"}, overage={"email": "0.1"})

    assert refused.value.field == "included sms"
    assert state(world) == before
    assert [p.name for p in catalog.list_plans(world)] == ["Voice"]


def test_a_refused_plan_edit_changes_nothing(world):
    before = state(world)

    with pytest.raises(InvalidValue):
        catalog.edit_plan(world, plan="Voice", name="Renamed", fee="5.00", due_days=400)

    assert state(world) == before
    assert catalog.get_plan(world, "Voice").fee == D("49.00")


def test_usage_lines_whose_dates_do_not_parse_are_rejected_alone(world, tmp_path):
    export = tmp_path / "usage.csv"
    export.write_text(
        "event_id,client,resource,quantity,occurred_at\n"
        "u-1,Acme,sms,1,2026-01-10T08:00:00\n"
        "u-2,Acme,sms,1,yesterday\n"
        "u-3,Acme,sms,1,2026-13-01T00:00:00\n"
        "u-4,Acme,sms,1,\n"
        "u-5,Acme,sms,NaN,2026-01-10T08:00:00\n"
        "u-6,Acme,sms,2,2026-01-10T08:30:00+01:00\n", encoding="utf-8")

    result = usage.import_usage(world, export)

    assert (result.recorded, result.duplicates) == (2, 0)
    assert [(r.line, r.reason.split(":")[0]) for r in result.rejected] == [
        (3, "occurred_at"), (4, "occurred_at"), (5, "occurred_at"), (6, "quantity")]
    assert clients.client_detail(world, "Acme").resources["sms"].included_used == D(3)
