"""Loading client accounts and writing back what their rules changed: the pending writes of
one transaction, flushed in dependency order with bulk statements."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import Connection

from quotadesk.models import (
    Alert,
    AuditClient,
    AuditEntry,
    Campaign,
    Client,
    EmailOutbox,
    LedgerEntry,
    PackApplication,
    PaymentRequest,
    Period,
    PeriodUsage,
    ResourceState,
    Subscription,
    SubscriptionTerm,
    TopupRule,
    UsageEvent,
    WalletLot,
)
from quotadesk.models.base import Base, table_of
from quotadesk.services.bulk_statements import Recorded, bulk_insert, bulk_update
from quotadesk.services.changes import note_rows
from quotadesk.services.invoice_numbers import next_invoice_seq
from quotadesk.services.outbox import MailComposer, due_reminders
from quotadesk.services.rules.account import (
    CHUNK,
    NAMES,
    ZERO,
    ClientAccount,
    Counters,
    Lot,
    OpenPeriod,
)
from quotadesk.services.rules.plan_terms import plan_terms
from quotadesk.services.rules.quantities import RESOURCES
from quotadesk.services.rules.tax import invoice_number, tax_on
from quotadesk.services.rules.topup import TopupRule as Topup
from quotadesk.services.settings import current as current_settings
from quotadesk.services.topup import load_topup_rules


class PendingWrites:
    """Rows a transaction will write, flushed in dependency order with bulk statements."""

    def __init__(self, tx: Any, record: Recorded | None = None) -> None:
        self.tx = tx
        #: Where `flush` puts its statements instead of running them (SQLite only): an
        #: import's batch, for its writer process to run (see usage_import/writer.py).
        self.record = record
        self.now: datetime = tx.now
        self.currency: str = tx.currency
        self.tz = tx.tz
        self.books: list[ClientAccount] = []
        self.rows: dict[Any, list[dict[str, Any]]] = {}
        self.campaign_moves: list[tuple[int, str, bool]] = []
        self.period_closes: list[tuple[Any, ...]] = []
        self.events: list[tuple[Any, ...]] = []
        self.ledger_rows: list[tuple[Any, ...]] = []
        self.event_ids: list[int] = []  # reserved, taken from the end
        self.stored_now: str | None = None  # `now` in SQLite's storage form, for an import
        self.stored_events: list[tuple[Any, ...]] = []  # usage events in that form
        # What changed since the last flush, listed as it changes: a flush writes these
        # without looking at the other ten thousand books of an import.
        self.counters: list[Counters] = []
        self.lots: list[Lot] = []
        self.topups: dict[int, Topup] = {}  # rules whose `armed` changed
        # Alerts whose e-mails the next flush queues, and what renders them (SPEC §9).
        #: The e-mails the next flush queues, in the order of what caused them (so that the
        #: outbox is the same however an import is cut into batches).
        self.mail: list[tuple[str, Any]] = []
        self.composer: MailComposer | None = None
        #: Queue the reminders due for these clients at each flush (an import does it once,
        #: after its last batch).
        self.remind = record is None

    def new_id(self, model: Any) -> int:
        """A primary key for a row of `model` (a model class, or a table's name: the rules
        name their tables, they import no model)."""
        table = Base.metadata.tables[model] if isinstance(model, str) else table_of(model)
        return int(self.tx.new_id(table))

    def reserve_event_ids(self, count: int) -> None:
        """Take `count` usage event ids in one go (an import batch's)."""
        self.event_ids = self.tx.new_ids(table_of(UsageEvent), count)[::-1]

    def _add(self, model: Any, row: dict[str, Any]) -> None:
        self.rows.setdefault(model, []).append(row)

    def _note_written(self, session: Any) -> None:
        """Say which tables this flush writes, for whose clients (see changes.py)."""
        tables = [name for name, rows in (
            ("periods", self.rows.get(Period) or self.period_closes),
            ("period_usage", self.counters),
            ("wallet_lots", self.rows.get(WalletLot) or self.lots),
            ("payment_requests", self.rows.get(PaymentRequest)),
            ("usage_events", self.events or self.stored_events),
            ("ledger_entries", self.ledger_rows),
            ("alerts", self.rows.get(Alert)),
            ("email_outbox", self.rows.get(EmailOutbox)),
            ("resource_states", any(book.blocked_changed for book in self.books)),
            ("campaigns", self.campaign_moves),
            ("pack_applications", self.rows.get(PackApplication)),
            ("topup_rules", self.topups),
            ("audit_log", self.rows.get(AuditEntry))) if rows]
        clients = [book.client_id for book in self.books]
        for table in tables:
            note_rows(session, table, clients)

    # -- row builders --------------------------------------------------------------------
    def ledger(self, client_id: int, lot: Lot, kind: str, units: Decimal, at: datetime, *,
               usage_event_id: int | None = None, reason: str | None = None) -> None:
        self.ledger_rows.append((self.new_id(LedgerEntry), client_id, lot.id, lot.resource, kind,
                                 units, at, usage_event_id, reason, self.now))

    def payment_request(self, *, client_id: int, type: str, amount: Decimal,
                        created_at: datetime, due: Any, status: str, paid_at: datetime | None,
                        reference: str, period_id: int | None = None,
                        application_id: int | None = None) -> int:
        """A payment request, which is an invoice (SPEC §10): `amount` is its net (the fee,
        the pack's price or the rounded overage); the tax at the rate in force is added to
        it, and the invoice gets the next number of the database's gapless count."""
        row_id = self.new_id(PaymentRequest)
        settings = current_settings(self.tx)
        rate = settings.tax_rate
        tax = tax_on(amount, rate, self.currency)
        seq = next_invoice_seq(self.tx)
        self._add(PaymentRequest, {
            "id": row_id, "client_id": client_id, "type": type, "amount": amount + tax,
            "created_at": created_at, "due_date": due, "status": status, "paid_at": paid_at,
            "reference": reference, "period_id": period_id, "application_id": application_id,
            "invoice_seq": seq, "invoice_number": invoice_number(settings["invoice.prefix"], seq),
            "net": amount, "tax": tax, "tax_rate": rate, "tax_name": settings["tax.name"]})
        self.mail.append(("request", self.rows[PaymentRequest][-1]))
        return row_id

    def pack_application(self, row_id: int, key: str, client_id: int, pack_id: int,
                         status: str, applied_at: datetime, automatic: bool) -> None:
        self._add(PackApplication, {"id": row_id, "key": key, "client_id": client_id,
                                    "pack_id": pack_id, "status": status,
                                    "applied_at": applied_at, "automatic": automatic})

    def topup_changed(self, rule: Topup) -> None:
        self.topups[rule.id] = rule

    def audit(self, actor: str, action: str, entity: str, entity_id: int | None,
              clients: Iterable[int], **detail: Any) -> None:
        """An audit entry written with this transaction's rows (an automatic top-up's)."""
        from quotadesk.services.audit import detail_text

        audit_id = self.new_id(AuditEntry)
        self._add(AuditEntry, {"id": audit_id, "at": self.now, "actor": actor,
                               "action": action, "entity": entity,
                               "entity_id": None if entity_id is None else str(entity_id),
                               "detail": detail_text(detail)})
        for client_id in sorted(set(clients)):
            self._add(AuditClient, {"audit_id": audit_id, "client_id": client_id})

    def open_period(self, client_id: int, period: OpenPeriod) -> None:
        self._add(Period, {"id": period.id, "client_id": client_id,
                           "subscription_id": period.subscription_id, "start": period.start,
                           "end": period.end, "closed_at": None})

    def close_period(self, period: OpenPeriod, end: datetime) -> None:
        self.period_closes.append((end, end, period.id))

    def new_lot(self, client_id: int, lot: Lot, application_id: int | None = None) -> None:
        self._add(WalletLot, {
            "id": lot.id, "client_id": client_id, "application_id": application_id,
            "pack_id": lot.pack_id, "resource": lot.resource, "units": lot.units,
            "remaining": lot.units, "applied_at": lot.applied_at, "expires_at": lot.expires_at})
        self.lot_changed(lot)  # `remaining` may move again before the flush

    def lot_changed(self, lot: Lot) -> None:
        if not lot.dirty:
            lot.dirty = True
            self.lots.append(lot)

    def counters_changed(self, counters: Counters) -> None:
        if not counters.dirty:
            counters.dirty = True
            self.counters.append(counters)

    def move_campaigns(self, client_id: int, resource: str, blocked: bool) -> None:
        self.campaign_moves.append((client_id, resource, blocked))

    def alert(self, book: ClientAccount, resource: str, kind: str, threshold: int | None,
              key: str, at: datetime) -> None:
        assert book.period is not None
        alert_id = self.new_id(Alert)
        self._add(Alert, {"id": alert_id, "client_id": book.client_id, "period_id": book.period.id,
                          "resource": resource, "kind": kind, "threshold": threshold, "key": key,
                          "at": at})
        # The period as it is now: a cancel later in this flush may close it.
        self.mail.append(("alert", (book, alert_id, resource, kind, threshold,
                                    book.period.start, book.period.end)))

    def _queue_mail(self) -> None:
        """The e-mails this flush's writes owe (SPEC §9), queued in the same transaction:
        its alerts and new payment requests, in the order they happened, then the reminders
        now due for its clients."""
        remind = self.remind and bool(self.books)
        if not (self.mail or remind):
            return
        if self.composer is None:
            self.composer = MailComposer(self.tx)
        composer = self.composer
        contacts = {book.client_id: (book.name, book.email) for book in self.books}
        missing = {row["client_id"] for kind, row in self.mail
                   if kind == "request"} - contacts.keys()
        if missing:
            contacts.update({cid: (name, email) for cid, name, email in self.tx.session.execute(
                select(Client.id, Client.name, Client.email).where(Client.id.in_(missing)))})
        for kind, item in self.mail:
            if kind == "alert":
                book, alert_id, resource, alert_kind, threshold, start, end = item
                row = composer.alert(
                    client_id=book.client_id, name=book.name, email=book.email,
                    alert_id=alert_id, resource=resource, kind=alert_kind, threshold=threshold,
                    period_start=start, period_end=end,
                    addons=book.terms is not None and book.terms.addons)
            else:
                name, email = contacts[item["client_id"]]
                row = composer.request(item, name, email)
            if row is not None:
                self._add(EmailOutbox, row)
        self.mail = []
        if remind:
            # Requests of this flush are not in the table yet: their reminders come with the
            # next write or rollover (they cannot be due before the day anyway).
            for row in due_reminders(self.tx, {book.client_id for book in self.books}, composer):
                self._add(EmailOutbox, row)

    def _insert_rows(self, model: Any) -> None:
        rows = self.rows.get(model)
        if rows:
            columns = tuple(rows[0])
            bulk_insert(self.tx.session, table_of(model), columns,
                        [tuple(row[name] for name in columns) for row in rows],
                        record=self.record)

    # -- writing -------------------------------------------------------------------------
    def flush(self) -> None:
        session = self.tx.session
        record = self.record
        if record is None:
            session.flush()
        self._queue_mail()
        self._note_written(session)
        lots_by_id = {lot.id: lot for lot in self.lots}
        new_lot_ids: set[int] = set()
        for row in self.rows.get(WalletLot, []):
            new_lot_ids.add(row["id"])
            row["remaining"] = lots_by_id[row["id"]].remaining
        self.rows[PeriodUsage] = [_counter_row(c) for c in self.counters if c.new]
        model: Any
        for model in (Period, PeriodUsage, PackApplication, WalletLot, PaymentRequest):
            self._insert_rows(model)
        bulk_insert(session, table_of(UsageEvent), EVENT_COLUMNS, self.events, record=record)
        bulk_insert(session, table_of(UsageEvent), EVENT_COLUMNS, self.stored_events,
                    stored_form=True, record=record)
        bulk_insert(session, table_of(LedgerEntry), LEDGER_COLUMNS, self.ledger_rows,
                    record=record)
        for model in (Alert, EmailOutbox, AuditEntry, AuditClient):
            self._insert_rows(model)
        bulk_update(session, table_of(TopupRule), ("armed", "updated_at"), ("id",),
                    [(rule.armed, self.now, rule.id) for rule in self.topups.values()],
                    record=record)
        for rule in self.topups.values():
            rule.dirty = False
        self.topups = {}
        bulk_update(session, table_of(Period), ("end", "closed_at"), ("id",),
                    self.period_closes, record=record)
        bulk_update(session, table_of(PeriodUsage), _COUNTER_FIELDS, ("period_id", "resource"),
                    [(c.included, c.included_used, c.wallet_used, c.overage_units,
                      c.overage_amount, c.unserved, c.period_id, c.resource)
                     for c in self.counters if not c.new], record=record)
        bulk_update(session, table_of(WalletLot), ("remaining",), ("id",),
                    [(lot.remaining, lot.id) for lot in self.lots if lot.id not in new_lot_ids],
                    record=record)
        bulk_update(session, table_of(ResourceState), ("blocked", "changed_at"),
                    ("client_id", "resource"),
                    [(book.blocked[resource], self.now, book.client_id, resource)
                     for book in self.books for resource in book.blocked_changed],
                    record=record)
        # In the order they happened: a resource blocked and freed in one batch ends running.
        moves = []
        for client_id, resource, blocked in self.campaign_moves:
            source, target = ("running", "paused_quota") if blocked else ("paused_quota", "running")
            moves.append((target, self.now, client_id, resource, source))
        bulk_update(session, table_of(Campaign), ("status", "updated_at"),
                    ("client_id", "resource", "status"), moves, record=record)
        self.rows = {}
        self.campaign_moves = []
        self.period_closes = []
        self.events = []
        self.stored_events = []
        self.ledger_rows = []
        for c in self.counters:
            c.new = c.dirty = False
        for lot in self.lots:
            lot.dirty = False
        self.counters = []
        self.lots = []
        for book in self.books:
            book.blocked_changed.clear()
            if book.period is not None:
                book.period.new = False


EVENT_COLUMNS = ("id", "event_id", "client_id", "resource", "quantity", "occurred_at",
                 "recorded_at", "period_id", "late", "included", "wallet", "overage_units",
                 "overage_amount", "unserved")
LEDGER_COLUMNS = ("id", "client_id", "lot_id", "resource", "kind", "units", "at",
                  "usage_event_id", "reason", "recorded_at")

_COUNTER_FIELDS = ("included", "included_used", "wallet_used", "overage_units",
                   "overage_amount", "unserved")


def _counter_row(c: Counters) -> dict[str, Any]:
    row: dict[str, Any] = {name: getattr(c, name) for name in _COUNTER_FIELDS}
    row.update(period_id=c.period_id, resource=c.resource)
    return row


# -- loading -----------------------------------------------------------------------------
def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def load_accounts(journal: PendingWrites, client_ids: Iterable[int]) -> dict[int, ClientAccount]:
    """Lock and load the writable state of these clients, a few queries per 500 clients."""
    tx = journal.tx
    session = tx.session
    conn = session.connection()  # Core rows: no ORM bookkeeping for ten thousand books
    ids = sorted(set(client_ids))
    books: dict[int, ClientAccount] = {}
    postgres = session.get_bind().dialect.name == "postgresql"
    for chunk in _chunks(ids):
        query = select(Client.id, Client.name, Client.email).where(Client.id.in_(chunk))
        if postgres:
            query = query.order_by(Client.id).with_for_update()
        for client_id, name, email in conn.execute(query):
            books[client_id] = ClientAccount(
                client_id=client_id, name=name, email=email, terms=None, period=None,
                lots={r: [] for r in NAMES}, blocked={r: False for r in NAMES},
                alert_keys=set(), journal=journal)
        # Plain column rows, not ORM objects: an import loads ten thousand books a batch.
        subs = conn.execute(select(
            Subscription.id, Subscription.client_id, Subscription.plan_name, Subscription.fee,
            Subscription.anchor, Subscription.anchor_day, Subscription.addons, Subscription.due_days,
            Subscription.alert_thresholds).where(
            Subscription.client_id.in_(chunk), Subscription.status == "active")).all()
        sub_ids = [s.id for s in subs]
        term_rows = conn.execute(select(
            SubscriptionTerm.subscription_id, SubscriptionTerm.resource,
            SubscriptionTerm.included, SubscriptionTerm.overage_rate).where(
            SubscriptionTerm.subscription_id.in_(sub_ids))).all() if sub_ids else []
        terms_by_sub: dict[int, list[Any]] = {}
        for term in term_rows:
            terms_by_sub.setdefault(term.subscription_id, []).append(term)
        for sub in subs:
            books[sub.client_id].terms = plan_terms(sub, terms_by_sub.get(sub.id, []))
        periods = conn.execute(select(Period.id, Period.client_id, Period.subscription_id,
                                         Period.start, Period.end).where(
            Period.client_id.in_(chunk), Period.closed_at.is_(None))).all()
        period_ids = [p.id for p in periods]
        usage: dict[int, dict[str, Counters]] = {pid: {} for pid in period_ids}
        if period_ids:
            for (period_id, resource, included, included_used, wallet_used, overage_units,
                 overage_amount, unserved) in conn.execute(select(
                    PeriodUsage.period_id, PeriodUsage.resource, PeriodUsage.included,
                    PeriodUsage.included_used, PeriodUsage.wallet_used,
                    PeriodUsage.overage_units, PeriodUsage.overage_amount,
                    PeriodUsage.unserved).where(PeriodUsage.period_id.in_(period_ids))):
                usage[period_id][resource] = Counters(
                    included, included_used, wallet_used, overage_units, overage_amount,
                    unserved, period_id=period_id, resource=resource)
            owner = {p.id: p.client_id for p in periods}
            for period_id, resource, key in conn.execute(select(
                    Alert.period_id, Alert.resource, Alert.key).where(
                    Alert.period_id.in_(period_ids))):
                books[owner[period_id]].alert_keys.add((period_id, resource, key))
        for client_id, moment in recorded_latest(conn, chunk, period_ids).items():
            books[client_id].latest = moment
        for p in periods:
            books[p.client_id].period = OpenPeriod(p.id, p.subscription_id, p.start, p.end,
                                                   usage[p.id])
            books[p.client_id]._moment(p.start)
        for (lot_id, client_id, pack_id, resource, units, remaining, applied_at,
             expires_at) in conn.execute(select(
                WalletLot.id, WalletLot.client_id, WalletLot.pack_id, WalletLot.resource,
                WalletLot.units, WalletLot.remaining, WalletLot.applied_at,
                WalletLot.expires_at).where(
                WalletLot.client_id.in_(chunk), WalletLot.remaining != ZERO)):
            books[client_id].lots[resource].append(Lot(
                lot_id, pack_id, resource, units, remaining, applied_at, expires_at))
        for client_id, resource, blocked in conn.execute(select(
                ResourceState.client_id, ResourceState.resource, ResourceState.blocked).where(
                ResourceState.client_id.in_(chunk))):
            books[client_id].blocked[resource] = blocked
        load_topup_rules(conn, books, chunk)
    journal.books.extend(books.values())
    return books


def recorded_latest(conn: Connection, client_ids: Sequence[int],
                    open_periods: Iterable[int]) -> dict[int, datetime]:
    """The latest moment recorded for each of these clients (those with none are left out).

    Every bound is an index look-up: the last period boundary closed (periods by client and
    closed_at), the subscriptions' starts and ends, the last credit, revoke or consumption in
    the ledger (by client and time; expiries do not count), and the usage recorded in the open
    period (`open_periods`, the ids of the clients' open periods), whose start the caller
    knows. Usage is recorded in the open period of its recording time, so events of closed
    periods are older than their period's end; and the last event of a period, per resource,
    is the one with the highest id (the client is locked while ids are taken, and no write
    for it runs backwards), so only its `recorded_at` is read.
    """
    latest: dict[int, datetime] = {}

    def take(client_id: int, moment: datetime | None) -> None:
        if moment is not None:
            known = latest.get(client_id)
            if known is None or moment > known:
                latest[client_id] = moment

    clients, periods = table_of(Client), table_of(Period)
    subs, ledger = table_of(Subscription), table_of(LedgerEntry)
    events = table_of(UsageEvent)
    owner = clients.c.id
    query = select(
        owner,
        select(func.max(periods.c.closed_at)).where(
            periods.c.client_id == owner).scalar_subquery(),
        select(ledger.c.at).where(ledger.c.client_id == owner, ledger.c.kind != "expire")
        .order_by(ledger.c.at.desc()).limit(1).scalar_subquery(),
    ).where(owner.in_(client_ids))
    for client_id, *moments in conn.execute(query):
        for moment in moments:
            take(client_id, moment)
    for client_id, *moments in conn.execute(select(
            subs.c.client_id, func.max(subs.c.started_at), func.max(subs.c.ended_at)).where(
            subs.c.client_id.in_(client_ids)).group_by(subs.c.client_id)):
        for moment in moments:
            take(client_id, moment)
    period_ids = list(open_periods)
    if period_ids:
        last = [select(func.max(events.c.id)).where(
            events.c.period_id == periods.c.id, events.c.resource == r.value).scalar_subquery()
            for r in RESOURCES]
        ids = [event_id for row in conn.execute(select(*last).where(
            periods.c.id.in_(period_ids))) for event_id in row if event_id is not None]
        if ids:
            for client_id, recorded_at in conn.execute(select(
                    events.c.client_id, func.max(events.c.recorded_at)).where(
                    events.c.id.in_(ids)).group_by(events.c.client_id)):
                take(client_id, recorded_at)
    return latest
