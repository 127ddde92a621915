"""Automatic top-up rules (SPEC §12): set, clear, list. The rule itself is rules/topup.py,
applied by the client's account after each usage event (rules/account.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import delete, select
from sqlalchemy.engine import Connection

from quotadesk.models import AddonPack, Client, PackAssignment, Subscription, TopupRule
from quotadesk.services.errors import InvalidValue, NotFound, echo
from quotadesk.services.references import find
from quotadesk.services.rules.quantities import parse_quantity, parse_resource
from quotadesk.services.rules.topup import PackTerms, why_idle
from quotadesk.services.rules.topup import TopupRule as Rule
from quotadesk.services.unit_of_work import Tx, read_op, write_op

if TYPE_CHECKING:
    from quotadesk.services.rules.account import ClientAccount

STATUSES = ("pending", "paid")


@dataclass(frozen=True)
class TopupInfo:
    id: int
    client: str
    client_id: int
    pack: str
    pack_id: int
    resource: str
    units: Decimal
    price: Decimal
    below: Decimal
    status: str
    armed: bool
    #: Why the rule does nothing now (add-ons off, pack not assigned…), or None: it works.
    idle: str | None


def _status(value: object) -> str:
    text = str(value).strip().lower() if value is not None else "pending"
    if text not in STATUSES:
        raise InvalidValue(f"status: must be pending or paid, not {echo(value)}", "status")
    return text


@write_op
def set_topup(tx: Tx, *, client: object, pack: object, below: object,
              status: object = "pending") -> TopupInfo:
    """When usage leaves the wallet for the pack's resource below `below`, apply the pack
    (status as given). Setting it again replaces the rule, which starts armed."""
    session = tx.session
    row = find(session, Client, client)
    pack_row = find(session, AddonPack, pack)
    threshold = parse_quantity(parse_resource(pack_row.resource), below, "below")
    chosen = _status(status)
    rule = session.scalars(select(TopupRule).where(
        TopupRule.client_id == row.id, TopupRule.pack_id == pack_row.id)).first()
    if rule is None:
        rule = TopupRule(client_id=row.id, pack_id=pack_row.id, below=threshold, status=chosen,
                         armed=True, created_at=tx.now, updated_at=tx.now)
        session.add(rule)
    else:
        rule.below, rule.status, rule.armed, rule.updated_at = threshold, chosen, True, tx.now
    session.flush()
    tx.audit("topup.set", "client", row.id, pack=pack_row.name, below=threshold,
             status=chosen)
    return _infos(tx, row.id, rule.id)[0]


@write_op
def clear_topup(tx: Tx, *, client: object, pack: object) -> None:
    session = tx.session
    row = find(session, Client, client)
    pack_row = find(session, AddonPack, pack)
    done = session.execute(delete(TopupRule).where(
        TopupRule.client_id == row.id, TopupRule.pack_id == pack_row.id))
    if not done.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"pack: {row.name!r} has no top-up rule for {pack_row.name!r}", "pack")
    tx.audit("topup.clear", "client", row.id, pack=pack_row.name)


@read_op
def list_topups(tx: Tx, client: object = None) -> list[TopupInfo]:
    client_id = None if client is None else find(tx.session, Client, client).id
    return _infos(tx, client_id)


def _infos(tx: Tx, client_id: int | None, rule_id: int | None = None) -> list[TopupInfo]:
    assigned = PackAssignment.pack_id.is_not(None)
    query = (select(TopupRule, Client.name, AddonPack, assigned, Subscription.addons)
             .join(Client, Client.id == TopupRule.client_id)
             .join(AddonPack, AddonPack.id == TopupRule.pack_id)
             .outerjoin(PackAssignment, (PackAssignment.client_id == TopupRule.client_id)
                        & (PackAssignment.pack_id == TopupRule.pack_id))
             .outerjoin(Subscription, (Subscription.client_id == TopupRule.client_id)
                        & (Subscription.status == "active")))
    if client_id is not None:
        query = query.where(TopupRule.client_id == client_id)
    if rule_id is not None:
        query = query.where(TopupRule.id == rule_id)
    result = []
    for rule, name, pack, is_assigned, addons in tx.session.execute(
            query.order_by(Client.name_key, AddonPack.name_key)):
        terms = PackTerms(pack.id, pack.name, pack.resource, pack.units, pack.price,
                          pack.expires_months)
        idle = why_idle(Rule(rule.id, terms, rule.below, rule.status, rule.armed,
                             bool(is_assigned)), addons is not None, bool(addons))
        result.append(TopupInfo(rule.id, name, rule.client_id, pack.name, pack.id,
                                pack.resource, pack.units, pack.price, rule.below, rule.status,
                                rule.armed, idle))
    return result


def load_topup_rules(conn: Connection, books: Mapping[int, ClientAccount],
                     client_ids: Sequence[int]) -> None:
    """The clients' rules, with their pack's terms and whether it is assigned, onto their
    accounts (account_store.load_accounts: one query per chunk of clients)."""
    assigned = PackAssignment.pack_id.is_not(None)
    for (rule_id, client_id, below, status, armed, pack_id, name, resource, units, price,
         months, is_assigned) in conn.execute(select(
            TopupRule.id, TopupRule.client_id, TopupRule.below, TopupRule.status,
            TopupRule.armed, AddonPack.id, AddonPack.name, AddonPack.resource, AddonPack.units,
            AddonPack.price, AddonPack.expires_months, assigned)
            .join(AddonPack, AddonPack.id == TopupRule.pack_id)
            .outerjoin(PackAssignment, (PackAssignment.client_id == TopupRule.client_id)
                       & (PackAssignment.pack_id == TopupRule.pack_id))
            .where(TopupRule.client_id.in_(client_ids)).order_by(TopupRule.id)):
        books[client_id].topups.append(Rule(
            rule_id, PackTerms(pack_id, name, resource, units, price, months), below, status,
            bool(armed), bool(is_assigned)))
