"""SPEC §2 and §6 across the batches of one import: the importer keeps its clients' books in
memory from one batch to the next, so a write made between two batches (another desk, or the
window's own thread, applying a pack) must be seen by the next batch, and a batch that fails
must leave nothing of itself in memory either.
"""

from __future__ import annotations

import io
import sqlite3
from dataclasses import replace
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from quotadesk.db import open_database
from quotadesk.models import UsageEvent
from quotadesk.services import billing, catalog, clients, setup, usage, wallet
from quotadesk.services.account_store import PendingWrites
from quotadesk.services.unit_of_work import Desk

D = Decimal
HEADER = "event_id,client,resource,quantity,occurred_at\n"


def _csv(*lines: str) -> io.BytesIO:
    return io.BytesIO((HEADER + "".join(line + "\n" for line in lines)).encode())


@pytest.fixture
def capped(desk: Desk) -> Desk:
    return set_up_capped(desk)


def set_up_capped(desk: Desk) -> Desk:
    """Acme: 1 SMS included, no overage (usage beyond it is unserved and blocks); a 10-SMS
    pack assigned but not yet applied."""
    catalog.add_plan(desk, name="Cap", fee="0", included={"sms": "1"})
    catalog.add_pack(desk, name="SMS 10", resource="sms", units="10", price="2.00")
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Cap")
    clients.assign_packs(desk, client="Acme", packs=["SMS 10"])
    return desk


EVENTS = ("e-1,Acme,sms,1,2026-01-10T08:00:00Z", "e-2,Acme,sms,1,2026-01-10T08:30:00Z")


def _sms(desk: Desk) -> tuple[Decimal, Decimal, bool]:
    detail = clients.client_detail(desk, "Acme")
    sms = detail.resources["sms"]
    return sms.wallet, sms.unserved, sms.blocked


def test_a_pack_applied_through_the_same_desk_between_batches_is_drawn_on(capped: Desk) -> None:
    def between_batches(_line: int) -> None:
        if not clients.client_detail(capped, "Acme").lots:
            wallet.apply_pack(capped, client="Acme", pack="SMS 10", status="paid", key="k")

    result = usage.import_usage(capped, _csv(*EVENTS), batch_size=1, progress=between_batches)

    assert result.recorded == 2
    assert _sms(capped) == (D(9), D(0), False)  # the second SMS came out of the new lot


def test_a_pack_applied_by_another_desk_between_batches_is_drawn_on(capped: Desk,
                                                                    db_url: str) -> None:
    other = Desk(open_database(db_url), clock=capped.clock)
    try:
        def between_batches(_line: int) -> None:
            if not clients.client_detail(other, "Acme").lots:
                wallet.apply_pack(other, client="Acme", pack="SMS 10", status="paid", key="k")

        usage.import_usage(capped, _csv(*EVENTS), batch_size=1, progress=between_batches)
    finally:
        other.close()

    assert _sms(capped) == (D(9), D(0), False)


def test_without_a_write_between_batches_the_books_carry_over_exactly(capped: Desk) -> None:
    wallet.apply_pack(capped, client="Acme", pack="SMS 10", status="paid", key="k")
    lines = [f"e-{n},Acme,sms,1,2026-01-10T08:{n:02d}:00Z" for n in range(12)]

    result = usage.import_usage(capped, _csv(*lines), batch_size=5)

    # 1 included, 10 from the lot, the 12th unserved: it blocks SMS once.
    assert result.recorded == 12
    assert _sms(capped) == (D(0), D(1), True)
    assert [a.kind for a in billing.list_alerts(capped, "Acme")].count("blocked") == 1


def test_a_batch_retried_after_a_busy_database_is_rated_once(
        capped: Desk, monkeypatch: pytest.MonkeyPatch) -> None:
    """The second batch's first attempt rates its events in memory, then its write fails as
    if another desk held the lock; the retry must start again from what is stored."""
    wallet.apply_pack(capped, client="Acme", pack="SMS 10", status="paid", key="k")
    lines = [f"e-{n},Acme,sms,1,2026-01-10T08:{n:02d}:00Z" for n in range(4)]
    real_flush = PendingWrites.flush
    flushes = []

    def busy_once(journal: PendingWrites) -> None:
        flushes.append(len(journal.events) + len(journal.stored_events))
        if len(flushes) == 2:
            raise OperationalError("INSERT …", {}, sqlite3.OperationalError("database is locked"))
        real_flush(journal)

    monkeypatch.setattr(PendingWrites, "flush", busy_once)
    result = usage.import_usage(capped, _csv(*lines), batch_size=2)

    assert flushes == [2, 2, 2]  # batch 1, batch 2 refused, batch 2 again
    assert (result.recorded, result.duplicates) == (4, 0)
    assert _sms(capped) == (D(7), D(0), False)  # 1 included + 3 from the lot, each once
    with capped.database.session(write=False) as session:
        assert session.scalar(select(func.count()).select_from(UsageEvent)) == 4


def _setup_world(desk: Desk) -> None:
    catalog.add_plan(desk, name="Mixed", fee="0", included={"minutes": "10", "sms": "3"},
                     overage={"minutes": "0.05"})
    catalog.add_pack(desk, name="SMS 2", resource="sms", units="2", price="1.00")
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Mixed")
    clients.assign_packs(desk, client="Acme", packs=["SMS 2"])
    wallet.apply_pack(desk, client="Acme", pack="SMS 2", status="paid", key="k")


LINES = [  # included, then overage; included, then the lot, then unserved (no SMS rate)
    "m-1,Acme,minutes,4.5,2026-01-10T08:00:00Z",
    "m-2,Acme,minutes,7.25,2026-01-10T08:01:00.123456+00:00",
    "m-3,Acme,minutes,0.000001,2026-01-10T08:02:00.5+00:00",
    "s-1,Acme,sms,2,2026-01-10T03:00:00-05:00",
    "s-2,Acme,sms,2,2026-01-10T08:03:00+00:00",
    "s-3,Acme,sms,3,2026-01-10 08:04:00Z",
    "s-4,Acme,sms,1,2026-01-10T08:05:00",
    ",Acme,minutes,1,2026-01-10T08:06:00Z",
]


def test_an_import_writes_exactly_the_rows_recording_each_event_writes(
        backend: str, make_database: Any, clock: Any) -> None:
    """The importer's SQLite fast paths (times sliced, rows built in storage form) store
    byte for byte what `record_usage` stores for the same events."""
    imported = Desk(open_database(make_database()), clock=clock)
    recorded = Desk(open_database(make_database()), clock=clock)
    try:
        for desk in (imported, recorded):
            setup.init_database(desk, currency="USD", timezone="UTC")
            _setup_world(desk)
        usage.import_usage(imported, _csv(*LINES))
        for line in LINES:
            event_id, client, resource, quantity, at = line.split(",")
            usage.record_usage(recorded, client=client, resource=resource, quantity=quantity,
                               at=at, event_id=event_id or None)
        assert _events(imported) == _events(recorded)
        assert len(_events(imported)) == len(LINES)
        assert _shown(imported) == _shown(recorded)
    finally:
        imported.close()
        recorded.close()


def _shown(desk: Desk) -> Any:
    """The client's page, but the alerts' row ids (PostgreSQL's sequences take ids in
    different chunks on the two paths)."""
    detail = clients.client_detail(desk, "Acme")
    return replace(detail, alerts=tuple(replace(a, id=0) for a in detail.alerts))


def _events(desk: Desk) -> list[tuple[Any, ...]]:
    """The stored rows as the database holds them (text as text), but the row ids."""
    with desk.database.engine.connect() as conn:
        return [tuple(row)[1:] for row in conn.exec_driver_sql(
            "SELECT * FROM usage_events ORDER BY id")]
