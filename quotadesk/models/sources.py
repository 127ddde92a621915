"""Usage sources (SPEC §11): the identifiers a platform knows a client by, saved CSV mappings."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from quotadesk.models.base import Base


class ClientIdentifier(Base):
    """A name a calling or messaging platform gives a client (an accountcode, a caller number,
    an AccountSid): unique across clients, ignoring case, as names are."""

    __tablename__ = "client_identifiers"
    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[int] = mapped_column(ForeignKey("clients.id"), index=True)
    identifier: Mapped[str] = mapped_column(String(200))
    identifier_key: Mapped[str] = mapped_column(String(600), unique=True)
    created_at: Mapped[datetime]


class UsageSource(Base):
    """A saved mapping: which columns of another platform's CSV hold what (`source add`).
    Columns are header names or 1-based numbers, kept as given."""

    __tablename__ = "usage_sources"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    name_key: Mapped[str] = mapped_column(String(600), unique=True)
    client_column: Mapped[str] = mapped_column(String(200))
    quantity_column: Mapped[str] = mapped_column(String(200))
    time_column: Mapped[str] = mapped_column(String(200))
    resource: Mapped[str | None] = mapped_column(String(16))
    resource_column: Mapped[str | None] = mapped_column(String(200))
    unit: Mapped[str] = mapped_column(String(16))
    event_id_column: Mapped[str | None] = mapped_column(String(200))
    header: Mapped[bool]
    delimiter: Mapped[str] = mapped_column(String(4))
    time_format: Mapped[str | None] = mapped_column(String(200))
    timezone: Mapped[str | None] = mapped_column(String(64))
    skip_if: Mapped[str] = mapped_column(Text, default="[]")  # JSON: [[COL, VALUE], …]
    created_at: Mapped[datetime]
