"""Add-on packs on the command line (SPEC §3, §7, seed 000): apply with the seed's success
messages, idempotent --key, the amber add-ons-disabled refusal, payments, revoke, history."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import (
    ADDONS_DISABLED,
    PAID_MESSAGE,
    PENDING_MESSAGE,
    RESOURCES,
    T0,
    Cli,
    check_refusal,
    has_keys,
    is_date,
    is_int,
    is_iso_time,
    is_number_text,
    parallel,
)

# Each test several seconds of commands in processes:
# outside the quick lane (`pytest -m "not slow"`), always in CI.
pytestmark = pytest.mark.slow

CLIENT_KEYS = {"id", "name", "email", "blocked", "subscription", "resources", "lots",
               "campaigns", "assigned_packs"}
RESOURCE_KEYS = {"included", "included_used", "included_left", "wallet", "overage_units",
                 "overage_amount", "unserved", "blocked"}
LOT_KEYS = {"id", "resource", "pack", "units", "remaining", "applied_at", "expires_at"}
PAYMENT_KEYS = {"id", "client", "type", "amount", "created_at", "due_date", "status", "paid_at",
                "overdue", "reference"}
HISTORY_KEYS = {"date", "kind", "package_type", "resource", "credits", "amount", "status",
                "expires_at"}


def check_client_show(show: dict) -> None:
    has_keys(show, CLIENT_KEYS)
    assert is_int(show["id"]) and isinstance(show["name"], str)
    assert show["email"] is None or isinstance(show["email"], str)
    assert all(r in RESOURCES for r in show["blocked"])
    sub = show["subscription"]
    if sub is not None:
        has_keys(sub, {"plan", "status", "period_start", "period_end", "addons", "due_days"})
        assert is_iso_time(sub["period_start"]) and is_iso_time(sub["period_end"])
        assert isinstance(sub["addons"], bool) and is_int(sub["due_days"])
    assert set(show["resources"]) == set(RESOURCES)
    for usage in show["resources"].values():
        has_keys(usage, RESOURCE_KEYS)
        assert isinstance(usage["blocked"], bool)
        assert all(is_number_text(usage[k]) for k in RESOURCE_KEYS - {"blocked"}), usage
    for lot in show["lots"]:
        has_keys(lot, LOT_KEYS)
        assert is_int(lot["id"]) and lot["resource"] in RESOURCES
        assert is_number_text(lot["units"]) and is_number_text(lot["remaining"])
        assert is_iso_time(lot["applied_at"])
        assert lot["expires_at"] is None or is_iso_time(lot["expires_at"])
    for campaign in show["campaigns"]:
        has_keys(campaign, {"id", "name", "resource", "status"})
        assert is_int(campaign["id"])
        assert campaign["status"] in {"running", "paused", "paused_quota", "finished"}
    assert all(isinstance(name, str) for name in show["assigned_packs"])


def check_payment(payment: dict) -> None:
    has_keys(payment, PAYMENT_KEYS)
    assert is_int(payment["id"]) and isinstance(payment["client"], str)
    assert payment["type"] in {"Plan", "Pack", "Overage"}
    assert is_number_text(payment["amount"]) and is_iso_time(payment["created_at"])
    assert is_date(payment["due_date"])
    assert payment["status"] in {"pending", "paid", "failed"}
    assert payment["paid_at"] is None or is_iso_time(payment["paid_at"])
    assert (payment["paid_at"] is not None) == (payment["status"] == "paid")
    assert isinstance(payment["overdue"], bool) and isinstance(payment["reference"], str)


def check_history_row(row: dict) -> None:
    has_keys(row, HISTORY_KEYS)
    assert row["kind"] in {"purchase", "expired", "revoked"}
    assert row["resource"] in RESOURCES and is_number_text(row["credits"])
    assert is_date(row["date"]), "history rows carry a local date, YYYY-MM-DD"
    assert row["expires_at"] is None or is_iso_time(row["expires_at"])
    if row["kind"] == "purchase":
        assert is_number_text(row["amount"]) and row["status"] in {"pending", "paid", "failed"}
    else:
        assert row["amount"] is None and row["status"] is None


# -- applying -----------------------------------------------------------------------------
def test_apply_pending_then_paid_prints_seed_000_messages_and_credits_the_wallet(cli: Cli):
    # One after the other: time runs forward for each client (SPEC §8), so the later
    # application cannot go first.
    pending, paid = [
        cli.ok("apply", client, pack, "--status", status, now=now) for now, status, client, pack
        in [(T0, "pending", "Acme", "100 Minutes Pack"),
            ("2026-01-10T10:00:00Z", "paid", "acme", "100 minutes pack")]]
    has_keys(pending, {"lot_id", "payment_request_id", "message"})
    assert is_int(pending["lot_id"]) and is_int(pending["payment_request_id"])
    assert pending["message"] == PENDING_MESSAGE
    assert paid["message"] == PAID_MESSAGE
    assert paid["lot_id"] != pending["lot_id"]

    show, payments, history = cli.many_ok(
        [("client", "show", "Acme"), ("payments", "Acme"), ("history", "Acme")],
        now="2026-01-10T10:00:00Z")
    check_client_show(show)
    assert show["resources"]["minutes"]["wallet"] == "200"
    assert [(lot["id"], lot["pack"], lot["units"], lot["remaining"], lot["expires_at"])
            for lot in show["lots"]] == [  # oldest applied first
        (pending["lot_id"], "100 Minutes Pack", "100", "100", None),
        (paid["lot_id"], "100 Minutes Pack", "100", "100", None)]
    assert show["assigned_packs"] == ["100 Minutes Pack"]

    for payment in payments:
        check_payment(payment)
    packs = {p["id"]: p for p in payments if p["type"] == "Pack"}
    assert set(packs) == {pending["payment_request_id"], paid["payment_request_id"]}
    first, second = packs[pending["payment_request_id"]], packs[paid["payment_request_id"]]
    assert (first["amount"], first["status"], first["paid_at"], first["due_date"]) == (
        "15.00", "pending", None, "2026-01-11")
    assert (second["amount"], second["status"], second["due_date"]) == ("15.00", "paid",
                                                                        "2026-01-11")
    assert second["paid_at"] == "2026-01-10T10:00:00+00:00"
    assert [p["type"] for p in payments].count("Plan") == 1
    assert payments[0]["id"] == second["id"], "payments are listed newest first"

    for row in history:
        check_history_row(row)
    assert [(h["kind"], h["package_type"], h["credits"], h["amount"], h["status"])
            for h in history] == [
        ("purchase", "100 Minutes Pack", "100", "15.00", "paid"),
        ("purchase", "100 Minutes Pack", "100", "15.00", "pending")], "newest first"
    assert history[0]["date"] == "2026-01-10"


def test_apply_with_the_same_key_applies_once_and_a_different_use_is_refused(cli: Cli, tmp_path):
    first = cli.ok("apply", "Acme", "100 Minutes Pack", "--status", "pending", "--key", "dlg-1")
    before = cli.dump()
    again = cli.ok("apply", "Acme", "100 Minutes Pack", "--status", "pending", "--key", "dlg-1",
                   now="2026-01-10T09:00:05Z")
    assert again == first, "a retry returns the first result"
    assert cli.dump() == before, "a retry changes nothing"
    cli.refused_each([
        (["apply", "Acme", "100 Minutes Pack", "--status", "paid", "--key", "dlg-1"], ["key"]),
        (["apply", "Beta Café", "Additional SMS", "--status", "pending", "--key", "dlg-1"],
         ["key"]),
    ], tmp_path)


def test_add_ons_disabled_refuses_assign_and_apply_with_the_seed_amber_text(cli: Cli):
    """Echo's snapshot has add-ons off (its pack was assigned before it re-subscribed)."""
    show_before, payments_before = cli.views("Echo")
    assert show_before["subscription"]["addons"] is False
    assert show_before["assigned_packs"] == ["100 Minutes Pack"]
    before = cli.dump()
    apply_error, assign_error = cli.many([
        ("apply", "Echo", "100 Minutes Pack", "--status", "paid"),
        ("assign", "Foxtrot", "100 Minutes Pack")])
    for result in (apply_error, assign_error):
        check_refusal(result, [ADDONS_DISABLED])
        assert result.err.strip() == f"quotadesk: {ADDONS_DISABLED}", "the seed's text, verbatim"
    assert cli.dump() == before
    assert cli.views("Echo") == (show_before, payments_before)


def test_apply_refusals_name_the_rule_and_change_nothing(cli: Cli, tmp_path):
    cli.refused_each([
        (["apply", "Gamma", "100 Minutes Pack", "--status", "pending"], ["subscription"]),
        (["apply", "Acme", "Additional SMS", "--status", "pending"], ["pack", "not assigned"]),
        (["apply", "Acme", "No Such Pack", "--status", "pending"], ["pack", "No Such Pack"]),
        (["apply", "Acme", "100 Minutes Pack", "--status", "failed"], ["status"]),
        # After the period ended: the catch-up that precedes the refusal is rolled back too.
        (["apply", "Acme", "Additional SMS", "--status", "pending"], ["pack", "not assigned"],
         "2026-02-05T10:00:00Z"),
    ], tmp_path)


# -- payments, revoke, history ------------------------------------------------------------
def test_fail_keeps_credits_revoke_takes_back_unused_units_and_history_lists_them(
        cli: Cli, tmp_path):
    sms = cli.ok("apply", "Beta Café", "Additional SMS", "--status", "pending")
    # The two writes for Beta Café one after the other: time runs forward for each client
    # (SPEC §8); marking the request failed is no moment of the client's and goes alongside.
    free, failed = parallel(
        [("2026-01-10T09:30:00Z", ("apply", "Beta Café", "Free SMS", "--status", "pending")),
         ("2026-01-10T11:00:00Z", ("fail", str(sms["payment_request_id"])))],
        lambda job: cli.ok(*job[1], now=job[0]))
    used = cli.ok("usage", "Beta Café", "sms", "150", "--at", "2026-01-10T09:15:00Z",
                  now="2026-01-10T10:00:00Z")
    assert free["payment_request_id"] is None, "no payment request for an amount of 0.00"
    assert (used["included"], used["wallet"]) == ("100", "50")
    check_payment(failed)
    assert failed["status"] == "failed" and failed["paid_at"] is None

    revoked = cli.ok("revoke", str(sms["lot_id"]), "--reason", "payment failed",
                     now="2026-01-10T12:00:00Z")
    assert revoked["lot_id"] == sms["lot_id"]
    assert revoked["revoked"] == "450", "failing kept the credits; consumed units stay consumed"
    show, history, payments = cli.many_ok(
        [("client", "show", "Beta Café"), ("history", "Beta Café"), ("payments", "Beta Café")],
        now="2026-01-10T12:00:00Z")
    lots = {lot["id"]: lot for lot in show["lots"]}
    assert (lots[sms["lot_id"]]["units"], lots[sms["lot_id"]]["remaining"]) == ("500", "0")
    assert show["resources"]["sms"]["wallet"] == "5"
    assert not [p for p in payments if p["type"] == "Pack" and p["amount"] == "0.00"]
    for row in history:
        check_history_row(row)
    assert [(h["kind"], h["package_type"], h["credits"], h["amount"], h["status"])
            for h in history] == [
        ("revoked", "Additional SMS", "450", None, None),
        # A free pack makes no payment request (SPEC §8), so nothing is owed: "paid", whatever
        # status it was applied with.
        ("purchase", "Free SMS", "5", "0.00", "paid"),
        ("purchase", "Additional SMS", "500", "20.00", "failed"),
    ]
    assert history[0]["date"] == "2026-01-10"
    assert history[2]["expires_at"].startswith("2027-01-10T09:00:00")

    cli.refused_each([
        (["revoke", str(sms["lot_id"]), "--reason", "again"], ["lot", "no unused units"]),
        (["revoke", str(free["lot_id"]), "--reason", "   "], ["reason"]),
        (["fail", str(sms["payment_request_id"])], ["status"]),
    ], tmp_path, now="2026-01-11T00:00:00Z")
    paid = cli.ok("pay", str(sms["payment_request_id"]), now="2026-01-12T08:00:00Z")
    check_payment(paid)
    assert paid["status"] == "paid" and paid["paid_at"] == "2026-01-12T08:00:00+00:00", \
        "pay works from failed"
