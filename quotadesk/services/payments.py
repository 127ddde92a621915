"""Payment requests across all clients (the Payment requests screen): filters, totals, marking
several requests at once, and undoing a mistaken Mark paid."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import select

from quotadesk.models import Client, PaymentRequest
from quotadesk.services.billing import _payment_info, list_payments
from quotadesk.services.errors import InvalidTransition, InvalidValue, NotFound, echo
from quotadesk.services.references import record_id
from quotadesk.services.results import PaymentInfo
from quotadesk.services.unit_of_work import Tx, read_op, write_op

TYPES = ("Plan", "Pack", "Overage")
MAX_AT_ONCE = 10_000


@dataclass(frozen=True)
class PaymentFilter:
    """What the screen shows: None means any."""

    status: str | None = None  # pending, paid, failed
    type: str | None = None  # Plan, Pack, Overage
    client_id: int | None = None
    overdue: bool = False

    def accepts(self, p: PaymentInfo) -> bool:
        return ((self.status is None or p.status == self.status)
                and (self.type is None or p.type == self.type)
                and (self.client_id is None or p.client_id == self.client_id)
                and (not self.overdue or p.overdue))


@dataclass(frozen=True)
class FilteredTotals:
    """Totals of the rows a filter shows, by status."""

    count: int
    amount: Decimal
    pending: Decimal
    paid: Decimal
    failed: Decimal
    overdue: Decimal
    overdue_count: int


def totals_of(rows: Iterable[PaymentInfo]) -> FilteredTotals:
    count, by_status, overdue, overdue_count = 0, dict.fromkeys(("pending", "paid", "failed"),
                                                                 Decimal(0)), Decimal(0), 0
    for p in rows:
        count += 1
        by_status[p.status] = by_status.get(p.status, Decimal(0)) + p.amount
        if p.overdue:
            overdue += p.amount
            overdue_count += 1
    return FilteredTotals(count, sum(by_status.values(), Decimal(0)), by_status["pending"],
                          by_status["paid"], by_status["failed"], overdue, overdue_count)


@read_op
def search_payments(tx: Tx, wanted: PaymentFilter) -> list[PaymentInfo]:
    """Every request the filter accepts, newest first."""
    status = "overdue" if wanted.overdue else wanted.status
    rows = list_payments.in_tx(tx, wanted.client_id, status)
    return [p for p in rows if wanted.accepts(p)]


def _requests(tx: Tx, request_ids: Sequence[int]) -> list[PaymentRequest]:
    ids = sorted({record_id(i, "payment") for i in request_ids})
    if not ids:
        raise InvalidValue("payment: select at least one payment request", "payment")
    if len(ids) > MAX_AT_ONCE:
        raise InvalidValue(f"payment: at most {MAX_AT_ONCE:,} requests at once", "payment")
    rows = {r.id: r for r in tx.session.scalars(
        select(PaymentRequest).where(PaymentRequest.id.in_(ids)).with_for_update())}
    missing = [i for i in ids if i not in rows]
    if missing:
        raise NotFound(f"payment: no payment request with id {missing[0]}", "payment")
    return [rows[i] for i in ids]


def _infos(tx: Tx, rows: list[PaymentRequest]) -> list[PaymentInfo]:
    names = dict(tx.session.execute(select(Client.id, Client.name).where(
        Client.id.in_({r.client_id for r in rows}))).all())
    return [_payment_info(tx, r, names[r.client_id]) for r in rows]


@write_op
def mark_requests(tx: Tx, *, request_ids: Sequence[int], status: str) -> list[PaymentInfo]:
    """Mark several requests paid (from pending or failed) or failed (from pending) in one
    transaction: one refused leaves every one as it was (SPEC §8's `pay` and `fail`)."""
    if status not in ("paid", "failed"):
        raise InvalidValue(f"status: mark paid or failed, not {echo(status)}", "status")
    rows = _requests(tx, request_ids)
    sources = ("pending", "failed") if status == "paid" else ("pending",)
    for row in rows:
        if row.status not in sources:
            raise InvalidTransition(
                f"status: payment request {row.id} is {row.status}: "
                + ("it is already paid" if status == "paid" else "only a pending request "
                   "can fail") + "; nothing was marked")
    for row in rows:
        row.status = status
        if status == "paid":
            row.paid_at = tx.now
    tx.audit_about({r.client_id for r in rows}, f"payment.{status}", "payment_request",
                   rows[0].id if len(rows) == 1 else None, requests=[r.id for r in rows],
                   amount=sum((r.amount for r in rows), Decimal(0)))
    return _infos(tx, rows)


@write_op
def undo_paid(tx: Tx, *, request_id: int) -> PaymentInfo:
    """Undo a mistaken Mark paid: the request is pending again (its paid date cleared), and
    the audit log keeps both steps. Only a paid request can go back."""
    row = _requests(tx, [request_id])[0]
    if row.status != "paid":
        raise InvalidTransition(
            f"status: only a paid request can go back to pending; request {row.id} is "
            f"{row.status}")
    paid_at = row.paid_at
    row.status, row.paid_at = "pending", None
    tx.audit_about([row.client_id], "payment.undo_paid", "payment_request", row.id,
                   amount=row.amount, was_paid_at=paid_at)
    return _infos(tx, [row])[0]
