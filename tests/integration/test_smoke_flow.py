"""A first end-to-end walk through the services: subscribe, apply, consume, block, roll over."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from quotadesk.services import billing, catalog, clients, reports, usage, wallet


def test_seed_000_walkthrough(desk, clock):
    catalog.add_plan(desk, name="Voice 500", fee="49.00", included={"minutes": "500"})
    catalog.add_pack(desk, name="100 Minutes Pack", resource="minutes", units="100",
                     price="15.00")
    clients.add_client(desk, name="Acme", email="ops@acme.test")
    clients.subscribe(desk, client="Acme", plan="Voice 500")
    clients.assign_packs(desk, client="Acme", packs=["100 Minutes Pack"])
    campaign = clients.add_campaign(desk, client="Acme", name="Calls", resource="minutes")

    usage.record_usage(desk, client="Acme", resource="minutes", quantity="500")
    usage.record_usage(desk, client="Acme", resource="minutes", quantity="1")
    detail = clients.client_detail(desk, "Acme")
    assert detail.blocked == ("minutes",)
    assert detail.resources["minutes"].unserved == Decimal(1)
    assert detail.campaigns[0].status == "paused_quota"

    result = wallet.apply_pack(desk, client="Acme", pack="100 Minutes Pack", status="pending",
                               key="dialog-1")
    assert result.message == "Addon pack credited. Payment request created as pending."
    detail = clients.client_detail(desk, "Acme")
    assert detail.blocked == ()
    assert detail.resources["minutes"].wallet == Decimal(100)
    assert detail.campaigns[0].id == campaign.id and detail.campaigns[0].status == "running"

    clock.set(datetime(2026, 2, 1, 0, 0, tzinfo=UTC))
    rolled = billing.run_rollover(desk)
    assert rolled.periods_closed == 1
    detail = clients.client_detail(desk, "Acme")
    assert detail.resources["minutes"].included_left == Decimal(500)
    assert detail.resources["minutes"].wallet == Decimal(100)
    assert reports.verify(desk).ok
