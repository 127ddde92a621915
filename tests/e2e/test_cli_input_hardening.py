"""The command line against SPEC §8 "Periods and time", "Idempotency and names" and "Bounds":
every refusal is one plain line on stderr naming the field, exit 1, and nothing written."""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Cli, usage_file

FEB_1 = "2026-02-01T00:00:00Z"
BEHIND = ["now: 2026-02-01T00:00:00+00:00 is before 2026-05-01T00:00:00+00:00",
          "'Acme'", "time runs forward"]


@pytest.mark.slow
def test_a_write_dated_before_the_clients_latest_moment_is_refused(cli: Cli, tmp_path):
    """The reproduction: periods closed up to May 1, then `cancel --now 2026-02-01` made a
    period that ends before it starts, and `verify` passed it."""
    rolled = cli.ok("rollover", now="2026-05-01T12:00:00Z")
    assert rolled["periods_closed"] > 0
    errors = cli.refused_each([
        (("cancel", "Acme"), BEHIND, FEB_1),
        (("usage", "Acme", "minutes", "1", "--at", "2026-01-20T00:00:00Z"), BEHIND, FEB_1),
        (("apply", "Acme", "100 Minutes Pack", "--status", "paid"), BEHIND, FEB_1),
        (("subscribe", "Acme", "Free Rate"), BEHIND, FEB_1),
        (("campaign", "add", "Acme", "Spring", "--resource", "minutes"), BEHIND, FEB_1),
        # The clock's years: no million periods closed up to year 9999.
        (("rollover",), ["now: '9999-12-31T23:59'", "1970-01-01 to 2999-12-31"],
         "9999-12-31T23:59"),
        (("usage", "Acme", "minutes", "1", "--at", "1969-12-31T23:59:59Z"),
         ["at: '1969-12-31T23:59:59Z'", "1970-01-01 to 2999-12-31"], "2026-05-01T12:00:00Z"),
    ], tmp_path)
    assert all(error.startswith("quotadesk: ") for error in errors)
    # Reads, and what SPEC §8 exempts (assignments, clients), go on at that clock; the later
    # clock goes on too.
    show, assigned, added = cli.many_ok([("client", "show", "Acme"),
                                         ("assign", "Acme", "100 Minutes Pack"),
                                         ("client", "add", "Hotel")], now=FEB_1)
    assert show["subscription"]["period_start"] == "2026-05-01T00:00:00+00:00"
    assert assigned == {"assigned": []} and added["name"] == "Hotel"
    cancelled, verify = [cli.ok(*c, now="2026-05-02T00:00:00Z")
                         for c in (("cancel", "Acme"), ("verify",))]
    assert cancelled == {"cancelled": True} and verify["ok"] is True


@pytest.mark.slow
def test_an_import_rejects_the_lines_of_a_client_whose_latest_moment_is_later(cli: Cli,
                                                                           tmp_path):
    cli.ok("usage", "Acme", "minutes", "1", now="2026-01-20T00:00:00Z")
    export = usage_file(tmp_path, ["a-1,Acme,minutes,2,2026-01-12T10:00:00Z",
                                   "b-1,Beta Café,sms,3,2026-01-12T10:00:00Z",
                                   "a-2,acme,minutes,4,2026-01-13T10:00:00"])
    result = cli.ok("import-usage", export, now="2026-01-15T00:00:00Z")
    assert (result["recorded"], result["duplicates"]) == (1, 0)
    assert [r["line"] for r in result["rejected"]] == [2, 4]
    assert all(r["reason"].startswith("now: 2026-01-15T00:00:00+00:00 is before "
                                      "2026-01-20T00:00:00+00:00") for r in result["rejected"])
    acme = cli.ok("client", "show", "Acme", now="2026-01-20T00:00:00Z")
    assert acme["resources"]["minutes"]["included_used"] == "1"


@pytest.mark.slow
def test_local_times_that_happen_twice_or_never_are_refused_naming_the_zone(berlin: Cli,
                                                                           tmp_path):
    errors = berlin.refused_each([
        (("usage", "Acme", "minutes", "1"),
         ["now: '2026-10-25T02:30' happens twice in Europe/Berlin", "give an offset",
          "2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00"], "2026-10-25T02:30"),
        (("usage", "Acme", "minutes", "1", "--at", "2026-03-29T02:30"),
         ["at: '2026-03-29T02:30' does not exist in Europe/Berlin", "give an offset"],
         "2026-05-01T12:00"),
        (("subscribe", "Acme", "Voice"), ["now: '0001-01-01T01:00'", "1970-01-01 to 2999-12-31"],
         "0001-01-01T01:00"),
    ], tmp_path)
    assert "00:53" not in errors[2], "no local mean time offset of year 1"
    export = usage_file(tmp_path, ["e-1,Acme,minutes,1,2026-10-25T02:30",
                                   "e-2,Acme,minutes,1,2026-10-25T02:30+01:00",
                                   "e-3,Beta,minutes,1,2026-03-29T02:15:00"])
    result = berlin.ok("import-usage", export, now="2026-10-26T12:00")
    assert result["recorded"] == 1
    assert [(r["line"], r["reason"].split(":")[0]) for r in result["rejected"]] == [
        (2, "occurred_at"), (4, "occurred_at")]
    assert "happens twice in Europe/Berlin" in result["rejected"][0]["reason"]
    assert "does not exist in Europe/Berlin" in result["rejected"][1]["reason"]


@pytest.mark.slow
def test_keys_digits_bounds_and_repeated_options(berlin: Cli, tmp_path):
    long_email = "x" * 100_000 + "@example.com"
    errors = berlin.refused_each([
        (("apply", "Acme", "Minutes 50", "--status", "paid", "--key", ""),
         ["key: an idempotency key cannot be empty"]),
        (("apply", "Acme", "Minutes 50", "--status", "paid", "--key", "   "),
         ["key: an idempotency key cannot be empty"]),
        (("usage", "Acme", "minutes", "٣"), ["quantity: '٣'", "ASCII"]),
        (("usage", "Acme", "minutes", "１"), ["quantity: '１'", "ASCII"]),
        (("usage", "Acme", "minutes", "1", "--at", "2026-03-0１T10:00"), ["at: "]),
        (("revoke", "٣", "--reason", "x"), ["lot: '٣' is not a whole number"]),
        (("pay", "１"), ["id: '１' is not a whole number"]),
        (("plan", "add", "X", "--fee", "1", "--due-days", "٣"), ["due_days: '٣'"]),
        (("plan", "add", "X", "--fee", "1", "--due-days", "99999999999999999999"),
         ["due_days: '99999999999999999999' is out of range", "between 0 and 365"]),
        (("pack", "add", "X", "--resource", "sms", "--units", "5", "--price", "1",
          "--expires-months", "١٢"), ["expires_months"]),
        (("plan", "add", "X", "--fee", "1", "--alerts", "٨٠"), ["alerts"]),
        (("plan", "add", "X", "--fee", "1", "--included", "minutes=10", "--included",
          "Minutes=5"), ["included: 'Minutes' is given twice"]),
        (("plan", "edit", "Voice", "--overage", "sms=0.1", "--overage", "sms=none"),
         ["overage: 'sms' is given twice"]),
        (("client", "add", "Zed", "--email", long_email), ["email: 'xxxx", "…"]),
    ], tmp_path, now="2026-05-01T12:00")
    assert len(errors[-1]) < 200, "a 100 KB address is not echoed whole"
    # --included and --overage accumulate over repeated options.
    plan = berlin.ok("plan", "add", "Both", "--fee", "1", "--included", "minutes=10",
                     "--included", "sms=5", "email=7", "--overage", "minutes=0.1",
                     "--overage", "sms=0.2", now="2026-05-01T12:00")
    assert plan["included"] == {"minutes": "10", "sms": "5", "email": "7"}
    assert plan["overage"] == {"minutes": "0.1", "sms": "0.2"}
    # A key is taken exactly as given: "k" and " k" are two applications.
    first, second, again = [
        berlin.ok("apply", "Acme", "Minutes 50", "--status", "paid", "--key", key,
                  now="2026-05-01T12:00") for key in ("k", " k", "k")]
    assert first["lot_id"] != second["lot_id"] and again["lot_id"] == first["lot_id"]
    # A malformed command line (exit 2) does not echo a huge value whole either.
    wrong = berlin.run("x" * 100_000)
    assert wrong.rc == 2 and len(wrong.err) < 1000 and "…" in wrong.err, wrong.err[:2000]
