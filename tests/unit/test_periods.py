"""Period arithmetic (SPEC §1, §4, §8): calendar and anniversary boundaries, month-end clamping,
leap years, local midnights across DST, lot expiry (add_months), due dates and overdue."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from quotadesk.services.rules.periods import (
    Anchor,
    add_months,
    anchor_day_for,
    due_date,
    is_overdue,
    local_date,
    local_midnight,
    next_boundary,
)

UTC_ZONE = ZoneInfo("UTC")
PARIS = ZoneInfo("Europe/Paris")
NEW_YORK = ZoneInfo("America/New_York")


def utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)


def chain(start: datetime, anchor: Anchor, tz: ZoneInfo, count: int) -> list[datetime]:
    """The first `count` boundaries of a subscription started at `start`."""
    day = anchor_day_for(start, anchor, tz)
    boundaries, moment = [], start
    for _ in range(count):
        moment = next_boundary(moment, day, tz)
        boundaries.append(moment)
    return boundaries


# -- calendar anchor ----------------------------------------------------------------------
def test_calendar_anchor_day_is_always_the_first():
    assert anchor_day_for(utc(2026, 1, 31, 12), Anchor.CALENDAR, UTC_ZONE) == 1
    assert anchor_day_for(utc(2026, 7, 15), Anchor.CALENDAR, PARIS) == 1


def test_calendar_first_period_ends_on_the_next_first_no_proration():
    assert next_boundary(utc(2026, 1, 10, 9), 1, UTC_ZONE) == utc(2026, 2, 1)


def test_calendar_boundary_is_strictly_after_a_moment_on_the_boundary():
    assert next_boundary(utc(2026, 2, 1), 1, UTC_ZONE) == utc(2026, 3, 1)


def test_calendar_boundary_one_microsecond_before_midnight_is_that_midnight():
    assert next_boundary(utc(2026, 2, 1) - timedelta(microseconds=1), 1, UTC_ZONE) == utc(2026, 2, 1)


def test_calendar_december_rolls_into_january_of_next_year():
    assert next_boundary(utc(2026, 12, 31, 23, 59), 1, UTC_ZONE) == utc(2027, 1, 1)


def test_calendar_chain_is_every_first_of_the_month():
    got = chain(utc(2026, 1, 10, 9), Anchor.CALENDAR, UTC_ZONE, 4)
    assert got == [utc(2026, 2, 1), utc(2026, 3, 1), utc(2026, 4, 1), utc(2026, 5, 1)]


# -- anniversary anchor and month-end clamping ---------------------------------------------
def test_anniversary_anchor_day_is_the_subscription_local_day():
    assert anchor_day_for(utc(2026, 1, 31, 12), Anchor.ANNIVERSARY, UTC_ZONE) == 31
    assert anchor_day_for(utc(2026, 3, 15, 8), Anchor.ANNIVERSARY, UTC_ZONE) == 15


def test_anniversary_anchor_day_uses_local_date_not_utc_date():
    # 23:30 UTC on Jan 31 is already Feb 1 in Paris; 03:00 UTC on Feb 1 is still Jan 31 in NY.
    assert anchor_day_for(utc(2026, 1, 31, 23, 30), Anchor.ANNIVERSARY, PARIS) == 1
    assert anchor_day_for(utc(2026, 2, 1, 3), Anchor.ANNIVERSARY, NEW_YORK) == 31


def test_anniversary_jan31_clamps_to_feb28():
    assert next_boundary(utc(2026, 1, 31, 9), 31, UTC_ZONE) == utc(2026, 2, 28)


def test_anniversary_feb28_then_back_to_mar31():
    assert next_boundary(utc(2026, 2, 28), 31, UTC_ZONE) == utc(2026, 3, 31)


def test_anniversary_mar31_then_apr30():
    assert next_boundary(utc(2026, 3, 31), 31, UTC_ZONE) == utc(2026, 4, 30)


def test_anniversary_jan31_chain_clamps_each_month_and_returns_to_31():
    got = chain(utc(2026, 1, 31, 9), Anchor.ANNIVERSARY, UTC_ZONE, 6)
    assert got == [utc(2026, 2, 28), utc(2026, 3, 31), utc(2026, 4, 30), utc(2026, 5, 31),
                   utc(2026, 6, 30), utc(2026, 7, 31)]


def test_anniversary_jan31_clamps_to_feb29_in_a_leap_year():
    assert chain(utc(2028, 1, 31, 9), Anchor.ANNIVERSARY, UTC_ZONE, 2) == [
        utc(2028, 2, 29), utc(2028, 3, 31)]


def test_anniversary_day30_clamps_to_feb28_then_mar30():
    assert chain(utc(2026, 1, 30, 9), Anchor.ANNIVERSARY, UTC_ZONE, 2) == [
        utc(2026, 2, 28), utc(2026, 3, 30)]


def test_anniversary_day29_is_feb29_in_leap_year_and_feb28_otherwise():
    assert next_boundary(utc(2028, 1, 29, 9), 29, UTC_ZONE) == utc(2028, 2, 29)
    assert next_boundary(utc(2027, 1, 29, 9), 29, UTC_ZONE) == utc(2027, 2, 28)
    assert next_boundary(utc(2027, 2, 28), 29, UTC_ZONE) == utc(2027, 3, 29)


def test_anniversary_subscribed_on_feb29_keeps_day_29():
    assert chain(utc(2028, 2, 29, 9), Anchor.ANNIVERSARY, UTC_ZONE, 3) == [
        utc(2028, 3, 29), utc(2028, 4, 29), utc(2028, 5, 29)]


def test_anniversary_mid_month_chain_crosses_the_year():
    assert chain(utc(2026, 11, 15, 9), Anchor.ANNIVERSARY, UTC_ZONE, 3) == [
        utc(2026, 12, 15), utc(2027, 1, 15), utc(2027, 2, 15)]


# -- local midnights and DST --------------------------------------------------------------
def test_local_midnight_in_paris_winter_is_23h_utc_the_day_before():
    assert local_midnight(date(2026, 3, 1), PARIS) == utc(2026, 2, 28, 23)


def test_local_midnight_in_paris_summer_is_22h_utc_the_day_before():
    assert local_midnight(date(2026, 4, 1), PARIS) == utc(2026, 3, 31, 22)


def test_local_midnight_is_returned_in_utc():
    assert local_midnight(date(2026, 4, 1), PARIS).utcoffset() == timedelta(0)


def test_calendar_boundary_across_spring_dst_in_paris_is_local_midnight():
    # DST starts in Paris on 2026-03-29: April 1 starts at 00:00 CEST = 22:00 UTC.
    assert next_boundary(utc(2026, 3, 15, 12), 1, PARIS) == utc(2026, 3, 31, 22)


def test_calendar_boundary_across_autumn_dst_in_paris_is_local_midnight():
    # DST ends in Paris on 2026-10-25: November 1 starts at 00:00 CET = 23:00 UTC.
    assert next_boundary(utc(2026, 10, 15, 12), 1, PARIS) == utc(2026, 10, 31, 23)


def test_paris_period_containing_spring_dst_is_one_hour_short():
    start = next_boundary(utc(2026, 2, 15), 1, PARIS)
    end = next_boundary(start, 1, PARIS)
    assert (start, end) == (utc(2026, 2, 28, 23), utc(2026, 3, 31, 22))
    assert end - start == timedelta(days=31) - timedelta(hours=1)


def test_paris_anniversary_on_the_dst_day_starts_at_local_midnight():
    # 2026-03-29 is the spring-forward day; its midnight (CET) still exists.
    first = next_boundary(utc(2026, 3, 10), 29, PARIS)
    second = next_boundary(first, 29, PARIS)
    assert first == utc(2026, 3, 28, 23)
    assert second == utc(2026, 4, 28, 22)


def test_calendar_boundary_after_utc_midnight_but_before_local_midnight_in_paris():
    # 23:30 UTC on Jan 31 is 00:30 on Feb 1 in Paris: Feb 1 has begun, next is Mar 1.
    assert next_boundary(utc(2026, 1, 31, 23, 30), 1, PARIS) == utc(2026, 2, 28, 23)


def test_calendar_boundary_in_new_york_is_local_midnight_not_utc_midnight():
    # 03:00 UTC on Feb 1 is still Jan 31 in New York: the boundary is 05:00 UTC.
    assert next_boundary(utc(2026, 2, 1, 3), 1, NEW_YORK) == utc(2026, 2, 1, 5)


def test_new_york_spring_dst_anchor_day_8_starts_at_est_midnight():
    # DST starts in New York on 2026-03-08 at 02:00; midnight that day is still EST.
    assert next_boundary(utc(2026, 2, 20), 8, NEW_YORK) == utc(2026, 3, 8, 5)
    assert next_boundary(utc(2026, 3, 8, 5), 8, NEW_YORK) == utc(2026, 4, 8, 4)


def test_new_york_autumn_dst_calendar_boundaries_shift_by_one_hour():
    # DST ends in New York on 2026-11-01 at 02:00: Nov 1 starts in EDT, Dec 1 in EST.
    nov = next_boundary(utc(2026, 10, 20), 1, NEW_YORK)
    dec = next_boundary(nov, 1, NEW_YORK)
    assert (nov, dec) == (utc(2026, 11, 1, 4), utc(2026, 12, 1, 5))
    assert dec - nov == timedelta(days=30, hours=1)


def test_local_date_follows_the_time_zone():
    moment = utc(2026, 1, 10, 3)
    assert local_date(moment, UTC_ZONE) == date(2026, 1, 10)
    assert local_date(moment, NEW_YORK) == date(2026, 1, 9)
    assert local_date(utc(2026, 1, 9, 23, 30), PARIS) == date(2026, 1, 10)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 12, 1)),
       st.integers(min_value=1, max_value=31),
       st.sampled_from([UTC_ZONE, PARIS, NEW_YORK]))
def test_next_boundary_is_the_next_local_midnight_on_the_clamped_anchor_day(naive, day, tz):
    after = naive.replace(tzinfo=UTC)
    boundary = next_boundary(after, day, tz)
    local = boundary.astimezone(tz)
    assert boundary > after
    assert (local.hour, local.minute, local.second, local.microsecond) == (0, 0, 0, 0)
    last_day = (date(local.year + local.month // 12, local.month % 12 + 1, 1)
                - timedelta(days=1)).day
    assert local.day == min(day, last_day)
    # No boundary is skipped: the boundary is less than two months away.
    assert boundary - after <= timedelta(days=62)


# -- lot expiry: add_months ---------------------------------------------------------------
def test_add_months_keeps_day_and_time():
    assert add_months(utc(2026, 1, 10, 9, 30), 12, UTC_ZONE) == utc(2027, 1, 10, 9, 30)


def test_add_months_jan31_plus_one_clamps_to_feb28():
    assert add_months(utc(2026, 1, 31, 10), 1, UTC_ZONE) == utc(2026, 2, 28, 10)


def test_add_months_jan31_plus_one_clamps_to_feb29_in_leap_year():
    assert add_months(utc(2028, 1, 31, 10), 1, UTC_ZONE) == utc(2028, 2, 29, 10)


def test_add_months_from_leap_day_plus_twelve_is_feb28():
    assert add_months(utc(2028, 2, 29, 10), 12, UTC_ZONE) == utc(2029, 2, 28, 10)


def test_add_months_from_leap_day_plus_forty_eight_is_leap_day_again():
    assert add_months(utc(2028, 2, 29, 10), 48, UTC_ZONE) == utc(2032, 2, 29, 10)


def test_add_months_mar31_plus_one_is_apr30():
    assert add_months(utc(2026, 3, 31, 10), 1, UTC_ZONE) == utc(2026, 4, 30, 10)


def test_add_months_crosses_year_end():
    assert add_months(utc(2026, 11, 30, 8), 3, UTC_ZONE) == utc(2027, 2, 28, 8)


def test_add_months_twelve_hundred_months_is_a_century():
    assert add_months(utc(2026, 1, 10, 9), 1200, UTC_ZONE) == utc(2126, 1, 10, 9)


def test_add_months_keeps_local_wall_time_across_dst_in_paris():
    # 10:00 CET in January is 09:00 UTC; 10:00 CEST in July is 08:00 UTC.
    assert add_months(utc(2026, 1, 15, 9), 6, PARIS) == utc(2026, 7, 15, 8)


def test_add_months_keeps_local_wall_time_across_dst_in_new_york():
    # 10:00 EST on Mar 1 is 15:00 UTC; 10:00 EDT on Apr 1 is 14:00 UTC.
    assert add_months(utc(2026, 3, 1, 15), 1, NEW_YORK) == utc(2026, 4, 1, 14)


def test_add_months_uses_local_date_for_clamping():
    # 23:30 UTC on Jan 31 is 00:30 on Feb 1 in Paris: one month later is Mar 1 00:30 local.
    assert add_months(utc(2026, 1, 31, 23, 30), 1, PARIS) == utc(2026, 2, 28, 23, 30)
    # The same instant in UTC is Jan 31: clamped to Feb 28.
    assert add_months(utc(2026, 1, 31, 23, 30), 1, UTC_ZONE) == utc(2026, 2, 28, 23, 30)


def test_add_months_returns_an_aware_utc_datetime():
    result = add_months(utc(2026, 1, 15, 9), 6, PARIS)
    assert result.tzinfo is not None and result.utcoffset() == timedelta(0)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2090, 1, 1)),
       st.integers(min_value=1, max_value=1200))
def test_add_months_in_utc_lands_on_the_clamped_same_day_and_time(naive, months):
    start = naive.replace(tzinfo=UTC)
    result = add_months(start, months, UTC_ZONE)
    index = start.year * 12 + start.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last_day = (date(year + month // 12, month % 12 + 1, 1) - timedelta(days=1)).day
    assert (result.year, result.month, result.day) == (year, month, min(start.day, last_day))
    assert result.time() == start.time()


# -- due dates and overdue ----------------------------------------------------------------
def test_due_date_is_local_start_date_plus_due_days():
    assert due_date(utc(2026, 1, 10, 9), 1, UTC_ZONE) == date(2026, 1, 11)


def test_due_date_zero_days_is_the_start_date():
    assert due_date(utc(2026, 1, 10, 9), 0, UTC_ZONE) == date(2026, 1, 10)


def test_due_date_365_days():
    assert due_date(utc(2026, 1, 10, 9), 365, UTC_ZONE) == date(2027, 1, 10)


def test_due_date_crosses_into_leap_day():
    assert due_date(utc(2028, 2, 28, 9), 1, UTC_ZONE) == date(2028, 2, 29)


def test_due_date_uses_local_date_of_start():
    # 03:00 UTC on Jan 10 is Jan 9 in New York: due one day later is Jan 10.
    assert due_date(utc(2026, 1, 10, 3), 1, NEW_YORK) == date(2026, 1, 10)
    # Paris period start at local midnight Mar 1 (Feb 28 23:00 UTC): due Mar 2.
    assert due_date(utc(2026, 2, 28, 23), 1, PARIS) == date(2026, 3, 2)


def test_pending_request_is_overdue_the_day_after_its_due_date():
    assert is_overdue("pending", date(2026, 1, 11), utc(2026, 1, 12, 0, 0), UTC_ZONE)


def test_pending_request_is_not_overdue_on_its_due_date():
    assert not is_overdue("pending", date(2026, 1, 11), utc(2026, 1, 11, 23, 59), UTC_ZONE)


def test_paid_and_failed_requests_are_never_overdue():
    later = utc(2027, 1, 1)
    assert not is_overdue("paid", date(2026, 1, 11), later, UTC_ZONE)
    assert not is_overdue("failed", date(2026, 1, 11), later, UTC_ZONE)


def test_overdue_uses_the_local_date():
    # 03:00 UTC on Jan 12 is still Jan 11 in New York: not overdue there, overdue in UTC.
    now = utc(2026, 1, 12, 3)
    assert not is_overdue("pending", date(2026, 1, 11), now, NEW_YORK)
    assert is_overdue("pending", date(2026, 1, 11), now, UTC_ZONE)


@pytest.mark.parametrize("tz", [UTC_ZONE, PARIS, NEW_YORK], ids=str)
def test_period_chain_is_contiguous_each_end_is_next_start(tz):
    boundaries = chain(utc(2026, 1, 31, 12), Anchor.ANNIVERSARY, tz, 14)
    for earlier, later in itertools.pairwise(boundaries):
        assert next_boundary(earlier, anchor_day_for(utc(2026, 1, 31, 12), Anchor.ANNIVERSARY, tz),
                             tz) == later
    assert boundaries == sorted(set(boundaries))
