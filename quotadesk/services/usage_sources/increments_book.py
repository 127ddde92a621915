"""The billing increments each client's usage in seconds is rated with: those of the
subscription in force at the event's time (a snapshot of its plan, SPEC §11)."""

from __future__ import annotations

from bisect import bisect_right
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from quotadesk.models import Subscription
from quotadesk.services.rules.increments import PER_SECOND, Increments, billed_minutes


class IncrementsBook:
    """Every subscription's increments, read once an import. An event takes those of the
    subscription that started last at or before its time (the first one for an event before
    any); a client who has only ever had one rule gets it without a search."""

    def __init__(self, session: Session) -> None:
        self.fixed: dict[int, Increments] = {}
        self.changing: dict[int, tuple[list[datetime], list[Increments]]] = {}
        rows = session.execute(select(
            Subscription.client_id, Subscription.started_at, Subscription.increment_first,
            Subscription.increment_next).order_by(Subscription.client_id,
                                                  Subscription.started_at, Subscription.id))
        history: dict[int, list[tuple[datetime, Increments]]] = {}
        for client_id, started, first, step in rows:
            history.setdefault(client_id, []).append((started, (first, step)))
        for client_id, subs in history.items():
            if len({rule for _start, rule in subs}) == 1:
                self.fixed[client_id] = subs[0][1]
            else:
                self.changing[client_id] = ([s for s, _r in subs], [r for _s, r in subs])
        #: (increments, seconds) → minutes, for the ones met so far.
        self.known: dict[tuple[Increments, str], Decimal] = {}

    def increments(self, client_id: int, at: datetime) -> Increments:
        rule = self.fixed.get(client_id)
        if rule is not None:
            return rule
        found = self.changing.get(client_id)
        if found is None:
            return PER_SECOND  # no subscription: the event is refused when it is rated
        starts, rules = found
        return rules[max(0, bisect_right(starts, at) - 1)]

    def minutes(self, client_id: int, at: datetime, seconds: str) -> Decimal:
        """The minutes billed for `seconds` (canonical text of a number ≥ 0)."""
        rule = self.fixed.get(client_id) or self.increments(client_id, at)
        key = (rule, seconds)
        found = self.known.get(key)
        if found is None:
            found = billed_minutes(Decimal(seconds), rule)
            if len(self.known) < 100_000:
                self.known[key] = found
        return found
