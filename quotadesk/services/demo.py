"""A believable agency for demos and first looks, built through the real services.

Time is walked day by day with the desk's clock, so every lot, period, alert and payment
request in the demo was made by the same code paths as real work: the nightly rollover runs
every night, plan fees are paid (or not) at plausible moments around their due dates, usage
arrives month by month as a platform's export would, packs are bought when wallets run low.

A big agency (more than `TEMPLATE_CLIENTS` clients) is the walked one copied: the clients the
engine built are the templates, and each further client is a copy of one of them under its
own name (`demo_copies`). Copies of engine-made, ledger-checked rows are as consistent as their
templates, and `verify` checks every one of them like any other client.
"""

from __future__ import annotations

import contextlib
import heapq
import io
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from quotadesk.models import UsageEvent
from quotadesk.services import billing, catalog, clients, outbox, usage, wallet
from quotadesk.services.demo_copies import copy_clients, demo_names, email_for
from quotadesk.services.errors import InvalidValue, QuotaDeskError
from quotadesk.services.unit_of_work import Desk, Tx, fixed_clock, read_op

MAX_CLIENTS = 100_000
#: Clients walked through the services; a bigger demo copies them (5 rounds of the 8 kinds).
TEMPLATE_CLIENTS = 40

PLANS: list[dict[str, Any]] = [
    {"name": "Voice Starter", "fee": "29.00", "included": {"minutes": "300"}, "due_days": 7},
    {"name": "Voice Pro", "fee": "99.00", "anchor": "anniversary",
     "included": {"minutes": "1500"}, "overage": {"minutes": "0.045"}, "due_days": 7},
    {"name": "Messaging Growth", "fee": "49.00",
     "included": {"sms": "2000", "email": "10000"}, "due_days": 10},
    {"name": "Omnichannel", "fee": "149.00",
     "included": {"minutes": "1000", "sms": "1000", "email": "5000"},
     "overage": {"minutes": "0.05", "sms": "0.02"}, "due_days": 14},
    {"name": "Voice Basic (no add-ons)", "fee": "19.00", "included": {"minutes": "200"},
     "addons": False, "due_days": 7},
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
    {"name": "SMS Booster", "resource": "sms", "units": "300", "price": "9.00",
     "expires_months": 3, "description": "Extra SMS credits for a busy season"},
]

#: How much of the current period's allowance each kind of demo client has used by now
#: (one in eight is blocked: an Omnichannel client out of e-mails, a no-add-ons voice one).
PROFILES = ["calm", "near80", "near95", "blocked", "wallet", "overage", "calm", "expiring",
            "calm", "near80", "calm", "wallet", "calm", "blocked", "near95", "calm"]
FINAL_SHARE = {"calm": 0.35, "near80": 0.83, "near95": 0.965, "blocked": 1.6, "wallet": 1.05,
               "overage": 1.25, "expiring": 0.6}
PLAN_PACKS = {"Voice Starter": ["100 Minutes Pack", "500 Minutes Pack"],
              "Voice Pro": ["100 Minutes Pack", "500 Minutes Pack"],
              "Messaging Growth": ["Additional SMS", "Additional emails", "SMS Booster"],
              "Omnichannel": ["100 Minutes Pack", "Additional SMS", "Additional emails",
                              "SMS Booster"]}
CAMPAIGNS = {"minutes": "{first} call campaign", "sms": "{first} SMS reminders",
             "email": "{first} newsletter"}
#: Usage events per resource and month for each client (a platform's exports, summed).
PIECES = 2
#: How long ago the walk starts: half a year of periods, payments and packs.
HISTORY = timedelta(days=200)
#: When 3-month credits were bought that now expire within 30 days.
BOOSTERS_BOUGHT = timedelta(days=75)


def plan_for(index: int) -> str:
    return ["Voice Starter", "Voice Pro", "Messaging Growth", "Omnichannel", "Voice Starter",
            "Voice Basic (no add-ons)", "Messaging Growth", "Voice Pro"][index % 8]


def load_demo(desk: Desk, *, clients: int = 36) -> dict[str, int]:
    """Fill an empty database with plans, packs and `clients` clients in every state."""
    if not 1 <= clients <= MAX_CLIENTS:
        raise InvalidValue(f"clients: between 1 and {MAX_CLIENTS:,} demo clients", "clients")
    if billing_has_data(desk):
        raise InvalidValue("database: demo data goes into an empty database only", "database")
    names = demo_names(clients)
    walked = min(clients, TEMPLATE_CLIENTS)
    real_clock = desk.clock
    try:
        events = _Walk(desk, names[:walked], real_clock()).run()
    finally:
        desk.clock = real_clock
    copied = copy_clients(desk, names[walked:], walked) if clients > walked else 0
    # The agency has been mailing its clients all along: what the demo queued went out.
    outbox.settle_demo_history(desk, real_clock() + timedelta(seconds=1))
    return {"clients": clients, "plans": len(PLANS), "packs": len(PACKS),
            "usage_events": usage_event_count(desk) if copied else events}


@read_op
def usage_event_count(tx: Tx) -> int:
    return int(tx.session.execute(select(func.count()).select_from(UsageEvent)).scalar_one())


def billing_has_data(desk: Desk) -> bool:
    return bool(clients.client_names(desk)) or bool(catalog.list_plans(desk))


@dataclass
class _Walk:
    """The agency's last year, day by day."""

    desk: Desk
    names: list[str]
    end: datetime
    rng: random.Random = field(default_factory=lambda: random.Random(20261125))
    #: (when, order, action, request id): payments the clients will make, soonest first.
    agenda: list[tuple[datetime, int, str, int]] = field(default_factory=list)
    seen: set[int] = field(default_factory=set)

    def at(self, moment: datetime) -> None:
        self.desk.clock = fixed_clock(moment)

    def run(self) -> int:
        desk, rng = self.desk, self.rng
        start = (self.end - HISTORY).replace(hour=9, minute=0, second=0, microsecond=0)
        self.at(start)
        for plan in PLANS:
            catalog.add_plan(desk, **plan)
        for pack in PACKS:
            catalog.add_pack(desk, **pack)
        joined: dict[str, datetime] = {}
        for i, name in enumerate(self.names):
            # Most clients have been with the agency for months; a few joined lately.
            days = rng.randint(0, 30) if i % 9 else rng.randint(100, 190)
            joined[name] = start + timedelta(days=days, hours=rng.randint(0, 8))
        for name in sorted(self.names, key=joined.__getitem__):
            self.at(joined[name])
            clients.add_client(desk, name=name, email=email_for(name))
        waiting = sorted(self.names, key=joined.__getitem__)
        events = 0
        day = start.date()
        last_usage = start
        expiring_bought = False
        while True:
            day += timedelta(days=1)
            night = datetime.combine(day, time(2, 0), UTC)
            if night >= self.end:
                break
            while waiting and joined[waiting[0]] + timedelta(hours=1) <= night:
                name = waiting.pop(0)
                self.at(joined[name] + timedelta(hours=1))
                self._subscribe(name, self.names.index(name))
            self.at(night)
            billing.run_rollover(desk)
            self._schedule_new_requests(night)
            self._pay_until(night + timedelta(days=1))
            morning = night + timedelta(hours=8)
            if not expiring_bought and self.end - morning < BOOSTERS_BOUGHT:
                self.at(morning)
                self._buy_expiring_lots()
                expiring_bought = True
            if morning - last_usage >= timedelta(days=30) or (
                    self.end - morning < timedelta(days=1, hours=2)):
                final = self.end - morning < timedelta(days=1, hours=2)
                self.at(morning)
                events += self._month_of_usage(joined, morning, final)
                self._schedule_new_requests(morning)
                last_usage = morning
                if final:
                    break
        self.at(self.end - timedelta(minutes=30))
        billing.run_rollover(desk)
        self._schedule_new_requests(self.end)
        self._pay_until(self.end - timedelta(minutes=20))
        return events

    # -- clients -------------------------------------------------------------------------
    def _subscribe(self, name: str, i: int) -> None:
        desk = self.desk
        plan = plan_for(i)
        clients.subscribe(desk, client=name, plan=plan)
        if plan in PLAN_PACKS:
            clients.assign_packs(desk, client=name, packs=PLAN_PACKS[plan])
        first = name.split()[0]
        for resource in next(p for p in PLANS if p["name"] == plan)["included"]:
            clients.add_campaign(desk, client=name, name=CAMPAIGNS[resource].format(
                first=first), resource=resource)

    def _buy_expiring_lots(self) -> None:
        """Some clients bought 3-month credits they have not used up: the agency card's
        "expiring within 30 days"."""
        for i, name in enumerate(self.names):
            if (i // 8) % 2 or plan_for(i) not in {"Messaging Growth", "Omnichannel"}:
                continue  # half the clients with SMS and e-mail allowances
            with contextlib.suppress(QuotaDeskError):
                wallet.apply_pack(self.desk, client=name, pack="SMS Booster", status="paid")

    # -- payments ------------------------------------------------------------------------
    def _schedule_new_requests(self, now: datetime) -> None:
        """Decide when each new request will be paid: most on time, some late, a few
        failed (half of them paid later), a few never."""
        rng = self.rng
        for request in billing.list_payments(self.desk, status="pending"):
            if request.id in self.seen:
                continue
            self.seen.add(request.id)
            created = max(request.created_at, now)
            due_end = datetime.combine(request.due_date, time(18, 0), UTC)
            roll = rng.random()
            if roll < 0.86:
                span = max((due_end - created).total_seconds(), 3600.0)
                self._plan(created + timedelta(seconds=rng.uniform(1800, span)), "pay",
                           request.id)
            elif roll < 0.94:
                self._plan(due_end + timedelta(days=rng.uniform(1, 12)), "pay", request.id)
            elif roll < 0.97:
                failed = due_end + timedelta(days=rng.uniform(1, 4))
                self._plan(failed, "fail", request.id)
                if rng.random() < 0.5:
                    self._plan(failed + timedelta(days=rng.uniform(2, 9)), "pay", request.id)
            # else: never paid (overdue once its due date has passed)

    def _plan(self, when: datetime, action: str, request_id: int) -> None:
        heapq.heappush(self.agenda, (when, len(self.seen) * 4 + len(self.agenda), action,
                                     request_id))

    def _pay_until(self, until: datetime) -> None:
        while self.agenda and self.agenda[0][0] <= until:
            when, _, action, request_id = heapq.heappop(self.agenda)
            self.at(when)
            mark = billing.mark_paid if action == "pay" else billing.mark_failed
            with contextlib.suppress(QuotaDeskError):  # e.g. settled already
                mark(self.desk, request_id=request_id)

    # -- usage ---------------------------------------------------------------------------
    def _month_of_usage(self, joined: dict[str, datetime], now: datetime, final: bool) -> int:
        """Buy some packs, then import a month of usage as the platforms would export it."""
        desk, rng = self.desk, self.rng
        overage = {p["name"]: p.get("overage", {}) for p in PLANS}
        lines = ["event_id,client,resource,quantity,occurred_at"]
        count = 0
        for i, name in enumerate(self.names):
            if joined[name] > now:
                continue
            profile = PROFILES[i % len(PROFILES)]
            plan = plan_for(i)
            detail = clients.client_detail(desk, name)
            sub = detail.subscription
            if sub is None or sub.period_start is None:
                continue
            if plan in PLAN_PACKS and (rng.random() < 0.2 or (
                    final and profile in {"wallet", "overage"})):
                pack = rng.choice(PLAN_PACKS[plan])
                with contextlib.suppress(QuotaDeskError):
                    wallet.apply_pack(desk, client=name, pack=pack,
                                      status=rng.choice(["pending", "paid", "paid"]))
                detail = clients.client_detail(desk, name)
            share = FINAL_SHARE[profile] if final else rng.uniform(0.3, 1.08)
            span = max((now - sub.period_start).total_seconds(), 3600)
            for resource, used_now in detail.resources.items():
                if used_now.included <= 0:
                    continue
                target = (used_now.included * Decimal(str(share))).quantize(Decimal(1))
                remaining = max(Decimal(0), target - used_now.included_used)
                if profile == "blocked" and final:
                    remaining += used_now.wallet
                elif resource not in overage.get(plan, {}):
                    # Only the blocked kind ends the walk blocked: the others use at most
                    # what their allowance and wallet hold where no overage is charged.
                    remaining = min(remaining, used_now.included * Decimal("0.98")
                                    - used_now.included_used + used_now.wallet)
                step = Decimal("0.5") if resource == "minutes" else Decimal(1)
                for k in range(PIECES):
                    quantity = (remaining / PIECES).quantize(step)
                    if quantity <= 0:
                        continue
                    at = sub.period_start + timedelta(seconds=span * (k + 1) / (PIECES + 1))
                    lines.append(f"demo-{i}-{resource}-{now:%Y%m%d}-{k},{name}"
                                 f",{resource},{quantity},{at.astimezone(UTC).isoformat()}")
                    count += 1
        if not count:
            return 0
        return usage.import_usage(desk, io.BytesIO("\n".join(lines).encode())).recorded
