"""Periods, wallet lots, the append-only ledger, usage events, payment requests, alerts, audit."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, false
from sqlalchemy.orm import Mapped, mapped_column

from quotadesk.models.base import Base


class Period(Base):
    """A billing period `[start, end)` of a client's subscription."""

    __tablename__ = "periods"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"))
    start: Mapped[datetime]
    end: Mapped[datetime]
    closed_at: Mapped[datetime | None]
    # One period per subscription and start: two rollovers racing open it once. (A client
    # cancelled and re-subscribed at the same instant has a zero-length period and a new one
    # with the same start, under different subscriptions.)
    __table_args__ = (UniqueConstraint("subscription_id", "start"),
                      Index("ix_periods_client", "client_id", "closed_at"),
                      Index("ix_periods_open", "closed_at", "end"))


class PeriodUsage(Base):
    """A period's maintained usage counters for one resource (checked by `verify`)."""

    __tablename__ = "period_usage"
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"), primary_key=True)
    resource: Mapped[str] = mapped_column(String(16), primary_key=True)
    included: Mapped[Decimal]
    included_used: Mapped[Decimal]
    wallet_used: Mapped[Decimal]
    overage_units: Mapped[Decimal]
    overage_amount: Mapped[Decimal]
    unserved: Mapped[Decimal]


class PackApplication(Base):
    """One application of a pack, keyed so that a retry or a double click credits once."""

    __tablename__ = "pack_applications"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    pack_id: Mapped[int] = mapped_column(ForeignKey("addon_packs.id"))
    status: Mapped[str] = mapped_column(String(16))
    applied_at: Mapped[datetime]
    #: Applied by an automatic top-up rule (SPEC §12), not by an operator.
    automatic: Mapped[bool] = mapped_column(default=False, server_default=false())


class WalletLot(Base):
    """Units credited from one applied pack; `remaining` is a maintained counter of the ledger."""

    __tablename__ = "wallet_lots"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    application_id: Mapped[int] = mapped_column(ForeignKey("pack_applications.id"), unique=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("addon_packs.id"))
    resource: Mapped[str] = mapped_column(String(16))
    units: Mapped[Decimal]
    remaining: Mapped[Decimal]
    applied_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    __table_args__ = (Index("ix_wallet_lots_client", "client_id", "resource"),)


class UsageEvent(Base):
    """One usage event with the split that covered it."""

    __tablename__ = "usage_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    resource: Mapped[str] = mapped_column(String(16))
    quantity: Mapped[Decimal]
    occurred_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    late: Mapped[bool]
    included: Mapped[Decimal]
    wallet: Mapped[Decimal]
    overage_units: Mapped[Decimal]
    overage_amount: Mapped[Decimal]
    unserved: Mapped[Decimal]
    __table_args__ = (Index("ix_usage_events_period", "period_id", "resource"),
                      Index("ix_usage_events_client", "client_id", "occurred_at"))


class LedgerEntry(Base):
    """Append-only: credit, consume, expire or revoke of a lot's units. Never updated."""

    __tablename__ = "ledger_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    lot_id: Mapped[int] = mapped_column(ForeignKey("wallet_lots.id"))
    resource: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    units: Mapped[Decimal]
    at: Mapped[datetime]
    usage_event_id: Mapped[int | None] = mapped_column(ForeignKey("usage_events.id"))
    reason: Mapped[str | None] = mapped_column(String(2000))
    recorded_at: Mapped[datetime]
    __table_args__ = (Index("ix_ledger_entries_lot", "lot_id"),
                      Index("ix_ledger_entries_client", "client_id", "at"))


class PaymentRequest(Base):
    __tablename__ = "payment_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    type: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal]
    created_at: Mapped[datetime]
    due_date: Mapped[date]
    status: Mapped[str] = mapped_column(String(16))
    paid_at: Mapped[datetime | None]
    reference: Mapped[str] = mapped_column(String(300))
    period_id: Mapped[int | None] = mapped_column(ForeignKey("periods.id"))
    application_id: Mapped[int | None] = mapped_column(ForeignKey("pack_applications.id"),
                                                       unique=True)
    #: Every request is an invoice (SPEC §10): its place in the database's one gapless count
    #: (1, 2, 3 …), and the number printed on it (the prefix in force when it was made).
    invoice_seq: Mapped[int] = mapped_column(unique=True)
    invoice_number: Mapped[str] = mapped_column(String(40))
    #: amount = net + tax; the tax rate (percent) and name are copied when the request is made.
    net: Mapped[Decimal]
    tax: Mapped[Decimal]
    tax_rate: Mapped[Decimal]
    tax_name: Mapped[str] = mapped_column(String(40))
    __table_args__ = (UniqueConstraint("type", "period_id"),
                      Index("ix_payment_requests_status", "status"),
                      Index("ix_payment_requests_status_due", "status", "due_date"))


class Alert(Base):
    """A usage alert, recorded once per period, resource and kind."""

    __tablename__ = "alerts"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    period_id: Mapped[int] = mapped_column(ForeignKey("periods.id"))
    resource: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[int | None]
    key: Mapped[str] = mapped_column(String(32))
    at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("period_id", "resource", "key"),
                      Index("ix_alerts_at", "at"))


class EmailOutbox(Base):
    """The outbox (SPEC §9): every e-mail the desk owes a client, queued by the write that
    causes it, then sent, retried or failed by the sender outside any billing transaction."""

    __tablename__ = "email_outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int | None] = mapped_column(ForeignKey("clients.id"))
    kind: Mapped[str] = mapped_column(String(16))
    #: What makes a message unique ("request:12", "reminder:12:3"); alerts are unique by alert.
    key: Mapped[str | None] = mapped_column(String(100), unique=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"))
    payment_request_id: Mapped[int | None] = mapped_column(ForeignKey("payment_requests.id"))
    #: A document rendered and attached when sent ("invoice:12", "statement:5:2026-11-01:…").
    attachment: Mapped[str | None] = mapped_column(String(200))
    to_address: Mapped[str | None] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str] = mapped_column(String(200), unique=True)
    status: Mapped[str] = mapped_column(String(16))
    attempts: Mapped[int]
    next_attempt_at: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(200))
    claimed_at: Mapped[datetime | None]
    #: Sends begun and not answered (the sender stopped mid-way): at most 2 (SPEC §9).
    unconfirmed: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    reply: Mapped[str | None] = mapped_column(Text)
    error: Mapped[str | None] = mapped_column(Text)
    __table_args__ = (Index("ix_email_outbox_status_due", "status", "next_attempt_at"),
                      Index("ix_email_outbox_client", "client_id", "created_at"))


class AuditEntry(Base):
    """Who changed what, when."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[str] = mapped_column(Text, default="")
    __table_args__ = (Index("ix_audit_log_at", "at"),)


class AuditClient(Base):
    """The clients an audit entry concerns: the client itself, or whose subscription,
    snapshot, lots, requests or rules it changed (SPEC §12, `audit --client`)."""

    __tablename__ = "audit_clients"
    audit_id: Mapped[int] = mapped_column(ForeignKey("audit_log.id"), primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), primary_key=True)
    __table_args__ = (Index("ix_audit_clients_client", "client_id", "audit_id"),)
