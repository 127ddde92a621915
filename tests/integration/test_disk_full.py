"""A full disk, for real (SPEC §6, §7, §8): the database on a small tmpfs filled by a filler
file, the commands run as a nightly job runs them (`python -m quotadesk`, a process each).

- An import that fills the disk stops, exit 1, and still prints its full result: what it
  reports recorded is exactly what is stored; the file imported again records the rest.
- The chores on a full disk: the daily backup fails in one line and the rollover still runs
  and decides the exit status; `backup` and `apply` are refused in one line; nothing is
  written, no `.partial` survives.
- Afterwards the database opens and `verify` is clean.

The tmpfs is named by QUOTADESK_TEST_TMPFS (`.ci/run` mounts one of 8 MiB as root); without
it these tests fail in CI (CI=true) and are skipped elsewhere, with the reason.
"""

from __future__ import annotations

import errno
import os
import shutil
import sqlite3
import uuid
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from tests.e2e.conftest import Cli, Result, cli_in_process, copy_database

# Filling a file system, in processes: outside the quick lane (`pytest -m "not slow"`), always in CI.
pytestmark = pytest.mark.slow

TMPFS = os.environ.get("QUOTADESK_TEST_TMPFS", "")
#: Filling a larger file system would take long and disturb everything else on it.
LARGEST = 64 << 20
T0 = "2026-01-10T09:00:00Z"
NOW = "2026-01-10T10:00:00Z"
NEXT_MONTH = "2026-02-01T01:00:00Z"  # January's periods have ended: the rollover has work
DISK_FULL = "the disk is full"
EVENTS = 30_000


@pytest.fixture
def small_disk() -> Iterator[Path]:
    """A folder of this test's own on the small tmpfs, removed afterwards."""
    problem = None
    if not TMPFS:
        problem = ("QUOTADESK_TEST_TMPFS is not set: no small tmpfs to fill "
                   "(.ci/run mounts one as root)")
    elif not Path(TMPFS).is_dir():
        problem = f"QUOTADESK_TEST_TMPFS={TMPFS} is not a folder"
    else:
        stats = os.statvfs(TMPFS)
        if stats.f_blocks * stats.f_frsize > LARGEST:
            problem = (f"QUOTADESK_TEST_TMPFS={TMPFS} holds {stats.f_blocks * stats.f_frsize:,} "
                       f"bytes: too large to fill (at most {LARGEST:,})")
    if problem is not None:
        if os.environ.get("CI") == "true":
            pytest.fail(problem)
        pytest.skip(problem)
    folder = Path(TMPFS) / f"disk-full-{uuid.uuid4().hex[:8]}"
    folder.mkdir()
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def free_bytes(folder: Path) -> int:
    stats = os.statvfs(folder)
    return stats.f_bavail * stats.f_frsize


def fill(folder: Path, leave: int = 0) -> Path:
    """A filler file that leaves `leave` bytes free (0: not one more byte fits)."""
    filler = folder / f"filler-{uuid.uuid4().hex[:8]}"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        for block in (1 << 16, 1 << 12, 1):
            try:
                while free_bytes(folder) - block >= leave:
                    os.write(fd, bytes(block))
            except OSError as error:
                if error.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(fd)
    assert free_bytes(folder) <= max(leave, 0) + (1 << 12)
    return filler


def set_up(path: Path) -> None:
    """Acme on a plan with a million SMS, a pack assigned, one event (in this process)."""
    for args in (["init", "--timezone", "UTC", "--currency", "USD"],
                 ["plan", "add", "Bulk", "--fee", "10", "--included", "sms=1000000"],
                 ["pack", "add", "SMS 100", "--resource", "sms", "--units", "100",
                  "--price", "1"],
                 ["client", "add", "Acme"], ["subscribe", "Acme", "Bulk"],
                 ["assign", "Acme", "SMS 100"], ["usage", "Acme", "sms", "1", "--id", "first"]):
        cli_in_process(path, args, T0)


def count(path: Path, table: str) -> int:
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as conn:
        return int(conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0])


def lines_of(result: Result) -> list[str]:
    """stderr: every line one plain refusal or notice, never a traceback."""
    assert "Traceback" not in result.err, str(result)
    lines = result.err.splitlines()
    assert all(line.startswith("quotadesk: ") for line in lines), str(result)
    return lines


def no_partial_files(folder: Path) -> None:
    assert not [p.name for p in folder.rglob("*.partial")], "a .partial file survived"


@pytest.mark.parametrize("writer", ["never", "always"], ids=["in one process", "writer process"])
def test_an_import_that_fills_the_disk_says_exactly_what_it_recorded(
        small_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, writer: str) -> None:
    """It said "the disk is full … (nothing was written)" with 12,500 events committed, and
    --json printed nothing."""
    monkeypatch.setenv("QUOTADESK_IMPORT_WRITER", writer)
    db = small_disk / "desk.db"
    set_up(db)
    usage_file = tmp_path / "usage.csv"  # on another disk: only the database fills this one
    usage_file.write_text("event_id,client,resource,quantity,occurred_at\n" + "".join(
        f"e-{n},Acme,sms,1,2026-01-10T09:30:00Z\n" for n in range(EVENTS)), encoding="utf-8")
    cli = Cli(db, NOW, tmp_path)
    fill(small_disk, leave=1_500_000)

    run = cli.run("import-usage", usage_file, "--batch-size", "1000")

    assert run.rc == 1, str(run)
    report = run.data
    recorded = report["recorded"]
    assert 0 < recorded < EVENTS, "some batches were committed before the disk filled up"
    assert count(db, "usage_events") == recorded + 1  # and the event recorded at set-up
    assert (report["duplicates"], report["rejected"]) == (0, [])
    assert report["stopped"].startswith(f"database: {DISK_FULL}")
    assert lines_of(run) == [f"quotadesk: import stopped: {report['stopped']}; the "
                             f"{recorded:,} events recorded before the stop were kept"]
    assert "nothing was written" not in run.out + run.err

    # Still full: the database opens and adds up.
    verified = cli.run("verify")
    assert (verified.rc, lines_of(verified)) == (0, []), str(verified)

    # The same file, once there is room (a copy elsewhere): the rest, and only the rest.
    elsewhere = tmp_path / "elsewhere.db"
    copy_database(db, elsewhere)
    again = Cli(elsewhere, NOW, tmp_path).ok("import-usage", usage_file)
    assert (again["recorded"], again["duplicates"]) == (EVENTS - recorded, recorded)
    assert count(elsewhere, "usage_events") == EVENTS + 1


def test_the_chores_on_a_full_disk_write_nothing_and_say_so_in_one_line(
        small_disk: Path, tmp_path: Path) -> None:
    """The window keeps the database open (so its -wal and -shm files exist) when the nightly
    job finds the disk full."""
    db = small_disk / "desk.db"
    set_up(db)
    cli = Cli(db, NEXT_MONTH, tmp_path)
    with closing(sqlite3.connect(db)) as window:
        window.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # every write needs a new page
        before = Cli(db).dump()
        filler = fill(small_disk)

        rollover = cli.run("rollover")
        chores = lines_of(rollover)
        assert [line for line in chores if "backup" in line] == [chores[0]], str(rollover)
        assert DISK_FULL in chores[0]
        # The rollover still ran and decides the exit status: it could not write either.
        assert rollover.rc == 1 and len(chores) == 2 and DISK_FULL in chores[1], str(rollover)
        no_partial_files(small_disk)

        target = small_disk / "copy.db"
        backup = cli.run("backup", target)
        assert backup.rc == 1 and backup.out == "", str(backup)
        assert len(lines_of(backup)) == 1 and DISK_FULL in backup.err, str(backup)
        assert not target.exists()
        no_partial_files(small_disk)

        applied = cli.run("apply", "Acme", "SMS 100", "--status", "paid", "--key", "k-1")
        assert applied.rc == 1 and applied.out == "", str(applied)
        assert len(lines_of(applied)) == 1 and DISK_FULL in applied.err, str(applied)

        verified = cli.run("verify")
        assert (verified.rc, lines_of(verified)) == (0, []), str(verified)
        assert Cli(db).dump() == before, "a command on the full disk wrote something"

        filler.unlink()
        done = cli.ok("rollover")
        assert done["periods_closed"] == 1
        assert cli.ok("apply", "Acme", "SMS 100", "--status", "paid", "--key", "k-1")["lot_id"]
        assert cli.ok("verify") is not None
        assert (count(db, "usage_events"), count(db, "wallet_lots")) == (1, 1)


def test_a_closed_database_on_a_full_disk_is_refused_naming_the_full_disk(
        small_disk: Path, tmp_path: Path) -> None:
    """With no program holding it open, SQLite cannot even create the database's -shm file
    on a full disk: a write is refused in one line that says why (it said "not a QuotaDesk
    database (disk I/O error)"); a read either works or is refused the same way."""
    db = small_disk / "desk.db"
    set_up(db)
    before = Cli(db).dump()
    with closing(sqlite3.connect(db)) as last:  # the last connection to close: the -wal and
        last.execute("SELECT count(*) FROM sqlite_master").fetchone()  # -shm files go
    assert sorted(p.name for p in small_disk.iterdir()) == ["desk.db"]
    usage_file = tmp_path / "usage.csv"
    usage_file.write_text("event_id,client,resource,quantity,occurred_at\n"
                          "e-1,Acme,sms,1,2026-01-10T09:30:00Z\n", encoding="utf-8")
    filler = fill(small_disk)
    cli = Cli(db, NEXT_MONTH, tmp_path)

    results = {"import": cli.run("import-usage", usage_file),
               "apply": cli.run("apply", "Acme", "SMS 100", "--status", "paid"),
               "verify": cli.run("verify")}

    for name, result in results.items():
        if name == "verify" and result.rc == 0:
            assert result.data["ok"] is True and result.err == "", str(result)
            continue
        assert result.rc == 1 and result.out == "", f"{name}: {result}"
        assert len(lines_of(result)) == 1 and DISK_FULL in result.err, f"{name}: {result}"
    filler.unlink()
    assert Cli(db).dump() == before
    assert cli.ok("verify")["ok"] is True
