"""Automatic top-up (SPEC §12): the crossing rule. No I/O.

A rule says "when the wallet for the pack's resource falls below N units, apply the pack".
It is checked after each usage event, once the event is rated. One top-up per crossing: a
rule that fired is disarmed until the wallet has been at N or above again (the top-up itself
counts, and so does any later credit). A drop caused by a revoke or an expiry is no usage
write: it neither fires the rule nor disarms it. A rule whose pack cannot be applied (add-ons
off in the snapshot, the pack not assigned) is kept and does nothing, and stays armed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

#: The actor of every automatic application in the audit log, and its mark in history.
AUTO_TOPUP = "auto top-up"


@dataclass(frozen=True, slots=True)
class PackTerms:
    """What applying a pack credits and requests: the catalog pack's terms now."""

    id: int
    name: str
    resource: str
    units: Decimal
    price: Decimal
    expires_months: int | None


@dataclass(slots=True)
class TopupRule:
    """A client's rule, as loaded with the client's account (and written back when `armed`
    changes)."""

    id: int
    pack: PackTerms
    below: Decimal
    status: str  # the payment request's status: "pending" or "paid"
    armed: bool
    assigned: bool  # the pack is assigned to the client
    dirty: bool = False


class Decision(StrEnum):
    FIRE = "fire"  # apply the pack now
    REARM = "rearm"  # the wallet is at N or above: the next fall below N fires
    NOTHING = "nothing"


def decide(rule: TopupRule, wallet: Decimal) -> Decision:
    """What a rule does once an event of its resource is rated and the wallet holds `wallet`
    (whether the pack can be applied is asked separately: `why_idle`)."""
    if wallet >= rule.below:
        return Decision.NOTHING if rule.armed else Decision.REARM
    return Decision.FIRE if rule.armed else Decision.NOTHING


def why_idle(rule: TopupRule, active: bool, addons_on: bool) -> str | None:
    """Why the rule cannot apply its pack now (None: it can). Said on the client page."""
    if not active:
        return "the client has no active subscription"
    if not addons_on:
        return "add-on packs are off for this client's plan"
    if not rule.assigned:
        return f"{rule.pack.name!r} is not assigned to the client"
    return None


def rearm_after_credit(rules: list[TopupRule], resource: str, wallet: Decimal) -> None:
    """A credit (an operator's apply, or a top-up) put the wallet at `wallet`: rules whose
    threshold it reaches fire again at the next fall below it."""
    for rule in rules:
        if rule.pack.resource == resource and not rule.armed and wallet >= rule.below:
            rule.armed = True
            rule.dirty = True
