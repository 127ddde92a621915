"""Money: exact amounts in the database's one currency, rounded once, half-up. No I/O."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from functools import cache, lru_cache

from babel.core import Locale, UnknownLocaleError
from babel.numbers import format_currency, get_currency_precision, list_currencies

from quotadesk.services.errors import InvalidValue, echo
from quotadesk.services.rules.quantities import MAX_AMOUNT, decimal_places, to_decimal

RATE_PLACES = 6


@cache
def minor_places(currency: str) -> int:
    return int(get_currency_precision(currency))


def check_currency(code: object) -> str:
    value = str(code).strip().upper()
    if value not in list_currencies():
        raise InvalidValue(f"currency: unknown ISO 4217 code {echo(code)}", "currency")
    return value


def round_money(amount: Decimal, currency: str) -> Decimal:
    """Half-up to the currency's minor unit (SPEC §2.3: only when a request is made)."""
    return amount.quantize(Decimal(1).scaleb(-minor_places(currency)), rounding=ROUND_HALF_UP)


def parse_money(value: object, field: str, currency: str) -> Decimal:
    """A price or fee: finite, >= 0, at most 1e9, no finer than the minor unit."""
    amount = to_decimal(value, field)
    if amount < 0:
        raise InvalidValue(f"{field}: must not be negative", field)
    if amount > MAX_AMOUNT:
        raise InvalidValue(f"{field}: must be at most 1,000,000,000", field)
    places = minor_places(currency)
    if decimal_places(amount) > places:
        raise InvalidValue(f"{field}: {currency} amounts have at most {places} decimal places", field)
    return amount.quantize(Decimal(1).scaleb(-places))


def parse_rate(value: object, field: str) -> Decimal:
    """An overage rate per unit: finite, >= 0 (0 is a free rate), up to 6 decimal places."""
    rate = to_decimal(value, field)
    if rate < 0:
        raise InvalidValue(f"{field}: must not be negative", field)
    if rate > MAX_AMOUNT:
        raise InvalidValue(f"{field}: must be at most 1,000,000,000", field)
    if decimal_places(rate) > RATE_PLACES:
        raise InvalidValue(f"{field}: a rate takes at most {RATE_PLACES} decimal places", field)
    return rate


def money_text(amount: Decimal, currency: str) -> str:
    """Plain exact text for JSON and CSV: 10.00 (at least the minor unit's places)."""
    places = minor_places(currency)
    if decimal_places(amount) <= places:
        amount = amount.quantize(Decimal(1).scaleb(-places))
    return format(amount, "f")


@lru_cache(maxsize=64)
def _locale(name: str) -> Locale:
    try:
        return Locale.parse(name.replace("-", "_"))
    except (UnknownLocaleError, ValueError):
        return Locale.parse("en_US")


def format_money(amount: Decimal, currency: str, locale: str = "en_US") -> str:
    """The locale's currency format ($1,234.50; 1.234,50 €); exact beyond the minor unit."""
    places = minor_places(currency)
    digits = max(places, decimal_places(amount))
    loc = _locale(locale)
    if digits == places:
        return str(format_currency(amount, currency, locale=loc))
    pattern = loc.currency_formats["standard"]
    return str(format_currency(amount, currency, locale=loc, format=pattern,
                               currency_digits=False, decimal_quantization=False))
