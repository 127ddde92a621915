"""Clients, subscriptions, pack assignments and campaigns."""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal

from sqlalchemy import delete, select

from quotadesk.models import (
    AddonPack,
    Alert,
    Campaign,
    Client,
    LedgerEntry,
    PackAssignment,
    Period,
    PeriodUsage,
    Plan,
    ResourceState,
    Subscription,
    SubscriptionTerm,
    WalletLot,
)
from quotadesk.services.account_store import PendingWrites, load_accounts
from quotadesk.services.catalog import pack_info
from quotadesk.services.client_listing import client_list_rows
from quotadesk.services.errors import (
    AddonsDisabled,
    InvalidTransition,
    InvalidValue,
    NoActiveSubscription,
    NotFound,
    echo,
)
from quotadesk.services.references import clean_name, ensure_unique, find, name_key, record_id
from quotadesk.services.results import (
    AlertInfo,
    CampaignInfo,
    ClientDetail,
    ClientInfo,
    ClientSummary,
    LotInfo,
    PackInfo,
    ResourceUsage,
    SubscriptionInfo,
)
from quotadesk.services.rules.periods import Anchor, anchor_day_for
from quotadesk.services.rules.plan_terms import plan_terms
from quotadesk.services.rules.quantities import RESOURCES, Resource, parse_resource
from quotadesk.services.rules.rating import lot_expired, lot_is_live
from quotadesk.services.unit_of_work import Tx, read_op, write_op
from quotadesk.services.usage_sources.identifiers import identifiers_of

ZERO = Decimal(0)
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
CAMPAIGN_STATUSES = ("running", "paused", "paused_quota", "finished")


def clean_email(value: object) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    if not text:
        return None
    if len(text) > 320 or not EMAIL.match(text) or not text.isprintable():
        raise InvalidValue(f"email: {echo(text)} is not an email address", "email")
    return text


@write_op
def add_client(tx: Tx, *, name: str, email: object = None) -> ClientInfo:
    clean = clean_name(name)
    ensure_unique(tx.session, Client, clean)
    client = Client(name=clean, name_key=name_key(clean), email=clean_email(email),
                    created_at=tx.now)
    tx.session.add(client)
    tx.session.flush()
    tx.session.add_all([ResourceState(client_id=client.id, resource=r.value, blocked=False,
                                      changed_at=tx.now) for r in RESOURCES])
    tx.audit("client.add", "client", client.id, name=clean)
    return ClientInfo(client.id, client.name, client.email)


@write_op
def edit_client(tx: Tx, *, client: object, name: str | None = None,
                email: object = ...) -> ClientInfo:
    row = find(tx.session, Client, client)
    if name is not None:
        clean = clean_name(name)
        ensure_unique(tx.session, Client, clean, exclude_id=row.id)
        row.name, row.name_key = clean, name_key(clean)
    if email is not ...:
        row.email = clean_email(email)
    tx.audit("client.edit", "client", row.id, name=row.name)
    return ClientInfo(row.id, row.name, row.email)


# -- subscriptions ------------------------------------------------------------------------
@write_op
def subscribe(tx: Tx, *, client: object, plan: object) -> SubscriptionInfo:
    """Subscribe, or re-subscribe with a fresh snapshot; the wallet is kept (SPEC §8)."""
    session = tx.session
    row = find(session, Client, client)
    plan_row = find(session, Plan, plan)
    journal = PendingWrites(tx)
    book = load_accounts(journal, [row.id])[row.id]
    book.catch_up(tx.now)
    previous = session.scalars(select(Subscription).where(
        Subscription.client_id == row.id, Subscription.status == "active")).first()
    anchor = Anchor(plan_row.anchor)
    sub = Subscription(
        client_id=row.id, plan_id=plan_row.id, status="active", started_at=tx.now, ended_at=None,
        plan_name=plan_row.name, fee=plan_row.fee, anchor=plan_row.anchor,
        anchor_day=anchor_day_for(tx.now, anchor, tx.tz), addons=plan_row.addons,
        due_days=plan_row.due_days, alert_thresholds=plan_row.alert_thresholds,
        increment_first=plan_row.increment_first, increment_next=plan_row.increment_next)
    session.add(sub)
    if previous is not None:
        previous.status, previous.ended_at = "cancelled", tx.now
    session.flush()
    terms = [SubscriptionTerm(subscription_id=sub.id, resource=t.resource, included=t.included,
                              overage_rate=t.overage_rate) for t in plan_row.terms]
    session.add_all(terms)
    snapshot = plan_terms(sub, terms)
    if previous is not None and book.period is not None:
        book.take_terms(snapshot, tx.now)
    else:
        book.terms = snapshot
        book.open_period(tx.now)
        for resource in RESOURCES:
            book.evaluate(resource, tx.now, attempted=False, free_before=None)
    journal.flush()
    tx.audit("subscribe", "client", row.id, plan=plan_row.name,
             resubscribe=previous is not None)
    return _subscription_info(tx, row.id)


@write_op
def cancel(tx: Tx, *, client: object) -> None:
    """Close the current period at once (its overage billed) and end consumption."""
    session = tx.session
    row = find(session, Client, client)
    journal = PendingWrites(tx)
    book = load_accounts(journal, [row.id])[row.id]
    book.catch_up(tx.now, cancelling=True)
    if book.terms is None:
        book.require_active()
    sub = session.scalars(select(Subscription).where(
        Subscription.client_id == row.id, Subscription.status == "active")).one()
    book.close_now(tx.now)
    sub.status, sub.ended_at = "cancelled", tx.now
    journal.flush()
    tx.audit("cancel", "client", row.id, plan=sub.plan_name)


def _subscription_info(tx: Tx, client_id: int) -> SubscriptionInfo:
    session = tx.session
    sub = session.scalars(select(Subscription).where(
        Subscription.client_id == client_id, Subscription.status == "active")).first()
    if sub is None:
        raise NoActiveSubscription("subscription: no active subscription", "subscription")
    period = session.execute(select(Period.start, Period.end).where(
        Period.client_id == client_id, Period.closed_at.is_(None))).first()
    terms = session.scalars(select(SubscriptionTerm).where(
        SubscriptionTerm.subscription_id == sub.id)).all()
    return SubscriptionInfo(
        id=sub.id, status=sub.status, started_at=sub.started_at,
        period_start=period.start if period else None, period_end=period.end if period else None,
        terms=plan_terms(sub, terms))


def catch_up_client(tx: Tx, client_id: int, *, refuse_behind: bool = True) -> None:
    """Before any write for a client, close its periods that ended by now (SPEC §8).

    A clock earlier than the latest moment recorded for the client is refused, unless the
    write is one SPEC §8 exempts (an assignment): then there is nothing to catch up."""
    journal = PendingWrites(tx)
    book = load_accounts(journal, [client_id])[client_id]
    if not refuse_behind and book.latest is not None and tx.now < book.latest:
        return
    book.catch_up(tx.now)
    journal.flush()


# -- assignments --------------------------------------------------------------------------
def _active_subscription(tx: Tx, client_id: int) -> Subscription:
    sub = tx.session.scalars(select(Subscription).where(
        Subscription.client_id == client_id, Subscription.status == "active")).first()
    if sub is None:
        raise NoActiveSubscription("subscription: the client has no active subscription",
                                   "subscription")
    return sub


@write_op
def assign_packs(tx: Tx, *, client: object, packs: Sequence[object]) -> list[PackInfo]:
    """Assign catalog packs the client may buy; only while the snapshot has add-ons on."""
    session = tx.session
    row = find(session, Client, client)
    if not packs:
        raise InvalidValue("packs: select at least one addon pack", "packs")
    catch_up_client(tx, row.id, refuse_behind=False)
    if not _active_subscription(tx, row.id).addons:
        raise AddonsDisabled()
    assigned = set(session.scalars(select(PackAssignment.pack_id).where(
        PackAssignment.client_id == row.id)))
    added = []
    for ref in packs:
        pack = find(session, AddonPack, ref)
        if pack.archived:
            raise InvalidValue(f"pack: {pack.name!r} is archived", "pack")
        if pack.id not in assigned:
            session.add(PackAssignment(client_id=row.id, pack_id=pack.id, assigned_at=tx.now))
            assigned.add(pack.id)
            added.append(pack_info(pack))
    tx.audit("assign", "client", row.id, packs=[p.name for p in added])
    return added


@write_op
def set_assigned_packs(tx: Tx, *, client: object, packs: Sequence[object]
                       ) -> tuple[list[PackInfo], list[PackInfo]]:
    """Make the client's assignments exactly `packs` (the assignment editor's Save), in one
    transaction: any refusal leaves every assignment as it was. Adding needs add-ons on;
    removing does not. Returns (added, removed)."""
    session = tx.session
    row = find(session, Client, client)
    wanted = {pack.id: pack for pack in (find(session, AddonPack, ref) for ref in packs)}
    current = {a.pack_id: a for a in session.scalars(select(PackAssignment).where(
        PackAssignment.client_id == row.id))}
    adding = [wanted[i] for i in sorted(wanted.keys() - current.keys())]
    removing = sorted(current.keys() - wanted.keys())
    if adding:
        catch_up_client(tx, row.id, refuse_behind=False)
        if not _active_subscription(tx, row.id).addons:
            raise AddonsDisabled()
    for pack in adding:
        if pack.archived:
            raise InvalidValue(f"pack: {pack.name!r} is archived", "pack")
        session.add(PackAssignment(client_id=row.id, pack_id=pack.id, assigned_at=tx.now))
    removed_rows = [session.get(AddonPack, i) for i in removing]
    for pack_id in removing:
        session.delete(current[pack_id])
    added = [pack_info(p) for p in adding]
    removed = [pack_info(p) for p in removed_rows if p is not None]
    if added:
        tx.audit("assign", "client", row.id, packs=[p.name for p in added])
    for p in removed:
        tx.audit("unassign", "client", row.id, pack=p.name)
    return added, removed


@write_op
def unassign_pack(tx: Tx, *, client: object, pack: object) -> None:
    session = tx.session
    row = find(session, Client, client)
    pack_row = find(session, AddonPack, pack)
    result = session.execute(delete(PackAssignment).where(
        PackAssignment.client_id == row.id, PackAssignment.pack_id == pack_row.id))
    if not result.rowcount:  # type: ignore[attr-defined]
        raise NotFound(f"pack: {pack_row.name!r} is not assigned to {row.name!r}", "pack")
    tx.audit("unassign", "client", row.id, pack=pack_row.name)


def lot_state(expired: bool, revoked: bool, remaining: Decimal) -> str:
    """What a lot is now: expired, revoked (its unused units taken back), used up or
    available."""
    if expired:
        return "expired"
    if revoked and remaining == 0:
        return "revoked"
    return "used up" if remaining == 0 else "available"


# -- campaigns ----------------------------------------------------------------------------
@write_op
def add_campaign(tx: Tx, *, client: object, name: str, resource: object) -> CampaignInfo:
    session = tx.session
    row = find(session, Client, client)
    res = parse_resource(resource)
    catch_up_client(tx, row.id)
    blocked = session.scalar(select(ResourceState.blocked).where(
        ResourceState.client_id == row.id, ResourceState.resource == res.value))
    campaign = Campaign(client_id=row.id, name=clean_name(name), resource=res.value,
                        status="paused_quota" if blocked else "running",
                        created_at=tx.now, updated_at=tx.now)
    session.add(campaign)
    session.flush()
    tx.audit_about([row.id], "campaign.add", "campaign", campaign.id, client=row.name,
                   name=campaign.name)
    return _campaign_info(campaign, row.name)


_CAMPAIGN_ACTIONS = {
    "pause": ({"running", "paused_quota"}, "paused"),
    "resume": ({"paused"}, "running"),
    "finish": ({"running", "paused", "paused_quota"}, "finished"),
}


@write_op
def change_campaign(tx: Tx, *, campaign_id: int, action: str) -> CampaignInfo:
    """Pause, resume or finish a campaign; resuming a blocked resource waits for credit."""
    session = tx.session
    campaign = session.get(Campaign, record_id(campaign_id, "campaign"))
    if campaign is None:
        raise NotFound(f"campaign: no campaign with id {campaign_id}", "campaign")
    if action not in _CAMPAIGN_ACTIONS:
        raise InvalidValue(f"action: unknown campaign action {echo(action)}", "action")
    sources, target = _CAMPAIGN_ACTIONS[action]
    catch_up_client(tx, campaign.client_id)
    session.refresh(campaign)
    if campaign.status not in sources:
        raise InvalidTransition(
            f"status: cannot {action} a campaign that is {campaign.status.replace('_', ' · ')}")
    if target == "running":
        blocked = session.scalar(select(ResourceState.blocked).where(
            ResourceState.client_id == campaign.client_id,
            ResourceState.resource == campaign.resource))
        if blocked:
            target = "paused_quota"
    campaign.status, campaign.updated_at = target, tx.now
    client = session.get(Client, campaign.client_id)
    assert client is not None
    tx.audit_about([campaign.client_id], f"campaign.{action}", "campaign", campaign.id,
                   status=target)
    return _campaign_info(campaign, client.name)


def _campaign_info(c: Campaign, client: str) -> CampaignInfo:
    return CampaignInfo(c.id, client, c.client_id, c.name, c.resource, c.status)


@read_op
def list_campaigns(tx: Tx, client: object = None) -> list[CampaignInfo]:
    query = select(Campaign, Client.name).join(Client, Client.id == Campaign.client_id)
    if client is not None:
        query = query.where(Campaign.client_id == find(tx.session, Client, client).id)
    return [_campaign_info(c, name) for c, name in
            tx.session.execute(query.order_by(Campaign.id))]


# -- reading ------------------------------------------------------------------------------
@read_op
def list_clients(tx: Tx) -> list[ClientSummary]:
    """Every client with plan, blocks, minutes left, wallet and pending money."""
    summaries = []
    for cid, name, email, plan, allowed, held, blocked, due, overdue in \
            client_list_rows.in_tx(tx):
        minutes = next(((i, used) for r, i, used in allowed if r == "minutes"), None)
        summaries.append(ClientSummary(
            id=cid, name=name, email=email, plan=plan, blocked=blocked,
            included_minutes_left=None if plan is None else
            max(ZERO, minutes[0] - minutes[1]) if minutes else ZERO,
            wallet=dict(held), pending_amount=due, overdue=overdue))
    return summaries


@read_op
def client_detail(tx: Tx, client: object) -> ClientDetail:
    """Everything the client page and `client show` need, from maintained counters."""
    session, now = tx.session, tx.now
    row = find(session, Client, client)
    try:
        sub: SubscriptionInfo | None = _subscription_info(tx, row.id)
    except NoActiveSubscription:
        sub = None
    counters = {}
    if sub is not None:
        counters = {u.resource: u for u in session.scalars(
            select(PeriodUsage).join(Period, Period.id == PeriodUsage.period_id).where(
                Period.client_id == row.id, Period.closed_at.is_(None)))}
    blocked = {r: b for r, b in session.execute(select(
        ResourceState.resource, ResourceState.blocked).where(ResourceState.client_id == row.id))}
    lots = []
    revoked = set(session.scalars(select(LedgerEntry.lot_id).where(
        LedgerEntry.client_id == row.id, LedgerEntry.kind == "revoke")))
    for lot, pack_name in session.execute(
            select(WalletLot, AddonPack.name).join(AddonPack, AddonPack.id == WalletLot.pack_id)
            .where(WalletLot.client_id == row.id).order_by(WalletLot.applied_at, WalletLot.id)):
        expired = lot_expired(lot.expires_at, now)
        lots.append(LotInfo(lot.id, lot.resource, pack_name, lot.units, lot.remaining,
                            lot.applied_at, lot.expires_at, expired,
                            lot_state(expired, lot.id in revoked, lot.remaining)))
    resources = {}
    for res in RESOURCES:
        r = res.value
        c = counters.get(r)
        live = [lot for lot in lots if lot.resource == r and lot_is_live(lot, now)]
        expiries = [lot.expires_at for lot in live if lot.expires_at is not None]
        included = c.included if c else ZERO
        used = c.included_used if c else ZERO
        resources[r] = ResourceUsage(
            resource=r, included=included, included_used=used,
            included_left=max(ZERO, included - used),
            wallet=sum((lot.remaining for lot in live), ZERO),
            wallet_never_expires=bool(live) and not expiries,
            next_expiry=min(expiries) if expiries else None,
            overage_units=c.overage_units if c else ZERO,
            overage_amount=c.overage_amount if c else ZERO,
            unserved=c.unserved if c else ZERO, blocked=bool(blocked.get(r)),
            overage_rate=sub.overage.get(r) if sub else None)
    campaigns = tuple(_campaign_info(c, row.name) for c in session.scalars(
        select(Campaign).where(Campaign.client_id == row.id).order_by(Campaign.id)))
    packs = tuple(pack_info(p) for p in session.scalars(
        select(AddonPack).join(PackAssignment, PackAssignment.pack_id == AddonPack.id)
        .where(PackAssignment.client_id == row.id).order_by(AddonPack.name_key)))
    alerts = tuple(AlertInfo(a.id, row.name, a.resource, a.kind, a.threshold, start, a.at)
                   for a, start in session.execute(
                       select(Alert, Period.start).join(Period, Period.id == Alert.period_id)
                       .where(Alert.client_id == row.id)
                       .order_by(Alert.at.desc(), Alert.id.desc()).limit(20)))
    return ClientDetail(
        id=row.id, name=row.name, email=row.email,
        blocked=tuple(r.value for r in RESOURCES if blocked.get(r.value)),
        subscription=sub, resources=resources, lots=tuple(lots), campaigns=campaigns,
        assigned_packs=packs, alerts=alerts, identifiers=identifiers_of(session, row.id))


@read_op
def client_names(tx: Tx) -> list[tuple[int, str]]:
    return list(tx.session.execute(select(Client.id, Client.name).order_by(Client.name_key)).all())


__all__ = ["CAMPAIGN_STATUSES", "Resource", "add_campaign", "add_client", "assign_packs", "cancel",
           "change_campaign", "client_detail", "client_list_rows", "client_names", "edit_client",
           "list_campaigns", "list_clients", "set_assigned_packs", "subscribe", "unassign_pack"]
