"""Keeping the database sound from the command line (SPEC §7): verify, backup and restore,
and demo data that verifies clean."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli, check_refusal, has_keys, is_int, parallel

# Each test several seconds of commands in processes:
# outside the quick lane (`pytest -m "not slow"`), always in CI.
pytestmark = pytest.mark.slow


def test_verify_passes_on_a_healthy_database_and_fails_on_a_tampered_one(cli: Cli):
    applied, _ = cli.many_ok([("apply", "Acme", "100 Minutes Pack", "--status", "paid"),
                              ("usage", "Acme", "minutes", "530")])
    report = cli.ok("verify")
    has_keys(report, {"ok", "problems", "checked"})
    assert report["ok"] is True and report["problems"] == []
    assert all(is_int(v) for v in report["checked"].values())

    with closing(sqlite3.connect(cli.db)) as conn:  # a balance that disagrees with the ledger
        conn.execute("UPDATE wallet_lots SET remaining = remaining + 1 WHERE id = ?",
                     (applied["lot_id"],))
        conn.commit()
    broken = cli.run("verify")
    assert broken.rc == 1, str(broken)
    assert broken.err.strip() and "\n" not in broken.err.strip() and "verify" in broken.err
    assert broken.data["ok"] is False
    assert any(f"lot {applied['lot_id']}" in problem for problem in broken.data["problems"])


def test_backup_then_restore_brings_back_exactly_the_backed_up_state(cli: Cli, tmp_path):
    cli.ok("usage", "Acme", "minutes", "100")
    target = tmp_path / "copies" / "nightly.db"
    backed = cli.ok("backup", target, now="2026-01-10T09:00:01Z")
    assert Path(backed["backup"]).resolve() == target.resolve() and target.exists()
    at_backup = cli.dump()

    cli.many_ok([("usage", "Acme", "minutes", "50"),
                 ("apply", "Beta Café", "Additional SMS", "--status", "paid")],
                now="2026-01-10T10:00:00Z")
    assert cli.dump() != at_backup
    restored = cli.ok("restore", target, now="2026-01-10T11:00:00Z")
    assert restored["restored"] == str(target)
    assert cli.dump() == at_backup, "restore brings back the backed-up content exactly"

    not_a_database = tmp_path / "notes.csv"
    not_a_database.write_text("event_id,client\n", encoding="utf-8")
    cli.refused_each([
        (["restore", not_a_database], ["file"]),
        (["restore", tmp_path / "missing.db"], ["file"]),
        # refused_each runs case i on its own copy, refusal-{i}.db: back it up onto itself.
        (["backup", tmp_path / "refusal-2.db"], ["file", "must not overwrite"]),
    ], tmp_path, now="2026-01-10T11:00:00Z")


def test_demo_fills_an_empty_database_that_then_verifies_clean(fresh: Cli):
    summary = fresh.ok("demo", "--clients", "2")
    has_keys(summary, {"clients", "plans", "packs", "usage_events"})
    assert all(is_int(v) for v in summary.values())
    assert (summary["clients"], summary["plans"], summary["packs"]) == (2, 5, 5)
    assert summary["usage_events"] > 0
    before = fresh.dump()
    verify, again = parallel([("verify",), ("demo", "--clients", "2")], lambda c: fresh.run(*c))
    assert verify.rc == 0 and verify.data["ok"] is True, str(verify)
    assert verify.data["problems"] == [] and sum(verify.data["checked"].values()) > 0
    check_refusal(again, ["database", "empty"])
    assert fresh.dump() == before
