"""SPEC §7 and §2 for a pipelined import: on a SQLite file, a large import is written by a
second process while the next batch is rated (services/usage_import/writer.py). It must
store exactly what the same import writes batch by batch in one process, see a write made
between two batches by anyone else, and keep each batch all-or-nothing when the writer fails.
"""

from __future__ import annotations

import io
import multiprocessing
import os
import sqlite3
import subprocess
import sys
import textwrap
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError

from quotadesk.db import open_database
from quotadesk.services import catalog, clients, reports, setup, usage, wallet
from quotadesk.services.results import ImportResult
from quotadesk.services.unit_of_work import Desk, fixed_clock
from quotadesk.services.usage_import import batches, pipeline
from quotadesk.services.usage_import.writer import WriterStopped
from tests.conftest import MovableClock
from tests.integration.test_import_batches import set_up_capped

# Writer processes: outside the quick lane (`pytest -m "not slow"`), always in CI.
pytestmark = pytest.mark.slow

D = Decimal
HEADER = "event_id,client,resource,quantity,occurred_at\n"


def _csv(lines: list[str]) -> io.BytesIO:
    return io.BytesIO((HEADER + "".join(line + "\n" for line in lines)).encode())


def _world(path: Path, clock: MovableClock, batch_size: int) -> Desk:
    """Three clients subscribed on 10 January with a campaign each. The import starts on
    4 March, half a day later for each line of a batch (the clock is read once a batch
    either way), so the first batch rolls every client over twice, and a file of a few
    batches spans a month: a period closes with usage in it (overage billed, blocks lifted)."""
    desk = Desk(open_database(path), clock=clock)
    setup.init_database(desk, currency="USD", timezone="UTC")
    with sqlite3.connect(path) as conn:  # both databases' Message-IDs alike, as their rows
        conn.execute("UPDATE settings SET value = 'same' WHERE key = 'mail.message_ids'")
    catalog.add_plan(desk, name="Mixed", fee="20.00", included={"minutes": "10", "sms": "3"},
                     overage={"minutes": "0.05"})
    catalog.add_pack(desk, name="SMS 2", resource="sms", units="2", price="1.00")
    catalog.add_pack(desk, name="Minutes 5", resource="minutes", units="5", price="2.00",
                     expires_months=12)
    for name in ("Acme", "Bolt", "Cato"):
        clients.add_client(desk, name=name, email=f"{name.lower()}@example.test")
        clients.subscribe(desk, client=name, plan="Mixed")
        clients.assign_packs(desk, client=name, packs=["SMS 2", "Minutes 5"])
        clients.add_campaign(desk, client=name, name=f"{name} texts", resource="sms")
    wallet.apply_pack(desk, client="Acme", pack="SMS 2", status="paid", key="a-sms")
    wallet.apply_pack(desk, client="Bolt", pack="Minutes 5", status="pending", key="b-min")
    clock.set(datetime(2026, 3, 4, 12, 0, tzinfo=UTC))
    desk.clock = lambda: clock.advance(hours=12 * min(batch_size, 60))
    return desk


def _lines() -> list[str]:
    lines = []
    for n in range(60):
        name = ("Acme", "Bolt", "Cato")[n % 3]
        day = 1 + n % 4  # 1–4 March: this period, and before it (late) for some anchors
        if n % 2 == 0:
            lines.append(f"m-{n},{name},minutes,{n % 7 + 2.5},2026-03-0{day}T08:{n:02d}:00Z")
        else:
            lines.append(f"s-{n},{name},sms,1,2026-03-0{day}T09:{n:02d}:00+00:00")
    lines[7] = "s-3,Bolt,sms,1,2026-03-02T10:00:00Z"  # a duplicate of an earlier batch's id
    lines[8] = "s-8,Bolt,sms,1,2026-03-02T10:00:00Z"
    lines[9] = "s-8,Bolt,sms,1,2026-03-02T10:00:00Z"  # a duplicate in its own batch
    lines[20] = "x-20,Nobody,sms,1,2026-03-02T10:00:00Z"  # unknown client
    lines[21] = "x-21,Acme,sms,1,2027-01-01T00:00:00Z"  # in the future: refused by the rules
    lines[22] = "x-22,Acme,sms,-1,2026-03-02T10:00:00Z"  # a bad quantity
    lines[30] = ""  # a blank line
    lines.append("m-late,Cato,minutes,2,2026-02-01T08:00:00")  # an earlier period (naive: UTC)
    return lines


def _tables(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every table as stored (text as text), in row order."""
    with sqlite3.connect(path) as conn:
        names = [row[0] for row in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")]
        return {name: conn.execute(f"SELECT * FROM {name} ORDER BY rowid").fetchall()
                for name in names}


def _import_both(tmp_path: Path, lines: list[str], batch_size: int, **kwargs: Any
                 ) -> tuple[ImportResult, ImportResult, Path, Path]:
    results = []
    paths = []
    for pipelined in (False, True):
        path = tmp_path / f"{'pipelined' if pipelined else 'in-turn'}.db"
        desk = _world(path, MovableClock(datetime(2026, 1, 10, 9, 0, tzinfo=UTC)), batch_size)
        try:
            results.append(usage.import_usage(desk, _csv(lines), batch_size=batch_size,
                                              pipelined=pipelined, **kwargs))
            assert reports.verify(desk).ok
        finally:
            desk.close()
        paths.append(path)
    return results[0], results[1], paths[0], paths[1]


@pytest.mark.parametrize("batch_size", [1, 4, 7, 1000])
def test_a_pipelined_import_stores_exactly_what_an_import_in_turn_stores(
        tmp_path: Path, batch_size: int) -> None:
    in_turn, pipelined, one, other = _import_both(tmp_path, _lines(), batch_size)

    assert pipelined == in_turn
    assert (in_turn.recorded, in_turn.duplicates) == (55, 2)
    assert [r.line for r in in_turn.rejected] == [22, 23, 24]
    stored = _tables(one)
    assert _tables(other) == stored
    # What it covered: usage drawn from lots, alerts and their emails, SMS blocked (campaigns
    # paused, and freed by a new period), periods rolled over (and with batches of a few
    # lines, closed with usage in them: overage billed).
    assert any(row[4] == "consume" for row in stored["ledger_entries"])
    assert stored["email_outbox"]
    assert "blocked" in {row[4] for row in stored["alerts"]}
    assert all(row[6] > row[5] for row in stored["campaigns"])  # moved by the import
    assert "Plan" in {row[2] for row in stored["payment_requests"]}
    if batch_size < 10:
        assert "Overage" in {row[2] for row in stored["payment_requests"]}

def test_lines_the_file_refuses_are_reported_once_either_way(tmp_path: Path) -> None:
    lines = ["bad line with, too few fields", *_lines()[:10], '"unclosed,quote', ""]
    in_turn, pipelined, one, other = _import_both(tmp_path, lines, 3)

    assert pipelined == in_turn
    assert [r.line for r in in_turn.rejected] == [2, 13]
    assert _tables(other) == _tables(one)


@pytest.fixture
def capped(tmp_path: Path, clock: MovableClock) -> Any:
    """On a SQLite file: Acme, 1 SMS included, no overage, a 10-SMS pack assigned."""
    desk = Desk(open_database(tmp_path / "capped.db"), clock=clock)
    setup.init_database(desk, currency="USD", timezone="UTC")
    yield set_up_capped(desk)
    desk.close()


SMS = [f"e-{n},Acme,sms,1,2026-01-10T08:{n:02d}:00Z" for n in range(4)]


def _sms(desk: Desk) -> tuple[Decimal, Decimal, bool]:
    sms = clients.client_detail(desk, "Acme").resources["sms"]
    return sms.wallet, sms.unserved, sms.blocked


@pytest.mark.parametrize("same_desk", [True, False], ids=["same desk", "another desk"])
def test_a_pack_applied_between_batches_is_drawn_on_by_the_batches_after(
        capped: Desk, same_desk: bool) -> None:
    """Batch 2 is rated before batch 1 is committed; the pack applied when batch 1 is reported
    makes it stale, and it is rated again on the stored state."""
    other = capped if same_desk else Desk(open_database(capped.database.url),
                                          clock=capped.clock)
    try:
        def between_batches(_line: int) -> None:
            if not clients.client_detail(other, "Acme").lots:
                wallet.apply_pack(other, client="Acme", pack="SMS 10", status="paid", key="k")

        result = usage.import_usage(capped, _csv(SMS), batch_size=1, progress=between_batches,
                                    pipelined=True)
    finally:
        if not same_desk:
            other.close()

    assert (result.recorded, result.rejected) == (4, ())
    assert _sms(capped) == (D(7), D(0), False)  # 1 included, then 3 from the new lot
    assert reports.verify(capped).ok


def test_cancelling_stops_before_the_next_batch_is_written(capped: Desk) -> None:
    wallet.apply_pack(capped, client="Acme", pack="SMS 10", status="paid", key="k")
    reported: list[int] = []

    result = usage.import_usage(capped, _csv(SMS), batch_size=2, progress=reported.append,
                                cancelled=lambda: bool(reported), pipelined=True)

    assert result.cancelled and (result.recorded, reported) == (2, [3])
    again = usage.import_usage(capped, _csv(SMS), batch_size=2, pipelined=True)
    assert (again.recorded, again.duplicates, again.cancelled) == (2, 2, False)
    assert _sms(capped) == (D(7), D(0), False)


def test_a_batch_the_database_refuses_leaves_nothing_of_itself(capped: Desk) -> None:
    wallet.apply_pack(capped, client="Acme", pack="SMS 10", status="paid", key="k")
    path = Path(capped.database.url.removeprefix("sqlite:///"))
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TRIGGER refuse_e2 BEFORE INSERT ON usage_events "
                     "WHEN NEW.event_id = 'e-2' BEGIN SELECT RAISE(ABORT, 'no e-2'); END")

    with pytest.raises(usage.ImportStopped, match="no e-2") as stopped:
        usage.import_usage(capped, _csv(SMS), batch_size=2, pipelined=True)

    # The import stops with its result so far: the first batch, kept and counted (SPEC §8).
    assert isinstance(stopped.value.__cause__, IntegrityError)
    assert (stopped.value.result.recorded, stopped.value.result.stopped) == (
        2, "database: no e-2")

    assert _event_ids(capped) == ["e-0", "e-1"]
    assert _sms(capped) == (D(9), D(0), False)  # the first batch only: 1 included, 1 lot
    assert reports.verify(capped).ok


def test_a_writer_that_dies_stops_the_import_with_the_committed_batches_kept(
        capped: Desk) -> None:
    wallet.apply_pack(capped, client="Acme", pack="SMS 10", status="paid", key="k")

    def kill_writer(_line: int) -> None:
        for child in multiprocessing.active_children():
            if child.name == "quotadesk-import-writer":
                child.kill()
                child.join()

    with pytest.raises(usage.ImportStopped, match="writer process stopped") as stopped:
        usage.import_usage(capped, _csv(SMS), batch_size=2, progress=kill_writer,
                           pipelined=True)

    assert isinstance(stopped.value.__cause__, WriterStopped)
    assert stopped.value.result.recorded == 2

    assert _event_ids(capped) == ["e-0", "e-1"]
    assert _sms(capped) == (D(9), D(0), False)
    assert reports.verify(capped).ok


def _event_ids(desk: Desk) -> list[str]:
    with sqlite3.connect(desk.database.url.removeprefix("sqlite:///")) as conn:
        return [row[0] for row in conn.execute("SELECT event_id FROM usage_events ORDER BY id")]


def test_large_files_on_sqlite_are_pipelined_small_ones_and_streams_are_not(
        capped: Desk, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Path] = []
    real = pipeline.ImportWriter

    def spy(database: Path) -> Any:
        started.append(database)
        return real(database)

    monkeypatch.setattr(pipeline, "ImportWriter", spy)
    small = tmp_path / "small.csv"
    small.write_bytes(_csv(SMS[:2]).getvalue())
    usage.import_usage(capped, small)
    usage.import_usage(capped, _csv(SMS[2:3]))
    assert started == []
    monkeypatch.setattr(pipeline, "PIPELINE_BYTES", small.stat().st_size)
    big = tmp_path / "big.csv"
    big.write_bytes(_csv(SMS).getvalue())
    assert usage.import_usage(capped, big).recorded == 1
    assert started == [Path(capped.database.url.removeprefix("sqlite:///"))]


def test_a_script_without_a_main_guard_is_not_run_again_by_the_writer(
        tmp_path: Path) -> None:
    """A spawned process normally imports the parent's main script first: one without an
    `if __name__ == "__main__"` guard would import (and here write a marker) twice."""
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(f"""
        import io, os
        from datetime import datetime, UTC
        from quotadesk.db import open_database
        from quotadesk.services import catalog, clients, setup, usage
        from quotadesk.services.unit_of_work import Desk, fixed_clock
        with open({str(tmp_path / "runs.txt")!r}, "a") as marker:
            marker.write("run\\n")
        desk = Desk(open_database({str(tmp_path / "script.db")!r}),
                    clock=fixed_clock(datetime(2026, 1, 10, 9, tzinfo=UTC)))
        setup.init_database(desk, currency="USD", timezone="UTC")
        catalog.add_plan(desk, name="P", fee="0", included={{"sms": "5"}})
        clients.add_client(desk, name="Acme")
        clients.subscribe(desk, client="Acme", plan="P")
        data = {_csv(SMS).getvalue()!r}
        result = usage.import_usage(desk, io.BytesIO(data), batch_size=1, pipelined=True)
        print(result.recorded)
        desk.close()
    """))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=120, env=env, check=False)

    assert (done.returncode, done.stdout.strip()) == (0, "4"), done.stderr
    assert (tmp_path / "runs.txt").read_text() == "run\n"


def test_a_sqlite_file_is_written_by_the_writer_and_a_server_in_turn(
        desk: Desk, backend: str, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[Path] = []
    real = pipeline.ImportWriter
    monkeypatch.setattr(pipeline, "ImportWriter", lambda db: started.append(db) or real(db))
    catalog.add_plan(desk, name="P", fee="0", included={"sms": "5"})
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="P")

    assert usage.import_usage(desk, _csv(SMS), batch_size=1, pipelined=True).recorded == 4
    assert len(started) == (1 if backend == "sqlite" else 0)
    assert clients.client_detail(desk, "Acme").resources["sms"].included_used == D(4)


def test_batches_that_start_smaller_store_what_equal_batches_store(
        tmp_path: Path, clock: MovableClock, monkeypatch: pytest.MonkeyPatch) -> None:
    """A pipelined import's first batches are an eighth, a quarter and a half of the rest
    (the writer starts sooner). On this file, with one clock reading, the rows stored are
    the same as with equal batches."""
    monkeypatch.setattr(pipeline, "RAMP_FROM", 16)
    sizes: dict[bool, list[int]] = {False: [], True: []}
    stored = []
    for pipelined in (False, True):
        desk = _world(tmp_path / f"{pipelined}.db", MovableClock(clock()), 16)
        desk.clock = fixed_clock(datetime(2026, 3, 20, 12, 0, tzinfo=UTC))
        try:
            result = usage.import_usage(desk, _csv(_lines()), batch_size=16, pipelined=pipelined,
                                        progress=sizes[pipelined].append)
        finally:
            desk.close()
        stored.append((result, _tables(tmp_path / f"{pipelined}.db")))

    # The last line of each committed batch (blank and unparsable lines hold no row): 16 rows
    # a batch in turn; 2, 4, 8, then 16 rows pipelined.
    assert sizes == {False: [17, 36, 52, 62], True: [3, 7, 15, 34, 50, 62]}
    assert stored[1] == stored[0]


@pytest.mark.parametrize("failure", ["start", "first answer"])
def test_where_no_writer_process_can_run_the_import_runs_in_turn(
        capped: Desk, monkeypatch: pytest.MonkeyPatch, failure: str) -> None:
    wallet.apply_pack(capped, client="Acme", pack="SMS 10", status="paid", key="k")
    real = pipeline.ImportWriter

    def unavailable(database: Path) -> Any:
        if failure == "start":  # as multiprocessing refuses a daemonic process's child
            raise AssertionError("daemonic processes are not allowed to have children")
        writer = real(database)
        writer._process.kill()  # gone before it answers
        return writer

    monkeypatch.setattr(pipeline, "ImportWriter", unavailable)
    result = usage.import_usage(capped, _csv(SMS), batch_size=2, pipelined=True)

    assert (result.recorded, result.cancelled) == (4, False)
    assert _sms(capped) == (D(7), D(0), False)


def test_a_failure_while_rating_stops_the_writer_and_keeps_whole_batches(
        capped: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    wallet.apply_pack(capped, client="Acme", pack="SMS 10", status="paid", key="k")
    real = batches.rate_batch
    calls: list[int] = []

    def failing(*args: Any) -> Any:
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("rating failed")
        return real(*args)

    monkeypatch.setattr(batches, "rate_batch", failing)
    with pytest.raises(RuntimeError, match="rating failed"):
        usage.import_usage(capped, _csv(SMS * 2), batch_size=2, pipelined=True)

    # The first batch is committed; the second was being written when the third failed: it
    # is either whole or absent (the writer is killed, and SQLite rolls an unfinished
    # transaction back).
    assert _event_ids(capped) in (["e-0", "e-1"], ["e-0", "e-1", "e-2", "e-3"])
    assert not [p for p in multiprocessing.active_children()
                if p.name == "quotadesk-import-writer"]
    assert reports.verify(capped).ok
