"""A believable agency for demos and first looks, built through the real services.

Time is walked month by month with the desk's clock, so every lot, period, alert and payment
request in the demo was made by the same code paths as real work.
"""

from __future__ import annotations

import contextlib
import io
import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from quotadesk.services import billing, catalog, clients, usage, wallet
from quotadesk.services.errors import InvalidValue, QuotaDeskError
from quotadesk.services.unit_of_work import Desk, fixed_clock

PLANS: list[dict[str, Any]] = [
    {"name": "Voice Starter", "fee": "29.00", "included": {"minutes": "300"}},
    {"name": "Voice Pro", "fee": "99.00", "anchor": "anniversary",
     "included": {"minutes": "1500"}, "overage": {"minutes": "0.045"}, "due_days": 7},
    {"name": "Messaging Growth", "fee": "49.00",
     "included": {"sms": "2000", "email": "10000"}},
    {"name": "Omnichannel", "fee": "149.00",
     "included": {"minutes": "1000", "sms": "1000", "email": "5000"},
     "overage": {"minutes": "0.05", "sms": "0.02"}, "due_days": 14},
    {"name": "Voice Basic (no add-ons)", "fee": "19.00", "included": {"minutes": "200"},
     "addons": False},
]

PACKS: list[dict[str, Any]] = [
    {"name": "100 Minutes Pack", "resource": "minutes", "units": "100", "price": "15.00",
     "description": "100 minutes for a fixed price; never expires."},
    {"name": "500 Minutes Pack", "resource": "minutes", "units": "500", "price": "60.00",
     "description": "500 minutes at a better rate; never expires."},
    {"name": "Additional SMS", "resource": "sms", "units": "500", "price": "20.00",
     "expires_months": 12, "description": "Batch of extra SMS credits"},
    {"name": "Additional emails", "resource": "email", "units": "5000", "price": "10.00",
     "expires_months": 12, "description": "Batch of extra email credits"},
]

COMPANIES = [
    "Northwind Traders", "Bluebird Dental", "Harbor & Pine Realty", "Kessler Auto Group",
    "Lumen Fitness", "Café Mirabelle", "Orbit Logistics", "Greenleaf Landscaping",
    "Summit Insurance Brokers", "Atlas Plumbing", "Brightside Tutors", "Cobalt IT Services",
    "Driftwood Surf School", "Elm Street Veterinary", "Foxglove Florists", "Granite Legal LLP",
    "Helios Solar", "Ivy League Admissions", "Juniper Spa", "Keystone Roofing",
    "Lighthouse Charity", "Maple & Co Bakery", "Nimbus Travel", "Oakridge Clinic",
    "Pinnacle Realty", "Quayside Marina", "Riverbend Pharmacy", "Saffron Kitchen",
    "Tidewater Boats", "Umbra Studios", "Vantage Recruiting", "Willow Care Homes",
    "Xenon Labs", "Yellowstone Tours", "Zephyr Cycles", "Ångström Optics", "Brasserie Zoë",
    "São Paulo Imports", "Müller Haustechnik", "Łódź Textiles",
]

#: How much of the current period's allowance each kind of demo client has used.
PROFILES = ["calm", "near80", "near95", "blocked", "wallet", "overage", "calm", "expiring"]


def _plan_for(index: int) -> str:
    return ["Voice Starter", "Voice Pro", "Messaging Growth", "Omnichannel", "Voice Starter",
            "Voice Basic (no add-ons)", "Messaging Growth", "Voice Pro"][index % 8]


def load_demo(desk: Desk, *, clients: int = 36) -> dict[str, int]:
    """Fill an empty database with plans, packs and `clients` clients in every state."""
    if not 1 <= clients <= 5000:
        raise InvalidValue("clients: between 1 and 5000 demo clients", "clients")
    if billing_has_data(desk):
        raise InvalidValue("database: demo data goes into an empty database only", "database")
    real_clock = desk.clock
    end = real_clock()
    rng = random.Random(20261125)
    start = (end - timedelta(days=400)).replace(hour=9, minute=0, second=0, microsecond=0)
    moment = start
    desk.clock = fixed_clock(moment)
    events = 0
    try:
        for plan in PLANS:
            catalog.add_plan(desk, **plan)
        for pack in PACKS:
            catalog.add_pack(desk, **pack)
        names = [_client_name(i) for i in range(clients)]
        joined: dict[str, datetime] = {}
        for i, name in enumerate(names):
            desk.clock = fixed_clock(start + timedelta(days=rng.randint(0, 300), hours=i % 7))
            clients_add(desk, name, i)
            joined[name] = desk.clock()
        # Subscribe in order of joining, then walk time a month at a time.
        order = sorted(names, key=joined.__getitem__)
        pending = list(order)
        month = start
        while month < end:
            month = min(month + timedelta(days=30), end - timedelta(hours=1))
            due = [n for n in pending if joined[n] <= month]
            for name in due:
                desk.clock = fixed_clock(joined[name])
                _subscribe(desk, name, names.index(name))
                pending.remove(name)
            desk.clock = fixed_clock(month)
            billing.run_rollover(desk)
            events += _month_of_usage(desk, rng, names, joined, month, final=month >= end
                                      - timedelta(hours=2))
            if month >= end - timedelta(hours=1):
                break
        desk.clock = fixed_clock(end - timedelta(minutes=30))
        billing.run_rollover(desk)
        _settle_payments(desk, rng)
    finally:
        desk.clock = real_clock
    return {"clients": clients, "plans": len(PLANS), "packs": len(PACKS), "usage_events": events}


def billing_has_data(desk: Desk) -> bool:
    return bool(clients.client_names(desk)) or bool(catalog.list_plans(desk))


def _client_name(i: int) -> str:
    base = COMPANIES[i % len(COMPANIES)]
    return base if i < len(COMPANIES) else f"{base} {i // len(COMPANIES) + 1}"


def clients_add(desk: Desk, name: str, i: int) -> None:
    slug = "".join(ch for ch in name.lower() if ch.isascii() and ch.isalnum())[:16] or f"c{i}"
    clients.add_client(desk, name=name, email=f"billing@{slug}.example")


def _subscribe(desk: Desk, name: str, i: int) -> None:
    plan = _plan_for(i)
    clients.subscribe(desk, client=name, plan=plan)
    if plan == "Voice Basic (no add-ons)":
        return
    packs = {"Voice Starter": ["100 Minutes Pack", "500 Minutes Pack"],
             "Voice Pro": ["100 Minutes Pack", "500 Minutes Pack"],
             "Messaging Growth": ["Additional SMS", "Additional emails"],
             "Omnichannel": ["100 Minutes Pack", "Additional SMS", "Additional emails"]}[plan]
    clients.assign_packs(desk, client=name, packs=packs)
    resource = "minutes" if plan != "Messaging Growth" else "sms"
    clients.add_campaign(desk, client=name, name=f"{name.split()[0]} outreach", resource=resource)
    if i % 5 == 0:
        clients.add_campaign(desk, client=name, name="Renewal reminders", resource=resource)


def _allowances(desk: Desk, name: str) -> dict[str, Decimal]:
    detail = clients.client_detail(desk, name)
    if detail.subscription is None:
        return {}
    return {r: u.included for r, u in detail.resources.items() if u.included > 0}


def _month_of_usage(desk: Desk, rng: random.Random, names: list[str],
                    joined: dict[str, datetime], month: datetime, final: bool) -> int:
    """Apply some packs, then import a month of usage as the platforms would export it."""
    lines = ["event_id,client,resource,quantity,occurred_at"]
    count = 0
    for i, name in enumerate(names):
        if joined[name] > month:
            continue
        profile = PROFILES[i % len(PROFILES)]
        plan = _plan_for(i)
        allowances = _allowances(desk, name)
        if not allowances:
            continue
        if plan != "Voice Basic (no add-ons)" and (rng.random() < 0.25 or (
                final and profile in {"wallet", "expiring", "overage"})):
            pack = {"Messaging Growth": rng.choice(["Additional SMS", "Additional emails"])}.get(
                plan, rng.choice(["100 Minutes Pack", "500 Minutes Pack"]))
            if plan == "Omnichannel" and profile == "expiring":
                pack = "Additional SMS"
            with contextlib.suppress(QuotaDeskError):
                wallet.apply_pack(desk, client=name, pack=pack,
                                  status=rng.choice(["pending", "paid", "paid"]))
        share = {"calm": 0.35, "near80": 0.83, "near95": 0.965, "blocked": 1.6,
                 "wallet": 1.05, "overage": 1.25, "expiring": 0.6}[profile]
        if not final:
            share = rng.uniform(0.3, 1.1)
        detail = clients.client_detail(desk, name)
        sub = detail.subscription
        if sub is None or sub.period_start is None:
            continue
        span = max((month - sub.period_start).total_seconds(), 3600)
        for resource, included in allowances.items():
            target = (included * Decimal(str(share))).quantize(Decimal(1))
            used = detail.resources[resource].included_used
            remaining = max(Decimal(0), target - used)
            if profile == "blocked" and final:
                remaining += detail.resources[resource].wallet
            pieces = 6
            for k in range(pieces):
                quantity = (remaining / pieces).quantize(
                    Decimal("0.5") if resource == "minutes" else Decimal(1))
                if quantity <= 0:
                    continue
                at = sub.period_start + timedelta(seconds=span * (k + 1) / (pieces + 1))
                lines.append(f"demo-{name[:12].replace(',', '')}-{resource}-{month:%Y%m%d}-{k},"
                             f"{name},{resource},{quantity},{at.astimezone(UTC).isoformat()}")
                count += 1
    result = usage.import_usage(desk, io.BytesIO("\n".join(lines).encode()))
    return result.recorded


def _settle_payments(desk: Desk, rng: random.Random) -> None:
    """Most old requests paid, a few failed, the rest pending (some of them overdue)."""
    for request in billing.list_payments(desk, status="pending"):
        roll = rng.random()
        if request.overdue and roll < 0.7:
            billing.mark_paid(desk, request_id=request.id)
        elif request.overdue and roll < 0.8:
            billing.mark_failed(desk, request_id=request.id)
