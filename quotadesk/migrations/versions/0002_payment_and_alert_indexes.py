"""indexes for the overdue list and the alert feed

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from __future__ import annotations

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment_requests") as batch:
        batch.create_index("ix_payment_requests_status_due", ["status", "due_date"])
    with op.batch_alter_table("alerts") as batch:
        batch.create_index("ix_alerts_at", ["at"])


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.drop_index("ix_alerts_at")
    with op.batch_alter_table("payment_requests") as batch:
        batch.drop_index("ix_payment_requests_status_due")
