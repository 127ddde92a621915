"""Random operation sequences against a real desk, checked step by step against a reference model.

A Hypothesis `RuleBasedStateMachine` drives subscriptions, pack assignments and applications
(with repeated idempotency keys), usage (fractional minutes, repeated event ids, late and future
times), the clock (hours to months, onto period ends, lot expiries and month ends), the rollover,
revokes, campaigns and payment transitions against a fresh SQLite desk per example (a copy of a
template made once per time zone, holding the fixed catalog and three clients), and after every
step compares what the desk shows with `reference_model.Model` for exact equality (see
`BillingMachine.desk_matches_model` for what is read when).

Engine decisions the model follows where the SPEC leaves latitude:
1. Before every write for a client its ended periods are closed in order (at each boundary: lots
   expired by it, then the close, then a new period at the boundary with its Plan request), then
   lots expired by now are expired; `rollover` does this for every client. A cancel exactly at a
   boundary opens no period there (no fee for a period of no length). `pay`/`fail` and a repeated
   idempotency key write nothing else.
2. One Overage request per closed period (exact sum, rounded half-up once, none for 0.00,
   created at the period end, due its local date + due days); a Plan request at each period open
   if the fee > 0; a Pack request at apply if the price > 0, pending or paid.
3. Rating: included left, then unexpired lots (soonest expiry first, never-expiring last, then
   oldest applied, then lot id), then overage if the snapshot has a rate (0 counts), else unserved.
4. Blocking: after usage of R with no rate, free(R) == 0 blocks; a revoke, an expiry or a
   re-subscription that takes free(R) from > 0 to 0 with no rate blocks; free(R) > 0 or a rate
   lifts a block; a new period with zero free units does not block by itself; cancelling keeps
   the flags. Within a catch-up, blocks are judged once, as of the write's time.
5. Re-subscribing keeps the current period and its usage; its allowance becomes the new plan's.
6. Lot expiry = applied time + N months on the local wall clock, clamped to the month's end.
7. Alerts once per (period, resource, kind[, threshold]), at the event's time.
8. `pay` from pending or failed; `fail` only from pending.
"""

from __future__ import annotations

import atexit
import io
import shutil
import tempfile
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from functools import partial
from pathlib import Path
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import event as statistic
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import event, text
from sqlalchemy.engine import make_url

from quotadesk.db import open_database
from quotadesk.services import billing, catalog, clients, reports, usage, wallet
from quotadesk.services.errors import QuotaDeskError
from quotadesk.services.unit_of_work import Desk
from tests.conftest import MovableClock, PostgresDatabases, new_desk
from tests.integration.reference_model import (
    RESOURCES,
    Lot,
    Model,
    PackSpec,
    PlanSpec,
    Refused,
    local_day,
    midnight,
)

# Minutes of work: outside the quick lane (`pytest -m "not slow"`), always in CI.
pytestmark = pytest.mark.slow

D = Decimal

PLANS = {p.name: p for p in (
    PlanSpec("Basic", D("10.00"), "calendar",
             {"minutes": D(60), "sms": D(20), "email": D(100)}, {}),
    PlanSpec("Metered", D("25.50"), "anniversary", {"minutes": D(30), "email": D(50)},
             {"minutes": D("0.015"), "sms": D("0.045"), "email": D(0)}, due_days=7),
    PlanSpec("Zero", D(0), "calendar", {}, {}, due_days=3, alerts=(50, 100)),
    PlanSpec("Locked", D("5.00"), "anniversary",
             {"minutes": D(10), "sms": D(10), "email": D(10)}, {"sms": D("0.333333")},
             addons=False, due_days=30),
    PlanSpec("Penny", D("0.99"), "calendar", {"sms": D(5)},
             {"minutes": D(0), "email": D("0.000001")}, due_days=0, alerts=(25, 100)),
)}

PACKS = {p.name: p for p in (
    PackSpec("Minutes 100", "minutes", D(100), D("15.00"), None),
    PackSpec("SMS 25 yearly", "sms", D(25), D("4.99"), 12),
    PackSpec("Email 40 monthly", "email", D(40), D("1.00"), 1),
    PackSpec("Free SMS 3", "sms", D(3), D(0), None),
    PackSpec("Minutes 20.25 quarterly", "minutes", D("20.25"), D("2.50"), 3),
)}

CLIENTS = (("Acme", "ops@acme.test"), ("Bolt", None), ("Cyan", "cyan@example.test"))

START_TIMES = (
    datetime(2026, 1, 10, 9, 0, tzinfo=UTC),
    datetime(2026, 1, 31, 15, 0, tzinfo=UTC),      # anniversary on the 31st
    datetime(2026, 1, 31, 5, 0, tzinfo=UTC),       # New York local midnight, Jan 31
    datetime(2026, 2, 28, 23, 30, tzinfo=UTC),
    datetime(2026, 3, 7, 12, 0, tzinfo=UTC),       # the day before US DST starts
    datetime(2026, 10, 31, 12, 0, tzinfo=UTC),     # the day before US DST ends
    datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC),
)

EVENT_IDS = st.one_of(st.none(), st.sampled_from([f"ev-{i}" for i in range(12)]))
KEYS = st.sampled_from([f"key-{i}" for i in range(8)])
INDEX = st.integers(min_value=0, max_value=1_000)


def quantity(resource: str) -> st.SearchStrategy[Decimal]:
    """Mostly small events; sometimes one big enough to span the allowance and several lots."""
    if resource == "minutes":
        return st.one_of(
            st.integers(1, 45_000_000).map(lambda micro: D(micro).scaleb(-6)),
            st.integers(1, 40).map(D),
            st.integers(1, 150_000_000).map(lambda micro: D(micro).scaleb(-6)))
    small, big = (12, 45) if resource == "sms" else (60, 150)
    return st.one_of(st.integers(1, small), st.integers(1, big)).map(D)


# -- desks: one migrated, initialised database per time zone, copied for every example -------
def _fill(desk: Desk) -> None:
    for plan in PLANS.values():
        catalog.add_plan(desk, name=plan.name, fee=plan.fee, anchor=plan.anchor,
                         included=plan.included, overage=plan.rates, addons=plan.addons,
                         due_days=plan.due_days, alerts=plan.alerts)
    for pack in PACKS.values():
        catalog.add_pack(desk, name=pack.name, resource=pack.resource, units=pack.units,
                         price=pack.price, expires_months=pack.months)
    for name, email in CLIENTS:
        clients.add_client(desk, name=name, email=email)


class SqliteDesks:
    """A template file per time zone; each example works on a copy in its own directory."""

    _templates: ClassVar[dict[str, Path]] = {}  # kept across tests: made once per run
    _directory: ClassVar[Path | None] = None

    def _template(self, timezone: str) -> Path:
        if timezone not in self._templates:
            if SqliteDesks._directory is None:
                SqliteDesks._directory = Path(tempfile.mkdtemp(prefix="quotadesk-stateful-"))
                atexit.register(shutil.rmtree, SqliteDesks._directory, ignore_errors=True)
            path = SqliteDesks._directory / f"template-{timezone.replace('/', '_')}.db"
            desk = new_desk(path, MovableClock(START_TIMES[0]), timezone)
            _fill(desk)
            desk.close()  # the last connection closing checkpoints the WAL into the file
            self._templates[timezone] = path
        return self._templates[timezone]

    def open(self, timezone: str, clock: MovableClock) -> tuple[Desk, Callable[[], None]]:
        directory = Path(tempfile.mkdtemp(prefix="quotadesk-example-"))
        path = directory / "desk.db"
        shutil.copyfile(self._template(timezone), path)
        database = open_database(path, migrate_schema=False)

        @event.listens_for(database.engine, "connect")
        def _fast(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            # Registered after the desk's own hook: durability is not what this test checks.
            dbapi_connection.execute("PRAGMA synchronous=OFF")

        return Desk(database, clock=clock), partial(shutil.rmtree, directory, ignore_errors=True)


class PostgresDesks:
    """A filled template database per time zone; each example works on a clone of it
    (CREATE DATABASE … TEMPLATE), dropped when the example ends."""

    def __init__(self, databases: PostgresDatabases) -> None:
        self.databases = databases
        self.templates: dict[str, str] = {}

    def open(self, timezone: str, clock: MovableClock) -> tuple[Desk, Callable[[], None]]:
        if timezone not in self.templates:
            url = self.databases.new()
            desk = new_desk(url, MovableClock(START_TIMES[0]), timezone)
            _fill(desk)
            desk.close()
            self.templates[timezone] = make_url(url).database or ""
        url = self.databases.new(template=self.templates[timezone], keep=False)
        desk = Desk(open_database(url, migrate_schema=False), clock=clock)
        return desk, partial(self.databases.drop, url)


class BillingMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.desk: Desk | None = None
        self.discard: Callable[[], None] = lambda: None
        self.lots: list[Lot] = []
        self.touched: set[str] = set()  # clients whose page the next check reads in full
        self.wrote = False  # whether the engine accepted a write in this step
        self.keys_used = 0
        self.campaigns_added = 0
        self.clock_moved = False
        self.verify_after = True  # False after a step that cannot change what verify checks
        self.last_summary: dict[str, tuple[object, ...]] = {}
        self.last_alert_count = 0
        self.last_history: dict[str, list[tuple[object, ...]]] = {}

    def teardown(self) -> None:
        try:
            if self.desk is not None:
                self.desk.close()
                for note in sorted(self.model.notes):  # see --hypothesis-show-statistics
                    statistic(note)
        finally:
            self.discard()

    # -- set-up ------------------------------------------------------------------------------
    @initialize(timezone=st.sampled_from(["UTC", "America/New_York"]),
                start=st.sampled_from(START_TIMES), count=st.integers(2, 3),
                plans=st.lists(st.sampled_from([None, *sorted(PLANS)]), min_size=3, max_size=3),
                packs=st.lists(st.sets(st.sampled_from(sorted(PACKS))), min_size=3, max_size=3),
                applied=st.lists(st.booleans(), min_size=3, max_size=3))
    def set_up(self, timezone: str, start: datetime, count: int, plans: list[str | None],
               packs: list[set[str]], applied: list[bool]) -> None:
        self.clock = MovableClock(start)
        self.desk, self.discard = DESKS[0].open(timezone, self.clock)
        # The template holds three clients; the rules act on the first `count` of them, and
        # the checks cover all three.
        self.names = [name for name, _ in CLIENTS[:count]]
        self.model = Model(ZoneInfo(timezone), PLANS, PACKS, [name for name, _ in CLIENTS])
        # Most examples start with subscribed clients, so that most steps do something.
        for name, plan, chosen, apply in zip(self.names, plans, packs, applied, strict=False):
            if plan is not None:
                self.subscribe(self.names.index(name), plan)
                if chosen:
                    self.assign(self.names.index(name), sorted(chosen))
                    for pack in sorted(chosen) if apply else ():
                        self._apply(name, pack, "paid", f"set-up-{name}-{pack}")
        self.touched = set(self.names)

    @property
    def now(self) -> datetime:
        return self.clock()

    def expect(self, model_call, engine_call, *names: str):  # type: ignore[no-untyped-def]
        """Run one operation on both sides. A refusal must be the model's, by error class;
        what the engine accepted makes the next check read these clients' pages in full."""
        try:
            expected = model_call()
        except Refused as refusal:
            try:
                engine_call()
            except QuotaDeskError as error:
                assert type(error).__name__ == refusal.kind, (
                    f"the engine refused with {type(error).__name__} ({error}); "
                    f"the model expected {refusal.kind}")
                return None, None
            raise AssertionError(
                f"the engine accepted what the model refuses ({refusal.kind})") from None
        try:
            result = engine_call()
        except QuotaDeskError as error:
            raise AssertionError(f"the engine refused with {type(error).__name__} ({error}); "
                                 "the model accepts") from error
        self.wrote = True
        self.touched.update(names)
        return expected, result

    def expect_catch_up_only(self, model_call, engine_call, *names: str):  # type: ignore[no-untyped-def]
        """`expect` for a write that moves no units or money itself (assignments, campaigns):
        `verify` has something to check only if its catch-up did something."""
        before = self.model.catch_ups
        outcome = self.expect(model_call, engine_call, *names)
        self.verify_after = self.model.catch_ups != before
        return outcome

    # -- subscriptions -----------------------------------------------------------------------
    @rule(who=INDEX, plan=st.sampled_from(sorted(PLANS)))
    def subscribe(self, who: int, plan: str) -> None:
        name = self.names[who % len(self.names)]
        self.expect(lambda: self.model.subscribe(name, plan, self.now),
                    lambda: clients.subscribe(self.desk, client=name, plan=plan), name)

    @precondition(lambda self: any(self.model.clients[n].terms is None for n in self.names))
    @rule(pick=INDEX, plan=st.sampled_from(sorted(PLANS)))
    def subscribe_again(self, pick: int, plan: str) -> None:
        """A client without a subscription subscribes (again): wallets and blocks kept."""
        waiting = [name for name in self.names if self.model.clients[name].terms is None]
        self.subscribe(self.names.index(waiting[pick % len(waiting)]), plan)

    @rule(who=INDEX)
    def cancel(self, who: int) -> None:
        name = self.names[who % len(self.names)]
        self.expect(lambda: self.model.cancel(name, self.now),
                    lambda: clients.cancel(self.desk, client=name), name)

    @rule(who=INDEX, packs=st.lists(st.sampled_from(sorted(PACKS)), min_size=1, max_size=3))
    def assign(self, who: int, packs: list[str]) -> None:
        name = self.names[who % len(self.names)]
        self.expect_catch_up_only(
            lambda: self.model.assign(name, packs, self.now),
            lambda: clients.assign_packs(self.desk, client=name, packs=packs), name)

    # -- the wallet --------------------------------------------------------------------------
    def _apply(self, name: str, pack: str, status: str, key: str) -> None:
        known = key in self.model.applications
        lot, result = self.expect(
            lambda: self.model.apply(name, pack, status, key, self.now),
            lambda: wallet.apply_pack(self.desk, client=name, pack=pack, status=status, key=key),
            name)
        if lot is None:
            return
        assert result.repeated == known
        price = self.model.packs[pack].price
        assert (result.payment_request_id is None) == (price == 0)
        if price > 0:  # seed 000's texts, word for word
            assert result.message == {
                "pending": "Addon pack credited. Payment request created as pending.",
                "paid": "Addon pack credited. Payment request created and marked as paid.",
            }[status]
        if known:
            assert result.lot_id == lot.engine_id
            self.verify_after = False  # nothing was written
        else:
            lot.engine_id = result.lot_id
            self.lots.append(lot)

    @rule(who=INDEX, pack=st.sampled_from(sorted(PACKS)),
          status=st.sampled_from(["pending", "paid"]), key=KEYS)
    def apply_any_pack(self, who: int, pack: str, status: str, key: str) -> None:
        """Any pack, any key: refusals (not assigned, add-ons off, no subscription) and
        repeated keys with the same or different arguments."""
        self._apply(self.names[who % len(self.names)], pack, status, key)

    @rule(who=INDEX, pick=INDEX, status=st.sampled_from(["pending", "paid"]),
          fresh=st.booleans())
    def apply_assigned_pack(self, who: int, pick: int, status: str, fresh: bool) -> None:
        """A pack the client may buy, usually under a key never used before."""
        name = self.names[who % len(self.names)]
        assigned = sorted(self.model.clients[name].assigned)
        if not assigned:
            return
        self.keys_used += 1
        key = f"dialog-{self.keys_used}" if fresh else f"key-{pick % 8}"
        self._apply(name, assigned[pick % len(assigned)], status, key)

    @precondition(lambda self: self.model.applications)
    @rule(pick=INDEX, change=st.sampled_from([None, None, "client", "pack", "status"]))
    def repeat_application(self, pick: int, change: str | None) -> None:
        """A double click or a retry: the same key again, with the same arguments (credited
        once) or with one of them changed (refused)."""
        key = sorted(self.model.applications)[pick % len(self.model.applications)]
        first = self.model.applications[key]
        name, pack, status = first.client, first.pack, first.status
        if change == "client":
            name = self.names[(self.names.index(name) + 1) % len(self.names)]
        elif change == "pack":
            pack = sorted(PACKS)[(sorted(PACKS).index(pack) + 1) % len(PACKS)]
        elif change == "status":
            status = "paid" if status == "pending" else "pending"
        self._apply(name, pack, status, key)

    @precondition(lambda self: self.lots)
    @rule(pick=INDEX, reason=st.sampled_from(["payment failed", "goodwill correction", "  "]))
    def revoke(self, pick: int, reason: str) -> None:
        live = [lot for lot in self.lots if lot.remaining > 0]
        lot = (live or self.lots)[pick % len(live or self.lots)]

        def model_call() -> Decimal:
            if not reason.strip():
                raise Refused("InvalidValue")
            return self.model.revoke(lot, self.now)

        units, result = self.expect(
            model_call, lambda: wallet.revoke_lot(self.desk, lot_id=lot.engine_id, reason=reason),
            lot.client)
        if result is not None:
            assert result.units == units

    # -- usage -------------------------------------------------------------------------------
    def _usage(self, name: str, resource: str, amount: Decimal, at: datetime | None,
               event_id: str | None) -> None:
        moment = self.now if at is None else at
        split, result = self.expect(
            lambda: self.model.usage(name, resource, amount, moment, event_id, self.now) or {},
            lambda: usage.record_usage(self.desk, client=name, resource=resource,
                                       quantity=amount, at=at, event_id=event_id), name)
        if result is not None:  # accepted: a duplicate, or recorded with this split
            assert result.duplicate == (not split)
            self.verify_after = bool(split)  # a duplicate writes nothing
            shown = {key: getattr(result, key) for key in split}
            assert shown == split, f"usage split: desk {shown} model {split}"

    AGO = st.one_of(
        st.none(),  # `at` left out: now
        st.just(timedelta(0)),
        st.integers(1, 50 * 24 * 3600).map(lambda s: timedelta(seconds=s)),  # often late
        st.integers(1, 3600).map(lambda s: timedelta(seconds=-s)),  # in the future: refused
    )

    @rule(who=INDEX, data=st.data(), resource=st.sampled_from(RESOURCES), event_id=EVENT_IDS,
          ago=AGO)
    def record_usage(self, who: int, data: st.DataObject, resource: str,
                     event_id: str | None, ago: timedelta | None) -> None:
        name = self.names[who % len(self.names)]
        amount = data.draw(quantity(resource), label="quantity")
        self._usage(name, resource, amount, None if ago is None else self.now - ago, event_id)

    @rule(who=INDEX, data=st.data(), resource=st.sampled_from(RESOURCES))
    def record_more_usage(self, who: int, data: st.DataObject, resource: str) -> None:
        name = self.names[who % len(self.names)]
        self._usage(name, resource, data.draw(quantity(resource), label="quantity"), None, None)

    #: Lines that never parse: an unknown client or resource, a bad quantity or time, a
    #: wrong number of fields (the good event id on one of them is no duplicate later).
    BAD_LINES = st.sampled_from([
        "bad-1,Nobody,sms,1,{now}", "bad-2,{name},voice,1,{now}", "ev-1,{name},sms,1.5,{now}",
        "bad-3,{name},minutes,0,{now}", "bad-4,{name},email,1,yesterday", "bad-5,{name},sms,1",
    ])

    @rule(data=st.data(), batch_size=st.integers(1, 4))
    def import_small_file(self, data: st.DataObject, batch_size: int) -> None:
        """A usage file of a few lines (names in other cases, repeated event ids, late and
        future times, lines that do not parse), imported in batches: the model records its
        lines one by one, and the result and every later check must agree."""
        lines: list[str] = []
        events: list[tuple[str, str, Decimal, datetime, str | None] | None] = []
        for _ in range(data.draw(st.integers(1, 6), label="lines")):
            name = self.names[data.draw(INDEX, label="who") % len(self.names)]
            if data.draw(st.integers(0, 4), label="bad") == 0:
                template = data.draw(self.BAD_LINES, label="bad line")
                lines.append(template.format(name=name, now=self.now.isoformat()))
                events.append(None)
                continue
            resource = data.draw(st.sampled_from(RESOURCES), label="resource")
            amount = data.draw(quantity(resource), label="quantity")
            ago = data.draw(self.AGO.filter(lambda a: a is not None), label="ago")
            event_id = data.draw(EVENT_IDS, label="event id")
            written = data.draw(st.sampled_from([name, name.upper(), f" {name.lower()} "]),
                                label="name as written")
            at = self.now - ago
            lines.append(",".join((event_id or "", written, resource.upper(),
                                   format(amount, "f"), at.isoformat())))
            events.append((name, resource, amount, at, event_id))
        recorded, duplicates, rejected = self.model.import_file(events, self.now)
        data_file = "event_id,client,resource,quantity,occurred_at\n" + "\n".join(lines)
        result = usage.import_usage(self.desk, io.BytesIO(data_file.encode()),
                                    batch_size=batch_size)
        shown = (result.recorded, result.duplicates, [r.line - 2 for r in result.rejected])
        assert shown == (recorded, duplicates, rejected), (
            f"import of {lines}: desk {shown}, {result.rejected}; model "
            f"{(recorded, duplicates, rejected)}")
        if recorded:
            self.wrote = True
            self.touched.update(event[0] for event in events if event is not None)

    @rule(who=INDEX, resource=st.sampled_from(RESOURCES), extra=st.sampled_from([0, 0, 1]))
    def use_up_free_units(self, who: int, resource: str, extra: int) -> None:
        """Usage of exactly the free units left (or one more): exhaustion to the last unit."""
        name = self.names[who % len(self.names)]
        free = self.model.free(self.model.clients[name], resource, self.now) + extra
        if free > 0:
            self._usage(name, resource, free, None, None)

    @rule(who=INDEX, resource=st.sampled_from(RESOURCES), pick=INDEX)
    def reach_a_threshold(self, who: int, resource: str, pick: int) -> None:
        """Usage that brings the allowance used to exactly an alert threshold (80 % …)."""
        name = self.names[who % len(self.names)]
        c = self.model.clients[name]
        if c.terms is None or c.period is None or not c.terms.plan.alerts:
            return
        counter = c.period.counters[resource]
        threshold = c.terms.plan.alerts[pick % len(c.terms.plan.alerts)]
        amount = counter.included * threshold / 100 - counter.included_used
        whole = resource != "minutes"
        if amount > 0 and (amount == amount.to_integral_value() or
                           (not whole and amount == amount.quantize(D("0.000001")))):
            self._usage(name, resource, amount, None, None)

    # -- time --------------------------------------------------------------------------------
    def move_clock(self, moment: datetime) -> None:
        """Time only changes what reads derive from it: wallets and `expired` flags of lots."""
        if moment <= self.now:
            return
        for lot in self.lots:
            if lot.expires_at is not None and self.now < lot.expires_at <= moment:
                self.touched.add(lot.client)
        self.clock.set(moment)
        self.clock_moved = True

    @rule(hours=st.integers(1, 72), minutes=st.integers(0, 59))
    def advance_hours(self, hours: int, minutes: int) -> None:
        self.move_clock(self.now + timedelta(hours=hours, minutes=minutes))

    @rule(days=st.integers(1, 95), seconds=st.integers(0, 86_399))
    def advance_days(self, days: int, seconds: int) -> None:
        self.move_clock(self.now + timedelta(days=days, seconds=seconds))

    EDGE = st.sampled_from([timedelta(0), timedelta(microseconds=-1), timedelta(seconds=1),
                            timedelta(hours=5)])

    @rule(edge=st.sampled_from(["period end", "lot expiry", "month end"]), pick=INDEX,
          offset=EDGE, hour=st.sampled_from([0, 1, 12, 23]))
    def jump(self, edge: str, pick: int, offset: timedelta, hour: int) -> None:
        """Onto an edge: a client's period end, a lot's expiry, the last day of a month."""
        if edge == "period end":
            period = self.model.clients[self.names[pick % len(self.names)]].period
            if period is not None:
                self.move_clock(period.end + offset)
        elif edge == "lot expiry":
            expiring = [lot.expires_at for lot in self.lots if lot.expires_at is not None]
            if expiring:
                self.move_clock(expiring[pick % len(expiring)] + offset)
        else:
            tz = self.model.tz
            today = local_day(self.now, tz)
            for shift in range(2):
                year, month = divmod(today.year * 12 + today.month - 1 + shift, 12)
                target_moment = midnight(year, month + 1, 31, tz) + timedelta(hours=hour)
                if target_moment > self.now:
                    self.move_clock(target_moment)
                    return

    @rule()
    def rollover(self) -> None:
        changed = self.model.rollover(self.now)
        billing.run_rollover(self.desk)
        self.wrote = bool(changed)  # else the stored state shows that nothing changed
        self.touched.update(changed)

    # -- campaigns ---------------------------------------------------------------------------
    @rule(who=INDEX, resource=st.sampled_from(RESOURCES))
    def add_campaign(self, who: int, resource: str) -> None:
        name = self.names[who % len(self.names)]
        self.campaigns_added += 1
        campaign, result = self.expect_catch_up_only(
            lambda: self.model.add_campaign(name, resource, self.now),
            lambda: clients.add_campaign(self.desk, client=name,
                                         name=f"Campaign {self.campaigns_added}",
                                         resource=resource), name)
        campaign.engine_id = result.id
        assert result.status == self.model.campaign_status(campaign)

    @precondition(lambda self: any(c.campaigns for c in self.model.clients.values()))
    @rule(pick=INDEX, action=st.sampled_from(["pause", "resume", "finish"]))
    def change_campaign(self, pick: int, action: str) -> None:
        """Staff pause, resume or finish; a wrong transition is refused and changes nothing."""
        every = [k for c in self.model.clients.values() for k in c.campaigns]
        campaign = every[pick % len(every)]
        _, result = self.expect_catch_up_only(
            lambda: self.model.change_campaign(campaign, action, self.now),
            lambda: clients.change_campaign(self.desk, campaign_id=campaign.engine_id,
                                            action=action), campaign.client)
        if result is not None:
            assert result.status == self.model.campaign_status(campaign)

    # -- payments ----------------------------------------------------------------------------
    @precondition(lambda self: self.model.requests)
    @rule(pick=INDEX, action=st.sampled_from(["pay", "fail"]))
    def settle(self, pick: int, action: str) -> None:
        request = self.model.requests[pick % len(self.model.requests)]
        self.verify_after = False  # a payment's status is nothing `verify` recomputes
        # The client's page shows it again: a purchase's status in the billing history.
        if action == "pay":
            self.expect(lambda: self.model.pay(request, self.now),
                        lambda: billing.mark_paid(self.desk, request_id=request.engine_id),
                        request.client)
        else:
            self.expect(lambda: self.model.fail(request),
                        lambda: billing.mark_failed(self.desk, request_id=request.engine_id),
                        request.client)

    # -- the comparison ----------------------------------------------------------------------
    @invariant()
    def desk_matches_model(self) -> None:
        """After every step, for exact equality with the model:
        - always, read straight from the tables for every client: the open period and its
          counters, lots, blocks, payment requests and alerts (so a refused step, or a step for
          another client, must have left them exactly as they were);
        - after the clock moved: the payments list (its `overdue` flags) and the page of each
          client whose lot expired in between (wallet, `expired`);
        - after an accepted write: the payments and alerts lists, the full page
          (`clients.client_detail`) of each client it touched, the client list's pending totals
          and blocks, and `reports.verify`.
        """
        if self.desk is None:
            return
        if self.wrote or self.clock_moved:
            self._compare_payments()  # first: it learns the ids of new payment requests
        self._compare_stored_state()
        if self.wrote:
            alerts = sum(len(c.alerts) for c in self.model.clients.values())
            if alerts != self.last_alert_count:
                self._compare_alerts()
                self.last_alert_count = alerts
            summary = {name: self._summary(name) for name in self.model.clients}
            if summary != self.last_summary:
                self._compare_client_list(summary)
                self.last_summary = summary
        for name in sorted(self.touched):
            self._compare_client_page(name)
        if self.wrote and self.verify_after:
            report = reports.verify(self.desk)
            assert report.ok, report.problems
        self.touched = set()
        self.wrote = self.clock_moved = False
        self.verify_after = True

    def _summary(self, name: str) -> tuple[object, ...]:
        c = self.model.clients[name]
        return (self.model.pending_amount(name), tuple(r for r in RESOURCES if c.blocked[r]),
                c.terms.plan.name if c.terms else None)

    def _compare_client_list(self, summary: dict[str, tuple[object, ...]]) -> None:
        rows = {row.name: row for row in clients.list_clients(self.desk)}
        for name, expected in summary.items():
            shown = (rows[name].pending_amount, rows[name].blocked, rows[name].plan)
            assert shown == expected, f"{name} in the client list: desk {shown} model {expected}"

    def _compare_stored_state(self) -> None:
        """Every client's open period, counters, lots, blocks, payment requests and alerts,
        read straight from the tables: a few cheap queries, run after every step."""
        def moment(value: object) -> datetime | None:
            return None if value is None else datetime.fromisoformat(str(value)).replace(tzinfo=UTC)

        model = self.model
        shown: dict[str, dict[str, Any]] = {
            name: {"periods": set(), "counters": {}, "lots": set(), "blocked": set(),
                   "requests": {}, "alerts": [], "campaigns": set()}
            for name in model.clients}
        with self.desk.database.engine.connect() as connection:
            for row in connection.execute(text(
                    "SELECT c.name, p.start, p.\"end\", u.resource, u.included, u.included_used,"
                    " u.wallet_used, u.overage_units, u.overage_amount, u.unserved"
                    " FROM periods p JOIN clients c ON c.id = p.client_id"
                    " JOIN period_usage u ON u.period_id = p.id WHERE p.closed_at IS NULL")):
                shown[row[0]]["periods"].add((moment(row[1]), moment(row[2])))
                shown[row[0]]["counters"][row[3]] = tuple(D(v) for v in row[4:])
            for name, lot_id, remaining in connection.execute(text(
                    "SELECT c.name, l.id, l.remaining FROM wallet_lots l"
                    " JOIN clients c ON c.id = l.client_id")):
                shown[name]["lots"].add((lot_id, D(remaining)))
            for name, resource in connection.execute(text(
                    "SELECT c.name, s.resource FROM resource_states s"
                    " JOIN clients c ON c.id = s.client_id WHERE s.blocked")):
                shown[name]["blocked"].add(resource)
            for row in connection.execute(text(
                    "SELECT c.name, q.id, q.type, q.amount, q.created_at, q.due_date, q.status,"
                    " q.paid_at FROM payment_requests q JOIN clients c ON c.id = q.client_id")):
                shown[row[0]]["requests"][row[1]] = (
                    row[0], row[2], D(row[3]), moment(row[4]), date.fromisoformat(str(row[5])),
                    row[6], moment(row[7]))
            for name, campaign_id, resource, status in connection.execute(text(
                    "SELECT c.name, k.id, k.resource, k.status FROM campaigns k"
                    " JOIN clients c ON c.id = k.client_id")):
                shown[name]["campaigns"].add((campaign_id, resource, status))
            for row in connection.execute(text(
                    "SELECT c.name, p.start, a.resource, a.kind, a.threshold, a.at FROM alerts a"
                    " JOIN clients c ON c.id = a.client_id JOIN periods p ON p.id = a.period_id")):
                shown[row[0]]["alerts"].append(
                    (moment(row[1]), row[2], row[3], row[4], moment(row[5])))
        for name, c in model.clients.items():
            period = c.period
            expected = {
                "periods": set() if period is None else {(period.start, period.end)},
                "counters": {} if period is None else {
                    r: (k.included, k.included_used, k.wallet_used, k.overage_units,
                        k.overage_amount, k.unserved) for r, k in period.counters.items()},
                "lots": {(lot.engine_id, lot.remaining) for lot in c.lots},
                "blocked": {r for r in RESOURCES if c.blocked[r]},
                "requests": {q.engine_id: q.signature() for q in model.requests
                             if q.client == name},
                "alerts": sorted(((a.period_start, a.resource, a.kind, a.threshold, a.at)
                                  for a in c.alerts), key=repr),
                "campaigns": {(k.engine_id, k.resource, model.campaign_status(k))
                              for k in c.campaigns},
            }
            shown[name]["alerts"].sort(key=repr)
            for key, value in expected.items():
                assert shown[name][key] == value, (
                    f"{name} {key} at {self.now}: stored {shown[name][key]} model {value}")

    def _compare_client_page(self, name: str) -> None:
        """`clients.client_detail`: resources, blocks, subscription and lots, as shown."""
        now, c = self.now, self.model.clients[name]
        detail = clients.client_detail(self.desk, name)
        expected = self.model.resources(name, now)
        for r in RESOURCES:
            got = detail.resources[r]
            shown = {key: getattr(got, key) for key in expected[r]}
            assert shown == expected[r], f"{name} {r} at {now}: desk {shown} model {expected[r]}"
        assert detail.blocked == tuple(r for r in RESOURCES if c.blocked[r])
        sub = detail.subscription
        if c.terms is None:
            assert sub is None, f"{name}: the desk shows a subscription the model does not have"
        else:
            assert sub is not None and c.period is not None
            plan = c.terms.plan
            shown_sub = (sub.status, sub.plan, sub.period_start, sub.period_end, sub.addons,
                         sub.due_days, sub.fee, sub.anchor, sub.alerts, sub.included,
                         sub.overage)
            expected_sub = ("active", plan.name, c.period.start, c.period.end, plan.addons,
                            plan.due_days, plan.fee, plan.anchor, plan.alerts,
                            {r: c.terms.included(r) for r in RESOURCES},
                            {r: c.terms.rate(r) for r in RESOURCES})
            assert shown_sub == expected_sub, f"{name}: desk {shown_sub} model {expected_sub}"
        shown_lots = sorted((lot.id, lot.resource, lot.pack, lot.units, lot.remaining,
                             lot.applied_at, lot.expires_at, lot.expired) for lot in detail.lots)
        model_lots = sorted((lot.engine_id, lot.resource, lot.pack, lot.units, lot.remaining,
                             lot.applied_at, lot.expires_at,
                             lot.expires_at is not None and lot.expires_at <= now)
                            for lot in c.lots)
        assert shown_lots == model_lots, f"{name} lots: desk {shown_lots} model {model_lots}"
        assert sorted(p.name for p in detail.assigned_packs) == sorted(c.assigned)
        model_history = sorted(self.model.history(name), key=repr)
        if model_history != self.last_history.get(name):
            # Purchases, expiries and revokes do not depend on the clock: read again only when
            # they changed (the stored state shows every lot and request after every step).
            history = billing.billing_history(self.desk, name)
            assert [row.date for row in history] == sorted(
                (row.date for row in history), reverse=True), "history: newest first"
            shown_history = sorted(((row.date, row.kind, row.package_type, row.resource,
                                     row.credits, row.amount, row.status, row.expires_at)
                                    for row in history), key=repr)
            assert shown_history == model_history, (
                f"{name} history: desk {shown_history} model {model_history}")
            self.last_history[name] = model_history
        shown_campaigns = [(k.id, k.resource, k.status) for k in detail.campaigns]
        model_campaigns = sorted((k.engine_id, k.resource, self.model.campaign_status(k))
                                 for k in c.campaigns)
        assert shown_campaigns == model_campaigns, (
            f"{name} campaigns: desk {shown_campaigns} model {model_campaigns}")

    def _compare_payments(self) -> None:
        model, now = self.model, self.now
        shown = billing.list_payments(self.desk)
        by_id = {q.engine_id: q for q in model.requests if q.engine_id is not None}
        unmatched = [q for q in model.requests if q.engine_id is None]
        for p in shown:
            signature = (p.client, p.type, p.amount, p.created_at, p.due_date, p.status, p.paid_at)
            if p.id not in by_id:
                match = next((q for q in unmatched if q.signature() == signature), None)
                assert match is not None, (
                    f"desk has payment request {signature}; model expects one of "
                    f"{[q.signature() for q in unmatched]}")
                match.engine_id = p.id
                unmatched.remove(match)
                by_id[p.id] = match
            q = by_id[p.id]
            assert signature == q.signature(), f"request {p.id}: desk {signature} model {q}"
            assert p.overdue == model.overdue(q, now)
        assert not unmatched, f"model expects requests the desk lacks: {unmatched}"
        assert len(shown) == len(model.requests)

    def _compare_alerts(self) -> None:
        """`billing.list_alerts`: kind, threshold, resource, period start and time."""
        shown: dict[str, list[tuple[object, ...]]] = {name: [] for name in self.model.clients}
        for a in billing.list_alerts(self.desk):
            shown[a.client].append((a.period_start, a.resource, a.kind, a.threshold, a.at))
        for name in self.model.clients:
            expected = sorted(((a.period_start, a.resource, a.kind, a.threshold, a.at)
                               for a in self.model.clients[name].alerts), key=repr)
            assert sorted(shown[name], key=repr) == expected, (
                f"{name} alerts: desk {sorted(shown[name], key=repr)} model {expected}")


#: Where the machine's desks come from: set by the test for its backend.
DESKS: list[SqliteDesks | PostgresDesks] = [SqliteDesks()]

#: Examples of 50 steps on each backend. PostgreSQL runs the same machine on fewer examples:
#: every step is a few round trips to a server, and each example clones a database.
EXAMPLES = {"sqlite": 200, "postgres": 60}


def test_billing_state_machine(backend: str,
                               postgres_databases: PostgresDatabases | None) -> None:
    if backend == "postgres":
        assert postgres_databases is not None
        DESKS[0] = PostgresDesks(postgres_databases)
    else:
        DESKS[0] = SqliteDesks()
    run_state_machine_as_test(BillingMachine, settings=settings(
        max_examples=EXAMPLES[backend], stateful_step_count=50, deadline=None, database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.filter_too_much]))
