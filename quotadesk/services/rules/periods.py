"""Period arithmetic: calendar and anniversary anchors, month-end clamping, time zones. No I/O.

Times enter and leave as aware UTC datetimes; boundaries are local midnights (SPEC §8).
"""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo


class Anchor(StrEnum):
    CALENDAR = "calendar"
    ANNIVERSARY = "anniversary"


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _month_shift(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=tz).astimezone(UTC)


def local_date(moment: datetime, tz: ZoneInfo) -> date:
    return moment.astimezone(tz).date()


def anchor_day_for(start: datetime, anchor: Anchor, tz: ZoneInfo) -> int:
    """The day of month periods start on: 1 for calendar, the subscription's day otherwise."""
    return 1 if anchor is Anchor.CALENDAR else local_date(start, tz).day


def next_boundary(after: datetime, anchor_day: int, tz: ZoneInfo) -> datetime:
    """The first period boundary strictly after `after`: local midnight of the anchor day,
    clamped to the month's last day (Jan 31 -> Feb 28 -> Mar 31)."""
    local = after.astimezone(tz)
    year, month = local.year, local.month
    for shift in range(0, 3):
        y, m = _month_shift(year, month, shift)
        boundary = local_midnight(_clamped(y, m, anchor_day), tz)
        if boundary > after:
            return boundary
    raise AssertionError("a boundary always exists within two months")  # pragma: no cover


def add_months(moment: datetime, months: int, tz: ZoneInfo) -> datetime:
    """`moment` + N months in local time, the day clamped to the month's end (lot expiry)."""
    local = moment.astimezone(tz)
    y, m = _month_shift(local.year, local.month, months)
    day = _clamped(y, m, local.day)
    naive = datetime.combine(day, local.time().replace(tzinfo=None))
    return naive.replace(tzinfo=tz).astimezone(UTC)


def due_date(start: datetime, due_days: int, tz: ZoneInfo) -> date:
    """A payment request's due date: the local date of `start` plus the plan's due days."""
    return local_date(start, tz) + timedelta(days=due_days)


def is_overdue(status: str, due: date, now: datetime, tz: ZoneInfo) -> bool:
    return status == "pending" and local_date(now, tz) > due
