"""Backups and integrity (issue 5): online backup, checked restore, rolling daily copies, a
damaged file reported (never repaired silently), a newer schema refused."""

from __future__ import annotations

import sqlite3
import stat
from contextlib import closing
from pathlib import Path

import pytest

from quotadesk.db import (
    DatabaseCorrupt,
    SchemaTooNew,
    backups_dir,
    daily_backup,
    open_database,
)
from quotadesk.services import catalog, clients
from quotadesk.services.setup import BackupError, backup, restore

from ..conftest import new_desk


def _fill(desk):
    catalog.add_plan(desk, name="Voice", fee="10.00", included={"minutes": "100"})
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Voice")


def test_backup_then_restore_brings_back_exactly_what_was_saved(tmp_path: Path, clock):
    desk = new_desk(tmp_path / "live.db", clock)
    _fill(desk)
    copy = backup(desk, tmp_path / "copy.db")
    clients.add_client(desk, name="Added after the backup")
    assert len(clients.list_clients(desk)) == 2
    restored = restore(desk, copy)
    assert [c.name for c in clients.list_clients(desk)] == ["Acme"]
    saved = restored.safety_copy
    assert saved is not None and saved.parent == backups_dir(tmp_path / "live.db")
    assert restored.damaged_kept is None
    desk.close()


def test_database_file_is_readable_by_its_owner_only(tmp_path: Path, clock):
    desk = new_desk(tmp_path / "private.db", clock)
    mode = stat.S_IMODE((tmp_path / "private.db").stat().st_mode)
    assert mode == 0o600
    desk.close()


def test_restore_refuses_a_file_that_is_not_a_quotadesk_database(tmp_path: Path, clock):
    desk = new_desk(tmp_path / "live.db", clock)
    _fill(desk)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"definitely not sqlite" * 100)
    with pytest.raises(BackupError, match="file"):
        restore(desk, junk)
    other = tmp_path / "other.db"
    with closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE t (x)")
    with pytest.raises(BackupError, match="not a QuotaDesk database"):
        restore(desk, other)
    assert [c.name for c in clients.list_clients(desk)] == ["Acme"]
    desk.close()


def test_daily_backup_keeps_one_copy_a_day_and_only_the_last_n(tmp_path: Path, clock):
    desk = new_desk(tmp_path / "live.db", clock)
    _fill(desk)
    desk.close()
    for day in range(1, 11):
        daily_backup(tmp_path / "live.db", keep=7, today=f"2026-11-{day:02d}")
    daily_backup(tmp_path / "live.db", keep=7, today="2026-11-10")
    names = sorted(p.name for p in backups_dir(tmp_path / "live.db").glob("live-daily-*.db"))
    assert names == [f"live-daily-2026-11-{d:02d}.db" for d in range(4, 11)]


def test_damaged_file_is_reported_with_the_latest_backup_and_left_untouched(tmp_path, clock):
    path = tmp_path / "live.db"
    desk = new_desk(path, clock)
    _fill(desk)
    desk.close()
    kept = daily_backup(path, today="2026-11-24")
    data = bytearray(path.read_bytes())
    for offset in range(4096, len(data), 997):  # scribble over the b-tree pages
        data[offset] = 0xFF
    path.write_bytes(bytes(data))
    damaged = path.read_bytes()
    with pytest.raises(DatabaseCorrupt) as error:
        open_database(path, check=True)
    assert error.value.latest_backup == kept
    assert path.read_bytes() == damaged


def test_a_database_from_a_newer_version_is_refused(tmp_path: Path, clock):
    path = tmp_path / "future.db"
    desk = new_desk(path, clock)
    desk.close()
    with closing(sqlite3.connect(path)) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '9999'")
        conn.commit()
    with pytest.raises(SchemaTooNew, match="newer QuotaDesk"):
        open_database(path)
