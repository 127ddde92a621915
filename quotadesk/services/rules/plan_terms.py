"""A subscription's plan snapshot: the one shape of plan terms that the rules, the results,
the command line and the window all use."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from quotadesk.services.rules.quantities import RESOURCES

ZERO = Decimal(0)
NAMES = tuple(r.value for r in RESOURCES)


@dataclass(frozen=True, slots=True)
class PlanTerms:
    """What a subscription was sold under, copied from its plan when it was taken (SPEC §1):
    editing the plan later changes no running snapshot."""

    subscription_id: int
    plan: str
    fee: Decimal
    anchor: str  # "calendar" or "anniversary"
    anchor_day: int
    addons: bool
    due_days: int
    alerts: tuple[int, ...]  # thresholds in percent, ascending
    included: dict[str, Decimal]  # every resource, 0 where none is included
    overage: dict[str, Decimal | None]  # every resource, None where usage is blocked
    increments: tuple[int, int] = (1, 1)  # voice billing increments, FIRST/NEXT seconds (§11)

    def rate(self, resource: str) -> Decimal | None:
        return self.overage.get(resource)


def stored_alerts(value: str) -> tuple[int, ...]:
    """Alert thresholds as a subscription or plan stores them ("80,95")."""
    return tuple(sorted(int(part) for part in value.split(",") if part.strip()))


def alerts_to_store(thresholds: Sequence[int]) -> str:
    """The stored form of alert thresholds (the inverse of `stored_alerts`)."""
    return ",".join(map(str, sorted(thresholds)))


def overage_rates(terms: Sequence[Any]) -> dict[str, Decimal | None]:
    rates: dict[str, Decimal | None] = dict.fromkeys(NAMES)
    rates.update({t.resource: t.overage_rate for t in terms})
    return rates


def plan_terms(sub: Any, terms: Sequence[Any]) -> PlanTerms:
    """The snapshot from a subscription and its per-resource terms (ORM objects or rows)."""
    return PlanTerms(
        subscription_id=sub.id, plan=sub.plan_name, fee=sub.fee, anchor=sub.anchor,
        anchor_day=sub.anchor_day, addons=sub.addons, due_days=sub.due_days,
        alerts=stored_alerts(sub.alert_thresholds),
        included=dict.fromkeys(NAMES, ZERO) | {t.resource: t.included for t in terms},
        overage=overage_rates(terms),
        # (The books of an import read no increments: the import applies them when it reads
        # the file, from the subscription in force at each event's time.)
        increments=(getattr(sub, "increment_first", 1), getattr(sub, "increment_next", 1)))
