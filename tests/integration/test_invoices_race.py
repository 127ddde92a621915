"""Desks creating payment requests at once (SPEC §10): the invoice numbers are 1..N, with no
gap and no repeat, and each number is printed with the prefix (8 processes on PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from quotadesk.models import PaymentRequest
from quotadesk.services import catalog, clients, reports, settings
from quotadesk.services.billing import list_payments

from .invoice_race_worker import NOW

pytestmark = pytest.mark.slow

ROUNDS = 15
CLIENTS = 3
ROOT = Path(__file__).resolve().parents[2]


def test_desks_racing_for_invoice_numbers_get_1_to_n_without_gap_or_repeat(desk, clock, db_url,
                                                                           backend):
    workers = 8 if backend == "postgres" else 2
    clock.set(NOW.replace(day=1))
    settings.change_settings(desk, {"tax.rate": "20"})
    catalog.add_plan(desk, name="SMS", fee="9.00", included={"sms": "10"})
    catalog.add_pack(desk, name="SMS 50", resource="sms", units="50", price="3.00")
    for i in range(CLIENTS):
        clients.add_client(desk, name=f"Client {i}")
        clients.subscribe(desk, client=f"Client {i}", plan="SMS")  # a Plan request each
        clients.assign_packs(desk, client=f"Client {i}", packs=["SMS 50"])
    clock.set(NOW)

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen(
        [sys.executable, "-m", "tests.integration.invoice_race_worker", db_url, str(w),
         str(ROUNDS), str(CLIENTS)], cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
        for w in range(workers)]
    for proc in procs:
        _, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err

    total = CLIENTS + workers * ROUNDS
    with desk.database.session(write=False) as session:
        seqs = list(session.scalars(select(PaymentRequest.invoice_seq)
                                    .order_by(PaymentRequest.invoice_seq)))
    assert seqs == list(range(1, total + 1))
    rows = list_payments(desk)
    assert sorted(p.invoice_number for p in rows) == [f"INV-{n:06d}" for n in range(1, total + 1)]
    # Numbers follow creation: within one client, a later request has a higher number.
    for i in range(CLIENTS):
        mine = sorted((p.id, p.invoice_number) for p in rows if p.client == f"Client {i}")
        assert [n for _, n in mine] == sorted(n for _, n in mine)
    assert {(p.net, p.tax, p.amount) for p in rows if p.type == "Pack"} == {
        (Decimal("3"), Decimal("0.6"), Decimal("3.6"))}
    assert reports.verify(desk).ok
