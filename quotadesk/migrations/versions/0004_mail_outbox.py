"""mail: the outbox that sends (SPEC §9), and settings long enough for templates

The outbox gains what sending needs: the client, the kind, a status with attempts and the
next attempt's time, a claim (so two desks never send one message twice), a stable
Message-ID, the server's reply or the error, an HTML body and a document to attach.

Messages queued before this version were never sent, some of them long ago: they are kept,
listed `failed` with the reason, and `mail retry ID` sends any of them that still matters,
rather than mailing clients months-old alerts the moment a mail server is set.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from alembic import op

import quotadesk.models.base

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

OLD_ERROR = "queued before QuotaDesk sent mail; `mail retry ID` sends it"


def upgrade() -> None:
    with op.batch_alter_table("settings") as batch:
        batch.alter_column("value", type_=sa.Text(), existing_type=sa.String(255),
                           existing_nullable=False)
    when = quotadesk.models.base.UTCDateTime()
    with op.batch_alter_table("email_outbox") as batch:
        batch.add_column(sa.Column("client_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("kind", sa.String(16), nullable=True))
        batch.add_column(sa.Column("key", sa.String(100), nullable=True))
        batch.add_column(sa.Column("payment_request_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("attachment", sa.String(200), nullable=True))
        batch.add_column(sa.Column("html_body", sa.Text(), nullable=True))
        batch.add_column(sa.Column("message_id", sa.String(200), nullable=True))
        batch.add_column(sa.Column("status", sa.String(16), nullable=True))
        batch.add_column(sa.Column("attempts", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("next_attempt_at", when, nullable=True))
        batch.add_column(sa.Column("claimed_by", sa.String(200), nullable=True))
        batch.add_column(sa.Column("claimed_at", when, nullable=True))
        batch.add_column(sa.Column("unconfirmed", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reply", sa.Text(), nullable=True))
        batch.add_column(sa.Column("error", sa.Text(), nullable=True))
        batch.alter_column("alert_id", existing_type=sa.Integer(), nullable=True)
        batch.alter_column("to_address", existing_type=sa.String(320), nullable=True)

    conn = op.get_bind()
    # What makes this database's Message-IDs its own (with each message's id and time).
    conn.execute(sa.text("INSERT INTO settings (key, value) VALUES ('mail.message_ids', :t)"),
                 {"t": uuid.uuid4().hex[:16]})
    conn.execute(sa.text(
        "UPDATE email_outbox SET kind = 'alert', attempts = 0, unconfirmed = 0, "
        "client_id = (SELECT alerts.client_id FROM alerts WHERE alerts.id = email_outbox.alert_id), "
        "status = CASE WHEN sent_at IS NULL THEN 'failed' ELSE 'sent' END, "
        "error = CASE WHEN sent_at IS NULL THEN :error END"), {"error": OLD_ERROR})
    ids = conn.execute(sa.text("SELECT id FROM email_outbox")).scalars().all()
    for row_id in ids:
        conn.execute(sa.text("UPDATE email_outbox SET message_id = :m WHERE id = :id"),
                     {"m": f"<{uuid.uuid4().hex}@quotadesk.invalid>", "id": row_id})

    with op.batch_alter_table("email_outbox") as batch:
        batch.alter_column("kind", existing_type=sa.String(16), nullable=False)
        batch.alter_column("message_id", existing_type=sa.String(200), nullable=False)
        batch.alter_column("status", existing_type=sa.String(16), nullable=False)
        batch.alter_column("attempts", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("unconfirmed", existing_type=sa.Integer(), nullable=False)
        batch.create_unique_constraint(op.f("uq_email_outbox_key"), ["key"])
        batch.create_unique_constraint(op.f("uq_email_outbox_message_id"), ["message_id"])
        batch.create_foreign_key(op.f("fk_email_outbox_client_id_clients"), "clients",
                                 ["client_id"], ["id"])
        batch.create_foreign_key(op.f("fk_email_outbox_payment_request_id_payment_requests"),
                                 "payment_requests", ["payment_request_id"], ["id"])
        batch.create_index("ix_email_outbox_status_due", ["status", "next_attempt_at"])
        batch.create_index("ix_email_outbox_client", ["client_id", "created_at"])


def downgrade() -> None:
    op.execute("DELETE FROM settings WHERE key = 'mail.message_ids'")
    with op.batch_alter_table("email_outbox") as batch:
        batch.drop_index("ix_email_outbox_client")
        batch.drop_index("ix_email_outbox_status_due")
        batch.drop_constraint(op.f("fk_email_outbox_payment_request_id_payment_requests"),
                              type_="foreignkey")
        batch.drop_constraint(op.f("fk_email_outbox_client_id_clients"), type_="foreignkey")
        batch.drop_constraint(op.f("uq_email_outbox_message_id"), type_="unique")
        batch.drop_constraint(op.f("uq_email_outbox_key"), type_="unique")
        for column in ("error", "reply", "unconfirmed", "claimed_at", "claimed_by", "next_attempt_at",
                       "attempts", "status", "message_id", "html_body", "attachment",
                       "payment_request_id", "key", "kind", "client_id"):
            batch.drop_column(column)
    op.execute("DELETE FROM email_outbox WHERE alert_id IS NULL")
    with op.batch_alter_table("email_outbox") as batch:
        batch.alter_column("alert_id", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("to_address", existing_type=sa.String(320), nullable=False)
    with op.batch_alter_table("settings") as batch:
        batch.alter_column("value", type_=sa.String(255), existing_type=sa.Text(),
                           existing_nullable=False)
