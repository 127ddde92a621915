"""`demo --clients N` (issue 16, rough edge 7): a believable agency at any size up to
100,000, made through the services (a big one copies the walked clients), that `verify`
finds clean: mostly paid on time, a few overdue, a couple of failures, fees paid at their
own moments around their due dates, every blocked client's campaign paused for quota, lots
expiring within 30 days."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from quotadesk.services import billing, clients, demo, reports
from quotadesk.services.errors import InvalidValue
from quotadesk.services.unit_of_work import Desk


def believability(desk: Desk) -> dict[str, float]:
    requests = billing.list_payments(desk)
    statuses = Counter(r.status for r in requests)
    paid = [r for r in requests if r.status == "paid"]
    on_time = [r for r in paid if r.paid_at is not None
               and r.paid_at.date() <= r.due_date + timedelta(days=1)]
    summaries = clients.list_clients(desk)
    blocked = [c for c in summaries if c.blocked]
    paused = {(c.client, c.resource) for c in clients.list_campaigns(desk)
              if c.status == "paused_quota"}
    totals = reports.agency_totals(desk)
    return {
        "requests": len(requests),
        "paid": statuses["paid"] / len(requests),
        "failed": statuses["failed"] / len(requests),
        "overdue": sum(r.overdue for r in requests) / len(requests),
        "on_time": len(on_time) / len(paid),
        "paid_minutes": len({r.paid_at.replace(second=0, microsecond=0) for r in paid
                             if r.paid_at}) / len(paid),
        "blocked": len(blocked),
        "blocked_unpaused": sum(1 for c in blocked for r in c.blocked
                                if (c.name, r) not in paused),
        "expiring_soon": sum(totals.wallet_expiring_30d.values()),
        "clients": len(summaries),
        "names": len({c.name for c in summaries}),
    }


@pytest.fixture
def sqlite_only(backend: str) -> None:
    if backend != "sqlite":
        pytest.skip("the walk through the services is the same on every backend: the "
                    "copies are checked on each below")


@pytest.mark.slow
def test_a_demo_agency_is_believable_and_verifies_clean(sqlite_only, desk):
    summary = demo.load_demo(desk, clients=56)  # 40 walked, 16 copied
    assert summary["clients"] == 56
    assert reports.verify(desk).problems == ()
    seen = believability(desk)
    assert seen["clients"] == seen["names"] == 56
    assert seen["paid"] >= 0.70  # SPEC §7: at least 70 % paid
    assert 0 < seen["overdue"] <= 0.10  # a few overdue, at most 10 %
    assert 0 < seen["failed"] <= 0.05  # a couple of failures, at most 5 %
    assert seen["on_time"] >= 0.8  # mostly on time
    assert seen["paid_minutes"] >= 0.3  # paid at their own moments, not all at one
    assert seen["blocked"] >= 3 and seen["blocked_unpaused"] == 0
    assert seen["expiring_soon"] > 0


def test_copies_of_the_walked_clients_verify_clean_on_every_backend(desk, monkeypatch):
    monkeypatch.setattr(demo, "TEMPLATE_CLIENTS", 8)
    summary = demo.load_demo(desk, clients=37)  # 8 walked; 29 copied, the last round short
    assert summary["clients"] == 37
    report = reports.verify(desk)
    assert report.problems == ()
    listed = clients.list_clients(desk)
    assert len(listed) == len({c.name for c in listed}) == 37
    # A copy holds what its template holds, under its own name (ids move by whole rounds).
    template = next(c for c in listed if c.name == "Northwind Traders")
    copies = [c for c in listed if (c.id - template.id) % 8 == 0 and c.id != template.id]
    assert len(copies) >= 3
    assert all((c.plan, c.wallet, c.blocked, c.pending_amount) == (
        template.plan, template.wallet, template.blocked, template.pending_amount)
        for c in copies)
    # New work after the demo goes on from the copies' ids (PostgreSQL's sequences too).
    added = clients.add_client(desk, name="After the demo")
    assert added.id > max(c.id for c in listed)


def test_the_demo_takes_up_to_100000_clients_into_an_empty_database(desk):
    with pytest.raises(InvalidValue, match="between 1 and 100,000"):
        demo.load_demo(desk, clients=100_001)
    with pytest.raises(InvalidValue, match="between 1 and 100,000"):
        demo.load_demo(desk, clients=0)
    clients.add_client(desk, name="Already here")
    with pytest.raises(InvalidValue, match="empty database"):
        demo.load_demo(desk, clients=5)
