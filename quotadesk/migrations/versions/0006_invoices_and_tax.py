"""invoices and tax: numbers, net, tax, rate

Every payment request becomes an invoice (SPEC §10): the requests already there are numbered
1, 2, 3 … in the order they were created (ties by id) with the prefix in force (`INV-`
unless set), and keep their amount as their net, with no tax (rate 0: amounts were made
before tax existed).

Only native ALTERs: on SQLite a batch copy of `payment_requests` would have to drop a table
that populated tables refer to, which the references enforced on every connection refuse.
So on SQLite the new columns stay nullable in the schema (every writer fills them) and the
count's uniqueness is a unique index; PostgreSQL gets NOT NULL as well.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from decimal import Decimal

import sqlalchemy as sa
from alembic import op

import quotadesk.models.base

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

DEFAULT_PREFIX = "INV-"
DEFAULT_TAX_NAME = "VAT"


COLUMNS = ("invoice_seq", "invoice_number", "net", "tax", "tax_rate", "tax_name")
UNIQUE = "uq_payment_requests_invoice_seq"


def upgrade() -> None:
    money = quotadesk.models.base.ExactDecimal()
    for column in (sa.Column("invoice_seq", sa.Integer(), nullable=True),
                   sa.Column("invoice_number", sa.String(40), nullable=True),
                   sa.Column("net", money, nullable=True),
                   sa.Column("tax", money, nullable=True),
                   sa.Column("tax_rate", money, nullable=True),
                   sa.Column("tax_name", sa.String(40), nullable=True)):
        op.add_column("payment_requests", column)
    bind = op.get_bind()
    settings = sa.table("settings", sa.column("key", sa.String), sa.column("value", sa.Text))
    stored = dict(bind.execute(sa.select(settings.c.key, settings.c.value).where(
        settings.c.key.in_(("invoice.prefix", "tax.name")))).all())
    prefix = stored.get("invoice.prefix") or DEFAULT_PREFIX
    tax_name = stored.get("tax.name") or DEFAULT_TAX_NAME
    requests = sa.table("payment_requests", sa.column("id", sa.Integer),
                        sa.column("created_at", sa.DateTime), sa.column("amount", money),
                        sa.column("invoice_seq", sa.Integer),
                        sa.column("invoice_number", sa.String),
                        sa.column("net", money), sa.column("tax", money),
                        sa.column("tax_rate", money), sa.column("tax_name", sa.String))
    ids = bind.execute(sa.select(requests.c.id).order_by(
        requests.c.created_at, requests.c.id)).scalars().all()
    numbered = [{"b_id": request_id, "seq": seq, "number": f"{prefix}{seq:06d}"}
                for seq, request_id in enumerate(ids, start=1)]
    for start in range(0, len(numbered), 5000):
        bind.execute(sa.update(requests).where(requests.c.id == sa.bindparam("b_id")).values(
            invoice_seq=sa.bindparam("seq"), invoice_number=sa.bindparam("number")),
            numbered[start:start + 5000])
    # Amounts so far had no tax: net = amount, tax 0 at rate 0 (a plain copy of the column:
    # the same text on SQLite, the same number on PostgreSQL).
    bind.execute(sa.update(requests).values(
        net=requests.c.amount, tax=sa.literal(Decimal(0), money),
        tax_rate=sa.literal(Decimal(0), money), tax_name=tax_name))
    op.create_index(UNIQUE, "payment_requests", ["invoice_seq"], unique=True)
    if bind.dialect.name != "sqlite":
        for name in COLUMNS:
            op.alter_column("payment_requests", name, nullable=False)


def downgrade() -> None:
    op.drop_index(UNIQUE, "payment_requests")
    for name in reversed(COLUMNS):
        op.drop_column("payment_requests", name)
