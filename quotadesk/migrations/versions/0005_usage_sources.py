"""usage sources: client identifiers, mappings, billing increments

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import quotadesk.models.base

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

#: Voice billing increments (SPEC §11) on plans and, snapshotted, on subscriptions: every
#: plan and subscription there already is bills by the second (1/1).
INCREMENT_TABLES = ("plans", "subscriptions")


def upgrade() -> None:
    for table in INCREMENT_TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("increment_first", sa.Integer(), nullable=False,
                                       server_default="1"))
            batch.add_column(sa.Column("increment_next", sa.Integer(), nullable=False,
                                       server_default="1"))
    op.create_table(
        "client_identifiers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("identifier", sa.String(length=200), nullable=False),
        sa.Column("identifier_key", sa.String(length=600), nullable=False),
        sa.Column("created_at", quotadesk.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_client_identifiers_client_id_clients")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_client_identifiers")),
        sa.UniqueConstraint("identifier_key", name=op.f("uq_client_identifiers_identifier_key")),
    )
    with op.batch_alter_table("client_identifiers") as batch:
        batch.create_index("ix_client_identifiers_client_id", ["client_id"])
    op.create_table(
        "usage_sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("name_key", sa.String(length=600), nullable=False),
        sa.Column("client_column", sa.String(length=200), nullable=False),
        sa.Column("quantity_column", sa.String(length=200), nullable=False),
        sa.Column("time_column", sa.String(length=200), nullable=False),
        sa.Column("resource", sa.String(length=16), nullable=True),
        sa.Column("resource_column", sa.String(length=200), nullable=True),
        sa.Column("unit", sa.String(length=16), nullable=False),
        sa.Column("event_id_column", sa.String(length=200), nullable=True),
        sa.Column("header", sa.Boolean(), nullable=False),
        sa.Column("delimiter", sa.String(length=4), nullable=False),
        sa.Column("time_format", sa.String(length=200), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=True),
        sa.Column("skip_if", sa.Text(), nullable=False),
        sa.Column("created_at", quotadesk.models.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_usage_sources")),
        sa.UniqueConstraint("name_key", name=op.f("uq_usage_sources_name_key")),
    )


def downgrade() -> None:
    op.drop_table("usage_sources")
    with op.batch_alter_table("client_identifiers") as batch:
        batch.drop_index("ix_client_identifiers_client_id")
    op.drop_table("client_identifiers")
    for table in reversed(INCREMENT_TABLES):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("increment_next")
            batch.drop_column("increment_first")
