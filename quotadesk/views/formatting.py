"""How the window writes money, quantities, times and the product's words: pure and
thread-safe, so that loads can prepare display text in their worker thread."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from functools import lru_cache
from zoneinfo import ZoneInfo

from PySide6.QtCore import QCoreApplication, QLocale

from quotadesk.services.rules.money import format_money, minor_places
from quotadesk.services.rules.quantities import format_quantity

RESOURCES = ("minutes", "sms", "email")
DASH = "—"
UTC_ZONE = ZoneInfo("UTC")


def tr(text: str, context: str = "words") -> str:
    return QCoreApplication.translate(context, text)


def system_locale() -> str:
    """The babel locale for the user's Qt locale ("C" falls back to en_US in format_money)."""
    name = QLocale.system().name()
    return name if name and name != "C" else "en_US"


class MoneyFormat:
    """The locale's currency format for one currency, worked out once from Babel's (the
    symbol, the signs, the separators) and then applied with Python's own number formatting:
    Babel's `format_currency` parses its pattern on every call, which for a list of 100,000
    amounts was a quarter of the load. A pattern this cannot reproduce exactly (another
    grouping, other digits) and amounts finer than the minor unit are left to Babel."""

    PROBES = ("0", "5", "-12.5", "1000", "-1000", "1234.5", "-1234567.89", "1000000")

    def __init__(self, currency: str, locale: str) -> None:
        self.currency, self.locale = currency, locale
        self.places = minor_places(currency)
        self.quantum = Decimal(1).scaleb(-self.places)
        self.plain: tuple[tuple[str, str], tuple[str, str]] | None = None
        try:
            self.plain = (self._affixes("1234567"), self._affixes("-1234567"))
            sample = format_money(Decimal("1234567"), currency, locale)
            digits = sample[len(self.plain[0][0]):len(sample) - len(self.plain[0][1]) or None]
            group = digits[1] if len(digits) > 1 and not digits[1].isdigit() else ""
            self.separators = str.maketrans({",": group, ".": self._decimal_sign()})
            if any(self(Decimal(p)) != format_money(Decimal(p), currency, locale)
                   for p in self.PROBES):
                self.plain = None
        except (ValueError, IndexError):
            self.plain = None

    def _affixes(self, number: str) -> tuple[str, str]:
        text = format_money(Decimal(number), self.currency, self.locale)
        first = next(i for i, ch in enumerate(text) if ch.isdigit())
        last = max(i for i, ch in enumerate(text) if ch.isdigit())
        if not text[first:last + 1].replace(",", "").replace(".", "").replace(
                "\u202f", "").replace("\xa0", "").replace("'", "").replace("’", "").isdigit():
            raise ValueError("digits the fast path does not write")
        return text[:first], text[last + 1:]

    def _decimal_sign(self) -> str:
        if not self.places:
            return "."
        text = format_money(Decimal("1.5"), self.currency, self.locale)
        last = max(i for i, ch in enumerate(text) if ch.isdigit())
        return text[last - self.places]

    def __call__(self, amount: Decimal) -> str:
        if self.plain is None or amount != amount.quantize(self.quantum):
            return format_money(amount, self.currency, self.locale)
        prefix, suffix = self.plain[amount < 0]
        digits = f"{abs(amount):,.{self.places}f}".translate(self.separators)
        return f"{prefix}{digits}{suffix}"


@lru_cache(maxsize=32)
def money_format(currency: str, locale: str) -> MoneyFormat:
    """One formatter per currency and locale, built on first use."""
    return MoneyFormat(currency, locale)


@dataclass(frozen=True)
class Formatter:
    currency: str = "USD"
    tz: ZoneInfo = UTC_ZONE
    locale: str = "en_US"

    def money(self, amount: Decimal | None) -> str:
        return DASH if amount is None else money_format(self.currency, self.locale)(amount)

    def rate(self, amount: Decimal | None, resource: str) -> str:
        if amount is None:
            return tr("None")
        return tr("{price} per {unit}").format(price=self.money(amount),
                                               unit=singular_unit(resource))

    def qty(self, number: Decimal | None) -> str:
        return DASH if number is None else format_quantity(number)

    def count(self, number: int) -> str:
        """A count of things (lines, events), grouped as quantities are: "250,000"."""
        return format_quantity(Decimal(number))

    def units(self, resource: str, number: Decimal) -> str:
        """"100 minutes", "500 credits" (seed 000 and 002's words)."""
        return tr("{count} {unit}").format(count=format_quantity(number),
                                           unit=unit_word(resource))

    def local(self, moment: datetime) -> datetime:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return moment.astimezone(self.tz)

    def when(self, moment: datetime | None) -> str:
        return DASH if moment is None else self.local(moment).strftime("%Y-%m-%d %H:%M")

    def day(self, value: date | datetime | None) -> str:
        if value is None:
            return DASH
        if isinstance(value, datetime):
            value = self.local(value).date()
        return value.isoformat()

    def period(self, start: datetime | None, end: datetime | None) -> str:
        """A period [start, end) as its first and last local day."""
        if start is None or end is None:
            return DASH
        last = self.local(end - timedelta(microseconds=1)).date()
        return f"{self.day(start)} – {last.isoformat()}"


#: Letters with no decomposition that the root collation (CLDR, as ICU sorts) files beside a
#: base letter: Łódź sorts among the L's.
_FOLDED = str.maketrans({"ł": "l", "ø": "o", "đ": "d", "ß": "ss", "æ": "ae", "œ": "oe",
                         "ı": "i", "þ": "th", "ð": "d", "ħ": "h", "ŧ": "t"})
#: Languages whose collation puts some accented letters after z (Swedish Å, Ä, Ö …).
_AFTER_Z = {"sv": "åäöæø", "fi": "åäöæø", "da": "æøå", "nb": "æøå", "nn": "æøå", "no": "æøå",
            "is": "æö"}


def collation_key(text: str, locale: str = "en_US") -> str:
    """A sort key in the order of the locale's collation at its first level (letters before
    accents and case): "Ångström Optics" before "Umbra" in English, after "Zephyr" in
    Swedish. The same order as Qt's QCollator (ICU) gives for the names a desk holds, at a
    fraction of its cost (a plain string key instead of a comparison call per pair)."""
    folded = text.casefold()
    if folded.isascii():
        return folded
    late = _AFTER_Z.get(locale.split("_", 1)[0].lower())
    if late:
        folded = "".join(f"z{chr(0x10ff00 + late.index(ch))}" if ch in late else ch
                         for ch in folded)
    decomposed = unicodedata.normalize("NFKD", folded.translate(_FOLDED))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def permille(part: Decimal, whole: Decimal) -> int:
    """Exact share in thousandths for a progress bar (no float)."""
    if whole <= 0:
        return 0
    value = (part * 1000 / whole).to_integral_value(rounding=ROUND_DOWN)
    return max(0, min(1000, int(value)))


def percent_text(part: Decimal, whole: Decimal) -> str:
    return f"{permille(part, whole) // 10} %"


def resource_label(resource: str) -> str:
    return {"minutes": tr("Minutes"), "sms": tr("SMS"), "email": tr("Email")}.get(
        resource, resource)


def unit_word(resource: str) -> str:
    """Minutes count in minutes; SMS and email in credits (seed 002)."""
    return tr("minutes") if resource == "minutes" else tr("credits")


def singular_unit(resource: str) -> str:
    return {"minutes": tr("minute"), "sms": tr("SMS"), "email": tr("email")}.get(
        resource, resource)


def remaining_line(resource: str, fmt: Formatter, units: Decimal) -> str:
    """Seed 002's balance lines, as the client's portal shows them."""
    count = fmt.qty(units)
    if resource == "sms":
        return tr("Remaining SMS credits: {count} credits available").format(count=count)
    if resource == "email":
        return tr("Remaining email credits: {count} credits available").format(count=count)
    return tr("Remaining minutes: {count} minutes available").format(count=count)


def campaign_status(status: str) -> str:
    return {"running": tr("Running"), "paused": tr("Paused"),
            "paused_quota": tr("Paused · quota"), "finished": tr("Finished")}.get(status, status)


def payment_status(status: str, overdue: bool = False) -> str:
    text = {"pending": tr("Pending"), "paid": tr("Paid"), "failed": tr("Failed")}.get(
        status, status)
    return tr("{status} · overdue").format(status=text) if overdue else text


def payment_type(kind: str) -> str:
    """A payment request's type as the window says it."""
    return {"Plan": tr("Plan"), "Pack": tr("Pack"), "Overage": tr("Overage")}.get(kind, kind)


def payment_tone(status: str, overdue: bool, *, status_column: bool, due_column: bool) -> str:
    """The colour of a payment request's status and due date: overdue is bad wherever it
    shows; the status itself is ok (paid), bad (failed) or warn (pending)."""
    if (status_column or due_column) and overdue:
        return "bad"
    if status_column:
        return {"paid": "ok", "failed": "bad", "pending": "warn"}.get(status, "")
    return ""


def ledger_kind(kind: str) -> str:
    return {"credit": tr("Credit"), "consume": tr("Consume"), "expire": tr("Expire"),
            "revoke": tr("Revoke")}.get(kind, kind)


def alert_text(resource: str, kind: str, threshold: int | None) -> str:
    label = resource_label(resource)
    if kind == "threshold":
        return tr("{threshold} % of included {resource} used").format(
            threshold=threshold, resource=label)
    if kind == "exhausted":
        return tr("Included {resource} used up").format(resource=label)
    return tr("Blocked: {resource}").format(resource=label)


def blocked_list(resources: tuple[str, ...] | list[str]) -> str:
    return ", ".join(resource_label(r) for r in resources)


def pack_option_text(name: str, price: Decimal, units: Decimal, resource: str,
                     fmt: Formatter) -> str:
    """Seed 000: each option reads `Pack name - {price} ({count} minutes)`."""
    return tr("{name} - {price} ({count} {unit})").format(
        name=name, price=fmt.money(price), count=fmt.qty(units), unit=unit_word(resource))


def validity_text(expires_months: int | None) -> str:
    if expires_months is None:
        return tr("Never expires")
    if expires_months == 1:
        return tr("Expires 1 month after applying")
    return tr("Expires {months} months after applying").format(months=expires_months)
