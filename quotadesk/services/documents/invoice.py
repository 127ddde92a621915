"""An invoice's content (SPEC §10), read in one transaction from the request and what it
bills: the period's plan fee, the pack applied, or the period's overage per resource."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from sqlalchemy import select

from quotadesk.models import (
    AddonPack,
    Client,
    PackApplication,
    PaymentRequest,
    Period,
    PeriodUsage,
    Subscription,
    SubscriptionTerm,
    UsageEvent,
    WalletLot,
)
from quotadesk.services.documents.data import Agency, InvoiceData, InvoiceLine
from quotadesk.services.errors import NotFound
from quotadesk.services.references import record_id
from quotadesk.services.rules.account import last_day
from quotadesk.services.rules.document_text import resource_name
from quotadesk.services.rules.periods import is_overdue, local_date
from quotadesk.services.rules.quantities import RESOURCES
from quotadesk.services.settings import Settings
from quotadesk.services.settings import current as current_settings
from quotadesk.services.unit_of_work import Tx, read_op

ZERO = Decimal(0)
RESOURCE_ORDER = [r.value for r in RESOURCES]


def agency_of(settings: Settings) -> Agency:
    address = tuple(line for line in settings["agency.address"].split("\n") if line.strip())
    return Agency(settings["agency.name"], address, settings["agency.email"],
                  settings["agency.tax_id"])


def request_status(tx: Tx, request: PaymentRequest) -> str:
    """paid, pending, overdue or failed, as of this transaction's clock."""
    if is_overdue(request.status, request.due_date, tx.now, tx.tz):
        return "overdue"
    return request.status


@read_op
def invoice_data(tx: Tx, request_id: int) -> InvoiceData:
    """Everything printed on the invoice of payment request `request_id`."""
    session = tx.session
    request = session.get(PaymentRequest, record_id(request_id, "payment"))
    if request is None:
        raise NotFound(f"payment: no payment request with id {request_id}", "payment")
    client = session.get_one(Client, request.client_id)
    tz = tx.tz
    if request.type == "Plan":
        lines = _plan_lines(tx, request)
    elif request.type == "Pack":
        lines = _pack_lines(tx, request)
    else:
        lines = _overage_lines(tx, request)
    subtotal = sum((line.amount for line in lines), ZERO)
    period, _sub = _period(tx, request)
    return InvoiceData(
        request_id=request.id, number=request.invoice_number, type=request.type,
        reference=request.reference, issued=local_date(request.created_at, tz),
        due=request.due_date, status=request_status(tx, request),
        paid_on=local_date(request.paid_at, tz) if request.paid_at is not None
        and request.status == "paid" else None,
        agency=agency_of(current_settings(tx)), client_name=client.name,
        client_email=client.email, lines=tuple(lines), subtotal=subtotal,
        rounding=request.net - subtotal, net=request.net, tax=request.tax,
        tax_rate=request.tax_rate, tax_name=request.tax_name, total=request.amount,
        currency=tx.currency, timezone=tz.key,
        period=None if period is None else (local_date(period.start, tz),
                                            last_day(period.end, tz)))


def _period(tx: Tx, request: PaymentRequest) -> tuple[Period | None, Subscription | None]:
    if request.period_id is None:
        return None, None
    period = tx.session.get_one(Period, request.period_id)
    return period, tx.session.get_one(Subscription, period.subscription_id)


def _plan_lines(tx: Tx, request: PaymentRequest) -> list[InvoiceLine]:
    _period_row, sub = _period(tx, request)
    plan = sub.plan_name if sub is not None else ""
    return [InvoiceLine(f"Plan fee: {plan}" if plan else "Plan fee", request.net,
                        Decimal(1), None, request.net)]


def _pack_lines(tx: Tx, request: PaymentRequest) -> list[InvoiceLine]:
    found = tx.session.execute(
        select(AddonPack.name, WalletLot.units, WalletLot.resource)
        .join(PackApplication, PackApplication.pack_id == AddonPack.id)
        .join(WalletLot, WalletLot.application_id == PackApplication.id)
        .where(PackApplication.id == request.application_id)).first()
    if found is None:
        return [InvoiceLine("Add-on pack", request.net, Decimal(1), None, request.net)]
    name, units, resource = found
    return [InvoiceLine(f"Add-on pack: {name}", request.net, units, resource,
                        request.net / units if units else None)]


def _overage_lines(tx: Tx, request: PaymentRequest) -> list[InvoiceLine]:
    """Per resource, units × rate = amount, exact (rounded once, on the request). A rate
    changed mid-period (a re-subscription) gives one line per rate."""
    period, sub = _period(tx, request)
    if period is None or sub is None:
        return [InvoiceLine("Overage", request.net)]
    session = tx.session
    rates = dict(session.execute(select(SubscriptionTerm.resource, SubscriptionTerm.overage_rate)
                                 .where(SubscriptionTerm.subscription_id == sub.id)).all())
    lines: list[InvoiceLine] = []
    usage = session.execute(select(PeriodUsage.resource, PeriodUsage.overage_units,
                                   PeriodUsage.overage_amount)
                            .where(PeriodUsage.period_id == period.id)).all()
    for resource, units, amount in sorted(usage, key=lambda u: RESOURCE_ORDER.index(u[0])
                                          if u[0] in RESOURCE_ORDER else 99):
        if not units and not amount:
            continue
        rate = rates.get(resource)
        if rate is not None and units * rate == amount:
            lines.append(InvoiceLine(f"Overage: {resource_name(resource)}", amount, units,
                                     resource, rate))
            continue
        by_rate: dict[Decimal, list[Decimal]] = defaultdict(lambda: [ZERO, ZERO])
        for event_units, event_amount in session.execute(
                select(UsageEvent.overage_units, UsageEvent.overage_amount).where(
                    UsageEvent.period_id == period.id, UsageEvent.resource == resource,
                    UsageEvent.overage_units != ZERO)):
            pair = by_rate[event_amount / event_units]
            pair[0] += event_units
            pair[1] += event_amount
        for event_rate, (rate_units, rate_amount) in sorted(by_rate.items()):
            lines.append(InvoiceLine(f"Overage: {resource_name(resource)}", rate_amount,
                                     rate_units, resource, event_rate))
    return lines or [InvoiceLine("Overage", request.net)]
