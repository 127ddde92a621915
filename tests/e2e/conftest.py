"""End-to-end helpers: the real command line in subprocesses, each test on its own database.

`python -m quotadesk --db DB --now ISO --json COMMAND ...` is run exactly as a nightly job would
run it. A session template (a small agency built through the CLI's own entry point) is copied
for every test that wants it, so that each test starts from a fresh database of its own without
paying for the set-up again. Each command is a whole Python start-up (about a second), so the
suite keeps their number low and runs independent ones (reads, refusals) side by side.
"""

from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, redirect_stderr, redirect_stdout
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

#: The moment the template agency was set up; tests move the clock from there with --now.
T0 = "2026-01-10T09:00:00Z"
WORKERS = max(2, min(4, os.cpu_count() or 2))  # CLI runs at once: each is CPU-bound
TIMEOUT = 120

RESOURCES = ("minutes", "sms", "email")
ADDONS_DISABLED = (
    "Add-on packs are disabled for this subscription. The plan snapshot for this client has "
    "add-ons turned off. Turn on add-ons on the billing plan product (or re-subscribe after "
    "changing the plan), then refresh - you cannot assign packs or apply credits until add-ons "
    "are enabled on the plan.")
PENDING_MESSAGE = "Addon pack credited. Payment request created as pending."
PAID_MESSAGE = "Addon pack credited. Payment request created and marked as paid."

_ISO_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?([+-]\d{2}:\d{2}|Z)$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^\d+(\.\d+)?$")


# -- results ------------------------------------------------------------------------------
@dataclass
class Result:
    args: list[str]
    rc: int
    out: str
    err: str

    @property
    def data(self) -> Any:
        return json.loads(self.out)

    def __str__(self) -> str:
        return f"$ {' '.join(self.args)}\nexit {self.rc}\nstdout: {self.out}\nstderr: {self.err}"


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("QUOTADESK_DB", None)
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def run_argv(argv: Sequence[str], cwd: Path | None = None) -> Result:
    proc = subprocess.run([sys.executable, "-m", "quotadesk", *argv], capture_output=True,
                          text=True, encoding="utf-8", errors="replace", timeout=TIMEOUT,
                          env=_env(), cwd=cwd)
    return Result(list(argv), proc.returncode, proc.stdout, proc.stderr)


def parallel(jobs: Iterable[Any], fn: Any) -> list[Any]:
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(fn, jobs))


# -- the CLI on one database --------------------------------------------------------------
@dataclass
class Cli:
    db: Path | str  # a SQLite file, or a database URL (PostgreSQL)
    now: str = T0
    cwd: Path | None = field(default=None)

    def argv(self, args: Sequence[str], now: str | None = None, as_json: bool = True) -> list[str]:
        base = ["--db", str(self.db), "--now", now or self.now]
        return base + (["--json"] if as_json else []) + [str(a) for a in args]

    def run(self, *args: object, now: str | None = None, as_json: bool = True) -> Result:
        return run_argv(self.argv([str(a) for a in args], now, as_json), self.cwd)

    def ok(self, *args: object, now: str | None = None) -> Any:
        """Run a command that must succeed (exit 0, nothing on stderr); its JSON."""
        result = self.run(*args, now=now)
        assert result.rc == 0, str(result)
        assert result.err == "", str(result)
        return result.data

    def many(self, commands: Sequence[Sequence[object]], now: str | None = None) -> list[Result]:
        """Independent commands side by side; results in the given order."""
        return parallel(commands, lambda c: self.run(*c, now=now))

    def many_ok(self, commands: Sequence[Sequence[object]], now: str | None = None) -> list[Any]:
        results = self.many(commands, now=now)
        for result in results:
            assert result.rc == 0 and result.err == "", str(result)
        return [r.data for r in results]

    def views(self, client: str, now: str | None = None) -> tuple[Any, Any]:
        """What scripts read to see a client's state: `client show` and `payments`."""
        show, payments = self.many_ok([("client", "show", client), ("payments",)], now=now)
        return show, payments

    # -- the database itself, read directly (never written) --------------------------------
    def dump(self) -> dict[str, list[tuple[Any, ...]]]:
        assert isinstance(self.db, Path), "dumps read SQLite files"
        with closing(sqlite3.connect(f"{self.db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
            names = [r[0] for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
            return {name: sorted(conn.execute(f'SELECT * FROM "{name}"').fetchall(), key=repr)
                    for name in names}

    def copy_to(self, path: Path) -> Cli:
        assert isinstance(self.db, Path), "copies are of SQLite files"
        copy_database(self.db, path)
        return Cli(path, self.now, self.cwd)

    # -- refusals ---------------------------------------------------------------------------
    def refused(self, *args: object, words: Sequence[str] = (), now: str | None = None) -> str:
        """Exit 1, one line on stderr naming the field or rule, and the database unchanged."""
        before = self.dump()
        result = self.run(*args, now=now)
        check_refusal(result, words)
        assert self.dump() == before, f"a refused command changed the database\n{result}"
        return result.err.strip()

    def refused_each(self, cases: Sequence[tuple[Any, ...]], tmp: Path,
                     now: str | None = None) -> list[str]:
        """Many refusals, each on its own copy of this database (side by side), each
        checked for exit 1, one stderr line with its words, and no change at all.

        A case is (args, words) or (args, words, now)."""
        before = self.dump()
        copies = [self.copy_to(tmp / f"refusal-{i}.db") for i in range(len(cases))]

        def one(job: tuple[Cli, tuple[Any, ...]]) -> tuple[Result, bool]:
            cli, case = job
            result = cli.run(*case[0], now=case[2] if len(case) > 2 else now)
            return result, cli.dump() == before

        outcomes = parallel(list(zip(copies, cases, strict=True)), one)
        problems = []
        for (result, unchanged), case in zip(outcomes, cases, strict=True):
            try:
                check_refusal(result, case[1])
                assert unchanged, "a refused command changed the database"
            except AssertionError as error:
                problems.append(f"{error}\n{result}")
        assert not problems, "\n\n".join(problems)
        return [r.err.strip() for r, _ in outcomes]


def check_refusal(result: Result, words: Sequence[str]) -> None:
    assert result.rc == 1, f"expected exit 1\n{result}"
    assert result.out == "", f"a refusal prints nothing on stdout\n{result}"
    line = result.err.strip()
    assert line and "\n" not in line, f"expected exactly one line on stderr\n{result}"
    assert "Traceback" not in result.err
    for word in words:
        assert word.lower() in line.lower(), f"stderr does not mention {word!r}\n{result}"


def copy_database(source: Path, target: Path) -> None:
    target.unlink(missing_ok=True)
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(target)) as dst:
        src.backup(dst)


# -- JSON contract checks -----------------------------------------------------------------
def is_int(value: Any) -> bool:
    return type(value) is int


def is_number_text(value: Any) -> bool:
    return isinstance(value, str) and bool(_NUMBER.match(value))


def is_iso_time(value: Any) -> bool:
    if not isinstance(value, str) or not _ISO_TIME.match(value):
        return False
    return datetime.fromisoformat(value.replace("Z", "+00:00")).tzinfo is not None


def is_date(value: Any) -> bool:
    if not isinstance(value, str) or not _DATE.match(value):
        return False
    datetime.strptime(value, "%Y-%m-%d")
    return True


def has_keys(obj: Any, keys: Iterable[str]) -> None:
    """Every key of the contract is there (SPEC §7: keys may be added, never removed)."""
    assert isinstance(obj, dict), obj
    missing = set(keys) - set(obj)
    assert not missing, f"missing keys {sorted(missing)} in {obj}"


def at(moment: str) -> datetime:
    return datetime.fromisoformat(moment.replace("Z", "+00:00"))


# -- the template agency ------------------------------------------------------------------
@dataclass
class Template:
    path: Path
    outputs: dict[str, Any]


#: Built once per session through the CLI, at T0, in time zone UTC and currency USD.
PLANS = [
    ["plan", "add", "Voice 500", "--fee", "49.00", "--included", "minutes=500",
     "--overage", "minutes=0.05"],
    ["plan", "add", "Messaging", "--fee", "20", "--included", "sms=100", "email=1000",
     "--due-days", "7"],
    ["plan", "add", "Free Rate", "--fee", "0", "--included", "minutes=10", "--overage",
     "minutes=0"],
    ["plan", "add", "No Add-ons", "--fee", "10", "--included", "minutes=100", "--addons", "off"],
]
PACKS = [
    ["pack", "add", "100 Minutes Pack", "--resource", "minutes", "--units", "100",
     "--price", "15.00", "--description", "100 minutes for a fixed price"],
    ["pack", "add", "Additional SMS", "--resource", "sms", "--units", "500", "--price", "20",
     "--expires-months", "12", "--description", "Batch of extra SMS credits"],
    ["pack", "add", "Additional emails", "--resource", "email", "--units", "5000",
     "--price", "10", "--expires-months", "12", "--description", "Batch of extra email credits"],
    ["pack", "add", "Free SMS", "--resource", "sms", "--units", "5", "--price", "0"],
]
CLIENTS = [
    ["client", "add", "Acme", "--email", "ops@acme.test"],
    ["client", "add", "Beta Café", "--email", "billing@beta.test"],
    ["client", "add", "Gamma"],
    ["client", "add", "Delta"],
    ["client", "add", "Echo"],
    ["client", "add", "Foxtrot"],
]
SUBSCRIBE = [
    ["subscribe", "Acme", "Voice 500"],
    ["subscribe", "Beta Café", "Messaging"],
    ["subscribe", "Delta", "Free Rate"],
    ["subscribe", "Echo", "Voice 500"],
    ["subscribe", "Foxtrot", "No Add-ons"],
]
ASSIGN = [
    ["assign", "Acme", "100 Minutes Pack"],
    ["assign", "Beta Café", "Additional SMS", "Additional emails", "Free SMS"],
    ["assign", "Echo", "100 Minutes Pack"],
]
#: Echo's plan snapshot then loses add-ons: its assignment stays, applying is refused.
RESUBSCRIBE = [["subscribe", "Echo", "No Add-ons"]]


def cli_in_process(db: Path, args: Sequence[str], now: str = T0) -> Any:
    """Run `quotadesk.cli.main` in this process (for building fixtures quickly); its JSON."""
    from quotadesk.cli import main

    out, err = io.StringIO(), io.StringIO()
    argv = ["--db", str(db), "--now", now, "--json", *args]
    with redirect_stdout(out), redirect_stderr(err):
        rc = main(argv)
    assert rc == 0 and not err.getvalue(), f"$ quotadesk {' '.join(argv)}: {rc} {err.getvalue()}"
    return json.loads(out.getvalue())


@pytest.fixture(scope="session")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """The agency every `cli` test starts from (a copy of it), set up at T0 through the
    command line's own entry point (in this process, to keep the suite fast):

    - Acme (ops@acme.test): Voice 500 (500 minutes, overage 0.05/min, fee 49.00), assigned
      "100 Minutes Pack" (100 minutes, 15.00, never expires).
    - Beta Café: Messaging (100 sms, 1000 email, no overage, fee 20, due 7 days), assigned
      "Additional SMS" (500, 20.00, 12 months), "Additional emails", "Free SMS" (price 0).
    - Gamma: no subscription.  Delta: Free Rate (10 minutes, overage rate 0, fee 0).
    - Echo: Voice 500 with "100 Minutes Pack" assigned, then re-subscribed to No Add-ons.
    - Foxtrot: No Add-ons, nothing assigned.
    """
    path = tmp_path_factory.mktemp("template") / "agency.db"
    outputs: dict[str, Any] = {
        "init": cli_in_process(path, ["init", "--timezone", "UTC", "--currency", "USD"])}
    for command in PLANS + PACKS + CLIENTS + SUBSCRIBE + ASSIGN + RESUBSCRIBE:
        outputs[" ".join(command[:3])] = cli_in_process(path, command)
    return Template(path, outputs)


@pytest.fixture
def cli(template: Template, tmp_path: Path) -> Cli:
    """The CLI on this test's own copy of the template agency, clock at T0."""
    path = tmp_path / "agency.db"
    copy_database(template.path, path)
    return Cli(path, cwd=tmp_path)


@pytest.fixture
def fresh(tmp_path: Path) -> Cli:
    """The CLI on a database that does not exist yet."""
    return Cli(tmp_path / "fresh.db", cwd=tmp_path)


@pytest.fixture
def berlin(tmp_path: Path) -> Cli:
    """The CLI on a small agency in Europe/Berlin (a zone with daylight saving), set up at T0
    (in this process): plan "Voice" (100 minutes), pack "Minutes 50" assigned to Acme, and
    Acme and Beta subscribed to Voice."""
    path = tmp_path / "berlin.db"
    for command in (["init", "--timezone", "Europe/Berlin"],
                    ["plan", "add", "Voice", "--fee", "10", "--included", "minutes=100"],
                    ["pack", "add", "Minutes 50", "--resource", "minutes", "--units", "50",
                     "--price", "5"],
                    ["client", "add", "Acme"], ["client", "add", "Beta"],
                    ["subscribe", "Acme", "Voice"], ["subscribe", "Beta", "Voice"],
                    ["assign", "Acme", "Minutes 50"]):
        cli_in_process(path, command)
    return Cli(path, cwd=tmp_path)


def usage_file(folder: Path, lines: Sequence[str], name: str = "usage.csv") -> Path:
    """A usage CSV (SPEC §7) of these data lines, under the standard header."""
    path = folder / name
    path.write_text("event_id,client,resource,quantity,occurred_at\n"
                    + "".join(f"{line}\n" for line in lines), encoding="utf-8")
    return path
