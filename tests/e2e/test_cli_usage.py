"""Usage on the command line (SPEC §2, §7, §8): the order of consumption, duplicates, blocking
and campaigns, alerts, bad quantities, and importing usage files."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import (
    RESOURCES,
    T0,
    Cli,
    has_keys,
    is_int,
    is_iso_time,
)

USAGE_KEYS = {"id", "duplicate", "included", "wallet", "overage_units", "overage_amount",
              "unserved", "late", "blocked"}
ALERT_KEYS = {"client", "resource", "kind", "threshold", "period_start", "at"}
HEADER = "event_id,client,resource,quantity,occurred_at"


def check_alert(alert: dict) -> None:
    has_keys(alert, ALERT_KEYS)
    assert isinstance(alert["client"], str) and alert["resource"] in RESOURCES
    assert alert["kind"] in {"threshold", "exhausted", "blocked"}
    assert alert["threshold"] in ({80, 95} if alert["kind"] == "threshold" else {None})
    if alert["threshold"] is not None:
        assert is_int(alert["threshold"])
    assert is_iso_time(alert["period_start"]) and is_iso_time(alert["at"])


def split(result: dict) -> tuple[str, ...]:
    return tuple(result[k] for k in ("included", "wallet", "overage_units", "overage_amount",
                                     "unserved"))


# -- consumption order --------------------------------------------------------------------
@pytest.mark.slow
def test_usage_draws_included_then_wallet_then_billable_overage_exactly(cli: Cli):
    # The pack is applied at 09:00, then (time runs forward for each client, SPEC §8) the
    # first event is recorded at 10:00; it fits in the allowance.
    cli.ok("apply", "Acme", "100 Minutes Pack", "--status", "paid", now=T0)
    first = cli.ok("usage", "Acme", "minutes", "400", "--id", "call-1",
                   "--at", "2026-01-10T09:30:00Z", now="2026-01-10T10:00:00Z")
    has_keys(first, USAGE_KEYS)
    assert is_int(first["id"]) and first["duplicate"] is False and first["late"] is False
    assert split(first) == ("400", "0", "0", "0", "0")
    second = cli.ok("usage", "Acme", "minutes", "210.5", "--id", "call-2",
                    "--at", "2026-01-10T09:45:00Z", now="2026-01-10T10:00:00Z")
    assert split(second) == ("100", "100", "10.5", "0.525", "0"), "exact, not rounded yet"
    assert second["blocked"] is False, "an overage rate never blocks"

    # A repeated event id is a duplicate: exit 0, reported, and nothing changes.
    before = cli.dump()
    show, alerts, again = cli.many_ok(
        [("client", "show", "Acme"), ("alerts", "Acme"),
         ("usage", "Acme", "minutes", "400", "--id", "call-1", "--at", "2026-01-10T09:30:00Z")],
        now="2026-01-10T10:05:00Z")
    assert again["duplicate"] is True and again["id"] is None
    assert cli.dump() == before
    minutes = show["resources"]["minutes"]
    assert (minutes["included_used"], minutes["included_left"], minutes["wallet"],
            minutes["overage_units"], minutes["overage_amount"], minutes["unserved"]) == (
        "500", "0", "0", "10.5", "0.525", "0")
    assert show["lots"][0]["remaining"] == "0" and show["blocked"] == []
    for alert in alerts:
        check_alert(alert)
    assert sorted((a["kind"], a["threshold"], a["at"]) for a in alerts) == [
        ("exhausted", None, "2026-01-10T09:45:00+00:00"),
        ("threshold", 80, "2026-01-10T09:30:00+00:00"),
        ("threshold", 95, "2026-01-10T09:45:00+00:00"),
    ], "each alert once, at the time of the event that crossed it"
    assert {a["period_start"] for a in alerts} == {"2026-01-10T09:00:00+00:00"}

    # Late usage (before the period began) is charged to the current period and marked.
    late = cli.ok("usage", "Acme", "minutes", "0.016667", "--at", "2026-01-05T12:00:00Z",
                  now="2026-01-10T11:00:00Z")
    assert late["late"] is True and late["overage_units"] == "0.016667"


# -- blocking and campaigns ---------------------------------------------------------------
@pytest.mark.slow
def test_exhausting_free_units_blocks_pauses_campaigns_and_a_pack_resumes_them(cli: Cli):
    promo, staff = cli.many_ok([("campaign", "add", "Beta Café", "Promo", "--resource", "sms"),
                                ("campaign", "add", "Beta Café", "Staff", "--resource", "sms")])
    for campaign in (promo, staff):
        has_keys(campaign, {"id", "client", "name", "resource", "status"})
        assert is_int(campaign["id"]) and campaign["status"] == "running"
    # Staff pause one campaign while usage exhausts the SMS (either order ends the same way).
    paused, over = cli.many_ok([
        ("campaign", "pause", staff["id"]),
        ("usage", "Beta Café", "sms", "101", "--at", "2026-01-10T09:10:00Z")],
        now="2026-01-10T09:15:00Z")
    assert paused["status"] == "paused"
    assert split(over) == ("100", "0", "0", "0", "1") and over["blocked"] is True
    listed, show, alerts, clients = cli.many_ok(
        [("campaign", "list", "Beta Café"), ("client", "show", "Beta Café"), ("alerts",),
         ("client", "list")], now="2026-01-10T09:15:00Z")
    for campaign in listed:
        has_keys(campaign, {"id", "client", "name", "resource", "status"})
    assert {c["name"]: c["status"] for c in listed} == {"Promo": "paused_quota",
                                                       "Staff": "paused"}
    assert show["blocked"] == ["sms"] and show["resources"]["sms"]["blocked"] is True
    assert show["resources"]["sms"]["unserved"] == "1"
    assert next(c for c in clients if c["name"] == "Beta Café")["blocked"] == ["sms"]
    for alert in alerts:
        check_alert(alert)
    assert sorted((a["client"], a["kind"], a["threshold"], a["at"]) for a in alerts) == [
        ("Beta Café", "blocked", None, "2026-01-10T09:10:00+00:00"),
        ("Beta Café", "exhausted", None, "2026-01-10T09:10:00+00:00"),
        ("Beta Café", "threshold", 80, "2026-01-10T09:10:00+00:00"),
        ("Beta Café", "threshold", 95, "2026-01-10T09:10:00+00:00"),
    ], "80, 95, exhausted and blocked at once, each at the event's time"

    blocked, late_campaign = cli.many_ok(
        [("usage", "Beta Café", "sms", "5"),
         ("campaign", "add", "Beta Café", "Late", "--resource", "sms")],
        now="2026-01-10T09:20:00Z")
    assert blocked["unserved"] == "5" and blocked["blocked"] is True
    assert late_campaign["status"] == "paused_quota", "a campaign added while blocked waits"

    cli.refused("campaign", "resume", promo["id"], words=["status"], now="2026-01-10T09:25:00Z")

    applied = cli.ok("apply", "Beta Café", "Additional SMS", "--status", "pending",
                     now="2026-01-10T09:30:00Z")
    assert applied["message"] == "Addon pack credited. Payment request created as pending."
    listed, show = cli.many_ok([("campaign", "list", "Beta Café"), ("client", "show", "Beta Café")],
                               now="2026-01-10T09:30:00Z")
    assert {c["name"]: c["status"] for c in listed} == {
        "Promo": "running", "Late": "running", "Staff": "paused"}, \
        "crediting a pack resumes quota-paused campaigns; staff-paused ones stay paused"
    assert show["blocked"] == [] and show["resources"]["sms"]["wallet"] == "500"

    resumed, finished = cli.many_ok([("campaign", "resume", staff["id"]),
                                     ("campaign", "finish", promo["id"])],
                                    now="2026-01-10T09:40:00Z")
    assert (resumed["status"], finished["status"]) == ("running", "finished")


# -- bad usage ----------------------------------------------------------------------------
@pytest.mark.slow
def test_bad_usage_is_refused_naming_the_field_and_changes_nothing(cli: Cli, tmp_path):
    cases = [
        (["usage", "Acme", "minutes", "-1"], ["quantity"]),
        (["usage", "Acme", "minutes", "0"], ["quantity", "greater than 0"]),
        (["usage", "Acme", "minutes", "NaN"], ["quantity", "finite"]),
        (["usage", "Acme", "minutes", "1e10"], ["quantity", "1,000,000,000"]),
        (["usage", "Acme", "minutes", "lots"], ["quantity", "not a number"]),
        (["usage", "Beta Café", "sms", "1.5"], ["quantity", "whole"]),
        (["usage", "Acme", "fax", "1"], ["resource", "fax"]),
        (["usage", "Acme", "minutes", "1", "--at", "2026-01-10T09:00:01Z"], ["future"]),
        (["usage", "Gamma", "minutes", "1"], ["subscription"]),
    ]
    cli.refused_each(cases, tmp_path)


# -- import-usage -------------------------------------------------------------------------
def test_import_usage_records_good_lines_rejects_bad_ones_by_line_and_counts_duplicates(
        cli: Cli, tmp_path):
    lines = [
        HEADER,                                                       # 1
        "a1,Acme,minutes,1.5,2026-01-10T09:10:00Z",                   # 2 recorded
        "",                                                           # 3 blank: skipped
        "a2,=1+1,minutes,1,2026-01-10T09:10:00Z",                     # 4 unknown client
        "a3,Acme,minutes,abc,2026-01-10T09:10:00Z",                   # 5 not a number
        "a4,Acme,fax,1,2026-01-10T09:10:00Z",                         # 6 unknown resource
        "a5,Beta Café,sms,1.5,2026-01-10T09:10:00Z",                  # 7 not whole
        "a6,Acme,minutes,1,2026-01-10T12:00:00Z",                     # 8 in the future
        "a7,Acme,minutes,1,yesterday",                                # 9 bad time
        "a8,Acme,minutes",                                            # 10 missing fields
        "a9,Gamma,minutes,1,2026-01-10T09:10:00Z",                    # 11 no subscription
        "a1,Acme,minutes,1.5,2026-01-10T09:10:00Z",                   # 12 duplicate in file
        "b1,beta café,sms,3,2026-01-10 09:20:00",                     # 13 recorded
        "",                                                           # 14 blank
    ]
    data = "\r\n".join(lines).encode("utf-8")
    bad_utf8 = b"c1,Acme\xff,minutes,1,2026-01-10T09:10:00Z"          # 15 invalid UTF-8
    good_after = b"c2,Acme,minutes,2,2026-01-10T09:15:00Z"    # 16 recorded
    usage_file = tmp_path / "usage.csv"
    usage_file.write_bytes(data + b"\r\n" + bad_utf8 + b"\r\n" + good_after + b"\r\n")

    report = cli.ok("import-usage", usage_file, now="2026-01-10T10:00:00Z")
    has_keys(report, {"recorded", "duplicates", "rejected"})
    assert is_int(report["recorded"]) and is_int(report["duplicates"])
    assert (report["recorded"], report["duplicates"]) == (3, 1)
    for rejection in report["rejected"]:
        has_keys(rejection, {"line", "reason"})
        assert is_int(rejection["line"]) and isinstance(rejection["reason"], str)
    reasons = {r["line"]: r["reason"] for r in report["rejected"]}
    assert sorted(reasons) == [4, 5, 6, 7, 8, 9, 10, 11, 15]
    for line, word in {4: "client", 5: "quantity", 6: "resource", 7: "whole", 8: "future",
                       9: "occurred_at", 10: "fields", 11: "subscription", 15: "UTF-8"}.items():
        assert word.lower() in reasons[line].lower(), (line, reasons[line])
    assert "=1+1" in reasons[4]

    before = cli.dump()
    again = cli.ok("import-usage", usage_file, now="2026-01-10T10:05:00Z")
    assert (again["recorded"], again["duplicates"]) == (0, 4), "importing twice changes nothing"
    assert [r["line"] for r in again["rejected"]] == sorted(reasons)
    assert cli.dump() == before

    # A rejected line can be corrected and imported again: only recorded ids count as seen.
    fixed = tmp_path / "fixed.csv"
    fixed.write_text(HEADER + "\na3,Acme,minutes,2,2026-01-10T09:10:00Z\n", encoding="utf-8")
    assert cli.ok("import-usage", fixed, now="2026-01-10T10:10:00Z")["recorded"] == 1
    show = cli.ok("client", "show", "Acme", now="2026-01-10T10:10:00Z")
    assert show["resources"]["minutes"]["included_used"] == "5.5"


def test_import_usage_refuses_a_file_it_cannot_read(cli: Cli, tmp_path):
    wrong_header = tmp_path / "wrong.csv"
    wrong_header.write_text("id,customer,resource,quantity,at\nx,Acme,minutes,1,2026-01-10\n",
                            encoding="utf-8")
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    cli.refused_each([
        (["import-usage", tmp_path / "missing.csv"], ["file"]),
        (["import-usage", wrong_header], ["header"]),
        (["import-usage", empty], ["file"]),
    ], tmp_path)


def test_import_usage_malformed_quoting_rejects_only_that_line(cli: Cli, tmp_path):
    usage_file = tmp_path / "quotes.csv"
    usage_file.write_text(HEADER + "\n"
                          "b1,Acme,minutes,1,2026-01-10T09:10:00Z\n"
                          'b2,"Acme"x,minutes,1,2026-01-10T09:10:00Z\n'
                          "b3,Acme,minutes,1,2026-01-10T09:10:00Z\n", encoding="utf-8")
    result = cli.run("import-usage", usage_file, now="2026-01-10T10:00:00Z")
    assert result.rc == 0, str(result)
    assert result.data["recorded"] == 2
    assert [r["line"] for r in result.data["rejected"]] == [3]
