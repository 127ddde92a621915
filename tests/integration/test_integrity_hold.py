"""The window's integrity check (SPEC §8: every open is checked) waits for the client list to
be shown, or for anything that needs its verdict, and then runs."""

from __future__ import annotations

import sqlite3

from quotadesk.db import integrity
from quotadesk.db.integrity import IntegrityCheck


def _sound_file(tmp_path):
    path = tmp_path / "q.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE t (x)")
    connection.execute("INSERT INTO t VALUES (1)")
    connection.commit()
    connection.close()
    return path


def test_the_check_waits_for_the_first_reads_then_runs(tmp_path):
    path = _sound_file(tmp_path)
    check = IntegrityCheck(f"sqlite:///{path}", path)
    assert not check._done.wait(0.3)  # held: the window's first reads come first
    check.go()
    assert check._done.wait(10) and check.problem is None


def test_asking_for_the_verdict_starts_the_check_at_once(tmp_path):
    path = _sound_file(tmp_path)
    check = IntegrityCheck(f"sqlite:///{path}", path)
    assert check.wait(10) is None and check.done()  # a write asks: no waiting for HOLD_S
    assert integrity.HOLD_S >= 5  # (so the call above did not just outwait the hold)


def test_a_damaged_file_is_found_when_the_check_runs(tmp_path):
    path = _sound_file(tmp_path)
    data = bytearray(path.read_bytes())
    page = 4096 if len(data) >= 8192 else len(data) // 2
    data[page + 8:page + 40] = b"\x00\x07" * 16  # the table's page
    path.write_bytes(bytes(data))
    check = IntegrityCheck(f"sqlite:///{path}", path)
    check.go()
    assert check.wait(10) is not None
