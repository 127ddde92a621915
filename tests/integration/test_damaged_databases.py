"""Damaged and foreign database files × every command, and the window (issue classes 6, 8, 10).

Whatever `--db` names, a command ends in one plain line (exit 1 for a refusal) or, for a
read-only file, reads work and writes are refused; no traceback; the file is left exactly as it
was. An existing empty file is adopted as a new database (SPEC §8).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quotadesk import cli

# Every command on every kind of bad file, and random damage: outside the quick lane
# (`pytest -m "not slow"`), always in CI.
pytestmark = pytest.mark.slow

T0 = "2026-01-10T09:00:00Z"

#: Every command, with arguments that would work on the template agency. `False`: it writes.
COMMANDS: list[tuple[list[str], bool]] = [
    (["init", "--timezone", "UTC"], False),
    (["demo"], False),
    (["plan", "add", "P2", "--fee", "1.00"], False),
    (["plan", "edit", "Basic", "--fee", "2.00"], False),
    (["plan", "list"], True),
    (["pack", "add", "K2", "--resource", "sms", "--units", "5", "--price", "1.00"], False),
    (["pack", "list"], True),
    (["client", "add", "Zed"], False),
    (["client", "list"], True),
    (["client", "show", "Acme"], True),
    (["subscribe", "Acme", "Basic"], False),
    (["cancel", "Acme"], False),
    (["assign", "Acme", "SMS 100"], False),
    (["unassign", "Acme", "SMS 100"], False),
    (["apply", "Acme", "SMS 100", "--status", "paid", "--key", "k-1"], False),
    (["revoke", "1", "--reason", "test"], False),
    (["campaign", "add", "Acme", "Promo", "--resource", "sms"], False),
    (["campaign", "pause", "1"], False),
    (["campaign", "list"], True),
    (["usage", "Acme", "sms", "1"], False),
    (["import-usage", "{usage}"], False),
    (["rollover"], False),
    (["payments"], True),
    (["pay", "1"], False),
    (["fail", "1"], False),
    (["history", "Acme"], True),
    (["alerts"], True),
    (["verify"], True),
    (["export", "clients", "{out}/clients.csv"], True),
    (["export", "payments", "{out}/payments.csv"], True),
    (["export", "history", "{out}/history.csv", "--client", "Acme"], True),
    (["backup", "{out}/copy.db"], True),
    (["restore", "{template}"], False),
]
#: Damaged QuotaDesk files (an SQLite file whose pages cannot be read): `restore` replaces them.
DAMAGED = ("truncated", "header-and-junk")
KINDS = ["random-bytes", "truncated", "text", "header-and-junk", "foreign-sqlite",
         "newer-schema", "read-only-file", "read-only-folder"]


def run(capsys: pytest.CaptureFixture[str], *args: object) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sound QuotaDesk database: a subscribed client with a pack, a lot and usage."""
    folder = tmp_path_factory.mktemp("template")
    db = folder / "agency.db"
    for args in (["init", "--timezone", "UTC"],
                 ["plan", "add", "Basic", "--fee", "10.00", "--included", "sms=10"],
                 ["pack", "add", "SMS 100", "--resource", "sms", "--units", "100", "--price",
                  "5.00"],
                 ["client", "add", "Acme"], ["subscribe", "Acme", "Basic"],
                 ["assign", "Acme", "SMS 100"],
                 ["apply", "Acme", "SMS 100", "--status", "pending", "--key", "k-0"],
                 ["usage", "Acme", "sms", "20"]):
        assert cli.main(["--db", str(db), "--now", T0, *args]) == 0, args
    sql(db, "PRAGMA wal_checkpoint(TRUNCATE)")  # one self-contained file: no -wal beside it
    return db


def dump(db: Path) -> list[str]:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return list(conn.iterdump())
    finally:
        conn.close()


def sql(db: Path, *statements: str) -> None:
    """Run statements and close the connection (a WAL file folded back, nothing left open)."""
    conn = sqlite3.connect(db)
    try:
        for statement in statements:
            conn.execute(statement)
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def chattr(flag: str, path: Path) -> None:
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True, text=True)
    if done.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"chattr {flag} {path} refused: {done.stderr.strip()}")
        pytest.skip(f"chattr needs root on a file system that has it: {done.stderr.strip()}")


@pytest.fixture
def immutables() -> Iterator[list[Path]]:
    """Paths made immutable by a test, made writable again afterwards."""
    paths: list[Path] = []
    yield paths
    for path in paths:
        subprocess.run(["chattr", "-i", str(path)], capture_output=True)


def make_kind(kind: str, folder: Path, template: Path, immutables: list[Path],
              seed: bytes = b"") -> Path:
    db = folder / "q.db"
    good = template.read_bytes()
    if kind == "random-bytes":
        db.write_bytes(seed or os.urandom(4096))
    elif kind == "truncated":
        cut = int.from_bytes(seed[:4] or b"\x00\x00\x30\x00", "big") % (len(good) // 2)
        db.write_bytes(good[:max(cut, 100)])
    elif kind == "text":
        db.write_text("name,email\nAcme,ops@acme.test\n" * 50)
    elif kind == "header-and-junk":
        db.write_bytes(b"SQLite format 3\x00" + (seed or os.urandom(8000)))
    elif kind == "foreign-sqlite":
        sql(db, "CREATE TABLE bookmarks (url TEXT)",
            "INSERT INTO bookmarks VALUES ('https://example.test')")
    elif kind == "newer-schema":
        shutil.copyfile(template, db)
        sql(db, "UPDATE alembic_version SET version_num = '9999'")
    elif kind in ("read-only-file", "read-only-folder"):
        shutil.copyfile(template, db)
        target = db if kind == "read-only-file" else folder
        chattr("+i", target)
        immutables.append(target)
    else:  # pragma: no cover
        raise AssertionError(kind)
    return db


def check_command(capsys: pytest.CaptureFixture[str], tmp_path: Path, template: Path,
                  kind: str, db: Path, args: list[str], reads: bool) -> None:
    out_dir = tmp_path / "out"
    out_dir.mkdir(exist_ok=True)
    usage = tmp_path / "usage.csv"
    usage.write_text("event_id,client,resource,quantity,occurred_at\n"
                     "e-1,Acme,sms,1,2026-01-10T08:00:00Z\n")
    argv = [a.format(out=out_dir, usage=usage, template=template) for a in args]
    before = sorted((p.name, p.read_bytes()) for p in db.parent.iterdir() if p.is_file())
    code, out, err = run(capsys, "--db", db, "--now", "2026-01-10T10:00:00Z", *argv)
    assert "Traceback" not in out + err
    after = sorted((p.name, p.read_bytes()) for p in db.parent.iterdir() if p.is_file())
    if argv[0] == "restore" and kind in DAMAGED:
        # The way out that a damaged file's message names: the backup takes its place, and
        # the damaged file is kept aside, byte for byte.
        assert code == 0, err
        kept = [p for p in (db.parent / "backups").glob("q-damaged-*.db")]
        assert len(kept) == 1 and ("q.db", kept[0].read_bytes()) in before
        assert dump(db) == dump(template)  # the backup's content, row for row
        return
    if kind.startswith("read-only"):
        if reads:
            assert code == 0, (argv, err)
        else:
            assert code == 1 and out == "", (argv, out, err)
            # (demo is refused first for another true reason: the database is not empty)
            assert "read-only" in err or argv[0] == "demo", err
    else:
        assert code == 1 and out == "", (kind, argv, out, err)
    if code == 1:
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("quotadesk: "), err
    if kind.startswith("read-only"):
        # SQLite may add its shared-memory files beside a read-only file; the database
        # itself is byte for byte as it was.
        assert db.read_bytes() == template.read_bytes()
    else:
        assert after == before, (kind, argv)


@pytest.mark.parametrize("kind", KINDS)
def test_every_command_on_every_kind_of_bad_file(kind: str, template: Path, tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str],
                                                 immutables: list[Path]) -> None:
    folder = tmp_path / "desk"
    folder.mkdir()
    db = make_kind(kind, folder, template, immutables)
    for args, reads in COMMANDS:
        check_command(capsys, tmp_path, template, kind, db, args, reads)


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=st.sampled_from(["random-bytes", "truncated", "header-and-junk"]),
       seed=st.binary(min_size=4, max_size=9000),
       command=st.sampled_from(COMMANDS))
def test_random_damage_is_always_a_plain_refusal(kind: str, seed: bytes,
                                                 command: tuple[list[str], bool],
                                                 template: Path, tmp_path_factory: pytest.TempPathFactory,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    if kind == "random-bytes" and seed.startswith(b"SQLite format 3\x00"):
        seed = b"x" + seed
    tmp_path = tmp_path_factory.mktemp("damage")
    folder = tmp_path / "desk"
    folder.mkdir()
    db = make_kind(kind, folder, template, [], seed)
    check_command(capsys, tmp_path, template, kind, db, command[0], command[1])


def test_an_empty_file_is_adopted(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "empty.db"
    db.touch()
    code, _, err = run(capsys, "--db", db, "--now", T0, "client", "add", "First")
    assert code == 0, err
    assert run(capsys, "--db", db, "client", "list")[1].count("First") == 1
