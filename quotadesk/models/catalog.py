"""The catalog: billing plans with their per-resource terms, and add-on packs."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from quotadesk.models.base import Base


class Setting(Base):
    """Database-wide settings: currency, time zone."""

    __tablename__ = "settings"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Plan(Base):
    __tablename__ = "plans"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(600), unique=True)
    fee: Mapped[Decimal]
    anchor: Mapped[str] = mapped_column(String(16))
    addons: Mapped[bool]
    due_days: Mapped[int]
    alert_thresholds: Mapped[str] = mapped_column(String(64))
    # Voice billing increments in seconds, FIRST/NEXT (SPEC §11): 1/1 bills every second.
    increment_first: Mapped[int] = mapped_column(default=1, server_default="1")
    increment_next: Mapped[int] = mapped_column(default=1, server_default="1")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    terms: Mapped[list[PlanTerm]] = relationship(
        back_populates="plan", cascade="all, delete-orphan", order_by="PlanTerm.resource")
    __table_args__ = (CheckConstraint("due_days >= 0 AND due_days <= 365", name="due_days"),)


class PlanTerm(Base):
    """A plan's included allowance and optional overage rate for one resource."""

    __tablename__ = "plan_terms"
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"), primary_key=True)
    resource: Mapped[str] = mapped_column(String(16), primary_key=True)
    included: Mapped[Decimal]
    overage_rate: Mapped[Decimal | None]
    plan: Mapped[Plan] = relationship(back_populates="terms")


class AddonPack(Base):
    """A catalog pack. Packs referenced by history are archived, never deleted."""

    __tablename__ = "addon_packs"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(600), unique=True)
    description: Mapped[str] = mapped_column(String(2000), default="")
    resource: Mapped[str] = mapped_column(String(16))
    units: Mapped[Decimal]
    price: Mapped[Decimal]
    expires_months: Mapped[int | None]
    archived: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime]
