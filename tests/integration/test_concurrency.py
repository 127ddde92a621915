"""Several desks at once (SPEC §3, issue 5): N processes apply packs and record usage on the
same clients; the totals equal what was asked, exactly once each."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

from quotadesk.services import catalog, clients, reports, wallet
from quotadesk.services.billing import list_payments

from .race_worker import NOW

# Racing processes: outside the quick lane (`pytest -m "not slow"`), always in CI.
pytestmark = pytest.mark.slow

ROUNDS = 12
CLIENTS = 3
SHARED = 4
ROOT = Path(__file__).resolve().parents[2]


def test_desks_racing_on_the_same_clients_apply_and_record_exactly_once(desk, clock, db_url,
                                                                          backend):
    workers = 8 if backend == "postgres" else 2
    clock.set(NOW.replace(day=1))
    catalog.add_plan(desk, name="SMS 1000", fee="0", included={"sms": "10"})
    catalog.add_pack(desk, name="SMS 100", resource="sms", units="100", price="5.00")
    catalog.add_pack(desk, name="SMS 50", resource="sms", units="50", price="3.00")
    for i in range(CLIENTS):
        clients.add_client(desk, name=f"Client {i}")
        clients.subscribe(desk, client=f"Client {i}", plan="SMS 1000")
        clients.assign_packs(desk, client=f"Client {i}", packs=["SMS 100", "SMS 50"])
    clock.set(NOW)

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen(
        [sys.executable, "-m", "tests.integration.race_worker", db_url, str(w), str(ROUNDS),
         str(CLIENTS), str(SHARED)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for w in range(workers)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err

    own = ROUNDS - SHARED  # per worker: applications with the worker's own keys
    lots_expected = SHARED + workers * own
    credited = SHARED * 100 + workers * own * 50
    consumed = workers * ROUNDS * 3 + ROUNDS * 2  # shared event ids count once
    included = CLIENTS * 10

    details = [clients.client_detail(desk, f"Client {i}") for i in range(CLIENTS)]
    lots = [lot for d in details for lot in d.lots]
    assert len(lots) == lots_expected
    assert sum((lot.units for lot in lots), Decimal(0)) == credited
    total_used = sum((d.resources["sms"].included_used for d in details), Decimal(0))
    total_wallet = sum((d.resources["sms"].wallet for d in details), Decimal(0))
    assert total_used == included
    assert credited - total_wallet == consumed - included
    packs = [p for p in list_payments(desk) if p.type == "Pack"]
    assert len(packs) == lots_expected
    assert sum((p.amount for p in packs), Decimal(0)) == SHARED * Decimal("5.00") + \
        workers * own * Decimal("3.00")
    # A shared key names one application: every worker got the same lot back.
    first = wallet.apply_pack(desk, client="Client 0", pack="SMS 100", status="paid",
                              key="shared-0")
    assert first.repeated
    report = reports.verify(desk)
    assert report.ok, report.problems
