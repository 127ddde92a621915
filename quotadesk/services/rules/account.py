"""A client's account inside one transaction: the per-client billing rules.

Every write that moves units or money goes through a `ClientAccount`: loaded in bulk by
`account_store.load_accounts` (one query per table for many clients), changed in memory by
these rules, and written back by `PendingWrites.flush` with bulk statements. The single-event
path and the million-line import are the same code.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from quotadesk.services.errors import FutureUsage, NoActiveSubscription
from quotadesk.services.rules.money import round_money
from quotadesk.services.rules.periods import add_months, due_date, local_date, next_boundary
from quotadesk.services.rules.plan_terms import PlanTerms
from quotadesk.services.rules.quantities import RESOURCES, stored
from quotadesk.services.rules.rating import Split, lot_expired, lot_is_live, rate_usage
from quotadesk.services.rules.timeline import refuse_if_behind
from quotadesk.services.rules.topup import (
    AUTO_TOPUP,
    Decision,
    PackTerms,
    TopupRule,
    decide,
    rearm_after_credit,
    why_idle,
)

if TYPE_CHECKING:
    from quotadesk.services.account_store import PendingWrites

ZERO = Decimal(0)
#: The resources as the plain text stored in rows (not the enum: a batch's rows are pickled
#: for an import's writer process, which then needs nothing of this package to read them).
NAMES: tuple[str, ...] = tuple(r.value for r in RESOURCES)
_NO_ALERT_LEFT = Decimal(-1)
CHUNK = 2000


@dataclass(slots=True)
class Counters:
    included: Decimal
    included_used: Decimal = ZERO
    wallet_used: Decimal = ZERO
    overage_units: Decimal = ZERO
    overage_amount: Decimal = ZERO
    unserved: Decimal = ZERO
    new: bool = False
    dirty: bool = False  # changed since the last flush, and listed in PendingWrites.counters
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
    dirty: bool = False  # changed since the last flush, and listed in PendingWrites.lots


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


@dataclass
class ClientAccount:
    client_id: int
    name: str
    email: str | None
    terms: PlanTerms | None
    period: OpenPeriod | None
    lots: dict[str, list[Lot]]
    blocked: dict[str, bool]
    alert_keys: set[tuple[int, str, str]]
    journal: PendingWrites
    blocked_changed: set[str] = field(default_factory=set)
    closed: list[ClosedPeriod] = field(default_factory=list)
    last_event_id: int | None = None
    #: The latest moment recorded for the client (SPEC §8: time runs forward), or None.
    latest: datetime | None = None
    #: Automatic top-up rules (SPEC §12), checked after each usage event is rated.
    topups: list[TopupRule] = field(default_factory=list)

    # -- reading the state -------------------------------------------------------------
    def wallet(self, resource: str, now: datetime) -> Decimal:
        return sum((lot.remaining for lot in self.lots[resource] if lot_is_live(lot, now)), ZERO)

    def included_left(self, resource: str) -> Decimal:
        if self.period is None:
            return ZERO
        counters = self.period.usage[resource]
        return max(ZERO, counters.included - counters.included_used)

    def free(self, resource: str, now: datetime) -> Decimal:
        return self.included_left(resource) + self.wallet(resource, now)

    def rate(self, resource: str) -> Decimal | None:
        return None if self.terms is None else self.terms.overage.get(resource)

    def require_active(self) -> tuple[PlanTerms, OpenPeriod]:
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
                expiry = lot.expires_at
                if expiry is not None and lot.remaining > 0 and lot_expired(expiry, until):
                    self.journal.ledger(self.client_id, lot, "expire", lot.remaining, expiry)
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
                reference=(f"Overage · {self.terms.plan} · "
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
            id=journal.new_id("periods"), subscription_id=terms.subscription_id, start=start,
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
                reference=(f"Plan · {terms.plan} · "
                           f"{local_date(start, tz):%Y-%m-%d} – {last_day(period.end, tz):%Y-%m-%d}"),
                period_id=period.id)

    def close_now(self, now: datetime) -> None:
        """Cancelling closes the current period at once; its overage is billed."""
        if self.period is not None:
            self._close_period(now)
        self._moment(now)
        self.terms = None

    def take_terms(self, terms: PlanTerms, now: datetime) -> None:
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
        rate = terms.overage[resource]
        ids = journal.event_ids
        row_id = ids.pop() if ids else journal.new_id("usage_events")
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
            # An import into SQLite: the row in storage form at once (see quantities.stored).
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
        if self.topups:
            self._top_up(resource, row_id)
        return split

    def _top_up(self, resource: str, event_row_id: int) -> None:
        """Automatic top-up, once the event is rated (SPEC §12): in file order, in the same
        transaction, exactly as an operator's apply, with the actor "auto top-up"."""
        terms = self.terms
        assert terms is not None
        now = self.journal.now
        for rule in self.topups:
            if rule.pack.resource != resource:
                continue
            decision = decide(rule, self.wallet(resource, now))
            if decision is Decision.REARM:
                rule.armed = True
                self.journal.topup_changed(rule)
            elif decision is Decision.FIRE and why_idle(rule, True, terms.addons) is None:
                key = f"{AUTO_TOPUP}:{rule.id}:{event_row_id}"
                lot_id, request_id = self.apply_pack(rule.pack, rule.status, key,
                                                     automatic=True)
                # The top-up itself counts: a pack that brings the wallet to N re-arms.
                rule.armed = self.wallet(resource, now) >= rule.below
                self.journal.topup_changed(rule)
                self.journal.audit(AUTO_TOPUP, "pack.apply", "client", self.client_id,
                                   (self.client_id,), pack=rule.pack.name, lot=lot_id,
                                   status=rule.status, key=key, payment_request=request_id,
                                   below=rule.below, automatic=True)

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
    def apply_pack(self, pack: PackTerms, status: str, key: str, *,
                   automatic: bool = False) -> tuple[int, int | None]:
        """Apply a pack now (SPEC §3): a new lot credited, a Pack payment request for its
        price (none for a free pack), the resource unblocked. The caller checked that the
        client may buy it. Returns the lot's and the request's ids."""
        terms = self.terms
        assert terms is not None
        journal = self.journal
        now, tz = journal.now, journal.tz
        application_id = journal.new_id("pack_applications")
        journal.pack_application(application_id, key, self.client_id, pack.id, status, now,
                                 automatic)
        expires = (add_months(now, pack.expires_months, tz)
                   if pack.expires_months is not None else None)
        lot = Lot(id=journal.new_id("wallet_lots"), pack_id=pack.id, resource=pack.resource,
                  units=pack.units, remaining=pack.units, applied_at=now, expires_at=expires)
        self.credit(lot, application_id, now)
        request_id = None
        if pack.price > 0:
            reference = f"Pack · {pack.name} · {local_date(now, tz):%Y-%m-%d}"
            request_id = journal.payment_request(
                client_id=self.client_id, type="Pack", amount=pack.price, created_at=now,
                due=due_date(now, terms.due_days, tz), status=status,
                paid_at=now if status == "paid" else None,
                reference=f"{reference} · {AUTO_TOPUP}" if automatic else reference,
                application_id=application_id)
        return lot.id, request_id

    def credit(self, lot: Lot, application_id: int, at: datetime) -> None:
        self.lots[lot.resource].append(lot)
        self._moment(at)
        self.journal.new_lot(self.client_id, lot, application_id)
        self.journal.ledger(self.client_id, lot, "credit", lot.units, at)
        self.evaluate(lot.resource, at, attempted=False, free_before=None)
        if self.topups:
            rearm_after_credit(self.topups, lot.resource, self.wallet(lot.resource, at))
            for rule in self.topups:
                if rule.dirty:
                    self.journal.topup_changed(rule)

    def revoke(self, lot: Lot, reason: str, at: datetime) -> Decimal:
        before = self.free(lot.resource, at)
        units = lot.remaining
        self.journal.ledger(self.client_id, lot, "revoke", units, at, reason=reason)
        self._moment(at)
        lot.remaining = ZERO
        self.journal.lot_changed(lot)
        self.evaluate(lot.resource, at, attempted=False, free_before=before)
        return units
