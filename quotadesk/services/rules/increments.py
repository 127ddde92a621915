"""Voice billing increments (SPEC §11): how carriers round a call's seconds. No I/O.

A plan's increments FIRST/NEXT (in seconds; 1/1 by default, 60/60, 30/6, 6/6 …) are
snapshotted with each subscription. A call of `billsec` seconds is billed

    0                                             when billsec is 0, otherwise
    FIRST + ceil(max(0, billsec − FIRST) / NEXT) × NEXT seconds,

and its minutes are those seconds / 60, rounded up to 6 decimal places (exact whenever the
increment is a multiple of 6 seconds). They apply to usage given in seconds, never to minutes
given directly.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, Decimal

from quotadesk.services.errors import InvalidValue, echo

#: (FIRST, NEXT) in seconds.
Increments = tuple[int, int]
PER_SECOND: Increments = (1, 1)
#: The longest increment a plan takes: an hour.
MAX_INCREMENT = 3600
_SIXTY = Decimal(60)
_PLACES = Decimal("0.000001")


def billed_seconds(billsec: Decimal | int, increments: Increments) -> Decimal:
    """The seconds billed for a call of `billsec` seconds (a whole or decimal number ≥ 0)."""
    first, step = increments
    seconds = Decimal(billsec)
    if seconds <= 0:
        return Decimal(0)
    beyond = max(Decimal(0), seconds - first)
    steps = (beyond / step).to_integral_value(rounding=ROUND_CEILING)
    return first + steps * step


def billed_minutes(billsec: Decimal | int, increments: Increments) -> Decimal:
    """The minutes billed for a call: billed seconds / 60, rounded up to 6 decimal places."""
    seconds = billed_seconds(billsec, increments)
    minutes = (seconds / _SIXTY).quantize(_PLACES, rounding=ROUND_CEILING)
    return minutes.normalize() if minutes else Decimal(0)


def parse_increments(value: object, field: str = "increments") -> Increments:
    """`FIRST/NEXT` in whole seconds, e.g. "60/60", "30/6"; FIRST 0–3600, NEXT 1–3600. A
    pair of ints is taken as such."""
    if isinstance(value, tuple) and len(value) == 2:
        parts: list[object] = list(value)
    else:
        text = str(value).strip()
        parts = [p.strip() for p in text.split("/")] if "/" in text else [text, text]
        if len(parts) != 2:
            raise InvalidValue(f"{field}: {echo(value)} is not FIRST/NEXT in seconds "
                               "(e.g. 60/60, 30/6)", field)
    numbers = []
    for part, low in zip(parts, (0, 1), strict=True):
        if isinstance(part, bool) or not (
                isinstance(part, int) or (isinstance(part, str) and part.isascii()
                                          and part.isdigit() and len(part) <= 9)):
            raise InvalidValue(f"{field}: {echo(value)} is not FIRST/NEXT in whole seconds "
                               "(e.g. 60/60, 30/6)", field)
        number = int(part)
        if not low <= number <= MAX_INCREMENT:
            raise InvalidValue(f"{field}: {echo(value)} is out of range: FIRST 0 to "
                               f"{MAX_INCREMENT}, NEXT 1 to {MAX_INCREMENT} seconds", field)
        numbers.append(number)
    return numbers[0], numbers[1]


def increments_text(increments: Increments) -> str:
    return f"{increments[0]}/{increments[1]}"


__all__ = ["MAX_INCREMENT", "PER_SECOND", "Increments", "billed_minutes", "billed_seconds",
           "increments_text", "parse_increments"]
