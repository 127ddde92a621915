"""The audit trail (SPEC §12): who changed what, when; one entry per write."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import localcontext
from typing import Any

from sqlalchemy import exists, func, or_, select

from quotadesk.models import AuditClient, AuditEntry, Client, UsageEvent
from quotadesk.services.changes import committed
from quotadesk.services.errors import InvalidValue, echo
from quotadesk.services.references import find
from quotadesk.services.rules.periods import local_midnight
from quotadesk.services.unit_of_work import EXACT, Desk, Tx, read_op, write_op

MAX_ROWS = 5000


@dataclass(frozen=True)
class AuditRow:
    id: int
    at: datetime
    actor: str
    action: str
    entity: str
    entity_id: int | None
    detail: dict[str, Any]
    #: The names of the clients the entry is about (for people; `audit --client` finds by them).
    clients: tuple[str, ...] = ()

    def detail_line(self) -> str:
        """The detail as "key: value" pairs, for people."""
        return ", ".join(f"{key}: {_plain(value)}" for key, value in self.detail.items())


def _plain(value: object) -> str:
    if isinstance(value, list):
        return ", ".join(map(str, value)) or "—"
    return "—" if value is None else str(value)


def detail_text(detail: Mapping[str, Any]) -> str:
    """How an entry's detail is stored: JSON, keys sorted, values as text where not JSON."""
    return json.dumps(dict(detail), default=str, ensure_ascii=False, sort_keys=True)


def _detail(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {"text": text}
    return value if isinstance(value, dict) else {"value": value}


def _entity_id(value: str | None) -> int | None:
    if value is None:
        return None
    return int(value) if value.isascii() and value.isdigit() else None


def parse_since(value: object) -> date | None:
    """`--since`: an inclusive local date, YYYY-MM-DD."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    text = str(value).strip()
    try:
        if not text.isascii():
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"since: {echo(value)} is not a date (YYYY-MM-DD)", "since") from None


@read_op
def list_audit(tx: Tx, client: object = None, since: object = None, action: str | None = None,
               limit: int | None = MAX_ROWS) -> list[AuditRow]:
    """Entries newest first. `client`: those whose entity is the client or that changed its
    subscription, snapshot, lots, requests or rules; `since`: from that local day on;
    `action`: that action, or every action under it ("payment" finds "payment.paid")."""
    query = select(AuditEntry)
    if client is not None:
        client_id = find(tx.session, Client, client).id
        query = query.where(exists().where(AuditClient.audit_id == AuditEntry.id,
                                           AuditClient.client_id == client_id))
    day = parse_since(since)
    if day is not None:
        query = query.where(AuditEntry.at >= local_midnight(day, tx.tz))
    if action is not None and action.strip():
        wanted = action.strip()
        query = query.where(or_(AuditEntry.action == wanted,
                                AuditEntry.action.startswith(wanted + ".", autoescape=True)))
    query = query.order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
    if limit is not None:
        query = query.limit(limit)
    entries = list(tx.session.scalars(query))
    names: dict[int, list[str]] = {}
    ids = [e.id for e in entries]
    for start in range(0, len(ids), 1000):
        for audit_id, name in tx.session.execute(
                select(AuditClient.audit_id, Client.name)
                .join(Client, Client.id == AuditClient.client_id)
                .where(AuditClient.audit_id.in_(ids[start:start + 1000]))
                .order_by(Client.name_key)):
            names.setdefault(audit_id, []).append(name)
    return [AuditRow(e.id, e.at, e.actor, e.action, e.entity, _entity_id(e.entity_id),
                     _detail(e.detail), tuple(names.get(e.id, ()))) for e in entries]


@read_op
def audit_actions(tx: Tx) -> list[str]:
    """The actions recorded so far (the window's filter)."""
    return sorted(tx.session.scalars(select(AuditEntry.action).distinct()))


# -- entries for writes that span transactions -------------------------------------------
@write_op
def record(tx: Tx, *, action: str, entity: str, entity_id: int | None = None,
           clients: Iterable[int] = (), detail: Mapping[str, Any] | None = None) -> None:
    """One entry for a write made of several transactions (an import, a rollover)."""
    tx.audit_about(clients, action, entity, entity_id, **dict(detail or {}))


# An import reads the clock once per batch, and its entry is dated by what it recorded:
# these two read and write without reading the clock again.
def last_event_row(desk: Desk) -> int:
    """The newest usage event's row id (before an import starts)."""
    with desk.database.session(write=False) as session:
        return int(session.scalar(select(func.max(UsageEvent.id))) or 0)


def record_import(desk: Desk, after_row: int, detail: Mapping[str, Any]) -> None:
    """The import's one entry (SPEC §12), about the clients of the events recorded after row
    `after_row`, dated when the last of them was recorded."""
    with localcontext(EXACT), desk.database.session(write=True) as session:
        newer = (UsageEvent.id > after_row,)
        at = session.scalar(select(func.max(UsageEvent.recorded_at)).where(*newer))
        if at is None:
            return  # nothing was written
        clients = session.scalars(select(UsageEvent.client_id).distinct().where(*newer))
        Tx(session, at, desk).audit_about(list(clients), "usage.import", "import", None,
                                          **dict(detail))
        session.commit()
        committed(session)
