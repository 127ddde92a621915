"""What the client page's usage charts show: per day in the current period against the
included allowance, and per period for the last 12, split included / wallet / overage /
unserved. Read from the events and the maintained period counters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from sqlalchemy import select

from quotadesk.models import Client, Period, PeriodUsage, UsageEvent
from quotadesk.services.references import find
from quotadesk.services.rules.periods import local_date
from quotadesk.services.rules.quantities import parse_resource
from quotadesk.services.unit_of_work import Tx, read_op

ZERO = Decimal(0)
PERIODS = 12


@dataclass(frozen=True)
class UsageSplit:
    """Usage of one day or one period, by what covered it."""

    label: date
    included: Decimal = ZERO
    wallet: Decimal = ZERO
    overage: Decimal = ZERO
    unserved: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.included + self.wallet + self.overage + self.unserved


@dataclass(frozen=True)
class UsageCharts:
    resource: str
    #: The current period's days (first to last, every day, 0 where nothing was used), and
    #: its included allowance; empty without a current period.
    days: tuple[UsageSplit, ...]
    allowance: Decimal
    #: The last 12 periods, oldest first (the current one last), by their first day.
    periods: tuple[UsageSplit, ...]
    #: The local date now: the days after it have not happened yet.
    today: date | None = None


@read_op
def usage_charts(tx: Tx, client: object, resource: object) -> UsageCharts:
    session, tz = tx.session, tx.tz
    client_id = find(session, Client, client).id
    res = parse_resource(resource).value
    rows = session.execute(
        select(Period.id, Period.start, Period.end, Period.closed_at, PeriodUsage.included,
               PeriodUsage.included_used, PeriodUsage.wallet_used, PeriodUsage.overage_units,
               PeriodUsage.unserved)
        .join(PeriodUsage, PeriodUsage.period_id == Period.id)
        .where(Period.client_id == client_id, PeriodUsage.resource == res)
        .order_by(Period.start.desc(), Period.id.desc()).limit(PERIODS)).all()
    periods = tuple(UsageSplit(local_date(r.start, tz), r.included_used, r.wallet_used,
                               r.overage_units, r.unserved) for r in reversed(rows))
    current = next((r for r in rows if r.closed_at is None), None)
    if current is None:
        return UsageCharts(res, (), ZERO, periods, local_date(tx.now, tz))
    first = local_date(current.start, tz)
    last = local_date(current.end - timedelta(microseconds=1), tz)
    by_day: dict[date, list[Decimal]] = {}
    for at, included, wallet, overage, unserved in session.execute(
            select(UsageEvent.occurred_at, UsageEvent.included, UsageEvent.wallet,
                   UsageEvent.overage_units, UsageEvent.unserved)
            .where(UsageEvent.period_id == current.id, UsageEvent.resource == res)):
        day = max(first, local_date(at, tz))  # late usage counts on the period's first day
        sums = by_day.setdefault(day, [ZERO, ZERO, ZERO, ZERO])
        sums[0] += included
        sums[1] += wallet
        sums[2] += overage
        sums[3] += unserved
    days = []
    day = first
    while day <= last:
        days.append(UsageSplit(day, *by_day.get(day, [ZERO, ZERO, ZERO, ZERO])))
        day += timedelta(days=1)
    return UsageCharts(res, tuple(days), current.included, periods, local_date(tx.now, tz))
