"""A client's statement (SPEC §10), read in one transaction: per period and resource the
maintained usage counters, per resource the wallet's movements from the ledger, the requests
made in the range and everything still due."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import select

from quotadesk.models import (
    Client,
    LedgerEntry,
    PaymentRequest,
    Period,
    PeriodUsage,
    Subscription,
)
from quotadesk.services.documents.data import (
    PeriodUsageLine,
    StatementData,
    StatementPeriod,
    StatementRequest,
    WalletMovement,
)
from quotadesk.services.documents.invoice import RESOURCE_ORDER, agency_of, request_status
from quotadesk.services.errors import InvalidValue, echo
from quotadesk.services.references import find
from quotadesk.services.rules.account import last_day
from quotadesk.services.rules.periods import local_date, local_midnight
from quotadesk.services.settings import current as current_settings
from quotadesk.services.unit_of_work import Tx, read_op

ZERO = Decimal(0)
KINDS = ("credit", "consume", "expire", "revoke")


def parse_day(value: object, field: str) -> date | None:
    """`--from` / `--to`: a local date, YYYY-MM-DD, in ASCII digits (SPEC §8)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = str(value).strip()
    try:
        if not text.isascii():
            raise ValueError
        day = date.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"{field}: {echo(value)} is not a date (YYYY-MM-DD)", field) from None
    if not 1970 <= day.year <= 2999:
        raise InvalidValue(f"{field}: {day.isoformat()} is outside 1970–2999", field)
    return day


def _range(tx: Tx, client_id: int, start: date | None, end: date | None) -> tuple[date, date]:
    """The statement's days: as given, or the last closed period (SPEC §10)."""
    tz = tx.tz
    if start is None and end is None:
        last = tx.session.execute(
            select(Period.start, Period.end).where(
                Period.client_id == client_id, Period.closed_at.is_not(None),
                Period.end > Period.start)
            .order_by(Period.end.desc(), Period.id.desc()).limit(1)).first()
        if last is None:
            raise InvalidValue("from: the client has no closed period yet; give --from and "
                               "--to for the days the statement covers", "from")
        return local_date(last.start, tz), last_day(last.end, tz)
    today = local_date(tx.now, tz)
    if end is None:
        end = max(today, start) if start is not None else today
    if start is None:
        created = tx.session.get_one(Client, client_id).created_at
        start = min(local_date(created, tz), end)
    if start > end:
        raise InvalidValue(f"to: {end.isoformat()} is before --from {start.isoformat()}", "to")
    return start, end


@read_op
def statement_data(tx: Tx, client: object, start: object = None,
                   end: object = None) -> StatementData:
    """The statement of `client` for the local days `start`–`end` (both included)."""
    session = tx.session
    row = find(session, Client, client)
    first, last = _range(tx, row.id, parse_day(start, "from"), parse_day(end, "to"))
    tz = tx.tz
    begins = local_midnight(first, tz)
    ends = local_midnight(last + timedelta(days=1), tz)
    periods, period_ids = _periods(tx, row.id, begins, ends)
    return StatementData(
        client_id=row.id, client_name=row.name, client_email=row.email,
        agency=agency_of(current_settings(tx)), first_day=first, last_day=last,
        issued=local_date(tx.now, tz), periods=periods,
        wallet=_wallet(tx, row.id, begins, ends),
        requests=_requests(tx, row.id, begins, ends, period_ids),
        other_due=_requests(tx, row.id, begins, ends, period_ids, outside=True),
        total_due=_total_due(tx, row.id), currency=tx.currency, timezone=tz.key,
        made_at=tx.now)


def _periods(tx: Tx, client_id: int, begins: datetime, ends: datetime
             ) -> tuple[tuple[StatementPeriod, ...], list[int]]:
    session, tz = tx.session, tx.tz
    found = session.execute(
        select(Period.id, Period.start, Period.end, Period.closed_at, Subscription.plan_name)
        .join(Subscription, Subscription.id == Period.subscription_id)
        .where(Period.client_id == client_id, Period.start < ends, Period.end > begins,
               Period.end > Period.start)
        .order_by(Period.start, Period.id)).all()
    usage: dict[int, list[PeriodUsageLine]] = {p.id: [] for p in found}
    ids = list(usage)
    for chunk in (ids[i:i + 500] for i in range(0, len(ids), 500)):
        for u in session.scalars(select(PeriodUsage).where(PeriodUsage.period_id.in_(chunk))):
            usage[u.period_id].append(PeriodUsageLine(
                u.resource, u.included, u.included_used, u.wallet_used, u.overage_units,
                u.overage_amount, u.unserved))
    periods = []
    for p in found:
        lines = sorted(usage[p.id], key=lambda u: RESOURCE_ORDER.index(u.resource))
        periods.append(StatementPeriod(local_date(p.start, tz), last_day(p.end, tz),
                                       p.plan_name, p.closed_at is None, tuple(lines)))
    return tuple(periods), ids


def _wallet(tx: Tx, client_id: int, begins: datetime, ends: datetime
            ) -> tuple[WalletMovement, ...]:
    """Per resource with any movement up to the range's end: the ledger summed exactly."""
    opening: dict[str, Decimal] = {}
    moved: dict[str, dict[str, Decimal]] = {}
    for resource, kind, units, at in tx.session.execute(
            select(LedgerEntry.resource, LedgerEntry.kind, LedgerEntry.units, LedgerEntry.at)
            .where(LedgerEntry.client_id == client_id, LedgerEntry.at < ends)):
        sums = moved.setdefault(resource, dict.fromkeys(KINDS, ZERO))
        opening.setdefault(resource, ZERO)
        if at < begins:
            opening[resource] += units if kind == "credit" else -units
        else:
            sums[kind] += units
    rows = []
    for resource in sorted(moved, key=RESOURCE_ORDER.index):
        s, before = moved[resource], opening[resource]
        rows.append(WalletMovement(
            resource, before, s["credit"], s["consume"], s["expire"], s["revoke"],
            before + s["credit"] - s["consume"] - s["expire"] - s["revoke"]))
    return tuple(rows)


def _requests(tx: Tx, client_id: int, begins: datetime, ends: datetime, period_ids: list[int],
              *, outside: bool = False) -> tuple[StatementRequest, ...]:
    """The requests made in the range, or for one of its periods (a period's overage is
    requested when it ends, the day after the range); with `outside`, the other pending ones."""
    inside = ((PaymentRequest.created_at >= begins) & (PaymentRequest.created_at < ends)) | \
        PaymentRequest.period_id.in_(period_ids)
    query = select(PaymentRequest).where(PaymentRequest.client_id == client_id)
    query = query.where(~inside, PaymentRequest.status == "pending") if outside \
        else query.where(inside)
    tz = tx.tz
    return tuple(
        StatementRequest(
            r.id, r.invoice_number, r.type, r.reference, local_date(r.created_at, tz),
            r.due_date, request_status(tx, r),
            local_date(r.paid_at, tz) if r.paid_at is not None and r.status == "paid" else None,
            r.net, r.tax, r.amount)
        for r in tx.session.scalars(query.order_by(PaymentRequest.created_at,
                                                   PaymentRequest.id)))


def _total_due(tx: Tx, client_id: int) -> Decimal:
    """What `payments` counts as still to pay: every pending request (overdue or not)."""
    return sum(tx.session.scalars(select(PaymentRequest.amount).where(
        PaymentRequest.client_id == client_id, PaymentRequest.status == "pending")), ZERO)


__all__ = ["parse_day", "statement_data"]
