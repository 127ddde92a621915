"""Period rollover, payment requests, billing history and alerts."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from decimal import Decimal

from sqlalchemy import select, union

from quotadesk.models import (
    AddonPack,
    Alert,
    Client,
    LedgerEntry,
    PackApplication,
    PaymentRequest,
    Period,
    WalletLot,
)
from quotadesk.services import outbox
from quotadesk.services.account_store import PendingWrites, load_accounts
from quotadesk.services.errors import InvalidTransition, InvalidValue, NotFound, echo
from quotadesk.services.references import find, record_id
from quotadesk.services.results import (
    AlertInfo,
    HistoryRow,
    PaymentInfo,
    PaymentTotals,
    RolloverResult,
)
from quotadesk.services.rules.periods import is_overdue
from quotadesk.services.rules.timeline import in_range
from quotadesk.services.rules.topup import AUTO_TOPUP
from quotadesk.services.unit_of_work import Desk, Tx, read_op, write_op

ROLLOVER_CHUNK = 500
AUTO_MARK = f" · {AUTO_TOPUP}"  # the end of an automatic top-up's Pack reference
PAYMENT_STATUSES = ("pending", "paid", "failed")


def run_rollover(desk: Desk, *, progress: object = None,
                 cancelled: Callable[[], bool] | None = None) -> RolloverResult:
    """Close every period that ended by now (SPEC §4), 500 clients per transaction.

    Running it again, or at once on another desk, closes nothing twice. `cancelled` is asked
    between transactions: what was committed stays, and a later run does the rest.
    """
    clients = periods = requests = 0
    touched: list[int] = []
    while True:
        if cancelled is not None and cancelled():
            _audit_rollover(desk, touched, periods, requests)
            return RolloverResult(clients, periods, requests)
        done = _rollover_chunk(desk)
        clients += done[0]
        periods += done[1]
        requests += done[2]
        touched += done[3]
        if callable(progress):
            progress(clients)
        if done[0] < ROLLOVER_CHUNK:
            _audit_rollover(desk, touched, periods, requests)
            # Last, the payment reminders now due for every client (SPEC §9).
            outbox.queue_reminders(desk)
            return RolloverResult(clients, periods, requests)


def _audit_rollover(desk: Desk, touched: list[int], periods: int, requests: int) -> None:
    """One audit entry for a rollover that changed something (SPEC §12)."""
    if touched:
        from quotadesk.services import audit

        audit.record(desk, action="rollover", entity="rollover", clients=touched,
                     detail={"client_count": len(touched), "periods_closed": periods,
                             "payment_requests": requests})


@write_op
def _rollover_chunk(tx: Tx) -> tuple[int, int, int, list[int]]:
    in_range(tx.now, "now")  # (a clock in year 9999 would close a million periods first)
    # Clients with a period that ended, or with a lot that expired but is not yet recorded
    # (mid-period, or a cancelled client's kept wallet): SPEC §8.
    ended = select(Period.client_id).where(Period.closed_at.is_(None), Period.end <= tx.now)
    expired = select(WalletLot.client_id).where(
        WalletLot.remaining != Decimal(0), WalletLot.expires_at <= tx.now)
    candidates = union(ended, expired).subquery()
    due = list(tx.session.scalars(select(candidates.c.client_id)
                                  .order_by(candidates.c.client_id).limit(ROLLOVER_CHUNK)))
    if not due:
        return 0, 0, 0, []
    journal = PendingWrites(tx)
    books = load_accounts(journal, due)
    closed = 0
    for book in books.values():
        book.catch_up(tx.now)
        closed += len(book.closed)
    requests = len(journal.rows.get(PaymentRequest, []))
    journal.flush()
    return len(books), closed, requests, sorted(books)


# -- payment requests ---------------------------------------------------------------------
def _payment_info(tx: Tx, p: PaymentRequest, client: str) -> PaymentInfo:
    return PaymentInfo(p.id, client, p.client_id, p.type, p.amount, p.created_at, p.due_date,
                       p.status, p.paid_at, is_overdue(p.status, p.due_date, tx.now, tx.tz),
                       p.reference, automatic=p.reference.endswith(AUTO_MARK),
                       invoice_number=p.invoice_number, net=p.net, tax=p.tax,
                       tax_rate=p.tax_rate, tax_name=p.tax_name)


@read_op
def list_payments(tx: Tx, client: object = None, status: str | None = None) -> list[PaymentInfo]:
    query = select(PaymentRequest, Client.name).join(Client, Client.id == PaymentRequest.client_id)
    if client is not None:
        query = query.where(PaymentRequest.client_id == find(tx.session, Client, client).id)
    if status is not None:
        if status == "overdue":
            query = query.where(PaymentRequest.status == "pending")
        elif status in PAYMENT_STATUSES:
            query = query.where(PaymentRequest.status == status)
        else:
            raise InvalidValue(f"status: unknown status {echo(status)} "
                               "(use pending, paid, failed or overdue)", "status")
    rows = [_payment_info(tx, p, name) for p, name in tx.session.execute(
        query.order_by(PaymentRequest.created_at.desc(), PaymentRequest.id.desc()))]
    if status == "overdue":
        rows = [r for r in rows if r.overdue]
    return rows


def payment_totals(payments: Iterable[PaymentInfo]) -> PaymentTotals:
    """What is still to be paid among `payments`, and how much of it is overdue."""
    pending = [p for p in payments if p.status == "pending"]
    overdue = [p for p in pending if p.overdue]
    return PaymentTotals(sum((p.amount for p in pending), Decimal(0)), len(pending),
                         sum((p.amount for p in overdue), Decimal(0)), len(overdue))


def _get_request(tx: Tx, request_id: int) -> PaymentRequest:
    row = tx.session.get(PaymentRequest, record_id(request_id, "payment"),
                         with_for_update=True)
    if row is None:
        raise NotFound(f"payment: no payment request with id {request_id}", "payment")
    return row


@write_op
def mark_paid(tx: Tx, *, request_id: int) -> PaymentInfo:
    """`pay` works from pending or failed (SPEC §8)."""
    row = _get_request(tx, request_id)
    if row.status not in {"pending", "failed"}:
        raise InvalidTransition(f"status: payment request {request_id} is already paid")
    row.status, row.paid_at = "paid", tx.now
    tx.audit_about([row.client_id], "payment.paid", "payment_request", row.id,
                   amount=row.amount)
    client = tx.session.get(Client, row.client_id)
    assert client is not None
    return _payment_info(tx, row, client.name)


@write_op
def mark_failed(tx: Tx, *, request_id: int) -> PaymentInfo:
    """`fail` only from pending; the credits stay until the operator revokes them."""
    row = _get_request(tx, request_id)
    if row.status != "pending":
        raise InvalidTransition(
            f"status: only a pending request can fail; request {request_id} is {row.status}")
    row.status = "failed"
    tx.audit_about([row.client_id], "payment.failed", "payment_request", row.id,
                   amount=row.amount)
    client = tx.session.get(Client, row.client_id)
    assert client is not None
    return _payment_info(tx, row, client.name)


# -- billing history ----------------------------------------------------------------------
@read_op
def billing_history(tx: Tx, client: object) -> list[HistoryRow]:
    """Purchases, expired and revoked credits, newest first (seed 002, SPEC §8)."""
    session = tx.session
    row = find(session, Client, client)
    rows: list[HistoryRow] = []
    for app, lot, pack_name, request in session.execute(
            select(PackApplication, WalletLot, AddonPack.name, PaymentRequest)
            .join(WalletLot, WalletLot.application_id == PackApplication.id)
            .join(AddonPack, AddonPack.id == PackApplication.pack_id)
            .outerjoin(PaymentRequest, PaymentRequest.application_id == PackApplication.id)
            .where(PackApplication.client_id == row.id)):
        rows.append(HistoryRow(
            date=app.applied_at, kind="purchase", package_type=pack_name, resource=lot.resource,
            credits=lot.units, amount=request.amount if request is not None else Decimal(0),
            status=request.status if request is not None else "paid",
            expires_at=lot.expires_at, automatic=app.automatic))
    for entry, lot, pack_name in session.execute(
            select(LedgerEntry, WalletLot, AddonPack.name)
            .join(WalletLot, WalletLot.id == LedgerEntry.lot_id)
            .join(AddonPack, AddonPack.id == WalletLot.pack_id)
            .where(LedgerEntry.client_id == row.id,
                   LedgerEntry.kind.in_(("expire", "revoke")))):
        rows.append(HistoryRow(
            date=entry.at, kind="expired" if entry.kind == "expire" else "revoked",
            package_type=pack_name, resource=lot.resource, credits=entry.units, amount=None,
            status=None, expires_at=lot.expires_at, reason=entry.reason))
    rows.sort(key=lambda r: (r.date, r.kind != "purchase"), reverse=True)
    return rows


@read_op
def list_alerts(tx: Tx, client: object = None, limit: int | None = None) -> list[AlertInfo]:
    query = (select(Alert, Client.name, Period.start)
             .join(Client, Client.id == Alert.client_id)
             .join(Period, Period.id == Alert.period_id))
    if client is not None:
        query = query.where(Alert.client_id == find(tx.session, Client, client).id)
    query = query.order_by(Alert.at.desc(), Alert.id.desc())
    if limit is not None:
        query = query.limit(limit)
    return [AlertInfo(a.id, name, a.resource, a.kind, a.threshold, start, a.at)
            for a, name, start in tx.session.execute(query)]


