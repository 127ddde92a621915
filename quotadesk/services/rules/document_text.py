"""How documents write numbers, dates and the product's words for a locale: money in the
locale's currency format, exact quantities with its grouping and decimal signs, dates in its
medium form, and the paper its country uses (A4 or Letter). No I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import lru_cache

from babel.core import Locale, UnknownLocaleError
from babel.dates import format_date, format_interval
from babel.numbers import format_decimal

from quotadesk.services.rules.money import format_money
from quotadesk.services.rules.quantities import canonical, decimal_places

#: Countries whose offices use US Letter paper; everywhere else uses A4 (ISO 216).
LETTER_TERRITORIES = frozenset({"US", "CA", "MX", "PH", "CL", "CO", "VE", "CR", "GT", "PA",
                                "PR", "SV", "DO", "NI", "BZ"})
UNIT_WORDS = {"minutes": "minutes", "sms": "SMS", "email": "emails"}
RESOURCE_NAMES = {"minutes": "Voice minutes", "sms": "SMS", "email": "Email"}
STATUS_WORDS = {"pending": "Pending", "overdue": "Overdue", "failed": "Failed", "paid": "Paid"}


@lru_cache(maxsize=32)
def document_locale(name: str | None) -> Locale:
    """A babel locale from a name such as `de_DE`, `fr-CA` or `C` (which means en_US)."""
    if name and name.split(".")[0] not in ("C", "POSIX"):
        try:
            return Locale.parse(name.split(".")[0].split("@")[0].replace("-", "_"))
        except (UnknownLocaleError, ValueError, TypeError):
            pass
    return Locale.parse("en_US")


def paper_for(locale: str | None) -> str:
    """"Letter" or "A4": the paper of the locale's country (a language alone: A4)."""
    territory = document_locale(locale).territory
    return "Letter" if territory in LETTER_TERRITORIES else "A4"


@dataclass(frozen=True)
class DocumentText:
    currency: str
    locale: str = "en_US"

    @property
    def _loc(self) -> Locale:
        return document_locale(self.locale)

    def money(self, amount: Decimal) -> str:
        return format_money(amount, self.currency, str(self._loc))

    def qty(self, number: Decimal) -> str:
        """Exact, with the locale's grouping: 1,234.5 · 1.234,5 · 1 234,5."""
        value = canonical(number)
        places = decimal_places(value)
        pattern = "#,##0" + ("." + "0" * places if places else "")
        return str(format_decimal(value, format=pattern, locale=self._loc,
                                  decimal_quantization=False))

    def units(self, number: Decimal, resource: str | None) -> str:
        word = UNIT_WORDS.get(resource or "", "")
        return f"{self.qty(number)} {word}".strip()

    def rate(self, rate: Decimal) -> str:
        """A tax rate in percent, exact: 20 %, 7.5 %, 19,25 %."""
        return f"{self.qty(rate)}\u00a0%"

    def day(self, value: date) -> str:
        return str(format_date(value, format="medium", locale=self._loc))

    def days(self, first: date, last: date) -> str:
        """A range of days as the locale writes one: Jul 1 – 31, 2026; 1.–31. Juli 2026."""
        return str(format_interval(first, last, "yMMMd", locale=self._loc))

    def status(self, status: str, paid_on: date | None) -> str:
        if status == "paid" and paid_on is not None:
            return f"Paid on {self.day(paid_on)}"
        return STATUS_WORDS.get(status, status)


def resource_name(resource: str) -> str:
    return RESOURCE_NAMES.get(resource, resource)
