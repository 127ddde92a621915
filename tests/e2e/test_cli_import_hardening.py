"""`quotadesk import-usage FILE` on hostile input and a failing database (SPEC §7, §8): a stray
quote hides no line, memory stays bounded whatever FILE is (/dev/zero, a 200 MB line, a pipe),
and an import the database stops part-way prints its full result, exit 1."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import threading
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import TIMEOUT, Cli, _env, check_refusal

HEADER = "event_id,client,resource,quantity,occurred_at"
NOW = "2026-01-10T10:00:00Z"
AT = "2026-01-10T09:30:00Z"
#: Peak memory of one `quotadesk import-usage` on any input (the interpreter, SQLAlchemy and
#: the models take about 60 MB of it).
PEAK_MIB = 200


def good(n: int) -> str:
    return f"g-{n},Acme,minutes,1,{AT}"


def _stored(cli: Cli) -> int:
    assert isinstance(cli.db, Path)
    with closing(sqlite3.connect(f"{cli.db.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        return int(conn.execute("SELECT count(*) FROM usage_events").fetchone()[0])


# -- one stray quote ------------------------------------------------------------------------
def test_one_stray_quote_hides_none_of_the_lines_after_it(cli: Cli, tmp_path: Path) -> None:
    """The reproduction: it printed "recorded 1, rejected 1", the 1,000 good lines after the
    stray quote neither recorded nor reported."""
    usage_file = tmp_path / "stray.csv"
    usage_file.write_text("\n".join([HEADER, good(0), f'ub-1,"Acme,minutes,1,{AT}',
                                     *(good(n) for n in range(1, 1001))]) + "\n",
                          encoding="utf-8")

    report = cli.ok("import-usage", usage_file, now=NOW)

    assert (report["recorded"], report["duplicates"]) == (1001, 0)
    assert [r["line"] for r in report["rejected"]] == [3]
    assert "quote" in report["rejected"][0]["reason"]
    assert report["stopped"] is None
    assert _stored(cli) == 1001


# -- bounded memory ---------------------------------------------------------------------------
_MEASURED = """
import json, resource, subprocess, sys

def cap():  # a read that runs away fails at 2 GiB instead of filling the machine
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))

done = subprocess.run(sys.argv[1:], capture_output=True, preexec_fn=cap)
print(json.dumps({"rc": done.returncode, "out": done.stdout.decode("utf-8", "replace"),
                  "err": done.stderr.decode("utf-8", "replace"),
                  "peak_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss}))
"""


def _measured(cli: Cli, *args: object, as_json: bool = True) -> dict[str, Any]:
    """Run the command in a process of its own; its exit status, output and peak memory."""
    argv = [sys.executable, "-m", "quotadesk", *cli.argv([str(a) for a in args], NOW, as_json)]
    done = subprocess.run([sys.executable, "-c", _MEASURED, *argv], capture_output=True,
                          text=True, timeout=TIMEOUT, env=_env(), cwd=cli.cwd, check=True)
    return dict(json.loads(done.stdout))


needs_linux = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                 reason="/dev/zero, peak memory of a child (Linux)")


@needs_linux
def test_dev_zero_is_refused_plainly_in_bounded_memory(cli: Cli) -> None:
    """No newline ever: it ran out of memory after 2.7 GB. Its first line is longer than
    any header, so the file is refused after reading 64 KiB of it."""
    before = cli.dump()

    run = _measured(cli, "import-usage", "/dev/zero")

    assert (run["rc"], run["out"]) == (1, ""), run
    assert run["err"].count("\n") == 1 and run["err"].startswith("quotadesk: file: "), run
    assert "longer than 65,536 characters" in run["err"] and "header" in run["err"]
    assert run["peak_kib"] < PEAK_MIB << 10, f"{run['peak_kib'] >> 10} MiB"
    assert cli.dump() == before


@needs_linux
@pytest.mark.slow
def test_a_200_mb_line_is_rejected_on_its_own_in_bounded_memory(cli: Cli,
                                                                  tmp_path: Path) -> None:
    """`head -c 200M /dev/zero` as line 2: it took 410 MB for a 50 MB line."""
    usage_file = tmp_path / "huge-line.csv"
    with usage_file.open("wb") as out:
        out.write(f"{HEADER}\n{good(1)}\n".encode())
        block = bytes(1 << 20)
        for _ in range(200):
            out.write(block)
        out.write(f"\n{good(2)}\n".encode())

    run = _measured(cli, "import-usage", usage_file)

    assert (run["rc"], run["err"]) == (0, ""), run
    report = json.loads(run["out"])
    assert report["rejected"] == [{"line": 3, "reason": "line: longer than 65,536 characters"}]
    assert report["recorded"] == 2
    assert run["peak_kib"] < PEAK_MIB << 10, f"{run['peak_kib'] >> 10} MiB"


def test_a_folder_is_refused_plainly(cli: Cli, tmp_path: Path) -> None:
    check_refusal(cli.run("import-usage", tmp_path, now=NOW), ["file:", "is a folder"])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes (POSIX)")
def test_a_named_pipe_is_read_as_a_stream(cli: Cli, tmp_path: Path) -> None:
    """A file that is not a regular file is read like any other, a line at a time (what a
    job piping an export in gives: `import-usage /dev/stdin`, `<(curl …)`)."""
    pipe = tmp_path / "usage.pipe"
    os.mkfifo(pipe)
    data = "\n".join([HEADER, good(1), good(2), "bad line"]).encode() + b"\n"

    def feed() -> None:
        with open(pipe, "wb") as out:  # waits for the import to open it
            out.write(data)

    feeder = threading.Thread(target=feed, daemon=True)
    feeder.start()
    report = cli.ok("import-usage", pipe, now=NOW)
    feeder.join(TIMEOUT)

    assert (report["recorded"], [r["line"] for r in report["rejected"]]) == (2, [4])


# -- an import the database stops ---------------------------------------------------------------
@pytest.mark.parametrize("writer", [pytest.param("never", marks=pytest.mark.slow), "always"],
                         ids=["in one process", "writer process"])
def test_an_import_the_database_stops_prints_what_was_recorded_before_the_stop(
        cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str) -> None:
    """It said "the disk is full … (nothing was written)" with batches committed, and --json
    printed nothing. The database here refuses event g-25 as a full disk does."""
    monkeypatch.setenv("QUOTADESK_IMPORT_WRITER", writer)
    assert isinstance(cli.db, Path)
    with closing(sqlite3.connect(cli.db)) as conn:
        conn.execute("CREATE TRIGGER refuse BEFORE INSERT ON usage_events WHEN "
                     "NEW.event_id = 'g-25' BEGIN SELECT RAISE(FAIL, 'database or disk is full'); "
                     "END")
        conn.commit()
    usage_file = tmp_path / "usage.csv"
    usage_file.write_text("\n".join([HEADER, *(good(n) for n in range(40))]) + "\n",
                          encoding="utf-8")
    reason = "database: the disk is full: free some space, then try again"

    run = cli.run("import-usage", usage_file, "--batch-size", "10", now=NOW)

    assert run.rc == 1, str(run)
    report = run.data
    assert report["stopped"] == reason
    assert 0 < report["recorded"] == _stored(cli) < 40
    assert (report["duplicates"], report["rejected"]) == (0, [])
    assert run.err == (f"quotadesk: import stopped: {reason}; the {report['recorded']} events "
                       "recorded before the stop were kept\n")

    again = cli.run("import-usage", usage_file, "--batch-size", "10", now=NOW, as_json=False)

    assert again.rc == 1, str(again)
    assert again.out.splitlines() == [
        "recorded: 0", f"duplicates: {report['recorded']}", "rejected: 0",
        f"stopped: {reason}; 0 events recorded before the stop were kept"]
    assert again.err == f"quotadesk: import stopped: {reason}; no event was recorded before the stop\n"
    assert "nothing was written" not in run.out + run.err + again.out + again.err
    assert _stored(cli) == report["recorded"]
