"""automatic top-up rules and the audit trail

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import quotadesk.models.base

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "topup_rules",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.Column("pack_id", sa.Integer(), nullable=False),
        sa.Column("below", quotadesk.models.base.ExactDecimal(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("armed", sa.Boolean(), nullable=False),
        sa.Column("created_at", quotadesk.models.base.UTCDateTime(), nullable=False),
        sa.Column("updated_at", quotadesk.models.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_topup_rules_client_id_clients")),
        sa.ForeignKeyConstraint(["pack_id"], ["addon_packs.id"],
                                name=op.f("fk_topup_rules_pack_id_addon_packs")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_topup_rules")),
        sa.UniqueConstraint("client_id", "pack_id",
                            name=op.f("uq_topup_rules_client_id_pack_id")),
    )
    op.create_table(
        "audit_clients",
        sa.Column("audit_id", sa.Integer(), nullable=False),
        sa.Column("client_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["audit_id"], ["audit_log.id"],
                                name=op.f("fk_audit_clients_audit_id_audit_log")),
        sa.ForeignKeyConstraint(["client_id"], ["clients.id"],
                                name=op.f("fk_audit_clients_client_id_clients")),
        sa.PrimaryKeyConstraint("audit_id", "client_id", name=op.f("pk_audit_clients")),
    )
    with op.batch_alter_table("audit_clients") as batch:
        batch.create_index("ix_audit_clients_client", ["client_id", "audit_id"])
    # A plain ADD COLUMN (SQLite takes one with a constant default): a batch would copy the
    # table and drop the old one, which the foreign keys of lots and requests refuse.
    op.add_column("pack_applications", sa.Column("automatic", sa.Boolean(), nullable=False,
                                                 server_default=sa.false()))


def downgrade() -> None:
    op.drop_column("pack_applications", "automatic")
    with op.batch_alter_table("audit_clients") as batch:
        batch.drop_index("ix_audit_clients_client")
    op.drop_table("audit_clients")
    op.drop_table("topup_rules")
