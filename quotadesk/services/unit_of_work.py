"""The unit of work: one service call = one user action = one transaction, retried when
another desk held the data, rolled back whole on any refusal or failure."""

from __future__ import annotations

import getpass
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Context, DivisionByZero, InvalidOperation, Overflow, localcontext
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from quotadesk.db import Database, open_database
from quotadesk.models import AuditClient, AuditEntry, Setting
from quotadesk.models.base import table_of
from quotadesk.services.changes import committed
from quotadesk.services.errors import ClockBehind, DatabaseBusy, DatabaseNotInitialised

P = ParamSpec("P")
R = TypeVar("R")
Clock = Callable[[], datetime]

MAX_ATTEMPTS = 6


def system_clock() -> datetime:
    return datetime.now(UTC)


def fixed_clock(moment: datetime) -> Clock:
    return lambda: moment


@dataclass
class Desk:
    """What every service call needs: the database, the one clock, and who is acting."""

    database: Database
    clock: Clock = system_clock
    actor: str = field(default_factory=lambda: _current_user())
    _settings: dict[str, str] | None = None
    #: What went wrong while opening that did not stop it (a failed daily backup), for the
    #: window to say in a dialog.
    startup_problems: list[str] = field(default_factory=list)
    _actor_known: bool = False

    @classmethod
    def open(cls, path_or_url: str | None = None, clock: Clock = system_clock) -> Desk:
        return cls(open_database(path_or_url), clock)

    def settings(self) -> dict[str, str]:
        if self._settings is None:
            table = table_of(Setting)  # Core: opening a desk does not configure the mappers
            with self.database.session(write=False) as session:
                rows = session.connection().execute(select(table.c.key, table.c.value)).all()
            self._settings = {key: value for key, value in rows}
        return self._settings

    def forget_settings(self) -> None:
        self._settings = None

    def actor_in(self, session: Session) -> str:
        """Who the audit log says acted (SPEC §12): the operating-system user on SQLite, the
        database role on PostgreSQL (asked of the server once)."""
        if not self._actor_known:
            if session.get_bind().dialect.name == "postgresql":
                self.actor = str(session.execute(text("SELECT current_user")).scalar_one())
            self._actor_known = True
        return self.actor

    @property
    def initialised(self) -> bool:
        return "currency" in self.settings()

    @property
    def currency(self) -> str:
        return self._required("currency")

    @property
    def timezone(self) -> ZoneInfo:
        return ZoneInfo(self._required("timezone"))

    def _required(self, key: str) -> str:
        value = self.settings().get(key)
        if value is None:
            raise DatabaseNotInitialised(
                "database: not set up yet (run `quotadesk init` or open it in the window)",
                "database")
        return value

    def close(self) -> None:
        self.database.dispose()


def _current_user() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"


@dataclass
class Tx:
    """One transaction: its session, its single `now`, and the database's settings."""

    session: Session
    now: datetime
    desk: Desk

    @property
    def currency(self) -> str:
        return self.desk.currency

    @property
    def tz(self) -> ZoneInfo:
        return self.desk.timezone

    def audit(self, action: str, entity: str, entity_id: object = None, **detail: Any) -> None:
        """One audit entry for this write (SPEC §12)."""
        self.audit_about((), action, entity, entity_id, **detail)

    def audit_about(self, clients: Iterable[int], action: str, entity: str,
                    entity_id: object = None, **detail: Any) -> None:
        """One audit entry for this write (SPEC §12), about `clients` (and the client that is
        its entity): `audit --client` finds it by them."""
        audit_id = self.new_id(AuditEntry.__table__)
        self.session.add(AuditEntry(
            id=audit_id, at=self.now, actor=self.desk.actor_in(self.session), action=action,
            entity=entity, entity_id=None if entity_id is None else str(entity_id),
            detail=json.dumps(detail, default=str, ensure_ascii=False, sort_keys=True)))
        linked = set(clients)
        if entity == "client" and isinstance(entity_id, int):
            linked.add(entity_id)
        if linked:
            self.session.flush()  # the entry first: the links refer to it
            # One statement, without the ORM (a rollover's entry is about every client).
            self.session.connection().execute(
                insert(table_of(AuditClient)),
                [{"audit_id": audit_id, "client_id": client_id} for client_id in sorted(linked)])

    def new_id(self, table: Any) -> int:
        """A primary key for a row this transaction will bulk-insert into `table`."""
        pools: dict[str, list[int]] = self.session.info.setdefault("id_pools", {})
        taken: dict[str, int] = self.session.info.setdefault("id_taken", {})
        pool = pools.setdefault(table.name, [])
        if not pool:
            # Chunks grow with use (1, 1, 2, 4 … 4096): a sequence never burns more than
            # twice what a transaction uses.
            size = min(4096, max(1, taken.get(table.name, 0)))
            pool.extend(reversed(self._id_chunk(table, size)))
        taken[table.name] = taken.get(table.name, 0) + 1
        return pool.pop()

    def new_ids(self, table: Any, count: int) -> list[int]:
        """`count` primary keys at once, for a batch that knows how many rows it may write
        (unused ones are gaps, as after a rollback)."""
        return self._id_chunk(table, count) if count > 0 else []

    def _id_chunk(self, table: Any, count: int) -> list[int]:
        session = self.session
        if session.get_bind().dialect.name == "postgresql":
            sequence = session.execute(
                text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar_one()
            return list(session.execute(
                text("SELECT nextval(:s) FROM generate_series(1, :n)"),
                {"s": sequence, "n": count}).scalars())
        # SQLite: this transaction holds the write lock (BEGIN IMMEDIATE), so max + 1 is ours.
        marks: dict[str, int] = session.info.setdefault("id_marks", {})
        start = marks.get(table.name)
        if start is None:
            start = (session.execute(select(func.max(table.c.id))).scalar() or 0) + 1
        marks[table.name] = start + count
        return list(range(start, start + count))


def _retryable(error: DBAPIError) -> bool:
    if isinstance(error, IntegrityError):
        return True  # a racing desk inserted the same key first: the retry will see it
    message = str(error.orig).lower() if error.orig is not None else ""
    code = getattr(error.orig, "sqlstate", None)
    return (isinstance(error, OperationalError) and "locked" in message) or code in {
        "40001", "40P01"}


#: Money and quantity arithmetic never rounds by accident: bounded amounts (1e9, six places)
#: times rates (1e9, six places) need 30 digits, sums of a million of them a few more; the
#: default context keeps 28. Every service runs inside this context, on whatever thread.
EXACT = Context(prec=120, rounding=ROUND_HALF_EVEN, Emax=999_999, Emin=-999_999,
                traps=[InvalidOperation, DivisionByZero, Overflow])


def _run(desk: Desk, write: bool, body: Callable[[Tx], R]) -> R:
    with localcontext(EXACT):
        return _run_exact(desk, write, body)


def _run_exact(desk: Desk, write: bool, body: Callable[[Tx], R]) -> R:
    delay = 0.05
    for attempt in range(1, MAX_ATTEMPTS + 1):
        try:
            with desk.database.session(write=write) as session:
                tx = Tx(session, desk.clock(), desk)
                result = body(tx)
                if write:
                    session.commit()
                    committed(session)  # what it wrote, for the window to broadcast
                return result
        except ClockBehind as error:
            # The real clock, read before another desk's write for the same client committed
            # (PostgreSQL locks a client only once the transaction reads it): read it again.
            if desk.clock is not system_clock or attempt == MAX_ATTEMPTS or not error.racing:
                raise
            time.sleep(delay)
            delay *= 2
        except DBAPIError as error:
            if not write or not _retryable(error) or attempt == MAX_ATTEMPTS:
                if isinstance(error, OperationalError) and "locked" in str(error.orig).lower():
                    raise DatabaseBusy(
                        "database: another desk kept it locked; try again in a moment") from error
                raise
            time.sleep(delay)
            delay *= 2
    raise AssertionError("unreachable")  # pragma: no cover


class Service(Protocol[P, R]):
    """A use case: called with a desk, it runs in its own transaction; `in_tx` is its body,
    for a service that reads several things in one transaction."""

    in_tx: Callable[Concatenate[Tx, P], R]

    def __call__(self, desk: Desk, /, *args: P.args, **kwargs: P.kwargs) -> R: ...


def write_op(fn: Callable[Concatenate[Tx, P], R]) -> Service[P, R]:
    """Make `fn(tx, ...)` a service `fn(desk, ...)` that runs in one write transaction."""

    def service(desk: Desk, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return _run(desk, True, lambda tx: fn(tx, *args, **kwargs))

    return _named(service, fn)


def read_op(fn: Callable[Concatenate[Tx, P], R]) -> Service[P, R]:
    """Make `fn(tx, ...)` a read-only service `fn(desk, ...)`."""

    def service(desk: Desk, /, *args: P.args, **kwargs: P.kwargs) -> R:
        return _run(desk, False, lambda tx: fn(tx, *args, **kwargs))

    return _named(service, fn)


def _named(service: Callable[Concatenate[Desk, P], R], fn: Callable[Concatenate[Tx, P], R]
           ) -> Service[P, R]:
    service.in_tx = fn  # type: ignore[attr-defined]
    service.__name__ = fn.__name__
    service.__qualname__ = fn.__qualname__
    service.__doc__ = fn.__doc__
    service.__module__ = fn.__module__
    return service  # type: ignore[return-value]


def check_timezone(name: object) -> str:
    from quotadesk.services.errors import InvalidValue, echo

    try:
        ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError, OSError, TypeError):
        raise InvalidValue(f"timezone: unknown time zone {echo(name)}", "timezone") from None
    return str(name)
