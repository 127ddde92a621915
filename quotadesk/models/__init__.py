"""SQLAlchemy 2 typed tables; nothing else lives here."""

from quotadesk.models.base import Base, ExactDecimal, UTCDateTime
from quotadesk.models.billing import (
    Alert,
    AuditClient,
    AuditEntry,
    EmailOutbox,
    LedgerEntry,
    PackApplication,
    PaymentRequest,
    Period,
    PeriodUsage,
    UsageEvent,
    WalletLot,
)
from quotadesk.models.catalog import AddonPack, Plan, PlanTerm, Setting
from quotadesk.models.clients import (
    Campaign,
    Client,
    PackAssignment,
    ResourceState,
    Subscription,
    SubscriptionTerm,
    TopupRule,
)
from quotadesk.models.sources import ClientIdentifier, UsageSource

__all__ = [
    "AddonPack", "Alert", "AuditClient", "AuditEntry", "Base", "Campaign", "Client", "ClientIdentifier",
    "EmailOutbox",
    "ExactDecimal", "LedgerEntry", "PackApplication", "PackAssignment", "PaymentRequest",
    "Period", "PeriodUsage", "Plan", "PlanTerm", "ResourceState", "Setting", "Subscription",
    "SubscriptionTerm", "TopupRule", "UTCDateTime", "UsageEvent", "UsageSource", "WalletLot",
]
