"""`audit` and `topup` on the command line (SPEC §7, §12), seed 000's advice through `plan edit`
(SPEC §8), and `history`'s text form for people."""

from __future__ import annotations

import getpass

import pytest

from tests.e2e.conftest import ADDONS_DISABLED, Cli, has_keys, is_int, is_iso_time

pytestmark = pytest.mark.slow

AUDIT_KEYS = {"at", "actor", "action", "entity", "entity_id", "detail"}


def test_plan_edit_addons_on_then_assign_works_and_is_audited(cli: Cli):
    cli.refused("assign", "Foxtrot", "100 Minutes Pack", words=[ADDONS_DISABLED])
    cli.ok("plan", "edit", "No Add-ons", "--addons", "on")
    assert cli.ok("assign", "Foxtrot", "100 Minutes Pack") == {"assigned": ["100 Minutes Pack"]}
    assert cli.ok("client", "show", "Echo")["subscription"]["addons"] is True
    entries = cli.ok("audit", "--client", "Foxtrot", "--action", "plan.edit")
    [edit] = entries
    has_keys(edit, AUDIT_KEYS)
    assert edit["entity"] == "plan" and is_int(edit["entity_id"]) and is_iso_time(edit["at"])
    assert edit["actor"] == getpass.getuser()
    assert edit["detail"]["addons"] is True and edit["detail"]["subscriptions_changed"] == 2
    assert cli.ok("audit", "--client", "Gamma", "--action", "plan.edit") == []
    newest = cli.ok("audit", "--since", "2026-01-10")
    assert [e["action"] for e in newest[:2]] == ["assign", "plan.edit"]
    assert all(e["entity_id"] is None or is_int(e["entity_id"]) for e in newest)
    cli.refused("audit", "--since", "10/01/2026", words=["since"])


def test_topup_set_list_fire_and_clear(cli: Cli):
    rule = cli.ok("topup", "set", "Acme", "100 Minutes Pack", "--below", "50")
    assert (rule["client"], rule["pack"], rule["below"], rule["status"], rule["active"]) == (
        "Acme", "100 Minutes Pack", "50", "pending", True)
    [listed] = cli.ok("topup", "list", "Acme")
    assert listed["below"] == "50"
    # 500 included, 20 overage (the wallet was empty, below 50): then the top-up.
    cli.ok("usage", "Acme", "minutes", "520", now="2026-01-10T10:00:00Z")
    history = cli.run("history", "Acme", as_json=False, now="2026-01-10T10:00:00Z")
    assert history.rc == 0
    assert history.out.splitlines() == [
        "2026-01-10 10:00  100 Minutes Pack  100 minutes  $15.00  pending  (auto top-up)"]
    payments = cli.ok("payments", "Acme")
    assert payments[0]["reference"].endswith("· auto top-up")
    [applied] = cli.ok("audit", "--client", "Acme", "--action", "pack.apply")
    assert applied["actor"] == "auto top-up" and applied["detail"]["automatic"] is True
    cli.refused("topup", "set", "Acme", "100 Minutes Pack", "--below", "10", "--status",
                "failed", words=["status"])
    assert cli.ok("topup", "clear", "Acme", "100 Minutes Pack") == {"cleared": True}
    cli.refused("topup", "clear", "Acme", "100 Minutes Pack", words=["pack"])
    assert cli.ok("topup", "list") == []


def test_a_rule_on_an_add_ons_off_client_says_why_it_does_nothing(cli: Cli):
    rule = cli.ok("topup", "set", "Echo", "100 Minutes Pack", "--below", "10")
    assert rule["active"] is False
    assert rule["idle_reason"] == "add-on packs are off for this client's plan"
    text = cli.run("topup", "list", "Echo", as_json=False)
    assert "does nothing: add-on packs are off" in text.out
