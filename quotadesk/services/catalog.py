"""The catalog: billing plans and add-on packs."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy import select, update

from quotadesk.models import AddonPack, Plan, PlanTerm, Subscription
from quotadesk.services.errors import InvalidValue, echo
from quotadesk.services.references import clean_name, clean_text, ensure_unique, find, name_key
from quotadesk.services.results import PackInfo, PlanInfo
from quotadesk.services.rules.increments import parse_increments
from quotadesk.services.rules.money import parse_money, parse_rate
from quotadesk.services.rules.periods import Anchor
from quotadesk.services.rules.plan_terms import alerts_to_store, stored_alerts
from quotadesk.services.rules.quantities import parse_quantity, parse_resource
from quotadesk.services.unit_of_work import Tx, read_op, write_op

DEFAULT_ALERTS = (80, 95)
MAX_DESCRIPTION = 2000


def parse_anchor(value: object) -> Anchor:
    try:
        return Anchor(str(value).strip().lower())
    except ValueError:
        raise InvalidValue(f"anchor: unknown anchor {echo(value)} (use calendar or anniversary)",
                           "anchor") from None


#: What a whole number of more than nine digits reads as: out of every range here.
_TOO_LARGE = 10**10


def _whole_number(value: object) -> int | None:
    """A whole number given as an int or as plain ASCII digits (SPEC §8: no other digits),
    perhaps negative; None for anything else. One of more than nine digits is _TOO_LARGE
    (out of range, not malformed)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        text = value.strip()
        digits = text.removeprefix("-")
        if digits.isascii() and digits.isdigit():
            number = int(digits) if len(digits) <= 9 else _TOO_LARGE
            return -number if text.startswith("-") else number
    return None


def _bounded(value: object, field: str, low: int, high: int, unit: str) -> int:
    number = _whole_number(value)
    if number is None:
        raise InvalidValue(f"{field}: {echo(value)} is not a whole number of {unit}", field)
    if not low <= number <= high:
        raise InvalidValue(f"{field}: {echo(value)} is out of range: must be between {low} "
                           f"and {high}", field)
    return number


def parse_due_days(value: object) -> int:
    return _bounded(value, "due_days", 0, 365, "days")


def parse_alerts(value: object) -> tuple[int, ...]:
    """Usage-alert thresholds: text such as "80,95" or "80%, 95%", or a list of whole
    percentages; an empty text or list means no alerts."""
    parts: list[object]
    if isinstance(value, str):
        parts = [p for p in value.split(",") if p.strip()]
    elif isinstance(value, (list, tuple, set, frozenset)):
        parts = list(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        parts = [value]
    else:
        raise InvalidValue("alerts: give whole percentages such as 80,95", "alerts")
    thresholds: set[int] = set()
    for part in parts:
        number = _whole_number(part.strip().removesuffix("%") if isinstance(part, str) else part)
        if number is None:
            raise InvalidValue(f"alerts: {echo(part)} is not a whole percentage", "alerts")
        if not 1 <= number <= 100:
            raise InvalidValue(f"alerts: {echo(part)} is out of range: thresholds must be "
                               "between 1 and 100", "alerts")
        thresholds.add(number)
    return tuple(sorted(thresholds))


def parse_on_off(value: object, field: str = "addons") -> bool:
    """Add-on packs · On/Off: a bool, or on/off, true/false, yes/no, 1/0 as text."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"on", "true", "yes", "1"}:
        return True
    if text in {"off", "false", "no", "0"}:
        return False
    raise InvalidValue(f"{field}: use on or off, not {echo(value)}", field)


def _once(seen: Mapping[str, object], resource: str, field: str) -> None:
    if resource in seen:
        raise InvalidValue(f"{field}: {resource} is given twice", field)


def _included(values: Mapping[str, object]) -> dict[str, Decimal]:
    result: dict[str, Decimal] = {}
    for key, value in values.items():
        resource = parse_resource(key, "included")
        _once(result, resource.value, "included")
        result[resource.value] = parse_quantity(resource, value, f"included {resource.value}",
                                                allow_zero=True)
    return result


def _overage(values: Mapping[str, object]) -> dict[str, Decimal | None]:
    result: dict[str, Decimal | None] = {}
    for key, value in values.items():
        resource = parse_resource(key, "overage")
        _once(result, resource.value, "overage")
        if value is None or str(value).strip().lower() in {"none", "off", ""}:
            result[resource.value] = None
        else:
            result[resource.value] = parse_rate(value, f"overage {resource.value}")
    return result


def plan_info(plan: Plan) -> PlanInfo:
    return PlanInfo(
        id=plan.id, name=plan.name, fee=plan.fee, anchor=plan.anchor,
        included={t.resource: t.included for t in plan.terms if t.included > 0},
        overage={t.resource: t.overage_rate for t in plan.terms if t.overage_rate is not None},
        addons=plan.addons, due_days=plan.due_days,
        alerts=stored_alerts(plan.alert_thresholds),
        increments=(plan.increment_first, plan.increment_next))


def pack_info(pack: AddonPack) -> PackInfo:
    return PackInfo(id=pack.id, name=pack.name, resource=pack.resource, units=pack.units,
                    price=pack.price, expires_months=pack.expires_months,
                    description=pack.description, archived=pack.archived)


def _set_terms(plan: Plan, included: dict[str, Decimal], overage: dict[str, Decimal | None]) -> None:
    terms = {t.resource: t for t in plan.terms}
    for resource in set(included) | set(overage):
        term = terms.get(resource)
        if term is None:
            term = PlanTerm(resource=resource, included=Decimal(0), overage_rate=None)
            plan.terms.append(term)
        if resource in included:
            term.included = included[resource]
        if resource in overage:
            term.overage_rate = overage[resource]


@write_op
def add_plan(tx: Tx, *, name: str, fee: object, anchor: object = "calendar",
             included: Mapping[str, object] | None = None,
             overage: Mapping[str, object] | None = None, addons: object = True,
             due_days: object = 1, alerts: object = DEFAULT_ALERTS,
             increments: object = "1/1") -> PlanInfo:
    clean = clean_name(name)
    ensure_unique(tx.session, Plan, clean)
    first, step = parse_increments(increments)
    plan = Plan(name=clean, name_key=name_key(clean), fee=parse_money(fee, "fee", tx.currency),
                anchor=parse_anchor(anchor).value, addons=parse_on_off(addons),
                due_days=parse_due_days(due_days),
                alert_thresholds=alerts_to_store(parse_alerts(alerts)),
                increment_first=first, increment_next=step, created_at=tx.now,
                updated_at=tx.now)
    _set_terms(plan, _included(included or {}), _overage(overage or {}))
    tx.session.add(plan)
    tx.session.flush()
    tx.audit("plan.add", "plan", plan.id, name=clean)
    return plan_info(plan)


@write_op
def edit_plan(tx: Tx, *, plan: object, name: str | None = None, fee: object = None,
              anchor: object = None, included: Mapping[str, object] | None = None,
              overage: Mapping[str, object] | None = None, addons: object = None,
              due_days: object = None, alerts: object = None,
              increments: object = None) -> PlanInfo:
    """Edit a plan; existing subscriptions keep their snapshot (SPEC §1), except for
    Add-on packs · On/Off, which their snapshots follow at once (SPEC §8)."""
    row = find(tx.session, Plan, plan)
    if name is not None:
        clean = clean_name(name)
        ensure_unique(tx.session, Plan, clean, exclude_id=row.id)
        row.name, row.name_key = clean, name_key(clean)
    if fee is not None:
        row.fee = parse_money(fee, "fee", tx.currency)
    if anchor is not None:
        row.anchor = parse_anchor(anchor).value
    following: list[int] = []
    if addons is not None:
        row.addons = parse_on_off(addons)
        following = _addons_follow(tx, row)
    if due_days is not None:
        row.due_days = parse_due_days(due_days)
    if alerts is not None:
        row.alert_thresholds = alerts_to_store(parse_alerts(alerts))
    if increments is not None:
        row.increment_first, row.increment_next = parse_increments(increments)
    _set_terms(row, _included(included or {}), _overage(overage or {}))
    row.updated_at = tx.now
    tx.session.flush()
    if following:
        tx.audit_about(following, "plan.edit", "plan", row.id, name=row.name,
                 addons=row.addons, subscriptions_changed=len(following))
    else:
        tx.audit("plan.edit", "plan", row.id, name=row.name)
    return plan_info(row)


def _addons_follow(tx: Tx, plan: Plan) -> list[int]:
    """Add-on packs · On/Off is a capability of the plan product (SPEC §1, §8): the snapshots
    of the plan's active subscriptions take the new setting at once. The clients whose
    snapshot changed."""
    changed = list(tx.session.scalars(select(Subscription.client_id).where(
        Subscription.plan_id == plan.id, Subscription.status == "active",
        Subscription.addons != plan.addons)))
    if changed:
        tx.session.execute(update(Subscription).where(
            Subscription.plan_id == plan.id, Subscription.status == "active",
            Subscription.addons != plan.addons).values(addons=plan.addons))
    return sorted(changed)


@read_op
def list_plans(tx: Tx) -> list[PlanInfo]:
    return [plan_info(p) for p in tx.session.scalars(select(Plan).order_by(Plan.name_key))]


@read_op
def get_plan(tx: Tx, plan: object) -> PlanInfo:
    return plan_info(find(tx.session, Plan, plan))


def parse_expires_months(value: object) -> int | None:
    if value is None or str(value).strip().lower() in {"", "never", "none"}:
        return None
    return _bounded(value, "expires_months", 1, 1200, "months")


def _description(value: object) -> str:
    return clean_text(value or "", "description", MAX_DESCRIPTION)


@write_op
def add_pack(tx: Tx, *, name: str, resource: object, units: object, price: object,
             expires_months: object = None, description: object = "") -> PackInfo:
    clean = clean_name(name)
    ensure_unique(tx.session, AddonPack, clean)
    res = parse_resource(resource)
    pack = AddonPack(name=clean, name_key=name_key(clean), description=_description(description),
                     resource=res.value, units=parse_quantity(res, units, "units"),
                     price=parse_money(price, "price", tx.currency),
                     expires_months=parse_expires_months(expires_months), archived=False,
                     created_at=tx.now)
    tx.session.add(pack)
    tx.session.flush()
    tx.audit("pack.add", "pack", pack.id, name=clean)
    return pack_info(pack)


@write_op
def edit_pack(tx: Tx, *, pack: object, name: str | None = None, units: object = None,
              price: object = None, expires_months: object = ..., description: object = None,
              archived: bool | None = None) -> PackInfo:
    """Edit a catalog pack. Lots already credited keep their units and expiry."""
    row = find(tx.session, AddonPack, pack)
    if name is not None:
        clean = clean_name(name)
        ensure_unique(tx.session, AddonPack, clean, exclude_id=row.id)
        row.name, row.name_key = clean, name_key(clean)
    if units is not None:
        row.units = parse_quantity(parse_resource(row.resource), units, "units")
    if price is not None:
        row.price = parse_money(price, "price", tx.currency)
    if expires_months is not ...:
        row.expires_months = parse_expires_months(expires_months)
    if description is not None:
        row.description = _description(description)
    if archived is not None:
        row.archived = archived
    tx.session.flush()
    tx.audit("pack.edit", "pack", row.id, name=row.name)
    return pack_info(row)


@read_op
def list_packs(tx: Tx, include_archived: bool = False) -> list[PackInfo]:
    query = select(AddonPack).order_by(AddonPack.resource, AddonPack.name_key)
    if not include_archived:
        query = query.where(AddonPack.archived.is_(False))
    return [pack_info(p) for p in tx.session.scalars(query)]
