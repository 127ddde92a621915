"""The agency card's totals, and `verify`: every balance recomputed from the ledger."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal
from itertools import pairwise
from typing import Any

from sqlalchemy import func, or_, select

from quotadesk.models import (
    Client,
    LedgerEntry,
    PaymentRequest,
    Period,
    PeriodUsage,
    ResourceState,
    Subscription,
    SubscriptionTerm,
    UsageEvent,
    WalletLot,
)
from quotadesk.services.results import AgencyTotals, VerifyReport
from quotadesk.services.rules.money import round_money
from quotadesk.services.rules.periods import local_date
from quotadesk.services.rules.quantities import RESOURCES
from quotadesk.services.rules.tax import tax_on
from quotadesk.services.unit_of_work import Tx, read_op

ZERO = Decimal(0)
COUNTER_FIELDS = ("included_used", "wallet_used", "overage_units", "overage_amount", "unserved")
EVENT_FIELDS = ("included", "wallet", "overage_units", "overage_amount", "unserved")


@read_op
def agency_totals(tx: Tx) -> AgencyTotals:
    session, now = tx.session, tx.now
    soon = now + timedelta(days=30)
    wallet = {r.value: ZERO for r in RESOURCES}
    never = dict(wallet)
    expiring = dict(wallet)
    # Counted by equal balance in the database (lots repeat a pack's units), summed exactly
    # here: a few hundred rows however many clients there are.
    never_expires = WalletLot.expires_at.is_(None)
    expires_soon = WalletLot.expires_at <= soon
    for resource, remaining, no_expiry, soon_gone, count in session.execute(select(
            WalletLot.resource, WalletLot.remaining, never_expires, expires_soon, func.count())
            .where(WalletLot.remaining != ZERO, or_(never_expires, WalletLot.expires_at > now))
            .group_by(WalletLot.resource, WalletLot.remaining, never_expires, expires_soon)):
        units = remaining * count
        wallet[resource] += units
        if no_expiry:
            never[resource] += units
        elif soon_gone:
            expiring[resource] += units
    blocked_rows = session.execute(select(ResourceState.client_id, ResourceState.resource)
                                   .where(ResourceState.blocked)).all()
    by_resource = {r.value: 0 for r in RESOURCES}
    for _, resource in blocked_rows:
        by_resource[resource] += 1
    pending_count = overdue_count = 0
    pending_amount = overdue_amount = ZERO
    late = PaymentRequest.due_date < local_date(now, tx.tz)  # overdue (rules.periods)
    for amount, overdue, count in session.execute(
            select(PaymentRequest.amount, late, func.count()).where(
                PaymentRequest.status == "pending").group_by(PaymentRequest.amount, late)):
        pending_count += count
        pending_amount += amount * count
        if overdue:
            overdue_count += count
            overdue_amount += amount * count
    return AgencyTotals(
        clients=session.scalar(select(func.count(Client.id))) or 0,
        active_subscriptions=session.scalar(select(func.count(Subscription.id)).where(
            Subscription.status == "active")) or 0,
        wallet=wallet, wallet_never_expiring=never, wallet_expiring_30d=expiring,
        blocked_clients=len({cid for cid, _ in blocked_rows}), blocked_by_resource=by_resource,
        pending_count=pending_count, pending_amount=pending_amount,
        overdue_count=overdue_count, overdue_amount=overdue_amount,
        failed_count=session.scalar(select(func.count(PaymentRequest.id)).where(
            PaymentRequest.status == "failed")) or 0)


def _check_periods(tx: Tx, problems: list[str]) -> dict[int, tuple[datetime, datetime]]:
    """Every period starts before it ends (a closed one may have no length: cancelled at its
    start); a subscription's periods follow one another without gap or overlap, none starting
    before the subscription or after it ended; a client's periods never overlap; and no
    subscription ends before it starts (SPEC §4, §8). The periods' bounds, by id."""
    session = tx.session
    subs: dict[int, tuple[int, datetime, datetime | None]] = {}
    for sub_id, client_id, started, ended in session.execute(select(
            Subscription.id, Subscription.client_id, Subscription.started_at,
            Subscription.ended_at)):
        subs[sub_id] = (client_id, started, ended)
        if ended is not None and ended < started:
            problems.append(f"subscription {sub_id}: ends at {ended.isoformat()}, before it "
                            f"starts at {started.isoformat()}")
    bounds: dict[int, tuple[datetime, datetime]] = {}
    by_sub: dict[int, list[tuple[datetime, datetime, int]]] = defaultdict(list)
    by_client: dict[int, list[tuple[datetime, datetime, int]]] = defaultdict(list)
    for period_id, client_id, sub_id, start, end, closed_at in session.execute(select(
            Period.id, Period.client_id, Period.subscription_id, Period.start, Period.end,
            Period.closed_at)).yield_per(20_000):
        bounds[period_id] = (start, end)
        if end < start or (closed_at is None and end == start):
            problems.append(f"period {period_id}: ends at {end.isoformat()}, not after it "
                            f"starts at {start.isoformat()}")
        by_sub[sub_id].append((start, end, period_id))
        by_client[client_id].append((start, end, period_id))
        owner, started, ended = subs.get(sub_id, (client_id, start, None))
        if owner != client_id:
            problems.append(f"period {period_id}: of client {client_id} but its subscription "
                            f"{sub_id} is client {owner}'s")
        if start < started or (ended is not None and start > ended):
            problems.append(f"period {period_id}: starts at {start.isoformat()}, outside its "
                            f"subscription {sub_id} ({started.isoformat()} to "
                            f"{ended.isoformat() if ended else 'now'})")
    for sub_id, periods in by_sub.items():
        periods.sort()
        for (_, end, before), (start, _, after) in pairwise(periods):
            if start != end:
                problems.append(f"subscription {sub_id}: period {after} starts at "
                                f"{start.isoformat()} but period {before} ends at "
                                f"{end.isoformat()}")
    for client_id, periods in by_client.items():
        periods.sort()
        for (_, end, before), (start, _, after) in pairwise(periods):
            if start < end:
                problems.append(f"client {client_id}: period {after} starts at "
                                f"{start.isoformat()}, before period {before} ends at "
                                f"{end.isoformat()}")
    return bounds


@read_op
def verify(tx: Tx) -> VerifyReport:
    """Recompute every maintained balance from the ledger and events; list what disagrees."""
    session = tx.session
    problems: list[str] = []
    checked: dict[str, int] = {}

    # Lots against the append-only ledger.
    moves: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for lot_id, kind, units in session.execute(
            select(LedgerEntry.lot_id, LedgerEntry.kind, LedgerEntry.units)).yield_per(20_000):
        moves[lot_id][kind] += units
        if units <= 0:
            problems.append(f"ledger: lot {lot_id} has a {kind} entry of {units}")
    lots = session.execute(select(WalletLot.id, WalletLot.units, WalletLot.remaining)).all()
    for lot_id, units, remaining in lots:
        m = moves.get(lot_id, {})
        if m.get("credit", ZERO) != units:
            problems.append(f"lot {lot_id}: credited {m.get('credit', ZERO)} but holds {units}")
        derived = (m.get("credit", ZERO) - m.get("consume", ZERO) - m.get("expire", ZERO)
                   - m.get("revoke", ZERO))
        if derived != remaining:
            problems.append(f"lot {lot_id}: remaining {remaining} but the ledger says {derived}")
        if not ZERO <= remaining <= units:
            problems.append(f"lot {lot_id}: remaining {remaining} outside 0..{units}")
    checked["lots"] = len(lots)

    # Periods in order, and each subscription's life around them.
    bounds = _check_periods(tx, problems)
    checked["periods"] = len(bounds)

    # Period counters against the events charged to them, and each event's split.
    sums: dict[tuple[int, str], list[Decimal]] = defaultdict(lambda: [ZERO] * 5)
    wallet_by_event: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for event_id, units in session.execute(select(LedgerEntry.usage_event_id, LedgerEntry.units)
                                           .where(LedgerEntry.kind == "consume")).yield_per(20_000):
        if event_id is not None:
            wallet_by_event[event_id] += units
    events = 0
    for row in session.execute(select(
            UsageEvent.id, UsageEvent.period_id, UsageEvent.resource, UsageEvent.quantity,
            UsageEvent.included, UsageEvent.wallet, UsageEvent.overage_units,
            UsageEvent.overage_amount, UsageEvent.unserved,
            UsageEvent.recorded_at)).yield_per(20_000):
        events += 1
        (event_id, period_id, resource, quantity, included, wallet, over_units, over_amount,
         unserved, recorded_at) = row
        start, end = bounds.get(period_id, (recorded_at, recorded_at))
        if not start <= recorded_at <= end:
            problems.append(f"usage event {event_id}: recorded at {recorded_at.isoformat()}, "
                            f"outside its period {period_id} ({start.isoformat()} to "
                            f"{end.isoformat()})")
        if included + wallet + over_units + unserved != quantity:
            problems.append(f"usage event {event_id}: split does not add up to {quantity}")
        if wallet != wallet_by_event.get(event_id, ZERO):
            problems.append(f"usage event {event_id}: wallet {wallet} but the ledger consumed "
                            f"{wallet_by_event.get(event_id, ZERO)}")
        acc = sums[(period_id, resource)]
        for i, value in enumerate((included, wallet, over_units, over_amount, unserved)):
            acc[i] += value
    checked["usage_events"] = events
    counters = session.execute(select(PeriodUsage)).scalars().all()
    for c in counters:
        acc = sums.get((c.period_id, c.resource), [ZERO] * 5)
        for name, value in zip(COUNTER_FIELDS, acc, strict=True):
            if getattr(c, name) != value:
                problems.append(f"period {c.period_id} {c.resource}: {name} is "
                                f"{getattr(c, name)} but its events sum to {value}")
    checked["period_counters"] = len(counters)

    # One open period per active subscription, none without one.
    active = dict(session.execute(select(Subscription.client_id, func.count()).where(
        Subscription.status == "active").group_by(Subscription.client_id)).all())
    open_periods = dict(session.execute(select(Period.client_id, func.count()).where(
        Period.closed_at.is_(None)).group_by(Period.client_id)).all())
    for client_id in set(active) | set(open_periods):
        if active.get(client_id, 0) > 1:
            problems.append(f"client {client_id}: {active[client_id]} active subscriptions")
        if active.get(client_id, 0) != open_periods.get(client_id, 0):
            problems.append(f"client {client_id}: {active.get(client_id, 0)} active subscriptions "
                            f"but {open_periods.get(client_id, 0)} open periods")

    # Overage requests: one per closed period, the rounded sum of its exact overage.
    overage_sum: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for c in counters:
        overage_sum[c.period_id] += c.overage_amount
    requests = {period_id: net for period_id, net in session.execute(
        select(PaymentRequest.period_id, PaymentRequest.net).where(
            PaymentRequest.type == "Overage"))}
    currency = tx.currency
    problems += invoice_problems(session, currency)
    for period_id in session.scalars(select(Period.id).where(Period.closed_at.is_not(None))):
        expected = round_money(overage_sum.get(period_id, ZERO), currency)
        got = requests.get(period_id)
        if (expected > 0 and got != expected) or (expected == 0 and got is not None):
            problems.append(f"period {period_id}: overage request {got} but the period owes "
                            f"{expected}")

    # A blocked resource has no free units and no overage rate.
    rates = {(cid, res): rate for cid, res, rate in session.execute(
        select(Subscription.client_id, SubscriptionTerm.resource, SubscriptionTerm.overage_rate)
        .join(SubscriptionTerm, SubscriptionTerm.subscription_id == Subscription.id)
        .where(Subscription.status == "active"))}
    free: dict[tuple[int, str], Decimal] = defaultdict(lambda: ZERO)
    for cid, res, included, used in session.execute(
            select(Period.client_id, PeriodUsage.resource, PeriodUsage.included,
                   PeriodUsage.included_used).join(PeriodUsage, PeriodUsage.period_id == Period.id)
            .where(Period.closed_at.is_(None))):
        free[(cid, res)] += max(ZERO, included - used)
    for cid, res, remaining, expires in session.execute(select(
            WalletLot.client_id, WalletLot.resource, WalletLot.remaining, WalletLot.expires_at)
            .where(WalletLot.remaining != ZERO)):
        if expires is None or expires > tx.now:
            free[(cid, res)] += remaining
    for cid, res in session.execute(select(ResourceState.client_id, ResourceState.resource)
                                    .where(ResourceState.blocked)):
        if cid in active and (free.get((cid, res), ZERO) > 0 or rates.get((cid, res)) is not None):
            problems.append(f"client {cid}: {res} is blocked but has free units or an overage rate")
    return VerifyReport(tuple(problems), checked)


def invoice_problems(session: Any, currency: str) -> list[str]:
    """Every request is an invoice (SPEC §10): numbered 1..N without gap or repeat, and its
    amount is its net plus the tax at its own rate."""
    problems = []
    seqs = sorted(session.scalars(select(PaymentRequest.invoice_seq)))
    if seqs != list(range(1, len(seqs) + 1)):
        problems.append(f"invoice numbers: {len(seqs)} requests but the count runs "
                        f"{seqs[:1]}..{seqs[-1:]} (a gap or a repeat)")
    for request_id, net, tax, rate, amount in session.execute(select(
            PaymentRequest.id, PaymentRequest.net, PaymentRequest.tax, PaymentRequest.tax_rate,
            PaymentRequest.amount)):
        if amount != net + tax or tax != tax_on(net, rate, currency):
            problems.append(f"payment request {request_id}: amount {amount} is not net {net} "
                            f"plus {rate} % tax")
    return problems
