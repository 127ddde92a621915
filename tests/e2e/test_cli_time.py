"""Time on the command line (SPEC §4, §8): --now places each command in time; periods roll
over across months exactly once, writes close a client's ended periods first, requests fall
overdue, lots expire into the billing history, and subscriptions end and start again."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import PAID_MESSAGE, Cli, has_keys, is_int, parallel

# Each test a walk through months, many commands in processes:
# outside the quick lane (`pytest -m "not slow"`), always in CI.
pytestmark = pytest.mark.slow

FEB_5 = "2026-02-05T10:00:00Z"


def test_rollover_across_months_bills_overage_and_fees_exactly_once_and_overdue_follows_now(
        cli: Cli):
    used, free_rate, not_yet, overdue = parallel([
        ("2026-01-20T12:00:00Z", ("usage", "Acme", "minutes", "510.5")),
        ("2026-01-20T12:00:00Z", ("usage", "Delta", "minutes", "25")),
        ("2026-01-11T23:59:59Z", ("payments", "Acme", "--status", "overdue")),
        ("2026-01-12T00:00:00Z", ("payments", "Acme", "--status", "overdue"))],
        lambda job: cli.ok(*job[1], now=job[0]))
    assert (used["overage_units"], used["overage_amount"]) == ("10.5", "0.525")
    # A rate of 0 is still a rate: billable overage that is free, never unserved or blocked.
    assert (free_rate["included"], free_rate["overage_units"], free_rate["overage_amount"],
            free_rate["unserved"], free_rate["blocked"]) == ("10", "15", "0", "0", False)
    assert not_yet == [], "not overdue on its due date"
    assert [(p["type"], p["due_date"], p["overdue"]) for p in overdue] == [
        ("Plan", "2026-01-11", True)], "overdue once the local date is after the due date"

    # A write for Acme closes its ended period first: the event goes to February.
    february = cli.ok("usage", "Acme", "minutes", "1", now=FEB_5)
    assert february["included"] == "1" and february["late"] is False
    acme, payments, beta = cli.many_ok(
        [("client", "show", "Acme"), ("payments", "Acme"), ("client", "show", "Beta Café")],
        now=FEB_5)
    assert acme["subscription"]["period_start"] == "2026-02-01T00:00:00+00:00"
    assert acme["subscription"]["period_end"] == "2026-03-01T00:00:00+00:00"
    assert acme["resources"]["minutes"]["included_used"] == "1"
    assert acme["resources"]["minutes"]["overage_units"] == "0"
    assert beta["subscription"]["period_end"] == "2026-02-01T00:00:00+00:00", \
        "reads show the state as of the last write: other clients wait for the rollover"
    by_type = {}
    for p in payments:
        by_type.setdefault(p["type"], []).append(p)
    overage = by_type["Overage"]
    assert [(p["amount"], p["created_at"], p["due_date"], p["status"], p["overdue"])
            for p in overage] == [("0.53", "2026-02-01T00:00:00+00:00", "2026-02-02", "pending",
                                   True)], "one request, rounded half-up once"
    assert sorted((p["amount"], p["created_at"]) for p in by_type["Plan"]) == [
        ("49.00", "2026-01-10T09:00:00+00:00"), ("49.00", "2026-02-01T00:00:00+00:00")]

    rolled = cli.ok("rollover", now=FEB_5)
    has_keys(rolled, {"clients", "periods_closed", "payment_requests"})
    assert all(is_int(v) for v in rolled.values())
    # Beta (20), Echo (10) and Foxtrot (10) owe a fee; Acme is closed already; Delta's fee and
    # free overage are 0.00, for which no request is made.
    assert (rolled["clients"], rolled["periods_closed"], rolled["payment_requests"]) == (4, 4, 3)
    again, delta = cli.many_ok([("rollover",), ("payments", "Delta")], now="2026-02-05T10:00:01Z")
    assert (again["periods_closed"], again["payment_requests"]) == (0, 0), "exactly once"
    assert delta == []


def test_lot_expires_at_applied_time_plus_months_and_history_lists_newest_first(cli: Cli):
    sms = cli.ok("apply", "Beta Café", "Additional SMS", "--status", "pending")
    assert cli.ok("usage", "Beta Café", "sms", "150", now="2026-01-10T10:00:00Z")["wallet"] == "50"
    emails = cli.ok("apply", "Beta Café", "Additional emails", "--status", "paid",
                    now="2026-03-15T10:00:00Z")
    assert emails["message"] == PAID_MESSAGE

    expiry = "2027-01-10T09:00:00Z"
    show, history = cli.many_ok([("client", "show", "Beta Café"), ("history", "Beta Café")],
                                now=expiry)
    lot = next(x for x in show["lots"] if x["id"] == sms["lot_id"])
    assert lot["expires_at"] == "2027-01-10T09:00:00+00:00", "applied time + 12 months"
    assert show["resources"]["sms"]["wallet"] == "0", "a lot expired by now is not counted"
    assert lot["remaining"] == "450", "the expire entry waits for the next write or rollover"
    assert [h["kind"] for h in history] == ["purchase", "purchase"]

    cli.ok("rollover", now=expiry)
    history, show = cli.many_ok([("history", "Beta Café"), ("client", "show", "Beta Café")],
                                now=expiry)
    assert [(h["date"], h["kind"], h["package_type"], h["resource"], h["credits"], h["amount"],
             h["status"]) for h in history] == [
        ("2027-01-10", "expired", "Additional SMS", "sms", "450", None, None),
        ("2026-03-15", "purchase", "Additional emails", "email", "5000", "10.00", "paid"),
        ("2026-01-10", "purchase", "Additional SMS", "sms", "500", "20.00", "pending"),
    ]
    assert history[0]["expires_at"] == "2027-01-10T09:00:00+00:00", "with its expiry date"
    assert next(x for x in show["lots"] if x["id"] == sms["lot_id"])["remaining"] == "0"


def test_cancel_bills_the_period_refuses_usage_and_packs_and_resubscribing_keeps_the_wallet(
        cli: Cli, tmp_path):
    cli.ok("usage", "Acme", "minutes", "510", now="2026-01-10T10:00:00Z")
    cli.ok("apply", "Acme", "100 Minutes Pack", "--status", "paid", now="2026-01-10T10:30:00Z")
    assert cli.ok("cancel", "Acme", now="2026-01-10T11:00:00Z")["cancelled"] is True
    cli.refused_each([
        (["usage", "Acme", "minutes", "1"], ["subscription"]),
        (["apply", "Acme", "100 Minutes Pack", "--status", "paid"], ["subscription"]),
        (["assign", "Acme", "Additional SMS"], ["subscription"]),
    ], tmp_path, now="2026-01-10T11:30:00Z")
    show, payments = cli.views("Acme", now="2026-01-10T11:30:00Z")
    assert show["subscription"] is None
    assert show["resources"]["minutes"]["wallet"] == "100", "the wallet is kept"
    overage = [p for p in payments if p["type"] == "Overage"]
    assert [(p["amount"], p["created_at"], p["due_date"]) for p in overage] == [
        ("0.50", "2026-01-10T11:00:00+00:00", "2026-01-11")], "the period is billed at once"

    again = cli.ok("subscribe", "Acme", "Voice 500", now="2026-01-10T12:00:00Z")
    assert again["period_start"] == "2026-01-10T12:00:00+00:00"
    used = cli.ok("usage", "Acme", "minutes", "505", now="2026-01-10T13:00:00Z")
    assert (used["included"], used["wallet"]) == ("500", "5"), "the kept wallet is usable again"
