"""SPEC §2 blocking / unblocking / alerts and the §8 "Blocking and alerts" decisions.

A resource is blocked as soon as its free pools (included left + wallet) reach exactly zero with
no overage rate; running campaigns become paused · quota; the block lifts when a pack is applied
or a new period brings allowance; staff-paused campaigns stay paused. Alerts (80 %, 95 %,
exhausted, blocked) are recorded once per period, resource and kind, at the event's time.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from quotadesk.models import EmailOutbox
from quotadesk.services import billing, catalog, clients, outbox, reports, usage, wallet
from tests.integration.test_rules_support import db_url  # noqa: F401 (fixture)

T0 = datetime(2026, 1, 10, 9, 0, tzinfo=UTC)
FEB_1 = datetime(2026, 2, 1, tzinfo=UTC)
D = Decimal


def subscribed(desk, *, included=None, overage=None, name="Acme", email="ops@acme.test"):
    catalog.add_plan(desk, name="Plan", fee="10.00", included=included or {},
                     overage=overage or {})
    clients.add_client(desk, name=name, email=email)
    clients.subscribe(desk, client=name, plan="Plan")


def statuses(desk, client="Acme"):
    return {c.name: c.status for c in clients.client_detail(desk, client).campaigns}


def alert_rows(desk, client="Acme"):
    """(resource, kind, threshold, at) oldest first."""
    return [(a.resource, a.kind, a.threshold, a.at)
            for a in reversed(billing.list_alerts(desk, client))]


def use(desk, resource, quantity, **kw):
    return usage.record_usage(desk, client="Acme", resource=resource, quantity=quantity, **kw)


# -- blocking -----------------------------------------------------------------------------
def test_blocked_when_free_pools_reach_exactly_zero_with_no_rate(desk):
    subscribed(desk, included={"sms": "10"})
    catalog.add_pack(desk, name="Five SMS", resource="sms", units="5", price="1.00")
    clients.assign_packs(desk, client="Acme", packs=["Five SMS"])
    wallet.apply_pack(desk, client="Acme", pack="Five SMS", status="paid", key="k")

    almost = use(desk, "sms", "14")
    assert almost.blocked is False
    assert clients.client_detail(desk, "Acme").blocked == ()

    last = use(desk, "sms", "1")  # fully served, and leaves exactly zero free units

    assert (last.included, last.wallet, last.unserved, last.blocked) == (D(0), D(1), D(0), True)
    detail = clients.client_detail(desk, "Acme")
    assert detail.blocked == ("sms",)
    assert detail.resources["sms"].unserved == D(0)
    assert (detail.resources["sms"].included_left, detail.resources["sms"].wallet) == (D(0), D(0))
    assert [c.blocked for c in clients.list_clients(desk)] == [("sms",)]
    assert ("sms", "blocked", None, T0) in alert_rows(desk)
    assert reports.verify(desk).ok


def test_overage_rate_prevents_blocking_when_free_pools_reach_zero(desk):
    subscribed(desk, included={"sms": "10"}, overage={"sms": "0.02"})

    result = use(desk, "sms", "10")

    assert result.blocked is False
    assert clients.client_detail(desk, "Acme").blocked == ()
    assert [k for _, k, _, _ in alert_rows(desk)] == ["threshold", "threshold", "exhausted"]


def test_block_turns_running_campaigns_into_paused_quota(desk):
    subscribed(desk, included={"minutes": "10", "sms": "10"})
    clients.add_campaign(desk, client="Acme", name="Calls", resource="minutes")
    clients.add_campaign(desk, client="Acme", name="Calls 2", resource="minutes")
    clients.add_campaign(desk, client="Acme", name="Texts", resource="sms")
    done = clients.add_campaign(desk, client="Acme", name="Old calls", resource="minutes")
    clients.change_campaign(desk, campaign_id=done.id, action="finish")

    use(desk, "minutes", "11")

    assert statuses(desk) == {"Calls": "paused_quota", "Calls 2": "paused_quota",
                              "Texts": "running", "Old calls": "finished"}
    assert [c.status for c in clients.list_campaigns(desk, "Acme")] == [
        "paused_quota", "paused_quota", "running", "finished"]


def test_campaign_paused_by_staff_stays_paused_through_block_and_unblock(desk):
    subscribed(desk, included={"minutes": "10"})
    catalog.add_pack(desk, name="Top-up", resource="minutes", units="50", price="5.00")
    clients.assign_packs(desk, client="Acme", packs=["Top-up"])
    staff = clients.add_campaign(desk, client="Acme", name="Staff paused", resource="minutes")
    clients.add_campaign(desk, client="Acme", name="Live", resource="minutes")
    clients.change_campaign(desk, campaign_id=staff.id, action="pause")

    use(desk, "minutes", "10")
    assert statuses(desk) == {"Staff paused": "paused", "Live": "paused_quota"}

    wallet.apply_pack(desk, client="Acme", pack="Top-up", status="pending", key="k")

    assert statuses(desk) == {"Staff paused": "paused", "Live": "running"}
    assert clients.client_detail(desk, "Acme").blocked == ()


def test_campaign_paused_by_staff_while_blocked_stays_paused_on_unblock(desk, clock):
    subscribed(desk, included={"minutes": "10"})
    live = clients.add_campaign(desk, client="Acme", name="Live", resource="minutes")
    use(desk, "minutes", "10")
    assert statuses(desk) == {"Live": "paused_quota"}
    clients.change_campaign(desk, campaign_id=live.id, action="pause")

    clock.set(FEB_1)
    billing.run_rollover(desk)

    assert clients.client_detail(desk, "Acme").blocked == ()
    assert statuses(desk) == {"Live": "paused"}


def test_campaign_added_on_a_blocked_resource_starts_paused_quota(desk):
    subscribed(desk, included={"sms": "5"})
    use(desk, "sms", "6")
    assert clients.client_detail(desk, "Acme").blocked == ("sms",)

    added = clients.add_campaign(desk, client="Acme", name="Promo", resource="sms")
    other = clients.add_campaign(desk, client="Acme", name="Mail", resource="email")

    assert added.status == "paused_quota"
    assert other.status == "running"
    assert statuses(desk) == {"Promo": "paused_quota", "Mail": "running"}


def test_resuming_a_campaign_on_a_blocked_resource_keeps_it_paused_quota(desk):
    subscribed(desk, included={"sms": "5"})
    campaign = clients.add_campaign(desk, client="Acme", name="Promo", resource="sms")
    clients.change_campaign(desk, campaign_id=campaign.id, action="pause")
    use(desk, "sms", "5")

    resumed = clients.change_campaign(desk, campaign_id=campaign.id, action="resume")

    assert resumed.status == "paused_quota"
    assert statuses(desk) == {"Promo": "paused_quota"}


def test_applying_a_pack_lifts_the_block_and_resumes_quota_paused_campaigns(desk):
    subscribed(desk, included={"minutes": "10"})
    catalog.add_pack(desk, name="Top-up", resource="minutes", units="50", price="5.00")
    catalog.add_pack(desk, name="SMS top-up", resource="sms", units="50", price="5.00")
    clients.assign_packs(desk, client="Acme", packs=["Top-up", "SMS top-up"])
    clients.add_campaign(desk, client="Acme", name="Calls", resource="minutes")
    blocked = use(desk, "minutes", "12")
    assert (blocked.unserved, blocked.blocked) == (D(2), True)

    # a pack for another resource does not lift the minutes block
    wallet.apply_pack(desk, client="Acme", pack="SMS top-up", status="paid", key="sms")
    assert clients.client_detail(desk, "Acme").blocked == ("minutes",)
    assert statuses(desk) == {"Calls": "paused_quota"}

    wallet.apply_pack(desk, client="Acme", pack="Top-up", status="pending", key="min")

    detail = clients.client_detail(desk, "Acme")
    assert detail.blocked == ()
    assert detail.resources["minutes"].blocked is False
    assert detail.resources["minutes"].wallet == D(50)
    assert statuses(desk) == {"Calls": "running"}
    served = use(desk, "minutes", "3")
    assert (served.wallet, served.unserved, served.blocked) == (D(3), D(0), False)
    assert reports.verify(desk).ok


def test_new_period_with_allowance_lifts_the_block_and_resumes_campaigns(desk, clock):
    subscribed(desk, included={"sms": "5"})
    clients.add_campaign(desk, client="Acme", name="Promo", resource="sms")
    use(desk, "sms", "9")
    assert clients.client_detail(desk, "Acme").blocked == ("sms",)

    clock.set(FEB_1 - timedelta(microseconds=1))
    assert billing.run_rollover(desk).periods_closed == 0
    assert clients.client_detail(desk, "Acme").blocked == ("sms",)

    clock.set(FEB_1)
    assert billing.run_rollover(desk).periods_closed == 1

    detail = clients.client_detail(desk, "Acme")
    assert detail.blocked == ()
    assert detail.resources["sms"].included_left == D(5)
    assert detail.resources["sms"].unserved == D(0)
    assert statuses(desk) == {"Promo": "running"}
    assert reports.verify(desk).ok


def test_period_starting_with_zero_free_units_is_not_blocked_until_usage_is_attempted(
        desk, clock):
    subscribed(desk, included={"minutes": "100"})  # no sms, no email allowance, no rates
    clients.add_campaign(desk, client="Acme", name="Texts", resource="sms")

    detail = clients.client_detail(desk, "Acme")
    assert detail.blocked == ()
    assert (detail.resources["sms"].included, detail.resources["sms"].blocked) == (D(0), False)
    assert statuses(desk) == {"Texts": "running"}
    clock.set(FEB_1)
    billing.run_rollover(desk)
    assert clients.client_detail(desk, "Acme").blocked == ()
    assert [c.blocked for c in clients.list_clients(desk)] == [()]

    result = use(desk, "sms", "1")

    assert (result.unserved, result.blocked) == (D(1), True)
    assert clients.client_detail(desk, "Acme").blocked == ("sms",)
    assert statuses(desk) == {"Texts": "paused_quota"}
    assert alert_rows(desk) == [("sms", "blocked", None, FEB_1)]
    assert reports.verify(desk).ok


# -- alerts -------------------------------------------------------------------------------
def test_threshold_alerts_are_recorded_once_per_period_resource_and_kind(desk, clock):
    subscribed(desk, included={"minutes": "100"}, overage={"minutes": "0.1"})
    times = []
    for quantity in ("79", "1", "5", "10", "4", "1", "50"):   # 79 80 85 95 99 100 150
        clock.advance(minutes=1)
        times.append(clock())
        use(desk, "minutes", quantity)

    assert alert_rows(desk) == [
        ("minutes", "threshold", 80, times[1]),
        ("minutes", "threshold", 95, times[3]),
        ("minutes", "exhausted", None, times[5]),
    ]
    clock.set(datetime(2026, 2, 2, 9, 0, tzinfo=UTC))
    use(desk, "minutes", "80")
    use(desk, "minutes", "80")

    alerts = billing.list_alerts(desk, "Acme")
    assert [(a.kind, a.threshold, a.period_start) for a in alerts[:3]] == [
        ("exhausted", None, FEB_1), ("threshold", 95, FEB_1), ("threshold", 80, FEB_1)]
    assert len(alerts) == 6
    assert [a.period_start for a in alerts[3:]] == [T0, T0, T0]
    assert clients.client_detail(desk, "Acme").alerts == tuple(alerts)


def test_alerts_are_kept_per_resource(desk):
    subscribed(desk, included={"minutes": "10", "sms": "10"})

    use(desk, "minutes", "8")
    use(desk, "sms", "8")

    assert sorted(alert_rows(desk)) == [("minutes", "threshold", 80, T0),
                                        ("sms", "threshold", 80, T0)]


def test_one_event_can_record_80_95_exhausted_and_blocked_at_once(desk):
    subscribed(desk, included={"sms": "100"})

    result = use(desk, "sms", "150")

    assert (result.included, result.unserved, result.blocked) == (D(100), D(50), True)
    assert sorted(alert_rows(desk), key=lambda r: (r[1], r[2] or 0)) == [
        ("sms", "blocked", None, T0),
        ("sms", "exhausted", None, T0),
        ("sms", "threshold", 80, T0),
        ("sms", "threshold", 95, T0),
    ]
    use(desk, "sms", "5")  # still blocked: nothing new is recorded
    assert len(billing.list_alerts(desk, "Acme")) == 4


def test_alert_time_is_the_event_time(desk, clock):
    subscribed(desk, included={"sms": "10"})
    clock.set(T0 + timedelta(hours=5))
    event_at = T0 + timedelta(hours=2, minutes=17)

    use(desk, "sms", "10", at=event_at)

    assert {a.at for a in billing.list_alerts(desk, "Acme")} == {event_at}
    assert sorted((r[1], r[2] or 0) for r in alert_rows(desk)) == [
        ("blocked", 0), ("exhausted", 0), ("threshold", 80), ("threshold", 95)]


def test_no_threshold_alerts_for_a_zero_allowance(desk):
    subscribed(desk, included={"minutes": "100"})  # sms allowance 0, no sms rate

    use(desk, "sms", "3")

    kinds = [(r[0], r[1]) for r in alert_rows(desk)]
    assert ("sms", "threshold") not in kinds
    assert ("sms", "blocked") in kinds


def test_no_threshold_alerts_for_a_zero_allowance_with_an_overage_rate(desk):
    subscribed(desk, included={"minutes": "100"}, overage={"sms": "0.05"})

    result = use(desk, "sms", "3")

    assert (result.overage_units, result.blocked) == (D(3), False)
    assert [r for r in alert_rows(desk) if r[1] == "threshold"] == []


def test_alert_thresholds_come_from_the_plan_snapshot(desk):
    catalog.add_plan(desk, name="Plan", fee="10.00", included={"email": "200"},
                     alerts="50,90")
    clients.add_client(desk, name="Acme", email="ops@acme.test")
    clients.subscribe(desk, client="Acme", plan="Plan")

    use(desk, "email", "100")
    use(desk, "email", "60")   # 80 %: not a threshold of this plan
    use(desk, "email", "20")   # 90 %

    assert [(r[1], r[2]) for r in alert_rows(desk)] == [("threshold", 50), ("threshold", 90)]


def test_each_alert_queues_an_email_to_the_clients_contact_address(desk):
    subscribed(desk, included={"sms": "100"})

    use(desk, "sms", "150")

    alerts = billing.list_alerts(desk, "Acme")
    emails = [m for m in outbox.list_messages(desk, "Acme") if m.kind == "alert"]
    assert len(alerts) == len(emails) == 4
    assert {(e.client, e.to, e.created_at, e.sent_at, e.status, e.attempts) for e in emails} == {
        ("Acme", "ops@acme.test", T0, None, "queued", 0)}
    assert len({e.subject for e in emails}) == 4
    with desk.database.session(write=False) as session:
        rows = list(session.scalars(select(EmailOutbox).where(EmailOutbox.kind == "alert")))
    assert sorted(m.alert_id for m in rows) == sorted(a.id for a in alerts)


def test_alerts_without_a_contact_address_are_listed_failed_at_once(desk):
    """SPEC §9: a message for a client without an address is listed `failed` at once,
    attempts 0, `to` null, error "no e-mail address"."""
    subscribed(desk, included={"sms": "10"}, email=None)

    use(desk, "sms", "10")

    assert len(billing.list_alerts(desk, "Acme")) == 4
    emails = [m for m in outbox.list_messages(desk, "Acme") if m.kind == "alert"]
    assert {(m.to, m.status, m.attempts, m.error) for m in emails} == {
        (None, "failed", 0, "no e-mail address")}
    assert len(emails) == 4
