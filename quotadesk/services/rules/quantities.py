"""Resources and exact quantities: parsing, bounds and canonical text. No I/O."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from enum import StrEnum

from quotadesk.services.errors import InvalidValue, echo


def decimal_to_text(value: Decimal) -> str:
    """Canonical exact text: no exponent, no trailing zeros beyond what the value needs."""
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


#: The text of recent nonzero decimals: quantities repeat (1 SMS, 12 SMS, 1.5 minutes …), so
#: most of a million are looked up rather than formatted.
STORED_TEXT: dict[Decimal, str] = {}


def stored(value: Decimal) -> str:
    """A Decimal in SQLite's storage form (as the `ExactDecimal` column type stores it)."""
    if not value:
        return "0"
    return STORED_TEXT.get(value) or stored_text_of(value)


def stored_text_of(value: Decimal) -> str:
    if not isinstance(value, Decimal):  # as ExactDecimal refuses it: no float reaches a row
        raise TypeError(f"ExactDecimal takes Decimal, not {type(value).__name__}")
    text = decimal_to_text(value)
    if len(STORED_TEXT) < 20_000:
        STORED_TEXT[value] = text
    return text


MAX_AMOUNT = Decimal(1_000_000_000)
ZERO = Decimal(0)
MINUTE_PLACES = 6


class Resource(StrEnum):
    MINUTES = "minutes"
    SMS = "sms"
    EMAIL = "email"


RESOURCES: tuple[Resource, ...] = (Resource.MINUTES, Resource.SMS, Resource.EMAIL)

#: How a count of each resource reads in the UI ("100 minutes", "500 credits").
UNIT_WORD = {Resource.MINUTES: "minutes", Resource.SMS: "credits", Resource.EMAIL: "credits"}
RESOURCE_LABEL = {Resource.MINUTES: "Minutes", Resource.SMS: "SMS", Resource.EMAIL: "Email"}


def parse_resource(value: object, field: str = "resource") -> Resource:
    text = str(value).strip().lower()
    try:
        return Resource(text)
    except ValueError:
        raise InvalidValue(
            f"{field}: unknown resource {echo(value)} (use minutes, sms or email)", field
        ) from None


def to_decimal(value: object, field: str) -> Decimal:
    """Parse a number exactly; refuse floats, NaN, infinities, digits other than ASCII
    (SPEC §8: `٣` and `１` are not 3 and 1) and anything non-numeric."""
    if isinstance(value, (bool, float)):
        raise InvalidValue(f"{field}: must be given as exact text or Decimal, not {value!r}",
                           field)
    if isinstance(value, Decimal):
        number = value
    elif isinstance(value, int):
        number = Decimal(value)
    else:
        text = str(value).strip().replace("_", "")
        if not text:
            raise InvalidValue(f"{field}: a number is required", field)
        if not text.isascii():
            raise InvalidValue(f"{field}: {echo(value)} is not a number in ASCII digits (0-9)",
                               field)
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise InvalidValue(f"{field}: {echo(value)} is not a number", field) from None
    if not number.is_finite():
        raise InvalidValue(f"{field}: must be a finite number", field)
    return number if number else abs(number)  # -0 is plain 0


def decimal_places(number: Decimal) -> int:
    """Significant decimal places (12.50 has 1), exactly, whatever the context's precision."""
    _sign, digits, exponent = number.as_tuple()
    assert isinstance(exponent, int)
    stripped = list(digits)
    while exponent < 0 and stripped and stripped[-1] == 0:
        stripped.pop()
        exponent += 1
    return max(0, -exponent)


def canonical(number: Decimal) -> Decimal:
    """The shortest exact form: 12.50 -> 12.5, 100.000 -> 100 (never 1E+2). No rounding:
    Decimal's normalize() would round to the context's 28 digits."""
    return Decimal(decimal_to_text(number))


def text(number: Decimal) -> str:
    return format(canonical(number), "f")


def parse_quantity(resource: Resource, value: object, field: str = "quantity",
                   allow_zero: bool = False) -> Decimal:
    """A usage or unit quantity: > 0 (or >= 0), at most 1e9, whole for sms/email, 6 dp for minutes."""
    number = to_decimal(value, field)
    if number < 0 or (number == 0 and not allow_zero):
        raise InvalidValue(f"{field}: must be greater than 0" if not allow_zero
                           else f"{field}: must not be negative", field)
    if number > MAX_AMOUNT:
        raise InvalidValue(f"{field}: must be at most 1,000,000,000", field)
    places = decimal_places(number)
    if resource is Resource.MINUTES:
        if places > MINUTE_PLACES:
            raise InvalidValue(f"{field}: minutes take at most 6 decimal places", field)
    elif places:
        raise InvalidValue(f"{field}: {resource.value} is counted in whole units", field)
    return canonical(number)


def format_quantity(number: Decimal) -> str:
    """Thousands-grouped exact quantity for the window: 1,234.5."""
    value = canonical(number)
    return f"{value:,f}"
