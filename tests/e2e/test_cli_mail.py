"""`settings`, `mail list|send|retry` (SPEC §9) as a nightly job runs them: real processes, a
real SMTP server on loopback, the password in a credential store or the environment."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli, Result, check_refusal
from tests.mail_server import PASSWORD, USER, smtp_server

ROOT = Path(__file__).resolve().parents[2]


def run(cli: Cli, *args: object, stdin: str | None = None, env: dict[str, str] | None = None,
        as_json: bool = True) -> Result:
    environ = {k: v for k, v in os.environ.items() if k != "QUOTADESK_DB"}
    environ.update(env or {})
    argv = cli.argv([str(a) for a in args], as_json=as_json)
    proc = subprocess.run([sys.executable, "-m", "quotadesk", *argv], input=stdin,
                          capture_output=True, text=True, encoding="utf-8", env=environ,
                          cwd=cli.cwd, timeout=120)
    return Result(argv, proc.returncode, proc.stdout, proc.stderr)


def keyring_env(tmp_path: Path) -> dict[str, str]:
    """A credential store the subprocesses share (tests.mail_server.FileKeyring)."""
    return {"PYTHON_KEYRING_BACKEND": "tests.mail_server.FileKeyring",
            "QUOTADESK_TEST_KEYRING": str(tmp_path / "keyring.json"),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}


def test_settings_show_and_set_as_json(cli: Cli):
    shown = cli.ok("settings", "show")
    assert shown["smtp.port"] == "587" and shown["smtp.security"] == "starttls"
    assert shown["mail.reminders"] == "3,10" and shown["tax.rate"] == "0"
    assert shown["invoice.prefix"] == "INV-" and shown["currency"] == "USD"
    assert shown["smtp.password"] == "not needed (no smtp.user)"
    assert cli.ok("settings", "set", "agency.address", "1 Harbour Road\\nPortsmouth") == {
        "agency.address": "1 Harbour Road\nPortsmouth"}
    assert cli.ok("settings", "set", "mail.reminders", "") == {"mail.reminders": ""}
    assert cli.ok("settings", "set", "smtp.port", "") == {"smtp.port": "587"}
    again = cli.ok("settings", "show")
    assert again["agency.address"] == "1 Harbour Road\nPortsmouth"
    assert again["mail.reminders"] == ""


@pytest.mark.parametrize(("args", "words"), [
    (("settings", "set", "smtp.port", "0"), ["smtp.port", "1 to 65535"]),
    (("settings", "set", "smtp.from", "billing"), ["smtp.from", "not an e-mail address"]),
    (("settings", "set", "template.alert.body", "{% if %}"), ["template.alert.body",
                                                             "does not render"]),
    (("settings", "set", "nonsense", "1"), ["setting", "unknown key"]),
    (("mail", "send"), ["smtp", "not set"]),
    (("mail", "retry", "999"), ["message", "no message 999"]),
    (("mail", "list", "--status", "lost"), ["status", "queued, sent or failed"]),
])
def test_refusals_are_one_line_and_change_nothing(cli: Cli, args, words):
    cli.refused(*args, words=words)


def test_the_smtp_password_goes_to_the_credential_store_never_to_the_database(cli: Cli,
                                                                               tmp_path: Path):
    env = keyring_env(tmp_path)
    result = run(cli, "settings", "set", "smtp.password", "-", stdin=PASSWORD + "\n", env=env)
    check_refusal(result, ["smtp.user", "before the password"])
    for key, value in (("smtp.host", "127.0.0.1"), ("smtp.user", USER)):
        assert run(cli, "settings", "set", key, value, env=env).rc == 0
    stored = run(cli, "settings", "set", "smtp.password", "-", stdin=PASSWORD + "\n", env=env)
    assert stored.rc == 0, str(stored)
    assert PASSWORD not in stored.out + stored.err
    shown = run(cli, "settings", "show", env=env)
    assert shown.data["smtp.password"] == "kept in the credential store"
    assert PASSWORD not in shown.out
    assert PASSWORD.encode() not in Path(cli.db).read_bytes()
    assert PASSWORD in (tmp_path / "keyring.json").read_text()


def test_the_nightly_job_imports_rolls_over_and_sends_through_a_real_server(cli: Cli,
                                                                            tmp_path: Path):
    usage = tmp_path / "usage.csv"
    usage.write_text("event_id,client,resource,quantity,occurred_at\n"
                     "e1,Acme,minutes,420,2026-01-10T08:30:00Z\n")
    env = keyring_env(tmp_path)
    with smtp_server(tmp_path, "starttls", user=USER) as server:
        for key, value in {**server.settings(), "smtp.from": "billing@agency.test"}.items():
            assert run(cli, "settings", "set", key, value, env=env).rc == 0
        assert run(cli, "settings", "set", "smtp.password", "-", stdin=PASSWORD,
                   env=env).rc == 0
        env["SSL_CERT_FILE"] = str(server.ca_file)
        imported = run(cli, "import-usage", usage, env=env)
        assert imported.rc == 0 and imported.data["recorded"] == 1, str(imported)
        assert run(cli, "rollover", env=env).rc == 0
        queued = run(cli, "mail", "list", "--status", "queued", env=env).data
        assert queued and {m["status"] for m in queued} == {"queued"}
        assert {"id", "client", "to", "subject", "kind", "status", "attempts", "created_at",
                "sent_at", "error"} == set(queued[0])
        sent = run(cli, "mail", "send", env=env)
        assert sent.rc == 0 and sent.err == "", str(sent)
        assert sent.data == {"sent": len(queued) - sum(1 for m in queued if not m["to"]),
                             "failed": 0, "deferred": 0}
        received = {r.message["Subject"] for r in server.received}
        assert {m["subject"] for m in queued if m["to"]} == received
        again = run(cli, "mail", "send", env=env)
        assert again.data == {"sent": 0, "failed": 0, "deferred": 0}
    listed = run(cli, "mail", "list", "Acme", env=env).data
    assert all(m["status"] == "sent" and m["sent_at"] and m["client"] == "Acme" for m in listed)
    assert {m["kind"] for m in listed} >= {"alert", "request"}


def test_an_unreachable_server_exits_0_with_everything_deferred(cli: Cli, tmp_path: Path):
    from tests.mail_server import free_port

    for key, value in (("smtp.host", "127.0.0.1"), ("smtp.port", str(free_port())),
                       ("smtp.security", "none"), ("smtp.from", "billing@agency.test")):
        cli.ok("settings", "set", key, value)
    waiting = len(cli.ok("mail", "list", "--status", "queued"))
    assert waiting > 0
    assert cli.ok("mail", "send") == {"sent": 0, "failed": 0, "deferred": waiting}
    assert len(cli.ok("mail", "list", "--status", "queued")) == waiting


def test_a_wrong_password_exits_1_naming_it_and_keeps_every_message(cli: Cli, tmp_path: Path):
    with smtp_server(tmp_path, "none", user=USER) as server:
        for key, value in server.settings().items():
            cli.ok("settings", "set", key, value)
        result = run(cli, "mail", "send", env={"QUOTADESK_SMTP_PASSWORD": "wrong"})
        check_refusal(result, ["smtp.", "login"])
        assert server.received == []
    assert {m["attempts"] for m in cli.ok("mail", "list")} == {0}


def test_mail_for_a_client_without_an_address_is_failed_at_once_and_listed(cli: Cli):
    cli.ok("client", "add", "Nomail Co")
    cli.ok("subscribe", "Nomail Co", "Voice 500")
    [message] = cli.ok("mail", "list", "Nomail Co")
    assert (message["kind"], message["status"], message["to"], message["error"],
            message["attempts"], message["sent_at"]) == (
        "request", "failed", None, "no e-mail address", 0, None)
    assert message in cli.ok("mail", "list", "--status", "failed")
    cli.refused("mail", "retry", message["id"], words=["email", "no e-mail address"])
    text = cli.run("mail", "list", "Nomail Co", as_json=False)
    assert text.rc == 0 and "failed" in text.out and "no e-mail address" in text.out
    shown = cli.ok("client", "show", "Nomail Co")
    assert shown["name"] == "Nomail Co"
