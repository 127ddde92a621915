"""The command line on PostgreSQL (SPEC §7: `--db postgresql+psycopg://…`): one walk through
set-up, packs, usage, a refusal, rollover and reads, on a fresh server database.

The rest of this suite runs on SQLite files; this test runs only where a server is given
(QUOTADESK_TEST_PG_URL, see tests/conftest.py), and is skipped with that reason elsewhere.
"""

from __future__ import annotations

import pytest

from tests.conftest import BACKENDS
from tests.e2e.conftest import PENDING_MESSAGE, Cli, check_refusal

POSTGRES = [b for b in BACKENDS if not isinstance(b, str)]


@pytest.mark.slow  # a whole walkthrough, a process per command
@pytest.mark.parametrize("backend", POSTGRES, indirect=True)
def test_cli_walkthrough_on_postgresql(db_url: str, tmp_path):
    cli = Cli(db_url, cwd=tmp_path)
    assert cli.ok("init", "--timezone", "UTC")["timezone"] == "UTC"
    cli.many_ok([
        ("plan", "add", "Voice 500", "--fee", "49.00", "--included", "minutes=500",
         "--overage", "minutes=0.05"),
        ("pack", "add", "100 Minutes Pack", "--resource", "minutes", "--units", "100",
         "--price", "15.00"),
        ("client", "add", "Acme")])
    cli.ok("subscribe", "Acme", "Voice 500")
    cli.ok("assign", "Acme", "100 Minutes Pack")
    applied = cli.ok("apply", "Acme", "100 Minutes Pack", "--status", "pending", "--key", "k-1")
    assert applied["message"] == PENDING_MESSAGE
    again, used = cli.many_ok([
        ("apply", "Acme", "100 Minutes Pack", "--status", "pending", "--key", "k-1"),
        ("usage", "Acme", "minutes", "610.5", "--id", "e-1")], now="2026-01-10T10:00:00Z")
    assert again == applied, "the same key applies once"
    assert (used["included"], used["wallet"], used["overage_units"], used["overage_amount"]) == (
        "500", "100", "10.5", "0.525")

    before = cli.views("Acme", now="2026-01-10T10:00:00Z")
    refusals = cli.many([("usage", "Acme", "minutes", "-1"),
                         ("backup", tmp_path / "copy.db"),
                         ("apply", "Acme", "100 Minutes Pack", "--status", "paid", "--key", "k-1")],
                        now="2026-01-10T10:00:00Z")
    for result, words in zip(refusals, (["quantity"], ["backup"], ["key"]), strict=True):
        check_refusal(result, words)
    assert cli.views("Acme", now="2026-01-10T10:00:00Z") == before

    rolled = cli.ok("rollover", now="2026-02-03T10:00:00Z")
    assert (rolled["clients"], rolled["periods_closed"], rolled["payment_requests"]) == (1, 1, 2)
    payments, history, verify = cli.many_ok(
        [("payments", "Acme"), ("history", "Acme"), ("verify",)], now="2026-02-03T10:00:00Z")
    assert sorted((p["type"], p["amount"], p["overdue"]) for p in payments) == [
        ("Overage", "0.53", True), ("Pack", "15.00", True), ("Plan", "49.00", True),
        ("Plan", "49.00", True)]
    assert [(h["kind"], h["package_type"], h["amount"], h["status"]) for h in history] == [
        ("purchase", "100 Minutes Pack", "15.00", "pending")]
    assert verify["ok"] is True
