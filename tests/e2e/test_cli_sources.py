"""SPEC §11 on the command line: `import-usage --format`, `source add|list`, `client
identify|unidentify`, `plan --increments`, and what scripts read back (JSON)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from tests.e2e.conftest import Cli, is_int
from tests.integration.test_usage_sources_files import Call, asterisk_csv, twilio_csv

LATER = "2026-02-10T09:00:00Z"


def _acme_on_6_6(cli: Cli) -> None:
    cli.ok("plan", "add", "Voice 6/6", "--fee", "10", "--included", "minutes=100",
           "--increments", "6/6")
    cli.ok("client", "identify", "Acme", "acme-pbx", "+14155550100")
    cli.ok("subscribe", "Acme", "Voice 6/6")


def test_an_asterisk_file_imported_twice_from_the_command_line(cli: Cli, tmp_path: Path):
    _acme_on_6_6(cli)
    when = datetime(2026, 2, 2, 9, 0)
    path = tmp_path / "Master.csv"
    path.write_bytes(asterisk_csv([
        Call("acme-pbx", when, 65, uniqueid="1.1"),
        Call("acme-pbx", when, 0, "NO ANSWER", uniqueid="1.2"),
        Call("ACME-PBX", when, 7, uniqueid="1.3", layout=21, linkedid="1.2")])
        + b"not a cdr\n")
    first = cli.ok("import-usage", str(path), "--format", "asterisk", now=LATER)
    assert first == {"recorded": 2, "duplicates": 0, "skipped": 1, "stopped": None,
                     "rejected": [{"line": 4, "reason": "expected 16, 17, 18 or 21 fields, "
                                                        "found 1"}]}
    assert all(is_int(first[k]) for k in ("recorded", "duplicates", "skipped"))
    again = cli.ok("import-usage", str(path), "--format", "asterisk", now=LATER)
    assert (again["recorded"], again["duplicates"], again["skipped"]) == (0, 2, 1)
    show = cli.ok("client", "show", "Acme")
    assert show["resources"]["minutes"]["included_used"] == "1.3"  # 66 s + 12 s
    assert show["identifiers"] == ["acme-pbx", "+14155550100"]
    text = cli.run("import-usage", str(path), "--format", "asterisk", now=LATER,
                   as_json=False)
    assert "skipped (not billable): 1" in text.out


def test_the_quotadesk_format_says_skipped_too(cli: Cli, tmp_path: Path):
    path = tmp_path / "u.csv"
    path.write_text("event_id,client,resource,quantity,occurred_at\n"
                    "e1,Acme,minutes,1,2026-01-05T00:00:00Z\n")
    assert cli.ok("import-usage", str(path), now=LATER)["skipped"] == 0
    assert cli.ok("import-usage", str(path), "--format", "quotadesk", now=LATER)[
        "duplicates"] == 1


def test_plans_show_and_edit_their_increments(cli: Cli):
    added = cli.ok("plan", "add", "Per minute", "--fee", "5", "--increments", "60/60")
    assert added["increments"] == "60/60"
    assert cli.ok("plan", "edit", "Per minute", "--increments", "30/6")["increments"] == "30/6"
    listed = {p["name"]: p["increments"] for p in cli.ok("plan", "list")}
    assert listed["Per minute"] == "30/6" and listed["Voice 500"] == "1/1"
    cli.refused("plan", "edit", "Per minute", "--increments", "60/0", words=["increments"])
    cli.refused("plan", "add", "Bad", "--fee", "5", "--increments", "fast",
                words=["increments"])


def test_source_add_and_list_with_every_option(cli: Cli, tmp_path: Path):
    saved = cli.ok("source", "add", "Carrier X", "--client", "Account", "--quantity", "3",
                   "--time", "Start", "--unit", "seconds", "--event-id", "Call ID",
                   "--header", "yes", "--delimiter", ";", "--time-format", "%d/%m/%Y %H:%M",
                   "--timezone", "Europe/Paris", "--skip-if", "Status=NO ANSWER",
                   "--skip-if", "Status=BUSY")
    assert saved == {"id": saved["id"], "name": "Carrier X", "client": "Account",
                     "quantity": "3", "time": "Start", "resource": "minutes",
                     "resource_column": None, "unit": "seconds", "event_id": "Call ID",
                     "header": True, "delimiter": ";", "time_format": "%d/%m/%Y %H:%M",
                     "timezone": "Europe/Paris",
                     "skip_if": ["Status=NO ANSWER", "Status=BUSY"]}
    cli.ok("source", "add", "sms", "--client", "1", "--quantity", "2", "--time", "3",
           "--resource-column", "4", "--header", "no", "--delimiter", "tab")
    assert [s["name"] for s in cli.ok("source", "list")] == ["Carrier X", "sms"]
    cli.refused("source", "add", "carrier x", "--client", "a", "--quantity", "b", "--time",
                "c", words=["name"])
    cli.refused("source", "add", "asterisk", "--client", "a", "--quantity", "b", "--time",
                "c", words=["name", "built-in"])
    cli.refused("source", "add", "Y", "--client", "a", "--quantity", "b", "--time", "c",
                "--header", "no", words=["client"])
    cli.refused("source", "add", "Y", "--client", "a", "--quantity", "b", "--time", "c",
                "--resource", "sms", "--unit", "seconds", words=["unit"])
    cli.refused("source", "add", "Y", "--client", "a", "--quantity", "b", "--time", "c",
                "--timezone", "Mars/Olympus", words=["timezone"])
    both = cli.run("source", "add", "Y", "--client", "a", "--quantity", "b", "--time", "c",
                   "--resource", "sms", "--resource-column", "d")
    assert both.rc == 2
    cli.ok("client", "identify", "Acme", "Acme Corp")
    path = tmp_path / "calls.csv"
    path.write_text("Call ID;Account;Seconds;Start;Status\n"
                    "c1;acme corp;61;05/01/2026 10:00;ANSWERED\n"
                    "c2;Acme Corp;9;05/01/2026 10:01;no answer\n")
    result = cli.ok("import-usage", str(path), "--format", "CARRIER X", now=LATER)
    assert (result["recorded"], result["skipped"]) == (1, 1)
    assert cli.ok("client", "show", "Acme")["resources"]["minutes"]["included_used"] == \
        "1.016667"


def test_twilio_from_the_command_line(cli: Cli, tmp_path: Path):
    cli.ok("client", "identify", "Beta Café", "AC0123456789abcdef")
    path = tmp_path / "messages.csv"
    path.write_bytes(twilio_csv([
        ("AC0123456789abcdef", "SM1", "2026-01-05T09:00:00Z", "delivered", 2, "outbound-api",
         "two\nlines, and \"quotes\""),
        ("AC0123456789abcdef", "SM2", "2026-01-05T09:01:00Z", "failed", 1, "outbound-api",
         "x")]))
    result = cli.ok("import-usage", str(path), "--format", "twilio-messages", now=LATER)
    assert (result["recorded"], result["skipped"], result["rejected"]) == (1, 1, [])
    assert cli.ok("client", "show", "Beta Café")["resources"]["sms"]["included_used"] == "2"


def test_identify_and_unidentify(cli: Cli):
    assert cli.ok("client", "identify", "Acme", "pbx-1", "PBX-1")["identifiers"] == ["pbx-1"]
    cli.refused("client", "identify", "Gamma", "Pbx-1", words=["identifier", "Acme"])
    cli.refused("client", "unidentify", "Gamma", "pbx-1", words=["identifier"])
    assert cli.ok("client", "unidentify", "Acme", "PBX-1")["identifiers"] == []
    assert cli.ok("client", "show", "Gamma")["identifiers"] == []
    cli.refused("import-usage", "nothing.csv", "--format", "no-such", words=["format"])
