"""The client list's read: every client with what the list shows of it, for 100,000 clients
in one query (plain tuples, exact values)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, NamedTuple

from sqlalchemy import Select, String, and_, case, cast, func, or_, select
from sqlalchemy.sql.functions import aggregate_strings

from quotadesk.models import (
    Client,
    PaymentRequest,
    Period,
    PeriodUsage,
    ResourceState,
    Subscription,
    WalletLot,
)
from quotadesk.models.base import table_of
from quotadesk.services.rules.periods import local_date
from quotadesk.services.rules.quantities import RESOURCES, canonical
from quotadesk.services.unit_of_work import Tx, read_op

ZERO = Decimal(0)


class ClientListRow(NamedTuple):
    """One client list row, a plain tuple (100,000 of them are read at once)."""

    id: int
    name: str
    email: str | None
    plan: str | None
    #: (resource, included, used) for each resource the open period has an allowance of.
    allowances: tuple[tuple[str, Decimal, Decimal], ...]
    #: (resource, units) of the live lots, in resource order.
    wallet: tuple[tuple[str, Decimal], ...]
    blocked: tuple[str, ...]
    pending: Decimal
    overdue: int


@read_op
def client_list_rows(tx: Tx, limit: int | None = None) -> list[ClientListRow]:
    """Every client (or the first `limit` by name) for the client list: one Core query, each
    client's allowances, wallet, blocks and pending requests gathered beside it as text and
    turned into exact values here (most values repeat, so most are looked up, not parsed)."""
    session, now = tx.session, tx.now
    today = local_date(now, tx.tz)
    c, s = table_of(Client), table_of(Subscription)
    p, u, w = table_of(Period), table_of(PeriodUsage), table_of(WalletLot)
    rs, pr = table_of(ResourceState), table_of(PaymentRequest)
    sides = [
        (select(aggregate_strings(u.c.resource + "=" + cast(u.c.included, String) + "/"
                                  + cast(u.c.included_used, String), " ")).join(
            p, p.c.id == u.c.period_id).where(p.c.closed_at.is_(None), u.c.included != ZERO),
         p.c.client_id),
        (select(aggregate_strings(w.c.resource + "=" + cast(w.c.remaining, String), " ")).where(
            w.c.remaining != ZERO, or_(w.c.expires_at.is_(None), w.c.expires_at > now)),
         w.c.client_id),
        (select(aggregate_strings(rs.c.resource, " ")).where(rs.c.blocked), rs.c.client_id),
        (select(aggregate_strings(cast(pr.c.amount, String) + case(
            (pr.c.due_date < today, "!"), else_=""), " ")).where(pr.c.status == "pending"),
         pr.c.client_id)]
    query: Select[Any] = select(c.c.id, c.c.name, c.c.email, s.c.plan_name).select_from(c).join(
        s, and_(s.c.client_id == c.c.id, s.c.status == "active"), isouter=True)
    for side, owner in sides:
        if limit is not None:  # a few clients: a look-up per client and side table
            query = query.add_columns(side.where(owner == c.c.id).scalar_subquery())
        else:  # all of them: each side table gathered per client in one pass, then joined
            gathered = side.add_columns(owner.label("owner")).group_by(owner).subquery()
            query = query.add_columns(gathered.c[0]).join(
                gathered, gathered.c.owner == c.c.id, isouter=True)
    query = query.order_by(c.c.name_key)
    if limit is not None:
        query = query.limit(limit)
    number = _Numbers()
    order = {r.value: i for i, r in enumerate(RESOURCES)}
    blocks: dict[str | None, tuple[str, ...]] = {None: ()}
    rows: list[ClientListRow] = []
    for cid, name, email, plan, allowed, held, blocked_text, owed in session.connection(
            ).execute(query).all():  # at once: a third of the time of a fetch per row
        if blocked_text not in blocks:
            blocks[blocked_text] = tuple(sorted(blocked_text.split(), key=order.__getitem__))
        due, overdue = ZERO, 0
        if owed:
            for amount in owed.split():
                if amount[-1] == "!":
                    overdue += 1
                    amount = amount[:-1]
                due += number(amount)
        rows.append(ClientListRow(cid, name, email, plan, number.allowances(allowed) if plan
                                  else (), number.wallet(held), blocks[blocked_text], due,
                                  overdue))
    return rows


@read_op
def client_count(tx: Tx) -> int:
    """How many clients the desk has."""
    return int(tx.session.connection().execute(
        select(func.count()).select_from(table_of(Client))).scalar_one())


class _Numbers:
    """Exact values from the query's text, each distinct text parsed once."""

    def __init__(self) -> None:
        self.values: dict[str, Decimal] = {}
        self.groups: dict[str | None, Any] = {None: ()}

    def __call__(self, text: str) -> Decimal:
        value = self.values.get(text)
        if value is None:
            value = self.values[text] = canonical(Decimal(text))
        return value

    def allowances(self, text: str | None) -> tuple[tuple[str, Decimal, Decimal], ...]:
        found = self.groups.get(text)
        if found is None:
            parts = []
            for part in text.split():  # type: ignore[union-attr]
                resource, _, amounts = part.partition("=")
                included, _, used = amounts.partition("/")
                parts.append((resource, self(included), self(used)))
            found = self.groups[text] = tuple(sorted(parts, key=_resource_order))
        return found

    def wallet(self, text: str | None) -> tuple[tuple[str, Decimal], ...]:
        found = self.groups.get(text)
        if found is None:
            totals: dict[str, Decimal] = {}
            for part in text.split():  # type: ignore[union-attr]
                resource, _, units = part.partition("=")
                totals[resource] = totals.get(resource, ZERO) + self(units)
            found = self.groups[text] = tuple(sorted(totals.items(), key=_resource_order))
        return found


def _resource_order(item: tuple[Any, ...]) -> int:
    return _RESOURCE_ORDER[item[0]]


_RESOURCE_ORDER = {r.value: i for i, r in enumerate(RESOURCES)}
