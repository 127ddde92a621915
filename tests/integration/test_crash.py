"""Crash safety (issue 5): `import-usage` and `apply` killed with SIGKILL at random instants.

After every kill the SQLite file passes `PRAGMA integrity_check`, `verify` passes, every event
is wholly rated or absent, and running the same commands again ends in exactly the state of an
uninterrupted run: nothing lost, nothing doubled.
"""

from __future__ import annotations

import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from quotadesk.cli import Output, client_json
from quotadesk.services import billing, catalog, clients, reports, usage, wallet
from quotadesk.services.unit_of_work import Desk, fixed_clock

from ..conftest import MovableClock, new_desk

# Minutes of killed processes: outside the quick lane (`pytest -m "not slow"`), always in CI.
pytestmark = pytest.mark.slow

TRIALS = int(os.environ.get("QUOTADESK_CRASH_TRIALS", "50"))
NOW = datetime(2026, 5, 20, 12, 0, tzinfo=UTC)
EVENTS = 3000
BATCH = 100
CLIENTS = 12
KEY = "crash-apply-1"
ROOT = Path(__file__).resolve().parents[2]


def _cli(db: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "quotadesk", "--db", str(db), "--now", NOW.isoformat(), *args]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A template database with clients, plans, lots, and a usage export for them."""
    work = tmp_path_factory.mktemp("crash")
    clock = MovableClock(datetime(2026, 5, 1, 9, 0, tzinfo=UTC))
    desk = new_desk(work / "template.db", clock)
    catalog.add_plan(desk, name="Mixed", fee="20.00",
                     included={"minutes": "400", "sms": "300", "email": "100"},
                     overage={"sms": "0.015"})
    catalog.add_pack(desk, name="100 Minutes Pack", resource="minutes", units="100",
                     price="15.00")
    catalog.add_pack(desk, name="Additional emails", resource="email", units="5000",
                     price="10.00", expires_months=12)
    for i in range(CLIENTS):
        name = f"Client {i:02d}"
        clients.add_client(desk, name=name)
        clients.subscribe(desk, client=name, plan="Mixed")
        clients.assign_packs(desk, client=name, packs=["100 Minutes Pack", "Additional emails"])
        if i % 2:
            wallet.apply_pack(desk, client=name, pack="100 Minutes Pack", status="paid")
    desk.close()
    rng = random.Random(4242)
    lines = ["event_id,client,resource,quantity,occurred_at"]
    start = datetime(2026, 5, 2, tzinfo=UTC)
    for n in range(EVENTS):
        resource = rng.choice(["minutes", "sms"])  # never email: the killed `apply` is email
        quantity = f"{rng.randint(1, 300) / 60:.6f}" if resource == "minutes" else str(
            rng.randint(1, 4))
        at = start + timedelta(seconds=n * 300)
        lines.append(f"cdr-{n},Client {rng.randrange(CLIENTS):02d},{resource},{quantity},"
                     f"{at.isoformat()}")
    csv_path = work / "usage.csv"
    csv_path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return work / "template.db", csv_path


def _state(db: Path) -> dict[str, object]:
    """Everything a person or script could read: client shows, payments, history, alerts,
    in the command line's JSON shapes."""
    desk = Desk.open(str(db), clock=fixed_clock(NOW))
    try:
        out = Output(desk, as_json=True)
        names = [c.name for c in clients.list_clients(desk)]
        return {"clients": [client_json(out, clients.client_detail(desk, n)) for n in names],
                "history": [billing.billing_history(desk, n) for n in names],
                "payments": billing.list_payments(desk), "alerts": billing.list_alerts(desk)}
    finally:
        desk.close()


def _complete(db: Path, csv_path: Path) -> None:
    """Run the same two commands again, to completion (in-process: the same service calls
    the command line makes)."""
    desk = Desk.open(str(db), clock=fixed_clock(NOW))
    try:
        usage.import_usage(desk, csv_path, batch_size=BATCH)
        wallet.apply_pack(desk, client="Client 03", pack="Additional emails", status="pending",
                          key=KEY)
    finally:
        desk.close()


def _verify(db: Path) -> tuple[str, ...]:
    desk = Desk.open(str(db), clock=fixed_clock(NOW))
    try:
        return reports.verify(desk).problems
    finally:
        desk.close()


def _wait_for_events(db: Path, importer: subprocess.Popen[bytes], limit: float = 60) -> None:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and importer.poll() is None:
        try:
            with closing(sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)) as conn:
                if conn.execute("SELECT COUNT(*) FROM usage_events").fetchone()[0]:
                    return
        except sqlite3.OperationalError:
            pass  # the file is being created or migrated
        time.sleep(0.01)


def _copy(template: Path, target: Path) -> Path:
    for suffix in ("-wal", "-shm"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)
    shutil.copyfile(template, target)
    return target


def _events(db: Path) -> list[tuple[str, str, str, str, str, str]]:
    with closing(sqlite3.connect(db)) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        return conn.execute("SELECT event_id, quantity, included, wallet, overage_units, "
                            "unserved FROM usage_events ORDER BY id").fetchall()


def test_killed_import_and_apply_leave_a_consistent_database_and_rerun_exactly(
        prepared: tuple[Path, Path], tmp_path: Path) -> None:
    template, csv_path = prepared
    reference_db = _copy(template, tmp_path / "reference.db")
    started = time.perf_counter()
    subprocess.run(_cli(reference_db, "client", "list"), cwd=ROOT, check=True,
                   capture_output=True)
    startup = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run(_cli(reference_db, "import-usage", str(csv_path), "--batch-size",
                        str(BATCH)), cwd=ROOT, check=True, capture_output=True)
    full_run = time.perf_counter() - started
    subprocess.run(_cli(reference_db, "apply", "Client 03", "Additional emails", "--status",
                        "pending", "--key", KEY), cwd=ROOT, check=True, capture_output=True)
    reference = _state(reference_db)
    reference_events = _events(reference_db)
    assert len(reference_events) == EVENTS

    rng = random.Random(99)
    killed_mid_import = 0
    for trial in range(TRIALS):
        db = _copy(template, tmp_path / "trial.db")
        # Every other import writes through its writer process (which, orphaned by the kill,
        # ends its batch or rolls it back, and stops when it finds the importer gone).
        writer = "always" if trial % 2 else "never"
        importer = subprocess.Popen(
            _cli(db, "import-usage", str(csv_path), "--batch-size", str(BATCH)), cwd=ROOT,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env={**os.environ, "QUOTADESK_IMPORT_WRITER": writer})
        applier = subprocess.Popen(
            _cli(db, "apply", "Client 03", "Additional emails", "--status", "pending", "--key",
                 KEY), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if trial % 5 == 0:
            # Anywhere: before the interpreter is up, during start-up, during the import.
            time.sleep(rng.uniform(0.0, full_run * 1.05))
        else:
            # Once the import has committed its first batch, at a random instant of its work.
            _wait_for_events(db, importer)
            time.sleep(rng.uniform(0.0, max(0.05, full_run - startup)))
        for proc in (importer, applier):
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
            proc.wait()

        events = _events(db)  # integrity_check inside
        # Wholly rated or absent: whole batches, each a prefix of the file, each event's
        # split identical to the uninterrupted run's.
        assert len(events) % BATCH == 0 or len(events) == EVENTS, (trial, len(events))
        assert events == reference_events[:len(events)], trial
        if 0 < len(events) < EVENTS:
            killed_mid_import += 1
        assert _verify(db) == (), trial

        _complete(db, csv_path)
        assert _events(db) == reference_events, trial
        assert _state(db) == reference, trial
    # The random instants must really have cut imports in the middle.
    assert killed_mid_import >= TRIALS // 5, killed_mid_import
