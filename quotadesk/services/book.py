"""A client's writable billing state inside one transaction: periods, counters, lots, blocks.

Every write that moves units or money goes through a `ClientBook`: it is loaded in bulk (one
query per table for many clients), changed in memory by the pure rules, and written back by
`Journal.flush` with bulk statements. The single-event path and the million-line import are
the same code.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import select

from quotadesk.models import (
    Alert,
    Campaign,
    Client,
    EmailOutbox,
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
from quotadesk.models.base import table_of
from quotadesk.services.bulk import Recorded, bulk_insert, bulk_update, stored
from quotadesk.services.errors import FutureUsage, NoActiveSubscription
from quotadesk.services.money import round_money
from quotadesk.services.periods import due_date, local_date, next_boundary
from quotadesk.services.quantities import RESOURCES, UNIT_WORD, Resource, text
from quotadesk.services.rating import Split, rate_usage
from quotadesk.services.timeline import recorded_latest, refuse_if_behind

ZERO = Decimal(0)
#: The resources as the plain text stored in rows (not the enum: a batch's rows are pickled
#: for an import's writer process, which then needs nothing of this package to read them).
NAMES: tuple[str, ...] = tuple(r.value for r in RESOURCES)
_NO_ALERT_LEFT = Decimal(-1)
CHUNK = 2000


@dataclass(slots=True)
class Terms:
    """The active subscription's plan snapshot."""

    subscription_id: int
    plan_name: str
    fee: Decimal
    anchor_day: int
    addons: bool
    due_days: int
    alerts: tuple[int, ...]
    included: dict[str, Decimal]
    rates: dict[str, Decimal | None]


@dataclass(slots=True)
class Counters:
    included: Decimal
    included_used: Decimal = ZERO
    wallet_used: Decimal = ZERO
    overage_units: Decimal = ZERO
    overage_amount: Decimal = ZERO
    unserved: Decimal = ZERO
    new: bool = False
    dirty: bool = False  # changed since the last flush, and listed in Journal.counters
    period_id: int = 0
    resource: str = ""
    #: The use at which the next usage alert is due (None: not worked out yet;
    #: _NO_ALERT_LEFT: every alert the current terms can raise in this period is recorded).
    #: Not stored: it spares the per-event threshold arithmetic of a million-line import.
    alert_at: Decimal | None = None


@dataclass(slots=True)
class OpenPeriod:
    id: int
    subscription_id: int
    start: datetime
    end: datetime
    usage: dict[str, Counters]
    new: bool = False


@dataclass(slots=True)
class Lot:
    id: int
    pack_id: int
    resource: str
    units: Decimal
    remaining: Decimal
    applied_at: datetime
    expires_at: datetime | None
    dirty: bool = False  # changed since the last flush, and listed in Journal.lots


@dataclass(slots=True)
class ClosedPeriod:
    id: int
    start: datetime
    end: datetime
    overage_request_id: int | None


#: Splits of events covered whole by the allowance, by quantity (they repeat: 1 SMS, 12 SMS).
_COVERED: dict[Decimal, Split] = {}


def _covered(quantity: Decimal) -> Split:
    split = Split(quantity, (), ZERO, ZERO, ZERO)
    if len(_COVERED) < 20_000:
        _COVERED[quantity] = split
    return split


def last_day(end: datetime, tz: Any) -> Any:
    """The last local day inside a period ending at `end` (for references people read)."""
    return local_date(end - timedelta(microseconds=1), tz)


def parse_alerts(value: str) -> tuple[int, ...]:
    return tuple(sorted(int(part) for part in value.split(",") if part.strip()))


@dataclass
class ClientBook:
    client_id: int
    name: str
    email: str | None
    terms: Terms | None
    period: OpenPeriod | None
    lots: dict[str, list[Lot]]
    blocked: dict[str, bool]
    alert_keys: set[tuple[int, str, str]]
    journal: Journal
    blocked_changed: set[str] = field(default_factory=set)
    closed: list[ClosedPeriod] = field(default_factory=list)
    last_event_id: int | None = None
    #: The latest moment recorded for the client (SPEC §8: time runs forward), or None.
    latest: datetime | None = None

    # -- reading the state -------------------------------------------------------------
    def wallet(self, resource: str, now: datetime) -> Decimal:
        return sum((lot.remaining for lot in self.lots[resource]
                    if lot.expires_at is None or lot.expires_at > now), ZERO)

    def included_left(self, resource: str) -> Decimal:
        if self.period is None:
            return ZERO
        counters = self.period.usage[resource]
        return max(ZERO, counters.included - counters.included_used)

    def free(self, resource: str, now: datetime) -> Decimal:
        return self.included_left(resource) + self.wallet(resource, now)

    def rate(self, resource: str) -> Decimal | None:
        return None if self.terms is None else self.terms.rates.get(resource)

    def require_active(self) -> tuple[Terms, OpenPeriod]:
        if self.terms is None or self.period is None:
            raise NoActiveSubscription(
                f"subscription: client {self.name!r} has no active subscription", "subscription")
        return self.terms, self.period

    # -- time passing ------------------------------------------------------------------
    def _moment(self, at: datetime) -> None:
        if self.latest is None or at > self.latest:
            self.latest = at

    def catch_up(self, now: datetime, *, cancelling: bool = False) -> None:
        """Close every period that ended by `now` and record expiries (SPEC §4, §8).

        Every write for a client starts here, so this is where a clock earlier than the
        latest moment recorded for the client is refused (SPEC §8: time runs forward).
        When cancelling exactly at a boundary, no new period is opened only to be closed at
        once: that would bill a fee for a period of no length.
        """
        refuse_if_behind(now, self.latest, self.name, self.journal.tz)
        expired: set[str] = set()
        while self.period is not None and self.period.end <= now:
            boundary = self.period.end
            expired |= self._expire(boundary)
            self._close_period(boundary)
            if cancelling and boundary == now:
                break
            self.open_period(boundary)
            for resource in NAMES:
                self.evaluate(resource, boundary, attempted=False, free_before=None)
        expired |= self._expire(now)
        for name in expired:
            # Expiry took units away: as with a revoke, a pool that reached zero blocks.
            self.evaluate(name, now, attempted=False, free_before=Decimal(1))

    def _expire(self, until: datetime) -> set[str]:
        touched: set[str] = set()
        for resource, lots in self.lots.items():
            for lot in lots:
                if lot.expires_at is not None and lot.expires_at <= until and lot.remaining > 0:
                    self.journal.ledger(self.client_id, lot, "expire", lot.remaining,
                                        lot.expires_at)
                    lot.remaining = ZERO
                    self.journal.lot_changed(lot)
                    touched.add(resource)
        return touched

    def _close_period(self, end: datetime) -> None:
        period = self.period
        assert period is not None and self.terms is not None
        total = sum((c.overage_amount for c in period.usage.values()), ZERO)
        amount = round_money(total, self.journal.currency)
        request_id = None
        if amount > 0:
            tz = self.journal.tz
            request_id = self.journal.payment_request(
                client_id=self.client_id, type="Overage", amount=amount, created_at=end,
                due=due_date(end, self.terms.due_days, tz), status="pending", paid_at=None,
                reference=(f"Overage · {self.terms.plan_name} · "
                           f"{local_date(period.start, tz):%Y-%m-%d} – {last_day(end, tz):%Y-%m-%d}"),
                period_id=period.id)
        period.end = end
        self._moment(end)
        self.journal.close_period(period, end)
        self.closed.append(ClosedPeriod(period.id, period.start, end, request_id))
        self.period = None

    def open_period(self, start: datetime) -> None:
        """Start a period with the full allowance and request its fee (SPEC §4)."""
        terms = self.terms
        assert terms is not None
        journal = self.journal
        period = OpenPeriod(
            id=journal.new_id(Period), subscription_id=terms.subscription_id, start=start,
            end=next_boundary(start, terms.anchor_day, journal.tz),
            usage={r: Counters(included=terms.included.get(r, ZERO), new=True) for r in NAMES},
            new=True)
        for resource, counters in period.usage.items():
            counters.period_id, counters.resource = period.id, resource
            journal.counters_changed(counters)
        self.period = period
        self._moment(start)
        journal.open_period(self.client_id, period)
        if terms.fee > 0:
            tz = journal.tz
            journal.payment_request(
                client_id=self.client_id, type="Plan", amount=terms.fee, created_at=start,
                due=due_date(start, terms.due_days, tz), status="pending", paid_at=None,
                reference=(f"Plan · {terms.plan_name} · "
                           f"{local_date(start, tz):%Y-%m-%d} – {last_day(period.end, tz):%Y-%m-%d}"),
                period_id=period.id)

    def close_now(self, now: datetime) -> None:
        """Cancelling closes the current period at once; its overage is billed."""
        if self.period is not None:
            self._close_period(now)
        self._moment(now)
        self.terms = None

    def take_terms(self, terms: Terms, now: datetime) -> None:
        """Re-subscribing: new terms apply from now; the current period runs on (SPEC §8)."""
        before = {r: self.free(r, now) for r in NAMES}
        self.terms = terms
        self._moment(now)
        if self.period is not None:
            for resource, counters in self.period.usage.items():
                counters.alert_at = None  # new thresholds, or a new allowance to reach
                included = terms.included.get(resource, ZERO)
                if counters.included != included:
                    counters.included = included
                    self.journal.counters_changed(counters)
        for resource in NAMES:
            self.evaluate(resource, now, attempted=False, free_before=before[resource])

    # -- blocking ----------------------------------------------------------------------
    def evaluate(self, resource: str, at: datetime, *, attempted: bool,
                 free_before: Decimal | None) -> None:
        """Block or lift the block of one resource after its free units changed (SPEC §2)."""
        if self.terms is None:
            return
        now = max(at, self.journal.now)
        free = self.free(resource, now)
        has_rate = self.rate(resource) is not None
        if self.blocked[resource]:
            if free > 0 or has_rate:
                self._set_blocked(resource, False, at)
        elif not has_rate and free == 0 and (
                attempted or (free_before is not None and free_before > 0)):
            self._set_blocked(resource, True, at)

    def _set_blocked(self, resource: str, blocked: bool, at: datetime) -> None:
        self.blocked[resource] = blocked
        self.blocked_changed.add(resource)
        self.journal.move_campaigns(self.client_id, resource, blocked)
        if blocked:
            self.alert(resource, "blocked", None, at)

    def alert(self, resource: str, kind: str, threshold: int | None, at: datetime) -> None:
        if self.period is None:
            return
        key = f"{kind}:{threshold}" if threshold is not None else kind
        marker = (self.period.id, resource, key)
        if marker in self.alert_keys:
            return
        self.alert_keys.add(marker)
        self.journal.alert(self, resource, kind, threshold, key, at)

    # -- usage -------------------------------------------------------------------------
    def consume(self, resource: str, quantity: Decimal, at: datetime,
                event_id: str | None, stored_at: str | None = None) -> Split:
        """Rate one usage event in SPEC order and record it with its split. `stored_at` is
        `at` as SQLite stores it, when the caller has it already (an import, which then sets
        `journal.stored_now` too)."""
        terms, period = self.terms, self.period
        if terms is None or period is None:
            self.require_active()
        assert terms is not None and period is not None
        journal = self.journal
        if at > journal.now:
            raise FutureUsage("occurred_at: usage dated in the future is refused", "occurred_at")
        counters = period.usage[resource]
        included = counters.included
        rate = terms.rates[resource]
        ids = journal.event_ids
        row_id = ids.pop() if ids else journal.new_id(UsageEvent)
        self.last_event_id = row_id
        self.latest = journal.now  # recorded now (catch_up refused a clock behind `latest`)
        if included - counters.included_used >= quantity:
            # The common case: the included allowance covers the whole event.
            split = _COVERED.get(quantity) or _covered(quantity)
            counters.included_used += quantity
            wallet = ZERO
        else:
            lots = self.lots[resource]
            split = rate_usage(quantity, included - counters.included_used, lots, at, rate)
            counters.included_used += split.included
            wallet = ZERO
            if split.draws:
                by_id = {lot.id: lot for lot in lots}
                for lot_id, units in split.draws:
                    lot = by_id[lot_id]
                    lot.remaining -= units
                    journal.lot_changed(lot)
                    wallet += units
                    journal.ledger(self.client_id, lot, "consume", units, at,
                                   usage_event_id=row_id)
                counters.wallet_used += wallet
            if split.overage_units:
                counters.overage_units += split.overage_units
                counters.overage_amount += split.overage_amount
            if split.unserved:
                counters.unserved += split.unserved
        journal.counters_changed(counters)
        if stored_at is None:
            journal.events.append((
                row_id, event_id, self.client_id, resource, quantity, at, journal.now,
                period.id, at < period.start, split.included, wallet, split.overage_units,
                split.overage_amount, split.unserved))
        else:
            # An import into SQLite: the row in storage form at once (see bulk.stored).
            q = stored(quantity)
            if split.draws or split.overage_units or split.unserved:
                journal.stored_events.append((
                    row_id, event_id, self.client_id, resource, q, stored_at,
                    journal.stored_now, period.id, 1 if at < period.start else 0,
                    stored(split.included), stored(wallet), stored(split.overage_units),
                    stored(split.overage_amount), stored(split.unserved)))
            else:
                journal.stored_events.append((
                    row_id, event_id, self.client_id, resource, q, stored_at,
                    journal.stored_now, period.id, 1 if at < period.start else 0,
                    q, "0", "0", "0", "0"))
        used = counters.included_used
        if included:  # (Decimal truth and Decimal-to-Decimal comparisons: no int mixing)
            due = counters.alert_at
            if due is None:
                due = counters.alert_at = self._next_alert_at(period.id, resource, terms.alerts,
                                                              included)
            if due is not _NO_ALERT_LEFT and due <= used:
                for threshold in terms.alerts:
                    if used * 100 >= included * threshold:
                        self.alert(resource, "threshold", threshold, at)
                if used >= included:
                    self.alert(resource, "exhausted", None, at)
                counters.alert_at = None
        if rate is None and (self.blocked[resource] or counters.included_used >= included):
            self.evaluate(resource, at, attempted=True, free_before=None)
        return split

    def _next_alert_at(self, period_id: int, resource: str, thresholds: tuple[int, ...],
                       included: Decimal) -> Decimal:
        """The included use at which the next alert not yet recorded in this period is due
        (threshold t at included × t / 100, "exhausted" at included); -1 if none is left."""
        keys = self.alert_keys
        levels = [included * threshold / 100 for threshold in thresholds
                  if (period_id, resource, f"threshold:{threshold}") not in keys]
        if (period_id, resource, "exhausted") not in keys:
            levels.append(included)
        return min(levels) if levels else _NO_ALERT_LEFT

    # -- wallet ------------------------------------------------------------------------
    def credit(self, lot: Lot, application_id: int, at: datetime) -> None:
        self.lots[lot.resource].append(lot)
        self._moment(at)
        self.journal.new_lot(self.client_id, lot, application_id)
        self.journal.ledger(self.client_id, lot, "credit", lot.units, at)
        self.evaluate(lot.resource, at, attempted=False, free_before=None)

    def revoke(self, lot: Lot, reason: str, at: datetime) -> Decimal:
        before = self.free(lot.resource, at)
        units = lot.remaining
        self.journal.ledger(self.client_id, lot, "revoke", units, at, reason=reason)
        self._moment(at)
        lot.remaining = ZERO
        self.journal.lot_changed(lot)
        self.evaluate(lot.resource, at, attempted=False, free_before=before)
        return units


class Journal:
    """Rows a transaction will write, flushed in dependency order with bulk statements."""

    def __init__(self, tx: Any, record: Recorded | None = None) -> None:
        self.tx = tx
        #: Where `flush` puts its statements instead of running them (SQLite only): an
        #: import's batch, for its writer process to run (see import_writer.py).
        self.record = record
        self.now: datetime = tx.now
        self.currency: str = tx.currency
        self.tz = tx.tz
        self.books: list[ClientBook] = []
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

    def new_id(self, model: Any) -> int:
        return int(self.tx.new_id(table_of(model)))

    def reserve_event_ids(self, count: int) -> None:
        """Take `count` usage event ids in one go (an import batch's)."""
        self.event_ids = self.tx.new_ids(table_of(UsageEvent), count)[::-1]

    def _add(self, model: Any, row: dict[str, Any]) -> None:
        self.rows.setdefault(model, []).append(row)

    # -- row builders --------------------------------------------------------------------
    def ledger(self, client_id: int, lot: Lot, kind: str, units: Decimal, at: datetime, *,
               usage_event_id: int | None = None, reason: str | None = None) -> None:
        self.ledger_rows.append((self.new_id(LedgerEntry), client_id, lot.id, lot.resource, kind,
                                 units, at, usage_event_id, reason, self.now))

    def payment_request(self, *, client_id: int, type: str, amount: Decimal,
                        created_at: datetime, due: Any, status: str, paid_at: datetime | None,
                        reference: str, period_id: int | None = None,
                        application_id: int | None = None) -> int:
        row_id = self.new_id(PaymentRequest)
        self._add(PaymentRequest, {
            "id": row_id, "client_id": client_id, "type": type, "amount": amount,
            "created_at": created_at, "due_date": due, "status": status, "paid_at": paid_at,
            "reference": reference, "period_id": period_id, "application_id": application_id})
        return row_id

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

    def alert(self, book: ClientBook, resource: str, kind: str, threshold: int | None,
              key: str, at: datetime) -> None:
        assert book.period is not None
        alert_id = self.new_id(Alert)
        self._add(Alert, {"id": alert_id, "client_id": book.client_id, "period_id": book.period.id,
                          "resource": resource, "kind": kind, "threshold": threshold, "key": key,
                          "at": at})
        if book.email:
            subject, body = alert_email(book.name, resource, kind, threshold)
            self._add(EmailOutbox, {"id": self.new_id(EmailOutbox), "alert_id": alert_id,
                                    "to_address": book.email, "subject": subject, "body": body,
                                    "created_at": self.now, "sent_at": None})

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
        lots_by_id = {lot.id: lot for lot in self.lots}
        new_lot_ids: set[int] = set()
        for row in self.rows.get(WalletLot, []):
            new_lot_ids.add(row["id"])
            row["remaining"] = lots_by_id[row["id"]].remaining
        self.rows[PeriodUsage] = [_counter_row(c) for c in self.counters if c.new]
        model: Any
        for model in (Period, PeriodUsage, WalletLot, PaymentRequest):
            self._insert_rows(model)
        bulk_insert(session, table_of(UsageEvent), EVENT_COLUMNS, self.events, record=record)
        bulk_insert(session, table_of(UsageEvent), EVENT_COLUMNS, self.stored_events,
                    stored_form=True, record=record)
        bulk_insert(session, table_of(LedgerEntry), LEDGER_COLUMNS, self.ledger_rows,
                    record=record)
        for model in (Alert, EmailOutbox):
            self._insert_rows(model)
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


def alert_email(client: str, resource: str, kind: str, threshold: int | None) -> tuple[str, str]:
    word = {"minutes": "voice minutes", "sms": "SMS", "email": "email"}[resource]
    if kind == "threshold":
        subject = f"You have used {threshold}% of your monthly {word} allowance"
        body = (f"Hello {client},\n\nYou have used {threshold}% of the {word} included in your "
                "plan this period. Add-on packages can be purchased from your provider.")
    elif kind == "exhausted":
        subject = f"Your monthly {word} allowance is used up"
        body = (f"Hello {client},\n\nThe {word} included in your plan this period are used up. "
                "Further usage draws on your add-on credits.")
    else:
        subject = {"minutes": "Calls are blocked: no voice minutes left",
                   "sms": "SMS sends are blocked",
                   "email": "Email sends are blocked"}[resource]
        body = (f"Hello {client},\n\nAll your {word} credits are used up, so sends are blocked "
                "until the next monthly reset or until you purchase an add-on package.")
    return subject, body + "\n"


# -- loading -----------------------------------------------------------------------------
def _chunks(ids: Sequence[int]) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def load_books(journal: Journal, client_ids: Iterable[int]) -> dict[int, ClientBook]:
    """Lock and load the writable state of these clients, a few queries per 500 clients."""
    tx = journal.tx
    session = tx.session
    conn = session.connection()  # Core rows: no ORM bookkeeping for ten thousand books
    ids = sorted(set(client_ids))
    books: dict[int, ClientBook] = {}
    postgres = session.get_bind().dialect.name == "postgresql"
    for chunk in _chunks(ids):
        query = select(Client.id, Client.name, Client.email).where(Client.id.in_(chunk))
        if postgres:
            query = query.order_by(Client.id).with_for_update()
        for client_id, name, email in conn.execute(query):
            books[client_id] = ClientBook(
                client_id=client_id, name=name, email=email, terms=None, period=None,
                lots={r: [] for r in NAMES}, blocked={r: False for r in NAMES},
                alert_keys=set(), journal=journal)
        # Plain column rows, not ORM objects: an import loads ten thousand books a batch.
        subs = conn.execute(select(
            Subscription.id, Subscription.client_id, Subscription.plan_name, Subscription.fee,
            Subscription.anchor_day, Subscription.addons, Subscription.due_days,
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
            books[sub.client_id].terms = terms_from(sub, terms_by_sub.get(sub.id, []))
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
    journal.books.extend(books.values())
    return books


def terms_from(sub: Any, terms: Sequence[Any]) -> Terms:
    """The snapshot from a subscription and its terms (ORM objects or plain rows)."""
    return Terms(
        subscription_id=sub.id, plan_name=sub.plan_name, fee=sub.fee, anchor_day=sub.anchor_day,
        addons=sub.addons, due_days=sub.due_days, alerts=parse_alerts(sub.alert_thresholds),
        included=dict.fromkeys(NAMES, ZERO) | {t.resource: t.included for t in terms},
        rates=_rates(terms))


def _rates(terms: Sequence[Any]) -> dict[str, Decimal | None]:
    rates: dict[str, Decimal | None] = dict.fromkeys(NAMES)
    rates.update({t.resource: t.overage_rate for t in terms})
    return rates


def describe_units(resource: str, units: Decimal) -> str:
    return f"{text(units)} {UNIT_WORD[Resource(resource)]}"
