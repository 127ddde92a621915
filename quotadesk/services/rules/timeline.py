"""Time in QuotaDesk (SPEC §8): the years it takes, local times that a daylight-saving change
makes ambiguous or impossible, and time running forward for each client.

The latest moment recorded for a client is derived from indexed data when its book is loaded
(`recorded_latest`, a few index look-ups per client), and kept by the book as it writes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

from quotadesk.services.errors import ClockBehind, InvalidValue, echo

#: The first instant QuotaDesk takes, and the first it no longer takes (times run to the end
#: of 2999-12-31, UTC).
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
END = datetime(3000, 1, 1, tzinfo=UTC)


def out_of_range(field: str, shown: object) -> InvalidValue:
    return InvalidValue(f"{field}: {echo(shown)} is outside the times QuotaDesk takes "
                        "(1970-01-01 to 2999-12-31, UTC)", field)


def in_range(moment: datetime, field: str, shown: object = None) -> datetime:
    """`moment`, an aware UTC time, if it lies in 1970-01-01 … 2999-12-31; else refused."""
    if EARLIEST <= moment < END:
        return moment
    raise out_of_range(field, moment.isoformat() if shown is None else shown)


#: A live clock behind a client's latest moment by less than this may have read the time
#: just before another desk's write for the client committed: the write is tried again.
RACE = timedelta(seconds=5)


def zone_name(tz: tzinfo) -> str:
    return getattr(tz, "key", None) or str(tz)


def _offset(moment: datetime) -> str:
    offset = moment.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(offset) // timedelta(minutes=1)
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"


def local_to_utc(naive: datetime, tz: tzinfo, field: str, shown: object) -> datetime:
    """A local time with no offset, in the database's time zone, as UTC. Refused when a
    daylight-saving change makes it happen twice or never (SPEC §8): the person gives an
    offset. `shown` is the time as given, for the message."""
    if not 1969 <= naive.year <= 3000:  # (beyond a day's margin: no conversion can overflow)
        raise out_of_range(field, shown)
    first = naive.replace(tzinfo=tz, fold=0)
    second = naive.replace(tzinfo=tz, fold=1)
    if first.utcoffset() != second.utcoffset():
        zone = zone_name(tz)
        plain = naive.replace(fold=0)
        if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) == plain:
            raise InvalidValue(
                f"{field}: {echo(shown)} happens twice in {zone} (the clocks go back): give an "
                f"offset, {plain.isoformat()}{_offset(first)} or "
                f"{plain.isoformat()}{_offset(second)}", field)
        raise InvalidValue(f"{field}: {echo(shown)} does not exist in {zone} (the clocks skip "
                           "it): give an offset", field)
    return in_range(first.astimezone(UTC), field, shown)


# -- time runs forward for each client ---------------------------------------------------------
def refuse_if_behind(now: datetime, latest: datetime | None, client: str, tz: tzinfo) -> None:
    """A write for a client at `now` is refused if the client has a moment recorded after it
    (period boundaries, subscribe, cancel, pack applications, revokes, recorded usage)."""
    if latest is not None and now < latest:
        error = ClockBehind(
            f"now: {now.astimezone(tz).isoformat()} is before "
            f"{latest.astimezone(tz).isoformat()}, the latest moment already recorded for "
            f"client {echo(client)}: time runs forward for each client", "now")
        error.racing = latest - now < RACE
        raise error
    in_range(now, "now")
