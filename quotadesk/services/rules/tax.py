"""Tax on a payment request and the invoice number printed on it (SPEC §10). No I/O."""

from __future__ import annotations

from decimal import Decimal

from quotadesk.services.rules.money import round_money

HUNDRED = Decimal(100)
#: Invoice numbers have six digits at least: INV-000001 … INV-999999, then INV-1000000.
NUMBER_DIGITS = 6


def tax_on(net: Decimal, rate: Decimal, currency: str) -> Decimal:
    """`net` × `rate` percent, half-up to the currency's minor unit (0 at a rate of 0)."""
    if not rate or not net:
        return round_money(Decimal(0), currency)
    return round_money(net * rate / HUNDRED, currency)


def invoice_number(prefix: str, seq: int) -> str:
    """The number printed on the `seq`-th invoice of a database: `INV-000042`."""
    return f"{prefix}{seq:0{NUMBER_DIGITS}d}"


def rate_text(rate: Decimal) -> str:
    """A tax rate as people write it: 20, 7.5, 19.25 (no trailing zeros), without the %."""
    text = format(rate.normalize(), "f") if rate else "0"
    return text
