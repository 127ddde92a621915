"""SPEC §8 "Files and secrets" through the real command line (in process: `cli.main`).

Issue classes covered: a command writing over the database (1), the nightly chores depending
on the daily backup (3), restore breaking the live database (4), tracebacks on bad `--db`
values (6), the password in a URL (7), databases adopted or created by mistake (10), file modes
and leftovers (12) and the wording of file errors (13).
"""

from __future__ import annotations

import fcntl
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from quotadesk import cli
from tests.conftest import PG_SKIP_REASON, REQUIRE_PG, PostgresDatabases

T0 = "2026-01-10T09:00:00Z"


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def one_plain_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert "Traceback" not in err and lines[0].startswith("quotadesk: "), err
    return lines[0]


@pytest.fixture
def agency(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A small agency: a plan on a calendar anchor, a subscribed client, one usage event."""
    db = tmp_path / "agency.db"
    for args in (["init", "--timezone", "UTC"],
                 ["plan", "add", "Basic", "--fee", "10.00", "--included", "minutes=100"],
                 ["client", "add", "Acme", "--email", "ops@acme.test"],
                 ["subscribe", "Acme", "Basic"],
                 ["usage", "Acme", "minutes", "5"]):
        code, _, err = run(capsys, "--db", db, "--now", T0, *args)
        assert code == 0, err
    return db


def snapshot(path: Path) -> bytes:
    return path.read_bytes() if path.exists() else b""


# -- 1. never over the database, its side files or a backup ---------------------------------
@pytest.mark.parametrize("command", [["export", "clients"], ["export", "payments"],
                                     ["backup"]])
# The quick lane (`pytest -m "not slow"`) tries the same path; the other ways to name it are slow.
@pytest.mark.parametrize("how", ["same", *(pytest.param(how, marks=pytest.mark.slow) for how in (
    "relative", "dot", "symlink", "hardlink", "wal", "journal", "daily-backup", "other-backup"))])
def test_no_command_writes_over_the_database_or_a_backup(
        agency: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        command: list[str], how: str) -> None:
    monkeypatch.chdir(agency.parent)
    code, _, err = run(capsys, "--db", agency, "--now", "2026-02-02T00:00:00Z", "rollover")
    assert code == 0, err
    daily = next((agency.parent / "backups").glob("agency-daily-*.db"))
    other = agency.parent / "kept.db"
    assert run(capsys, "--db", agency, "backup", other)[0] == 0
    (agency.parent / "agency.db-journal").write_bytes(b"")
    target = {
        "same": str(agency), "relative": "agency.db", "dot": "./agency.db",
        "symlink": "link.db", "hardlink": "hard.db", "wal": "agency.db-wal",
        "journal": "./agency.db-journal", "daily-backup": str(daily), "other-backup": "kept.db",
    }[how]
    if how == "symlink":
        os.symlink(agency, agency.parent / "link.db")
    if how == "hardlink":
        os.link(agency, agency.parent / "hard.db")
    watched = [agency, Path(str(agency) + "-wal"), Path(str(agency) + "-journal"), daily, other]
    before = [snapshot(p) for p in watched]
    code, out, err = run(capsys, "--db", agency, *command, target)
    assert code == 1 and out == ""
    line = one_plain_line(err)
    assert line.startswith("quotadesk: file: ") and "must not overwrite" in line
    assert [snapshot(p) for p in watched] == before
    assert run(capsys, "--db", agency, "verify")[0] == 0


def test_export_and_backup_files_are_their_owners_alone(
        agency: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out_csv = agency.parent / "clients.csv"
    out_csv.write_text("old\n")
    os.chmod(out_csv, 0o644)  # an existing file keeps no wider mode once rewritten
    assert run(capsys, "--db", agency, "export", "clients", out_csv)[0] == 0
    assert run(capsys, "--db", agency, "backup", agency.parent / "copy.db")[0] == 0
    for path in (out_csv, agency.parent / "copy.db", agency):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert "Acme" in out_csv.read_text(encoding="utf-8-sig")


def test_a_file_error_names_the_file_not_the_database(
        agency: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "--db", agency, "export", "clients", tmp_path / "no" / "x.csv")
    assert code == 1
    line = one_plain_line(err)
    assert line.startswith("quotadesk: file: ") and "does not exist" in line
    code, _, err = run(capsys, "--db", agency, "export", "clients", tmp_path)
    assert code == 1 and "is a folder" in one_plain_line(err)


# -- 3. the nightly chores do not depend on the daily backup --------------------------------
def test_rollover_runs_when_the_daily_backup_cannot_be_written(
        agency: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (agency.parent / "backups").write_text("a file where the folder should be")
    code, out, err = run(capsys, "--db", agency, "--now", "2026-03-01T00:00:00Z", "--json",
                         "rollover")
    assert code == 0
    line = one_plain_line(err)
    assert line.startswith("quotadesk: backup: ") and "carrying on" in line
    import json

    assert json.loads(out)["periods_closed"] == 2  # January and February
    assert run(capsys, "--db", agency, "verify")[0] == 0


# -- 4. restore checks the whole backup before touching the live file -----------------------
@pytest.mark.parametrize("damage", ["newer-schema", "not-quotadesk", "random-bytes",
                                    "truncated", "missing"])
def test_a_refused_restore_leaves_the_live_file_byte_for_byte(
        agency: Path, capsys: pytest.CaptureFixture[str], damage: str) -> None:
    backup = agency.parent / "b.db"
    assert run(capsys, "--db", agency, "backup", backup)[0] == 0
    if damage == "newer-schema":
        with sqlite3.connect(backup) as conn:
            conn.execute("UPDATE alembic_version SET version_num = '9999'")
    elif damage == "not-quotadesk":
        backup.unlink()
        with sqlite3.connect(backup) as conn:
            conn.execute("CREATE TABLE notes (x)")
    elif damage == "random-bytes":
        backup.write_bytes(os.urandom(8192))
    elif damage == "truncated":
        backup.write_bytes(backup.read_bytes()[:9000])
    else:
        backup.unlink()
    before = agency.read_bytes()
    code, out, err = run(capsys, "--db", agency, "restore", backup)
    assert code == 1 and out == ""
    assert one_plain_line(err).startswith("quotadesk: file: ")
    assert agency.read_bytes() == before
    code, _, err = run(capsys, "--db", agency, "client", "show", "Acme")
    assert code == 0, err


def test_a_restore_names_its_safety_copy(agency: Path, capsys: pytest.CaptureFixture[str]) -> None:
    backup = agency.parent / "b.db"
    assert run(capsys, "--db", agency, "backup", backup)[0] == 0
    assert run(capsys, "--db", agency, "--now", T0, "client", "add", "Later")[0] == 0
    code, out, err = run(capsys, "--db", agency, "restore", backup)
    assert code == 0, err
    kept = out.strip().split("kept in ", 1)[1]
    assert Path(kept).is_file() and "before-restore" in kept
    with sqlite3.connect(kept) as conn:
        assert conn.execute("SELECT count(*) FROM clients WHERE name = 'Later'").fetchone() == (1,)
    code, out, _ = run(capsys, "--db", agency, "client", "list")
    assert "Later" not in out and "Acme" in out


# -- 6 and 10: what --db names ---------------------------------------------------------------
@pytest.mark.parametrize("value, words", [
    ("mysql://u:p@h/x", "'mysql' databases are not supported"),
    ("foo://bar", "'foo' databases are not supported"),
    ("postgresql+nodriver://u:p@h/x", "driver 'nodriver'"),
    ("sqlite://", "in-memory"),
    (":memory:", "in-memory"),
    ("sqlite:///:memory:", "in-memory"),
    ("://", "neither a database file nor a database URL"),
])
def test_bad_database_urls_are_one_plain_line(capsys: pytest.CaptureFixture[str], value: str,
                                              words: str) -> None:
    code, out, err = run(capsys, "--db", value, "client", "list")
    assert code == 1 and out == ""
    line = one_plain_line(err)
    assert line.startswith("quotadesk: database: ") and words in line
    assert ":p@" not in line


def test_a_missing_folder_is_refused_never_created(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    target = tmp_path / "nonexistent" / "dir" / "x.db"
    code, _, err = run(capsys, "--db", target, "client", "list")
    assert code == 1 and "does not exist" in one_plain_line(err)
    assert not (tmp_path / "nonexistent").exists()


def test_a_folder_is_not_a_database(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--db", tmp_path, "client", "list")
    assert code == 1 and "is a folder" in one_plain_line(err)
    assert list(tmp_path.iterdir()) == []


def test_another_programs_sqlite_file_is_never_adopted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    other = tmp_path / "other-app.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE bookmarks (url TEXT)")
        conn.execute("INSERT INTO bookmarks VALUES ('https://example.test')")
    before = other.read_bytes()
    for args in (["client", "list"], ["init"], ["client", "add", "X"]):
        code, _, err = run(capsys, "--db", other, *args)
        assert code == 1 and "another program" in one_plain_line(err)
    assert other.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other-app.db"]


def test_an_existing_empty_file_is_adopted_as_a_new_database(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    empty = tmp_path / "new.db"
    empty.touch(mode=0o644)
    os.chmod(empty, 0o644)
    code, _, err = run(capsys, "--db", empty, "--json", "client", "add", "First")
    assert code == 0, err
    assert stat.S_IMODE(empty.stat().st_mode) == 0o600
    code, out, _ = run(capsys, "--db", empty, "client", "list")
    assert "First" in out


# -- 7. no password on screen ----------------------------------------------------------------
def test_a_password_in_the_url_is_never_printed(capsys: pytest.CaptureFixture[str]) -> None:
    # Nothing listens on port 1 of loopback: the refusal names the server, not the password.
    url = "postgresql+psycopg://desk:s3cret-pw@127.0.0.1:1/quotadesk"
    for args in (["init"], ["client", "list"]):
        code, out, err = run(capsys, "--db", url, *args)
        assert code == 1
        line = one_plain_line(err)
        assert "s3cret-pw" not in line + out and "database server" in line


@pytest.mark.postgres
def test_init_on_a_server_masks_the_password(capsys: pytest.CaptureFixture[str],
                                              postgres_databases: PostgresDatabases | None) -> None:
    if postgres_databases is None:
        if REQUIRE_PG:
            pytest.fail(PG_SKIP_REASON)
        pytest.skip(PG_SKIP_REASON)
    from sqlalchemy.engine import make_url

    url = make_url(postgres_databases.new())
    if not url.password:  # CI's server trusts loopback: give the URL a password to hide
        url = url.set(password="hidden-pw")
    code, out, err = run(capsys, "--db", url.render_as_string(hide_password=False), "init",
                         "--timezone", "UTC")
    assert code == 0, err
    assert str(url.password) not in out + err
    assert "***" in out


# -- 12. leftovers of an interrupted command -------------------------------------------------
@pytest.fixture
def held_partial(agency: Path) -> Iterator[Path]:
    """A partial backup another (running) command is still writing: locked."""
    busy = agency.parent / "backups" / "busy.db.partial"
    busy.parent.mkdir(exist_ok=True)
    busy.write_bytes(b"in progress")
    fd = os.open(busy, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        yield busy
    finally:
        os.close(fd)


def test_leftovers_of_a_killed_command_are_cleaned_at_the_next_start(
        agency: Path, capsys: pytest.CaptureFixture[str], held_partial: Path) -> None:
    stale = [agency.parent / "copy.db.partial", agency.parent / "copy.db.partial-journal",
             agency.parent / "backups" / "agency-before-restore-1.db.partial"]
    for path in stale:
        path.write_bytes(b"x" * 4096)
    code, _, err = run(capsys, "--db", agency, "client", "list")
    assert code == 0, err
    assert [p.exists() for p in stale] == [False, False, False]
    assert held_partial.exists()  # still being written by someone: left alone


def test_a_failed_statement_never_carries_the_values_it_was_writing(tmp_path: Path) -> None:
    """What reaches the log of a failure (its message) holds no client data (class 12)."""
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from quotadesk.db import open_database

    database = open_database(tmp_path / "x.db")
    row = {"k": "contact", "v": "ops@private-client.test"}
    with pytest.raises(IntegrityError) as error, database.engine.begin() as conn:
        conn.execute(text("INSERT INTO settings (key, value) VALUES (:k, :v)"), [row, row])
    database.dispose()
    assert "UNIQUE" in str(error.value)
    assert "ops@private-client.test" not in str(error.value)


def test_a_damaged_database_can_be_restored_as_its_message_says(
        agency: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """The refusal of a damaged file names `quotadesk restore …`: that must then work, on a
    database too damaged to open, keeping the damaged file aside (never deleted)."""
    backup = agency.parent / "nightly.db"
    assert run(capsys, "--db", agency, "backup", backup)[0] == 0
    sql = sqlite3.connect(agency)
    sql.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    sql.close()
    damaged = agency.read_bytes()[:20000] + os.urandom(5000)
    agency.write_bytes(damaged)
    code, _, err = run(capsys, "--db", agency, "client", "list")
    assert code == 1 and "is damaged" in err and "quotadesk restore" in err
    code, out, err = run(capsys, "--db", agency, "restore", backup)
    assert code == 0, err
    kept = Path(out.strip().split("moved to ", 1)[1])
    assert kept.read_bytes() == damaged and kept.parent.name == "backups"
    code, out, _ = run(capsys, "--db", agency, "client", "list")
    assert code == 0 and "Acme" in out
    assert run(capsys, "--db", agency, "verify")[0] == 0
    # Reading the backup left nothing beside it.
    assert sorted(p.name for p in backup.parent.glob("nightly.db*")) == ["nightly.db"]


@pytest.mark.parametrize("args", [["init", "--timezone", "Mars/Base"],
                                  ["demo", "--clients", "0"],
                                  ["client", "show", "Nobody"]])
def test_a_refused_first_command_leaves_no_database_behind(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str]) -> None:
    code, _, err = run(capsys, "--db", tmp_path / "new.db", *args)
    assert code == 1 and one_plain_line(err)
    assert list(tmp_path.iterdir()) == []  # "a refusal writes nothing": not even the file


def test_options_are_taken_in_full_only(agency: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(capsys, "--db", agency, "plan", "add", "Cheap", "--fe", "1.00")
    assert code == 2 and "unrecognized arguments: --fe" in err
    assert run(capsys, "--db", agency, "plan", "list")[1].count("Cheap") == 0
