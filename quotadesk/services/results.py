"""Frozen values the services hand to the window and the command line."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from quotadesk.services.rules.plan_terms import PlanTerms


@dataclass(frozen=True)
class PlanInfo:
    id: int
    name: str
    fee: Decimal
    anchor: str
    included: dict[str, Decimal]
    overage: dict[str, Decimal]
    addons: bool
    due_days: int
    alerts: tuple[int, ...]
    increments: tuple[int, int] = (1, 1)  # voice billing increments, FIRST/NEXT seconds


@dataclass(frozen=True)
class PackInfo:
    id: int
    name: str
    resource: str
    units: Decimal
    price: Decimal
    expires_months: int | None
    description: str
    archived: bool = False


@dataclass(frozen=True)
class ClientInfo:
    id: int
    name: str
    email: str | None


@dataclass(frozen=True)
class ClientSummary:
    """One row of the client list."""

    id: int
    name: str
    email: str | None
    plan: str | None
    blocked: tuple[str, ...]
    included_minutes_left: Decimal | None
    wallet: dict[str, Decimal]
    pending_amount: Decimal
    overdue: int

    @property
    def status(self) -> str:
        if self.plan is None:
            return "no subscription"
        if self.blocked:
            return "blocked: " + ", ".join(self.blocked)
        return "active"


@dataclass(frozen=True)
class SubscriptionInfo:
    """A client's subscription: its state, the open period and its plan snapshot."""

    id: int
    status: str
    started_at: datetime
    period_start: datetime | None
    period_end: datetime | None
    terms: PlanTerms

    # The snapshot's terms, read through (the one shape of them is PlanTerms).
    @property
    def plan(self) -> str:
        return self.terms.plan

    @property
    def addons(self) -> bool:
        return self.terms.addons

    @property
    def due_days(self) -> int:
        return self.terms.due_days

    @property
    def fee(self) -> Decimal:
        return self.terms.fee

    @property
    def anchor(self) -> str:
        return self.terms.anchor

    @property
    def alerts(self) -> tuple[int, ...]:
        return self.terms.alerts

    @property
    def included(self) -> dict[str, Decimal]:
        return self.terms.included

    @property
    def overage(self) -> dict[str, Decimal | None]:
        return self.terms.overage


@dataclass(frozen=True)
class ResourceUsage:
    resource: str
    included: Decimal
    included_used: Decimal
    included_left: Decimal
    wallet: Decimal
    wallet_never_expires: bool
    next_expiry: datetime | None
    overage_units: Decimal
    overage_amount: Decimal
    unserved: Decimal
    blocked: bool
    overage_rate: Decimal | None


@dataclass(frozen=True)
class LotInfo:
    id: int
    resource: str
    pack: str
    units: Decimal
    remaining: Decimal
    applied_at: datetime
    expires_at: datetime | None
    expired: bool
    #: "available", "used up", "expired" or "revoked" (see clients.lot_state).
    state: str = "available"


@dataclass(frozen=True)
class CampaignInfo:
    id: int
    client: str
    client_id: int
    name: str
    resource: str
    status: str


@dataclass(frozen=True)
class AlertInfo:
    id: int
    client: str
    resource: str
    kind: str
    threshold: int | None
    period_start: datetime
    at: datetime


@dataclass(frozen=True)
class ClientDetail:
    id: int
    name: str
    email: str | None
    blocked: tuple[str, ...]
    subscription: SubscriptionInfo | None
    resources: dict[str, ResourceUsage]
    lots: tuple[LotInfo, ...]
    campaigns: tuple[CampaignInfo, ...]
    assigned_packs: tuple[PackInfo, ...]
    alerts: tuple[AlertInfo, ...] = ()
    identifiers: tuple[str, ...] = ()  # what usage sources call the client (SPEC §11)


@dataclass(frozen=True)
class ApplyResult:
    lot_id: int
    payment_request_id: int | None
    message: str
    repeated: bool = False


@dataclass(frozen=True)
class RevokeResult:
    lot_id: int
    units: Decimal


@dataclass(frozen=True)
class UsageResult:
    id: int | None
    duplicate: bool
    included: Decimal = Decimal(0)
    wallet: Decimal = Decimal(0)
    overage_units: Decimal = Decimal(0)
    overage_amount: Decimal = Decimal(0)
    unserved: Decimal = Decimal(0)
    late: bool = False
    blocked: bool = False


@dataclass(frozen=True)
class Rejection:
    line: int
    reason: str


@dataclass(frozen=True)
class ImportResult:
    recorded: int
    duplicates: int
    rejected: tuple[Rejection, ...]
    cancelled: bool = False
    #: Why the import stopped part-way (the disk is full, the file became unreadable), or
    #: None: it read the whole file. The counts are what was recorded before the stop.
    stopped: str | None = None
    #: Records the source says are not billable (unanswered calls, failed messages; §11).
    skipped: int = 0


@dataclass(frozen=True)
class RolloverResult:
    clients: int
    periods_closed: int
    payment_requests: int


@dataclass(frozen=True)
class PaymentInfo:
    id: int
    client: str
    client_id: int
    type: str
    amount: Decimal
    created_at: datetime
    due_date: date
    status: str
    paid_at: datetime | None
    overdue: bool
    reference: str
    #: The invoice it is (SPEC §10): amount = net + tax, at `tax_rate` percent.
    invoice_number: str = ""
    net: Decimal = Decimal(0)
    tax: Decimal = Decimal(0)
    tax_rate: Decimal = Decimal(0)
    tax_name: str = ""
    #: Made by an automatic top-up (SPEC §12).
    automatic: bool = False


@dataclass(frozen=True)
class OutboxMessage:
    """One e-mail of the outbox (SPEC §9)."""

    id: int
    client: str | None
    client_id: int | None
    to: str | None
    subject: str
    kind: str
    status: str
    attempts: int
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    error: str | None
    reply: str | None
    body: str
    html_body: str | None
    message_id: str
    attachment: str | None


@dataclass(frozen=True)
class HistoryRow:
    date: datetime
    kind: str
    package_type: str
    resource: str
    credits: Decimal
    amount: Decimal | None
    status: str | None
    expires_at: datetime | None
    #: A purchase made by an automatic top-up (SPEC §12).
    automatic: bool = False
    #: Why the units were revoked (a `revoked` row).
    reason: str | None = None


@dataclass(frozen=True)
class LedgerRow:
    id: int
    at: datetime
    kind: str
    resource: str
    units: Decimal
    lot_id: int
    pack: str
    reason: str | None

    @property
    def change(self) -> Decimal:
        """What the entry did to the wallet: + for a credit, − for a draw, expiry or revoke."""
        return self.units if self.kind == "credit" else -self.units


@dataclass(frozen=True)
class PaymentTotals:
    """Pending and overdue amounts (and counts) of some payment requests."""

    pending: Decimal
    pending_count: int
    overdue: Decimal
    overdue_count: int


@dataclass(frozen=True)
class AgencyTotals:
    clients: int
    active_subscriptions: int
    wallet: dict[str, Decimal]
    wallet_never_expiring: dict[str, Decimal]
    wallet_expiring_30d: dict[str, Decimal]
    blocked_clients: int
    blocked_by_resource: dict[str, int]
    pending_count: int
    pending_amount: Decimal
    overdue_count: int
    overdue_amount: Decimal
    failed_count: int


@dataclass(frozen=True)
class VerifyReport:
    problems: tuple[str, ...]
    checked: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems
