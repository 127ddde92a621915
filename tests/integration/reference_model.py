"""A small, independent reference model of QuotaDesk's billing rules (SPEC §2–§4, §8).

Written from the SPEC and the engine decisions listed in `test_stateful.py`, in plain Python
and `Decimal`; it imports nothing from `quotadesk`. The stateful test drives the real desk and
this model with the same operations and compares them for exact equality after every step.

The model keeps "the state as of the last write" like the desk does (SPEC §8): periods that
ended and lots that expired are only processed by the next write for that client, or by the
rollover. Reads that depend on the clock (wallet, `expired`, overdue) are derived at read time.
"""

from __future__ import annotations

import calendar
import copy
from collections import Counter as Tally
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import ClassVar
from zoneinfo import ZoneInfo

RESOURCES = ("minutes", "sms", "email")
ZERO = Decimal(0)
CENT = Decimal("0.01")


class Refused(Exception):
    """The operation must be refused with this error (the engine's exception class name)."""

    def __init__(self, kind: str) -> None:
        super().__init__(kind)
        self.kind = kind


# -- calendar arithmetic (re-derived here on purpose: the model shares no code with the engine) --
def _month_length(year: int, month: int) -> int:
    return calendar.monthrange(year, month)[1]


def _plus_months(year: int, month: int, months: int) -> tuple[int, int]:
    total = year * 12 + (month - 1) + months
    return total // 12, total % 12 + 1


def local_day(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def midnight(year: int, month: int, day: int, tz: ZoneInfo) -> datetime:
    """Local midnight of a day, clamped to the month's last day, as a UTC instant."""
    day = min(day, _month_length(year, month))
    return datetime(year, month, day, tzinfo=tz).astimezone(UTC)


def period_end(start: datetime, anchor_day: int, tz: ZoneInfo) -> datetime:
    """The first local midnight of the anchor day (clamped) strictly after `start`."""
    local = start.astimezone(tz)
    year, month = local.year, local.month
    while True:
        candidate = midnight(year, month, anchor_day, tz)
        if candidate > start:
            return candidate
        year, month = _plus_months(year, month, 1)


def months_later(moment: datetime, months: int, tz: ZoneInfo) -> datetime:
    """`moment` + N months on the local wall clock, the day clamped to the month's end."""
    local = moment.astimezone(tz)
    year, month = _plus_months(local.year, local.month, months)
    day = min(local.day, _month_length(year, month))
    wall = datetime(year, month, day, local.hour, local.minute, local.second,
                    local.microsecond, tzinfo=tz, fold=local.fold)
    return wall.astimezone(UTC)


def to_cents(amount: Decimal) -> Decimal:
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


# -- catalog ------------------------------------------------------------------------------
@dataclass(frozen=True)
class PlanSpec:
    name: str
    fee: Decimal
    anchor: str  # calendar | anniversary
    included: dict[str, Decimal]
    rates: dict[str, Decimal]  # only resources that have a rate
    addons: bool = True
    due_days: int = 1
    alerts: tuple[int, ...] = (80, 95)


@dataclass(frozen=True)
class PackSpec:
    name: str
    resource: str
    units: Decimal
    price: Decimal
    months: int | None  # None: never expires


# -- state --------------------------------------------------------------------------------
@dataclass
class Terms:
    plan: PlanSpec
    anchor_day: int

    def included(self, resource: str) -> Decimal:
        return self.plan.included.get(resource, ZERO)

    def rate(self, resource: str) -> Decimal | None:
        return self.plan.rates.get(resource)


@dataclass
class Counter:
    included: Decimal
    included_used: Decimal = ZERO
    wallet_used: Decimal = ZERO
    overage_units: Decimal = ZERO
    overage_amount: Decimal = ZERO
    unserved: Decimal = ZERO


@dataclass
class Period:
    serial: int  # its identity: a period cancelled at its start and the next share a start
    start: datetime
    end: datetime
    counters: dict[str, Counter]


@dataclass
class Lot:
    seq: int  # order of application, the last tie-break of the consumption order
    client: str
    pack: str
    resource: str
    units: Decimal
    remaining: Decimal
    applied_at: datetime
    expires_at: datetime | None
    engine_id: int | None = None
    request: Request | None = None  # its Pack payment request (none for a free pack)
    expired: Decimal | None = None  # units forfeited at expiry
    revoked: tuple[datetime, Decimal] | None = None  # when and how many units were revoked


@dataclass
class Request:
    client: str
    type: str
    amount: Decimal
    created_at: datetime
    due_date: date
    status: str
    paid_at: datetime | None
    engine_id: int | None = None

    def signature(self) -> tuple[object, ...]:
        return (self.client, self.type, self.amount, self.created_at, self.due_date,
                self.status, self.paid_at)


@dataclass(frozen=True)
class Alert:
    period: int
    period_start: datetime
    resource: str
    kind: str  # threshold | exhausted | blocked
    threshold: int | None
    at: datetime


@dataclass
class Application:
    client: str
    pack: str
    status: str
    lot: Lot


@dataclass
class Campaign:
    client: str
    resource: str
    staff: str  # what staff made of it: "on" (running unless quota-paused), "paused", "finished"
    engine_id: int | None = None


@dataclass
class ClientState:
    name: str
    terms: Terms | None = None
    period: Period | None = None
    lots: list[Lot] = field(default_factory=list)
    blocked: dict[str, bool] = field(default_factory=lambda: {r: False for r in RESOURCES})
    alerts: list[Alert] = field(default_factory=list)
    assigned: set[str] = field(default_factory=set)
    campaigns: list[Campaign] = field(default_factory=list)


# -- the model ----------------------------------------------------------------------------
class Model:
    def __init__(self, tz: ZoneInfo, plans: dict[str, PlanSpec], packs: dict[str, PackSpec],
                 client_names: list[str]) -> None:
        self.tz = tz
        self.plans = plans
        self.packs = packs
        self.clients = {name: ClientState(name) for name in client_names}
        self.requests: list[Request] = []
        self.applications: dict[str, Application] = {}
        self.event_ids: set[str] = set()
        self._lot_seq = 0
        self._period_serial = 0
        self.notes: Tally[str] = Tally()  # what happened, for the test's coverage statistics
        self.catch_ups = 0  # catch-ups that changed something

    # ---- derived values ----
    def wallet(self, c: ClientState, resource: str, now: datetime) -> Decimal:
        return sum((lot.remaining for lot in c.lots if lot.resource == resource
                    and (lot.expires_at is None or lot.expires_at > now)), ZERO)

    def included_left(self, c: ClientState, resource: str) -> Decimal:
        if c.period is None:
            return ZERO
        counter = c.period.counters[resource]
        return max(ZERO, counter.included - counter.included_used)

    def free(self, c: ClientState, resource: str, now: datetime) -> Decimal:
        return self.included_left(c, resource) + self.wallet(c, resource, now)

    # ---- internal steps ----
    def _request(self, client: str, type_: str, amount: Decimal, created_at: datetime,
                 due_days: int, status: str = "pending",
                 paid_at: datetime | None = None) -> Request:
        request = Request(client, type_, amount, created_at,
                          local_day(created_at, self.tz) + timedelta(days=due_days), status,
                          paid_at)
        self.requests.append(request)
        return request

    def _alert(self, c: ClientState, resource: str, kind: str, threshold: int | None,
               at: datetime) -> None:
        if c.period is None:
            return
        for a in c.alerts:
            if (a.period, a.resource, a.kind, a.threshold) == (
                    c.period.serial, resource, kind, threshold):
                return
        c.alerts.append(Alert(c.period.serial, c.period.start, resource, kind, threshold, at))

    def _block(self, c: ClientState, resource: str, at: datetime, why: str) -> None:
        self.notes[f"blocked by {why}"] += 1
        c.blocked[resource] = True
        self._alert(c, resource, "blocked", None, at)

    def _lift_blocks(self, c: ClientState, now: datetime) -> None:
        """Whenever free units exist or the snapshot has a rate, a block lifts (decision 4)."""
        if c.terms is None:
            return
        for r in RESOURCES:
            if c.blocked[r] and (self.free(c, r, now) > 0 or c.terms.rate(r) is not None):
                self.notes["block lifted"] += 1
                c.blocked[r] = False

    def _open(self, c: ClientState, start: datetime) -> None:
        terms = c.terms
        assert terms is not None
        self._period_serial += 1
        end = period_end(start, terms.anchor_day, self.tz)
        if local_day(end, self.tz).day < terms.anchor_day:
            self.notes["period end clamped to the month's end"] += 1
        c.period = Period(self._period_serial, start, end,
                          {r: Counter(terms.included(r)) for r in RESOURCES})
        if terms.plan.fee > 0:
            self._request(c.name, "Plan", terms.plan.fee, start, terms.plan.due_days)

    def _close(self, c: ClientState, end: datetime) -> None:
        assert c.period is not None and c.terms is not None
        amount = to_cents(sum((k.overage_amount for k in c.period.counters.values()), ZERO))
        if amount > 0:
            self._request(c.name, "Overage", amount, end, c.terms.plan.due_days)
            self.notes["overage request"] += 1
        if c.period.start == end:
            self.notes["zero-length period"] += 1
        c.period = None

    def _expire(self, c: ClientState, until: datetime) -> set[str]:
        touched = set()
        for lot in c.lots:
            if lot.expires_at is not None and lot.expires_at <= until and lot.remaining > 0:
                lot.expired, lot.remaining = lot.remaining, ZERO
                touched.add(lot.resource)
                self.notes["lot expired with units left"] += 1
        return touched

    def _catch_up(self, c: ClientState, now: datetime, cancelling: bool = False) -> bool:
        """Close the periods that ended by `now`, then expire lots (decision 1); whether
        anything happened. Cancelling exactly at a boundary opens no period there: it would
        be billed a fee for no time at all.

        Blocks are judged once, as of `now`, after all of it (the desk decides so, the SPEC
        leaves it open): a block lifts if free units or a rate exist now; a resource whose lots
        expired blocks if it has no rate and no free units now, with its alert in the current
        period at `now`."""
        expired: set[str] = set()
        closed = False
        while c.period is not None and c.period.end <= now:
            boundary = c.period.end
            expired |= self._expire(c, boundary)
            self._close(c, boundary)
            if cancelling and boundary == now:
                closed = True
                break
            self._open(c, boundary)
            closed = True
            self.notes["period rolled over"] += 1
        expired |= self._expire(c, now)
        if closed or expired:
            self.catch_ups += 1
        if c.terms is None:
            return closed or bool(expired)
        self._lift_blocks(c, now)
        for r in sorted(expired):
            if (not c.blocked[r] and c.terms.rate(r) is None
                    and self.free(c, r, now) == 0):
                self._block(c, r, now, "expiry")
        return closed or bool(expired)

    def _active(self, c: ClientState) -> Terms:
        if c.terms is None or c.period is None:
            raise Refused("NoActiveSubscription")
        return c.terms

    def _terms_for(self, plan: PlanSpec, now: datetime) -> Terms:
        day = 1 if plan.anchor == "calendar" else local_day(now, self.tz).day
        return Terms(plan, day)

    # ---- operations (each one transaction: refusals change nothing) ----
    def subscribe(self, client: str, plan: str, now: datetime) -> None:
        c = self.clients[client]
        self._catch_up(c, now)
        spec = self.plans[plan]
        if c.terms is not None and c.period is not None:
            # Re-subscribing: fresh snapshot now, the period runs on (decision 5).
            before = {r: self.free(c, r, now) for r in RESOURCES}
            c.terms = self._terms_for(spec, now)
            for r in RESOURCES:
                c.period.counters[r].included = c.terms.included(r)
            self._lift_blocks(c, now)
            for r in RESOURCES:
                if (not c.blocked[r] and c.terms.rate(r) is None and before[r] > 0
                        and self.free(c, r, now) == 0):
                    self._block(c, r, now, "re-subscription")
        else:
            c.terms = self._terms_for(spec, now)
            self._open(c, now)
            self._lift_blocks(c, now)

    def cancel(self, client: str, now: datetime) -> None:
        c = self.clients[client]
        self._active(c)
        self._catch_up(c, now, cancelling=True)
        if c.period is not None:
            self._close(c, now)
        c.terms = None

    def assign(self, client: str, packs: list[str], now: datetime) -> None:
        c = self.clients[client]
        terms = self._active(c)
        if not terms.plan.addons:
            raise Refused("AddonsDisabled")
        self._catch_up(c, now)
        c.assigned.update(packs)

    def apply(self, client: str, pack: str, status: str, key: str, now: datetime) -> Lot:
        previous = self.applications.get(key)
        if previous is not None:
            if (previous.client, previous.pack, previous.status) != (client, pack, status):
                self.notes["idempotency conflict"] += 1
                raise Refused("IdempotencyConflict")
            self.notes["idempotent repeat"] += 1
            return previous.lot
        c = self.clients[client]
        terms = self._active(c)
        if not terms.plan.addons:
            raise Refused("AddonsDisabled")
        if pack not in c.assigned:
            raise Refused("PackNotAssigned")
        self._catch_up(c, now)
        spec = self.packs[pack]
        self._lot_seq += 1
        lot = Lot(self._lot_seq, client, pack, spec.resource, spec.units, spec.units, now,
                  None if spec.months is None else months_later(now, spec.months, self.tz))
        c.lots.append(lot)
        self.applications[key] = Application(client, pack, status, lot)
        if spec.price > 0:
            lot.request = self._request(client, "Pack", spec.price, now, terms.plan.due_days,
                                        status, now if status == "paid" else None)
        self._lift_blocks(c, now)
        return lot

    def usage(self, client: str, resource: str, quantity: Decimal, at: datetime,
              event_id: str | None, now: datetime) -> dict[str, object] | None:
        """Record one event and say how it was covered; None for a duplicate event id."""
        if event_id is not None and event_id in self.event_ids:
            self.notes["duplicate event id"] += 1
            return None
        c = self.clients[client]
        terms = self._active(c)
        if at > now:
            raise Refused("FutureUsage")
        self._catch_up(c, now)
        assert c.period is not None
        late = at < c.period.start
        if late:
            self.notes["late usage"] += 1
        counter = c.period.counters[resource]
        rest = quantity
        from_included = min(rest, max(ZERO, counter.included - counter.included_used))
        counter.included_used += from_included
        rest -= from_included
        usable = [lot for lot in c.lots if lot.resource == resource and lot.remaining > 0
                  and (lot.expires_at is None or lot.expires_at > at)]
        usable.sort(key=lambda lot: (lot.expires_at is None, lot.expires_at or at,
                                     lot.applied_at, lot.seq))
        from_wallet = ZERO
        for drawn, lot in enumerate(usable):
            if rest == 0:
                break
            if drawn == 1:
                self.notes["one event drew from several lots"] += 1
            take = min(rest, lot.remaining)
            lot.remaining -= take
            from_wallet += take
            rest -= take
        counter.wallet_used += from_wallet
        rate = terms.rate(resource)
        split = {"included": from_included, "wallet": from_wallet, "overage_units": ZERO,
                 "overage_amount": ZERO, "unserved": ZERO, "late": late}
        if rest > 0:
            if rate is not None:
                split["overage_units"], split["overage_amount"] = rest, rest * rate
                counter.overage_units += rest
                counter.overage_amount += rest * rate
            else:
                split["unserved"] = rest
                counter.unserved += rest
        if event_id is not None:
            self.event_ids.add(event_id)
        if counter.included > 0:
            for threshold in terms.plan.alerts:
                if counter.included_used * 100 >= counter.included * threshold:
                    self._alert(c, resource, "threshold", threshold, at)
            if counter.included_used >= counter.included:
                self._alert(c, resource, "exhausted", None, at)
        if rate is None and not c.blocked[resource] and self.free(c, resource, now) == 0:
            self._block(c, resource, at, "usage")
        self._lift_blocks(c, now)
        split["blocked"] = c.blocked[resource]
        return split

    def import_file(self, lines: list[tuple[str, str, Decimal, datetime, str | None] | None],
                    now: datetime) -> tuple[int, int, list[int]]:
        """Import usage lines (None: a line that does not parse) at one clock reading: each
        line is one `usage` event, in file order; a refused or unparsable line changes
        nothing. (recorded, duplicates, the indexes of the rejected lines)."""
        recorded = duplicates = 0
        rejected: list[int] = []
        for index, line in enumerate(lines):
            if line is None:
                rejected.append(index)
                continue
            client, resource, quantity, at, event_id = line
            try:
                split = self.usage(client, resource, quantity, at, event_id, now)
            except Refused:
                rejected.append(index)
                continue
            if split is None:
                duplicates += 1
            else:
                recorded += 1
        if lines:
            self.notes["usage file imported"] += 1
        return recorded, duplicates, rejected

    def revoke(self, lot: Lot, now: datetime) -> Decimal:
        c = self.clients[lot.client]
        if lot.remaining <= 0 or (lot.expires_at is not None and lot.expires_at <= now):
            raise Refused("InvalidValue")
        self._catch_up(c, now)
        before = self.free(c, lot.resource, now)
        units = lot.remaining
        lot.remaining, lot.revoked = ZERO, (now, units)
        if c.terms is not None:
            r = lot.resource
            if (not c.blocked[r] and c.terms.rate(r) is None and before > 0
                    and self.free(c, r, now) == 0):
                self._block(c, r, now, "revoke")
            self._lift_blocks(c, now)
        return units

    def rollover(self, now: datetime) -> list[str]:
        """Catch every client up; the names of those it changed."""
        changed = []
        for c in self.clients.values():
            if self._catch_up(c, now):
                changed.append(c.name)
        return changed

    def add_campaign(self, client: str, resource: str, now: datetime) -> Campaign:
        c = self.clients[client]
        self._catch_up(c, now)
        campaign = Campaign(client, resource, "on")
        c.campaigns.append(campaign)
        return campaign

    #: Staff actions on a campaign: from which shown statuses, to which staff state (SPEC §1).
    CAMPAIGN_ACTIONS: ClassVar[dict[str, tuple[set[str], str]]] = {
        "pause": ({"running", "paused_quota"}, "paused"),
        "resume": ({"paused"}, "on"),
        "finish": ({"running", "paused", "paused_quota"}, "finished"),
    }

    def change_campaign(self, campaign: Campaign, action: str, now: datetime) -> None:
        sources, target = self.CAMPAIGN_ACTIONS[action]
        c = self.clients[campaign.client]
        # The status is judged after the catch-up (which may block or unblock), and a refusal
        # undoes the catch-up too: try it on a copy first.
        trial = copy.deepcopy(self)
        trial._catch_up(trial.clients[c.name], now)
        index = next(i for i, k in enumerate(c.campaigns) if k is campaign)
        if trial.campaign_status(trial.clients[c.name].campaigns[index]) not in sources:
            raise Refused("InvalidTransition")
        self._catch_up(c, now)
        campaign.staff = target

    def campaign_status(self, campaign: Campaign) -> str:
        """A campaign staff left on runs unless its resource is blocked (SPEC §2)."""
        if campaign.staff != "on":
            return campaign.staff
        return "paused_quota" if self.clients[campaign.client].blocked[campaign.resource] \
            else "running"

    def pay(self, request: Request, now: datetime) -> None:
        if request.status not in ("pending", "failed"):
            raise Refused("InvalidTransition")
        request.status, request.paid_at = "paid", now

    def fail(self, request: Request) -> None:
        if request.status != "pending":
            raise Refused("InvalidTransition")
        request.status = "failed"

    # ---- what the desk should show ----
    def resources(self, client: str, now: datetime) -> dict[str, dict[str, object]]:
        c = self.clients[client]
        shown = {}
        for r in RESOURCES:
            k = c.period.counters[r] if c.terms is not None and c.period is not None else None
            live = [lot for lot in c.lots if lot.resource == r and lot.remaining > 0
                    and (lot.expires_at is None or lot.expires_at > now)]
            expiries = [lot.expires_at for lot in live if lot.expires_at is not None]
            shown[r] = {
                "included": k.included if k else ZERO,
                "included_used": k.included_used if k else ZERO,
                "included_left": max(ZERO, k.included - k.included_used) if k else ZERO,
                "wallet": sum((lot.remaining for lot in live), ZERO),
                "wallet_never_expires": bool(live) and not expiries,
                "next_expiry": min(expiries) if expiries else None,
                "overage_units": k.overage_units if k else ZERO,
                "overage_amount": k.overage_amount if k else ZERO,
                "unserved": k.unserved if k else ZERO,
                "blocked": c.blocked[r],
                "overage_rate": c.terms.rate(r) if c.terms else None,
            }
        return shown

    def history(self, client: str) -> list[tuple[object, ...]]:
        """Billing history rows (date, kind, pack, resource, credits, amount, status, expiry):
        purchases at their price and their request's status, expired and revoked units."""
        rows: list[tuple[object, ...]] = []
        for lot in self.clients[client].lots:
            price = self.packs[lot.pack].price
            rows.append((lot.applied_at, "purchase", lot.pack, lot.resource, lot.units, price,
                         lot.request.status if lot.request else "paid", lot.expires_at))
            if lot.expired is not None:
                rows.append((lot.expires_at, "expired", lot.pack, lot.resource, lot.expired,
                             None, None, lot.expires_at))
            if lot.revoked is not None:
                rows.append((lot.revoked[0], "revoked", lot.pack, lot.resource, lot.revoked[1],
                             None, None, lot.expires_at))
        return rows

    def pending_amount(self, client: str) -> Decimal:
        return sum((q.amount for q in self.requests
                    if q.client == client and q.status == "pending"), ZERO)

    def overdue(self, request: Request, now: datetime) -> bool:
        return request.status == "pending" and local_day(now, self.tz) > request.due_date
