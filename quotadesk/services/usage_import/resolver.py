"""What a usage event's values mean: one resolver for the window, the CLI and the import."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from quotadesk.services.errors import InvalidValue, echo
from quotadesk.services.references import clean_text
from quotadesk.services.rules.quantities import (
    MAX_AMOUNT,
    MINUTE_PLACES,
    Resource,
    parse_quantity,
    parse_resource,
)
from quotadesk.services.rules.timeline import EARLIEST, END, in_range, local_to_utc, out_of_range

MAX_EVENT_ID = 200

#: A resolved event: (event id, client id, resource, quantity, time in UTC, that time as
#: SQLite stores it or None). A plain tuple: a million of them an import.
Resolved = tuple[str | None, int, str, Decimal, datetime, str | None]


def parse_time(value: object, tz: ZoneInfo, field: str = "occurred_at") -> datetime:
    """An ISO 8601 time in ASCII digits; one with no zone is in the database's time zone
    (SPEC §7), and must happen exactly once there (SPEC §8)."""
    text = str(value).strip()
    if not text:
        raise InvalidValue(f"{field}: a time is required", field)
    if not text.isascii():
        raise InvalidValue(f"{field}: {echo(text)} is not an ISO 8601 time (in ASCII digits)",
                           field)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidValue(f"{field}: {echo(text)} is not an ISO 8601 time", field) from None
    return in_utc(moment, tz, field, text)


def in_utc(moment: datetime, tz: ZoneInfo, field: str, shown: object = None) -> datetime:
    """The same instant in UTC, within 1970-01-01 … 2999-12-31 (SPEC §8). A naive time is in
    the database's time zone, refused if a daylight-saving change makes it ambiguous or
    impossible there. `shown`: the time as given, for a message."""
    if shown is None:
        shown = moment.isoformat()
    if moment.tzinfo is None:
        return local_to_utc(moment, tz, field, shown)
    if moment.tzinfo is not UTC:
        try:
            moment = moment.astimezone(UTC)
        except (OverflowError, ValueError):  # within a day of year 1 or 9999
            raise out_of_range(field, shown) from None
    return in_range(moment, field, shown)


_fromisoformat = datetime.fromisoformat
_EARLIEST, _END = EARLIEST, END


def stored_utc(text: str) -> str | None:
    """SQLite's storage form of a UTC time written the usual way ("2026-03-01T09:00:30Z",
    "…+00:00", with or without six decimals of a second), already parsed as such: by slicing
    rather than formatting the parsed value, a million times an import."""
    size = len(text)
    if size not in (20, 25, 27, 32) or text[4] != "-" or text[7] != "-" or text[13] != ":" \
            or text[16] != ":":
        return None
    if (size == 25 and text.endswith("+00:00")) or (size == 20 and text[19] == "Z"):
        return f"{text[:10]} {text[11:19]}.000000"
    if ((size == 32 and text.endswith("+00:00")) or (size == 27 and text[26] == "Z")) \
            and text[19] == ".":
        return f"{text[:10]} {text[11:26]}"
    return None


def usage_quantity(resource: Resource, value: object) -> Decimal:
    """`parse_quantity`, with a quick path for the plain numbers an export is made of: ASCII
    digits, and for minutes at most six decimal places (canonical, as parse_quantity gives)."""
    if isinstance(value, str) and value.isascii():
        whole, dot, places = value.partition(".")
        if whole.isdigit() and len(whole) <= 10 and (not dot or (
                resource is Resource.MINUTES and places.isdigit() and
                len(places) <= MINUTE_PLACES)):
            if dot:
                places = places.rstrip("0")
                number = Decimal(f"{whole}.{places}" if places else whole)
            else:
                number = Decimal(whole)
            if 0 < number <= MAX_AMOUNT:
                return number
    return parse_quantity(resource, value)


class UsageResolver:
    """Turns a usage event's values, as typed or as read from a file, into what is rated:
    the client (`find_client`: by name, ignoring case, or id), resource, quantity, event id
    and time, refused with the same errors and messages on every path, checked in that order.

    `remember`: the import's fast branches; the same client and resource cells, and the same
    few quantities ("1" SMS, "12" SMS, "1.5" minutes), recur across a million lines, so each
    text is resolved once (quantities up to a bound, past which the rest are resolved every
    time)."""

    def __init__(self, tz: ZoneInfo, find_client: Callable[[object], int],
                 remember: bool = False) -> None:
        self.tz = tz
        self.find_client = find_client
        self.remember = remember
        self.clients: dict[object, int] = {}
        # By the resource cell as written: the resource, its name, and its quantities seen.
        self.resources: dict[object, tuple[Resource, str, dict[object, Decimal]]] = {}

    def resolve(self, client: object, resource: object, quantity: object, at: object,
                event_id: object, field: str = "occurred_at",
                now: datetime | None = None) -> Resolved:
        """Resolve one event, or raise the refusal of its first bad value. `at` None: `now`
        (the one-event path's default). Quick paths (the shapes of nearly every line of an
        export, and giving exactly what the general path gives): an ASCII event id of at most
        200 characters; an ASCII ISO 8601 time in UTC, whose storage form comes for free."""
        if self.remember:
            client_id = self.clients.get(client)
            if client_id is None:
                client_id = self.clients[client] = self.find_client(client)
            known = self.resources.get(resource)
            if known is None:
                known = self.resources[resource] = self._resource(resource)
            number = known[2].get(quantity)
            if number is None:
                number = usage_quantity(known[0], quantity)
                if len(known[2]) < 50_000:
                    known[2][quantity] = number
        else:
            client_id = self.find_client(client)
            known = self._resource(resource)
            number = usage_quantity(known[0], quantity)
        stored = None
        if at.__class__ is str and at.isascii():
            try:
                moment: datetime | None = _fromisoformat(at)
            except ValueError:
                moment = None
            if moment is not None and moment.tzinfo is UTC and _EARLIEST <= moment < _END:
                stored = stored_utc(at)
            else:
                moment = parse_time(at, self.tz, field)
        elif isinstance(at, datetime):
            moment = in_utc(at, self.tz, field)
        elif at is None and now is not None:
            moment = now.astimezone(UTC)
        else:
            moment = parse_time(at, self.tz, field)
        if event_id.__class__ is str and event_id.isascii() and \
                len(event_id) <= MAX_EVENT_ID and "\x00" not in event_id:
            key = event_id.strip() or None
        elif event_id is None:
            key = None
        else:
            key = clean_text(event_id, "event_id", MAX_EVENT_ID) or None
        return key, client_id, known[1], number, moment, stored

    def _resource(self, value: object) -> tuple[Resource, str, dict[object, Decimal]]:
        res = parse_resource(value)
        same = next((k for k in self.resources.values() if k[0] is res), None)
        return same or (res, res.value, {})


__all__ = ["MAX_EVENT_ID", "UsageResolver", "in_utc", "parse_time", "stored_utc",
           "usage_quantity"]
