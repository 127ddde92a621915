"""The command line's catalog and set-up commands (SPEC §7): init, plan, pack, client, subscribe,
assign; their JSON shapes, name lookup, bad values (exit 1, nothing written) and malformed
command lines (exit 2)."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import (
    RESOURCES,
    T0,
    Cli,
    Template,
    check_refusal,
    has_keys,
    is_int,
    is_iso_time,
    is_number_text,
    parallel,
)

PLAN_KEYS = {"id", "name", "fee", "anchor", "included", "overage", "addons", "due_days", "alerts"}
PACK_KEYS = {"id", "name", "resource", "units", "price", "expires_months", "description"}
CLIENT_LIST_KEYS = {"id", "name", "email", "plan", "blocked"}
SUBSCRIPTION_KEYS = {"plan", "status", "period_start", "period_end", "addons", "due_days"}


def check_plan(plan: dict) -> None:
    has_keys(plan, PLAN_KEYS)
    assert is_int(plan["id"]) and isinstance(plan["name"], str)
    assert is_number_text(plan["fee"]) and plan["anchor"] in {"calendar", "anniversary"}
    for table in (plan["included"], plan["overage"]):
        assert set(table) <= set(RESOURCES)
        assert all(is_number_text(v) for v in table.values())
    assert isinstance(plan["addons"], bool) and is_int(plan["due_days"])
    assert all(is_int(p) for p in plan["alerts"])


def check_pack(pack: dict) -> None:
    has_keys(pack, PACK_KEYS)
    assert is_int(pack["id"]) and pack["resource"] in RESOURCES
    assert is_number_text(pack["units"]) and is_number_text(pack["price"])
    assert pack["expires_months"] is None or is_int(pack["expires_months"])
    assert isinstance(pack["description"], str)


# -- what the set-up commands print -------------------------------------------------------
def test_setup_commands_print_their_json_results(template: Template):
    out = template.outputs
    assert out["init"] == {"currency": "USD", "timezone": "UTC"}

    voice = out["plan add Voice 500"]
    check_plan(voice)
    assert {k: voice[k] for k in PLAN_KEYS - {"id"}} == {
        "name": "Voice 500", "fee": "49.00", "anchor": "calendar",
        "included": {"minutes": "500"}, "overage": {"minutes": "0.05"}, "addons": True,
        "due_days": 1, "alerts": [80, 95]}
    messaging = out["plan add Messaging"]
    assert (messaging["fee"], messaging["included"], messaging["overage"],
            messaging["due_days"]) == ("20.00", {"sms": "100", "email": "1000"}, {}, 7)
    assert out["plan add Free Rate"]["overage"] == {"minutes": "0"}
    assert out["plan add No Add-ons"]["addons"] is False

    sms = out["pack add Additional SMS"]
    check_pack(sms)
    assert (sms["name"], sms["resource"], sms["units"], sms["price"], sms["expires_months"],
            sms["description"]) == ("Additional SMS", "sms", "500", "20.00", 12,
                                    "Batch of extra SMS credits")
    minutes = out["pack add 100 Minutes Pack"]
    assert (minutes["units"], minutes["price"], minutes["expires_months"]) == ("100", "15.00", None)
    assert out["pack add Free SMS"]["price"] == "0.00"

    acme = out["client add Acme"]
    has_keys(acme, {"id", "name", "email"})
    assert is_int(acme["id"]) and (acme["name"], acme["email"]) == ("Acme", "ops@acme.test")
    assert out["client add Gamma"]["email"] is None
    assert out["client add Beta Café"]["name"] == "Beta Café"

    sub = out["subscribe Acme Voice 500"]
    has_keys(sub, SUBSCRIPTION_KEYS)
    assert {k: sub[k] for k in SUBSCRIPTION_KEYS} == {
        "plan": "Voice 500", "status": "active", "period_start": "2026-01-10T09:00:00+00:00",
        "period_end": "2026-02-01T00:00:00+00:00", "addons": True, "due_days": 1}
    assert out["subscribe Echo No Add-ons"]["addons"] is False
    assert out["assign Beta Café Additional SMS"]["assigned"] == [
        "Additional SMS", "Additional emails", "Free SMS"]


def test_list_commands_json_shapes(cli: Cli):
    plans, packs, clients, gamma = cli.many_ok(
        [("plan", "list"), ("pack", "list"), ("client", "list"), ("client", "show", "Gamma")])
    assert isinstance(plans, list) and len(plans) == 4
    for plan in plans:
        check_plan(plan)
    assert {p["name"] for p in plans} == {"Voice 500", "Messaging", "Free Rate", "No Add-ons"}
    assert next(p for p in plans if p["name"] == "Messaging")["alerts"] == [80, 95]

    assert len(packs) == 4
    for pack in packs:
        check_pack(pack)
    by_name = {p["name"]: p for p in packs}
    assert by_name["100 Minutes Pack"]["expires_months"] is None
    assert by_name["Additional emails"]["units"] == "5000"

    assert len(clients) == 6
    for client in clients:
        has_keys(client, CLIENT_LIST_KEYS)
        assert is_int(client["id"]) and client["blocked"] == []
    plan_of = {c["name"]: c["plan"] for c in clients}
    assert plan_of == {"Acme": "Voice 500", "Beta Café": "Messaging", "Gamma": None,
                       "Delta": "Free Rate", "Echo": "No Add-ons", "Foxtrot": "No Add-ons"}

    # A client without a subscription: null subscription, zero balances, nothing blocked.
    has_keys(gamma, {"id", "name", "email", "blocked", "subscription", "resources", "lots",
                     "campaigns", "assigned_packs"})
    assert gamma["subscription"] is None and gamma["lots"] == [] and gamma["blocked"] == []
    assert set(gamma["resources"]) == set(RESOURCES)
    for usage in gamma["resources"].values():
        assert usage["wallet"] == "0" and usage["included"] == "0" and usage["blocked"] is False


@pytest.mark.slow
def test_catalog_changes_plan_edit_keeps_snapshots_pack_add_assign_unassign(cli: Cli):
    edited, added = cli.many_ok([
        ("plan", "edit", "Voice 500", "--fee", "59", "--included", "minutes=600",
         "--due-days", "3"),
        ("pack", "add", "Extra Minutes", "--resource", "minutes", "--units", "30.5",
         "--price", "2.50", "--expires-months", "6", "--description", "Half an hour")])
    check_plan(edited)
    assert (edited["fee"], edited["included"], edited["due_days"]) == (
        "59.00", {"minutes": "600"}, 3)
    check_pack(added)
    assert (added["name"], added["units"], added["price"], added["expires_months"],
            added["description"]) == ("Extra Minutes", "30.5", "2.50", 6, "Half an hour")

    acme, gamma = cli.many_ok([("client", "show", "Acme"), ("subscribe", "Gamma", "voice 500")])
    assert acme["resources"]["minutes"]["included"] == "500", "Acme keeps its snapshot"
    assert acme["subscription"]["due_days"] == 1
    assert gamma["due_days"] == 3 and gamma["plan"] == "Voice 500", "a fresh snapshot"

    payments, assigned = cli.many_ok([("payments", "Gamma"),
                                      ("assign", "Acme", "extra minutes", "100 Minutes Pack")])
    assert [(p["type"], p["amount"], p["due_date"]) for p in payments] == [
        ("Plan", "59.00", "2026-01-13")]
    assert assigned["assigned"] == ["Extra Minutes"], "only what was not assigned yet"
    cli.ok("unassign", "Acme", "100 Minutes Pack")
    assert cli.ok("client", "show", "Acme")["assigned_packs"] == ["Extra Minutes"]


@pytest.mark.slow
def test_lookup_exact_name_then_ignoring_case_then_numeric_id_and_unicode_names(
        cli: Cli, template: Template):
    acme_id = template.outputs["client add Acme"]["id"]
    numbered, unicode = cli.many_ok([
        ("client", "add", str(acme_id)),
        ("client", "add", "  Łódź Textiles 株式会社  ", "--email", "a@b.example")])
    assert unicode["name"] == "Łódź Textiles 株式会社", "names are trimmed, any Unicode"
    by_name, by_folded = cli.many_ok([
        ("client", "show", str(acme_id)), ("client", "show", "łódź textiles 株式会社")])
    assert by_name["id"] == numbered["id"], "an exact name wins over a numeric id"
    assert by_folded["id"] == unicode["id"], "then the name ignoring case"


@pytest.mark.slow
def test_bad_values_are_refused_naming_the_field_and_change_nothing(cli: Cli, tmp_path):
    """Exit 1, one line on stderr naming the field or rule, and the database unchanged."""
    plan = ["plan", "add", "New Plan", "--fee"]
    pack = ["pack", "add", "New Pack", "--resource"]
    cases = [
        ([*plan, "-1"], ["fee", "negative"]),
        ([*plan, "NaN"], ["fee", "finite"]),
        ([*plan, "1e10"], ["fee", "1,000,000,000"]),
        (["plan", "add", "voice 500", "--fee", "1"], ["name", "already exists"]),
        ([*plan, "1", "--due-days", "366"], ["due_days"]),
        ([*plan, "1", "--alerts", "80,101"], ["alerts"]),
        ([*pack, "sms", "--units", "1.5", "--price", "1"], ["units", "whole"]),
        ([*pack, "sms", "--units", "10", "--price", "ten"], ["price", "not a number"]),
        ([*pack, "sms", "--units", "10", "--price", "1", "--expires-months", "0"],
         ["expires_months"]),
        (["client", "add", "New", "--email", "not-an-address"], ["email"]),
        (["subscribe", "Gamma", "Gold"], ["plan", "Gold"]),
        (["client", "show", "Nobody"], ["client", "Nobody"]),
        # One unknown pack in the list: nothing of the list is assigned.
        (["assign", "Acme", "Additional SMS", "No Such Pack"], ["pack", "No Such Pack"]),
        (["client", "list"], ["now"], "yesterday"),
    ]
    cli.refused_each(cases, tmp_path)


@pytest.mark.slow
def test_malformed_command_lines_exit_2_and_change_nothing(cli: Cli):
    before = cli.dump()
    commands = [
        ["frobnicate"],
        ["apply", "Acme", "100 Minutes Pack"],
        ["client", "list", "--now", T0],
    ]
    results = parallel([*commands, ["--help"]], lambda c: cli.run(*c))
    for result in results[:-1]:
        assert result.rc == 2, str(result)
        assert result.out == "" and result.err.strip(), str(result)
        assert "Traceback" not in result.err
    assert cli.dump() == before
    help_text = results[-1]
    assert help_text.rc == 0, str(help_text)
    for command in ("init", "demo", "plan", "pack", "client", "subscribe", "cancel", "assign",
                    "unassign", "apply", "revoke", "campaign", "usage", "import-usage",
                    "rollover", "payments", "pay", "fail", "history", "alerts", "verify",
                    "backup", "restore"):
        assert command in help_text.out


@pytest.mark.slow
def test_init_time_zone_and_currency_now_without_zone_and_first_use(tmp_path):
    """A JPY database in Paris: --now without a zone is Paris time; anniversary periods start
    at local midnight of the clamped anchor day (Jan 31 -> Feb 28 -> Mar 31), across DST;
    fees take the currency's minor unit. A database that does not exist is created on first
    use."""
    first_use, paris = Cli(tmp_path / "first.db"), Cli(tmp_path / "paris.db")
    assert not first_use.db.exists()
    listed, init = parallel(
        [(first_use, ("client", "list")),
         (paris, ("init", "--currency", "jpy", "--timezone", "Europe/Paris"))],
        lambda job: job[0].run(*job[1]))
    assert listed.rc == 0 and listed.data == [] and first_use.db.exists(), str(listed)
    assert init.rc == 0 and init.data == {"currency": "JPY", "timezone": "Europe/Paris"}, \
        str(init)
    plan, _ = paris.many_ok([("plan", "add", "Anniv", "--fee", "1500", "--anchor", "anniversary",
                              "--included", "sms=10"), ("client", "add", "Zoë")])
    assert (plan["fee"], plan["anchor"]) == ("1500", "anniversary")
    sub = paris.ok("subscribe", "Zoë", "Anniv", now="2026-01-31T10:00:00")
    assert sub["period_start"] == "2026-01-31T10:00:00+01:00"
    assert sub["period_end"] == "2026-02-28T00:00:00+01:00"
    rolled = paris.ok("rollover", now="2026-03-31T00:30:00")
    assert (rolled["clients"], rolled["periods_closed"], rolled["payment_requests"]) == (1, 2, 2)

    before = paris.dump()
    show, payments, too_fine, bad_zone = parallel(
        [(paris, ("client", "show", "Zoë")), (paris, ("payments",)),
         (paris, ("plan", "add", "Sen", "--fee", "1500.5")),
         (Cli(tmp_path / "mars.db"), ("init", "--timezone", "Mars/Olympus"))],
        lambda job: job[0].run(*job[1], now="2026-03-31T00:30:00"))
    assert show.data["subscription"]["period_start"] == "2026-03-31T00:00:00+02:00"
    assert show.data["subscription"]["period_end"] == "2026-04-30T00:00:00+02:00"
    assert all(is_iso_time(p["created_at"]) for p in payments.data)
    assert sorted((p["due_date"], p["amount"]) for p in payments.data) == [
        ("2026-02-01", "1500"), ("2026-03-01", "1500"), ("2026-04-01", "1500")]
    check_refusal(too_fine, ["fee", "JPY"])
    check_refusal(bad_zone, ["timezone"])
    assert paris.dump() == before
