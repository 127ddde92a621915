"""What an invoice and a statement say (SPEC §10), as frozen values read from the services'
own numbers: the layout only arranges them, it computes nothing."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class Agency:
    """The agency's block, from the settings (§9): `agency.name`, address, e-mail, tax id."""

    name: str
    address: tuple[str, ...]
    email: str
    tax_id: str


@dataclass(frozen=True)
class InvoiceLine:
    """One line: `quantity` × `unit_price` = `amount` (both None for a flat amount)."""

    description: str
    amount: Decimal
    quantity: Decimal | None = None
    resource: str | None = None
    unit_price: Decimal | None = None


@dataclass(frozen=True)
class InvoiceData:
    request_id: int
    number: str
    type: str  # Plan, Pack, Overage
    reference: str
    issued: date
    due: date
    #: paid, pending, overdue or failed; `paid_on` is the local date it was marked paid.
    status: str
    paid_on: date | None
    agency: Agency
    client_name: str
    client_email: str | None
    lines: tuple[InvoiceLine, ...]
    #: The lines' exact sum, and the rounding to the minor unit that made the net (overage
    #: is rounded once, on the request: SPEC §8).
    subtotal: Decimal
    rounding: Decimal
    net: Decimal
    tax: Decimal
    tax_rate: Decimal
    tax_name: str
    total: Decimal
    currency: str
    timezone: str
    #: The billing period it is for (Plan and Overage), first and last local day.
    period: tuple[date, date] | None = None


@dataclass(frozen=True)
class PeriodUsageLine:
    """A period's usage of one resource, from its maintained counters (checked by verify)."""

    resource: str
    included: Decimal
    included_used: Decimal
    wallet_used: Decimal
    overage_units: Decimal
    overage_amount: Decimal
    unserved: Decimal


@dataclass(frozen=True)
class StatementPeriod:
    first_day: date
    last_day: date
    plan: str
    #: Still running: its figures are so far.
    open: bool
    usage: tuple[PeriodUsageLine, ...]


@dataclass(frozen=True)
class WalletMovement:
    """One resource's wallet over the range, from the ledger:
    opening + credited − consumed − expired − revoked = closing."""

    resource: str
    opening: Decimal
    credited: Decimal
    consumed: Decimal
    expired: Decimal
    revoked: Decimal
    closing: Decimal


@dataclass(frozen=True)
class StatementRequest:
    id: int
    number: str
    type: str
    reference: str
    issued: date
    due: date
    status: str  # paid, pending, overdue or failed
    paid_on: date | None
    net: Decimal
    tax: Decimal
    amount: Decimal


@dataclass(frozen=True)
class StatementData:
    client_id: int
    client_name: str
    client_email: str | None
    agency: Agency
    #: The range, local days, both included.
    first_day: date
    last_day: date
    issued: date
    periods: tuple[StatementPeriod, ...]
    wallet: tuple[WalletMovement, ...]
    #: The requests made in the range, oldest first.
    requests: tuple[StatementRequest, ...]
    #: Requests made outside the range that are still pending.
    other_due: tuple[StatementRequest, ...]
    #: Everything the client still owes: the pending requests, in the range or not.
    total_due: Decimal
    currency: str
    timezone: str
    made_at: datetime
