"""What a write changed, derived from the rows it wrote (like Anki's `OpChanges`).

Every write transaction notes the tables it wrote and the clients whose rows they were; when
it commits, that becomes a `Changes` value. The window runs its operations inside
`recording()` and broadcasts what was recorded, so that each panel refreshes only what
concerns it and no view has to list areas by hand.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session


class Area(StrEnum):
    """The parts of the desk a write can touch; each panel refreshes only the ones it shows."""

    CLIENTS = "clients"  # who exists, names, e-mails
    SUBSCRIPTION = "subscription"  # plan snapshot, periods
    ASSIGNMENTS = "assignments"  # packs a client may buy
    WALLET = "wallet"  # lots and ledger
    USAGE = "usage"  # counters, blocks, alerts
    CAMPAIGNS = "campaigns"
    PAYMENTS = "payments"
    CATALOG = "catalog"  # plans and add-on packs
    MAIL = "mail"  # the outbox
    DATABASE = "database"  # another database was opened: everything


@dataclass(frozen=True)
class Changes:
    """What a write changed: some areas, for some clients (None: any client)."""

    areas: frozenset[Area]
    clients: frozenset[int] | None = None

    @classmethod
    def of(cls, *areas: Area, clients: Iterable[int] | None = None) -> Changes:
        return cls(frozenset(areas), None if clients is None else frozenset(clients))

    @classmethod
    def everything(cls) -> Changes:
        return cls(frozenset(Area), None)

    @classmethod
    def none(cls) -> Changes:
        return cls(frozenset(), frozenset())

    def __bool__(self) -> bool:
        return bool(self.areas)

    def touches(self, *areas: Area) -> bool:
        return Area.DATABASE in self.areas or not self.areas.isdisjoint(areas)

    def touches_client(self, client_id: int | None) -> bool:
        return self.clients is None or client_id in self.clients

    def __or__(self, other: Changes) -> Changes:
        if not other:
            return self
        if not self:
            return other
        clients = None if self.clients is None or other.clients is None else \
            self.clients | other.clients
        return Changes(self.areas | other.areas, clients)


#: Which areas each table belongs to (the audit log belongs to none: it only records).
TABLE_AREAS: dict[str, frozenset[Area]] = {
    "clients": frozenset({Area.CLIENTS}),
    "subscriptions": frozenset({Area.SUBSCRIPTION, Area.CLIENTS}),
    "subscription_terms": frozenset({Area.SUBSCRIPTION}),
    "periods": frozenset({Area.SUBSCRIPTION, Area.USAGE}),
    "period_usage": frozenset({Area.USAGE}),
    "usage_events": frozenset({Area.USAGE}),
    "alerts": frozenset({Area.USAGE}),
    "email_outbox": frozenset({Area.MAIL}),
    "resource_states": frozenset({Area.USAGE, Area.CLIENTS}),
    "pack_assignments": frozenset({Area.ASSIGNMENTS}),
    "pack_applications": frozenset({Area.WALLET}),
    "wallet_lots": frozenset({Area.WALLET}),
    "ledger_entries": frozenset({Area.WALLET}),
    "campaigns": frozenset({Area.CAMPAIGNS}),
    "payment_requests": frozenset({Area.PAYMENTS}),
    "plans": frozenset({Area.CATALOG}),
    "plan_terms": frozenset({Area.CATALOG}),
    "addon_packs": frozenset({Area.CATALOG}),
    "settings": frozenset({Area.DATABASE}),
    "audit_log": frozenset(),
    "client_identifiers": frozenset({Area.CLIENTS}),  # shown on the client's page
    "usage_sources": frozenset({Area.CATALOG}),  # saved mappings, offered by the import
    "audit_clients": frozenset(),
    "topup_rules": frozenset({Area.ASSIGNMENTS}),  # shown on the Addon Packs tab
}


@dataclass
class Written:
    """The rows one transaction wrote: tables, and the clients they belong to (`any_client`
    when a statement's rows cannot be told apart, such as a catalog edit)."""

    tables: set[str] = field(default_factory=set)
    clients: set[int] = field(default_factory=set)
    any_client: bool = False

    def changes(self) -> Changes:
        areas: set[Area] = set()
        for table in self.tables:
            areas |= TABLE_AREAS.get(table, frozenset({Area.DATABASE}))
        if not areas:
            return Changes.none()
        only_catalog = areas <= {Area.CATALOG}
        clients = None if self.any_client or only_catalog else frozenset(self.clients)
        return Changes(frozenset(areas), clients)


def written(session: Session) -> Written:
    """What this session's transaction has written so far."""
    found = session.info.get("written")
    if found is None:
        found = session.info["written"] = Written()
    return found


def note_rows(session: Session, table: str, client_ids: Iterable[int] | None) -> None:
    """Bulk statements say what they wrote (`None`: rows of clients not known here)."""
    log = written(session)
    log.tables.add(table)
    if client_ids is None:
        log.any_client = True
    else:
        log.clients.update(client_ids)


@event.listens_for(Session, "after_flush")
def _after_flush(session: Session, _context: Any) -> None:
    log = written(session)
    for obj in (*session.new, *session.dirty, *session.deleted):
        table = getattr(obj, "__tablename__", None)
        if table is None:
            continue
        log.tables.add(table)
        client_id = obj.id if table == "clients" else getattr(obj, "client_id", None)
        if isinstance(client_id, int):
            log.clients.add(client_id)
        elif table not in ("plans", "plan_terms", "addon_packs", "settings", "audit_log"):
            log.any_client = True


@event.listens_for(Session, "do_orm_execute")
def _orm_statement(state: Any) -> None:
    if state.is_insert or state.is_update or state.is_delete:
        table = getattr(state.statement, "table", None)
        name = getattr(table, "name", None)
        if name is not None:
            note_rows(state.session, name, None)


# -- recording what a sequence of writes changed -------------------------------------------
_recorder: ContextVar[list[Changes] | None] = ContextVar("changes_recorder", default=None)


@contextmanager
def recording() -> Iterator[list[Changes]]:
    """Collect the `Changes` of every write committed inside (on this thread)."""
    found: list[Changes] = []
    token = _recorder.set(found)
    try:
        yield found
    finally:
        _recorder.reset(token)


def committed(session: Session) -> Changes:
    """Called by the unit of work once a write transaction committed: its `Changes`, also
    handed to a `recording()` in progress."""
    changes = written(session).changes()
    session.info.pop("written", None)
    recorder = _recorder.get()
    if recorder is not None and changes:
        recorder.append(changes)
    return changes


def note(changes: Changes) -> None:
    """A write that ran outside a session of this process (an import's writer process)
    says what it changed."""
    recorder = _recorder.get()
    if recorder is not None and changes:
        recorder.append(changes)


def merged(found: Iterable[Changes]) -> Changes:
    result = Changes.none()
    for changes in found:
        result = result | changes
    return result
