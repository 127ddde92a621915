"""Clients, their subscriptions (with the plan snapshot), assignments, campaigns and blocks."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quotadesk.models.base import Base


class Client(Base):
    __tablename__ = "clients"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(600), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime]


class Subscription(Base):
    """A client's subscription, holding a snapshot of the plan's terms when subscribed."""

    __tablename__ = "subscriptions"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    status: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]
    plan_name: Mapped[str] = mapped_column(String(200))
    fee: Mapped[Decimal]
    anchor: Mapped[str] = mapped_column(String(16))
    anchor_day: Mapped[int]
    addons: Mapped[bool]
    due_days: Mapped[int]
    alert_thresholds: Mapped[str] = mapped_column(String(64))
    increment_first: Mapped[int] = mapped_column(default=1, server_default="1")
    increment_next: Mapped[int] = mapped_column(default=1, server_default="1")
    terms: Mapped[list[SubscriptionTerm]] = relationship(order_by="SubscriptionTerm.resource")
    __table_args__ = (Index("ix_subscriptions_active", "client_id", "status"),)


class SubscriptionTerm(Base):
    __tablename__ = "subscription_terms"
    subscription_id: Mapped[int] = mapped_column(ForeignKey("subscriptions.id"), primary_key=True)
    resource: Mapped[str] = mapped_column(String(16), primary_key=True)
    included: Mapped[Decimal]
    overage_rate: Mapped[Decimal | None]


class PackAssignment(Base):
    """A catalog pack this client may buy (seed 000's "Currently assigned to client")."""

    __tablename__ = "pack_assignments"
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), primary_key=True)
    pack_id: Mapped[int] = mapped_column(ForeignKey("addon_packs.id"), primary_key=True)
    assigned_at: Mapped[datetime]


class ResourceState(Base):
    """Per client and resource: whether usage is blocked."""

    __tablename__ = "resource_states"
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), primary_key=True)
    resource: Mapped[str] = mapped_column(String(16), primary_key=True)
    blocked: Mapped[bool]
    changed_at: Mapped[datetime]


class Campaign(Base):
    __tablename__ = "campaigns"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    resource: Mapped[str] = mapped_column(String(16))
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class TopupRule(Base):
    """Automatic top-up (SPEC §12): when usage leaves the wallet for the pack's resource below
    `below`, the pack is applied. `armed` is False from a top-up until the wallet has been at
    `below` or above again (one top-up per crossing)."""

    __tablename__ = "topup_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"))
    pack_id: Mapped[int] = mapped_column(ForeignKey("addon_packs.id"))
    below: Mapped[Decimal]
    status: Mapped[str] = mapped_column(String(16))
    armed: Mapped[bool]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    __table_args__ = (UniqueConstraint("client_id", "pack_id"),)
