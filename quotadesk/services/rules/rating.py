"""The order of consumption (SPEC §2): included, then wallet lots, then overage or unserved. No I/O."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Protocol, TypeVar

ZERO = Decimal(0)
_NEVER = datetime.max


class LotLike(Protocol):
    """What rating reads of a wallet lot."""

    @property
    def id(self) -> int: ...
    @property
    def remaining(self) -> Decimal: ...
    @property
    def applied_at(self) -> datetime: ...
    @property
    def expires_at(self) -> datetime | None: ...


@dataclass(frozen=True, slots=True)
class LotView:
    """A plain lot value for callers (tests, previews) that have no book."""

    id: int
    remaining: Decimal
    applied_at: datetime
    expires_at: datetime | None


@dataclass(frozen=True, slots=True)
class Split:
    """How one usage event was covered; the parts always add up to its quantity."""

    included: Decimal
    draws: tuple[tuple[int, Decimal], ...]
    overage_units: Decimal
    overage_amount: Decimal
    unserved: Decimal

    @property
    def wallet(self) -> Decimal:
        return sum((units for _, units in self.draws), ZERO)


def lot_expired(expires_at: datetime | None, at: datetime) -> bool:
    """A lot expires at exactly its expiry time (SPEC §8): from then on nothing draws on it."""
    return expires_at is not None and expires_at <= at


def lot_is_live(lot: LotLike, at: datetime) -> bool:
    """Can usage at `at` draw on this lot? (The one place that says so.)"""
    return lot.remaining > 0 and not lot_expired(lot.expires_at, at)


def consumption_order(lots: Iterable[L], at: datetime) -> list[L]:
    """Lots usable at `at`: soonest expiry first, never-expiring last, ties oldest applied first."""
    usable = [lot for lot in lots if lot_is_live(lot, at)]
    usable.sort(key=lambda lot: (lot.expires_at is None,
                                 (lot.expires_at or _NEVER).replace(tzinfo=None),
                                 lot.applied_at.replace(tzinfo=None), lot.id))
    return usable


L = TypeVar("L", bound=LotLike)


def rate_usage(quantity: Decimal, included_left: Decimal, lots: Sequence[LotLike], at: datetime,
               overage_rate: Decimal | None) -> Split:
    """Split `quantity` over the free pools in SPEC order; the rest is overage or unserved."""
    rest = quantity
    included = min(rest, max(included_left, ZERO))
    rest -= included
    draws: list[tuple[int, Decimal]] = []
    if rest > 0:
        for lot in consumption_order(lots, at):
            take = min(rest, lot.remaining)
            draws.append((lot.id, take))
            rest -= take
            if rest == 0:
                break
    if rest > 0 and overage_rate is not None:
        return Split(included, tuple(draws), rest, rest * overage_rate, ZERO)
    return Split(included, tuple(draws), ZERO, ZERO, rest)
