"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-11-25
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import quotadesk.models.base

revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('addon_packs',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('description', sa.String(length=2000), nullable=False),
    sa.Column('resource', sa.String(length=16), nullable=False),
    sa.Column('units', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('price', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('expires_months', sa.Integer(), nullable=True),
    sa.Column('archived', sa.Boolean(), nullable=False),
    sa.Column('created_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_addon_packs')),
    sa.UniqueConstraint('name_key', name=op.f('uq_addon_packs_name_key'))
    )
    op.create_table('audit_log',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.Column('actor', sa.String(length=200), nullable=False),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=64), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=True),
    sa.Column('detail', sa.Text(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_log'))
    )
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.create_index('ix_audit_log_at', ['at'], unique=False)

    op.create_table('clients',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=True),
    sa.Column('created_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clients')),
    sa.UniqueConstraint('name_key', name=op.f('uq_clients_name_key'))
    )
    op.create_table('plans',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('name_key', sa.String(length=200), nullable=False),
    sa.Column('fee', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('anchor', sa.String(length=16), nullable=False),
    sa.Column('addons', sa.Boolean(), nullable=False),
    sa.Column('due_days', sa.Integer(), nullable=False),
    sa.Column('alert_thresholds', sa.String(length=64), nullable=False),
    sa.Column('created_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.CheckConstraint('due_days >= 0 AND due_days <= 365', name=op.f('ck_plans_due_days')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_plans')),
    sa.UniqueConstraint('name_key', name=op.f('uq_plans_name_key'))
    )
    op.create_table('settings',
    sa.Column('key', sa.String(length=64), nullable=False),
    sa.Column('value', sa.String(length=255), nullable=False),
    sa.PrimaryKeyConstraint('key', name=op.f('pk_settings'))
    )
    op.create_table('campaigns',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('resource', sa.String(length=16), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('created_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.Column('updated_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_campaigns_client_id_clients')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_campaigns'))
    )
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_campaigns_client_id'), ['client_id'], unique=False)

    op.create_table('pack_applications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=200), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('pack_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('applied_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_pack_applications_client_id_clients')),
    sa.ForeignKeyConstraint(['pack_id'], ['addon_packs.id'], name=op.f('fk_pack_applications_pack_id_addon_packs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pack_applications')),
    sa.UniqueConstraint('key', name=op.f('uq_pack_applications_key'))
    )
    op.create_table('pack_assignments',
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('pack_id', sa.Integer(), nullable=False),
    sa.Column('assigned_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_pack_assignments_client_id_clients')),
    sa.ForeignKeyConstraint(['pack_id'], ['addon_packs.id'], name=op.f('fk_pack_assignments_pack_id_addon_packs')),
    sa.PrimaryKeyConstraint('client_id', 'pack_id', name=op.f('pk_pack_assignments'))
    )
    op.create_table('plan_terms',
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('resource', sa.String(length=16), nullable=False),
    sa.Column('included', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('overage_rate', quotadesk.models.base.ExactDecimal(length=48), nullable=True),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_plan_terms_plan_id_plans')),
    sa.PrimaryKeyConstraint('plan_id', 'resource', name=op.f('pk_plan_terms'))
    )
    op.create_table('resource_states',
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('resource', sa.String(length=16), nullable=False),
    sa.Column('blocked', sa.Boolean(), nullable=False),
    sa.Column('changed_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_resource_states_client_id_clients')),
    sa.PrimaryKeyConstraint('client_id', 'resource', name=op.f('pk_resource_states'))
    )
    op.create_table('subscriptions',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('plan_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('started_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.Column('ended_at', quotadesk.models.base.UTCDateTime(), nullable=True),
    sa.Column('plan_name', sa.String(length=200), nullable=False),
    sa.Column('fee', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('anchor', sa.String(length=16), nullable=False),
    sa.Column('anchor_day', sa.Integer(), nullable=False),
    sa.Column('addons', sa.Boolean(), nullable=False),
    sa.Column('due_days', sa.Integer(), nullable=False),
    sa.Column('alert_thresholds', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_subscriptions_client_id_clients')),
    sa.ForeignKeyConstraint(['plan_id'], ['plans.id'], name=op.f('fk_subscriptions_plan_id_plans')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_subscriptions'))
    )
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.create_index('ix_subscriptions_active', ['client_id', 'status'], unique=False)
        batch_op.create_index(batch_op.f('ix_subscriptions_client_id'), ['client_id'], unique=False)

    op.create_table('periods',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('start', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.Column('end', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.Column('closed_at', quotadesk.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_periods_client_id_clients')),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_periods_subscription_id_subscriptions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_periods')),
    sa.UniqueConstraint('subscription_id', 'start', name=op.f('uq_periods_subscription_id_start'))
    )
    with op.batch_alter_table('periods', schema=None) as batch_op:
        batch_op.create_index('ix_periods_client', ['client_id', 'closed_at'], unique=False)
        batch_op.create_index('ix_periods_open', ['closed_at', 'end'], unique=False)

    op.create_table('subscription_terms',
    sa.Column('subscription_id', sa.Integer(), nullable=False),
    sa.Column('resource', sa.String(length=16), nullable=False),
    sa.Column('included', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('overage_rate', quotadesk.models.base.ExactDecimal(length=48), nullable=True),
    sa.ForeignKeyConstraint(['subscription_id'], ['subscriptions.id'], name=op.f('fk_subscription_terms_subscription_id_subscriptions')),
    sa.PrimaryKeyConstraint('subscription_id', 'resource', name=op.f('pk_subscription_terms'))
    )
    op.create_table('wallet_lots',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('application_id', sa.Integer(), nullable=False),
    sa.Column('pack_id', sa.Integer(), nullable=False),
    sa.Column('resource', sa.String(length=16), nullable=False),
    sa.Column('units', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('remaining', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('applied_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.Column('expires_at', quotadesk.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['pack_applications.id'], name=op.f('fk_wallet_lots_application_id_pack_applications')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_wallet_lots_client_id_clients')),
    sa.ForeignKeyConstraint(['pack_id'], ['addon_packs.id'], name=op.f('fk_wallet_lots_pack_id_addon_packs')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_wallet_lots')),
    sa.UniqueConstraint('application_id', name=op.f('uq_wallet_lots_application_id'))
    )
    with op.batch_alter_table('wallet_lots', schema=None) as batch_op:
        batch_op.create_index('ix_wallet_lots_client', ['client_id', 'resource'], unique=False)

    op.create_table('alerts',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('resource', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('threshold', sa.Integer(), nullable=True),
    sa.Column('key', sa.String(length=32), nullable=False),
    sa.Column('at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_alerts_client_id_clients')),
    sa.ForeignKeyConstraint(['period_id'], ['periods.id'], name=op.f('fk_alerts_period_id_periods')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_alerts')),
    sa.UniqueConstraint('period_id', 'resource', 'key', name=op.f('uq_alerts_period_id_resource_key'))
    )
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_alerts_client_id'), ['client_id'], unique=False)

    op.create_table('payment_requests',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('type', sa.String(length=16), nullable=False),
    sa.Column('amount', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('created_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.Column('due_date', sa.Date(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('paid_at', quotadesk.models.base.UTCDateTime(), nullable=True),
    sa.Column('reference', sa.String(length=300), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=True),
    sa.Column('application_id', sa.Integer(), nullable=True),
    sa.ForeignKeyConstraint(['application_id'], ['pack_applications.id'], name=op.f('fk_payment_requests_application_id_pack_applications')),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_payment_requests_client_id_clients')),
    sa.ForeignKeyConstraint(['period_id'], ['periods.id'], name=op.f('fk_payment_requests_period_id_periods')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payment_requests')),
    sa.UniqueConstraint('application_id', name=op.f('uq_payment_requests_application_id')),
    sa.UniqueConstraint('type', 'period_id', name=op.f('uq_payment_requests_type_period_id'))
    )
    with op.batch_alter_table('payment_requests', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payment_requests_client_id'), ['client_id'], unique=False)
        batch_op.create_index('ix_payment_requests_status', ['status'], unique=False)

    op.create_table('period_usage',
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('resource', sa.String(length=16), nullable=False),
    sa.Column('included', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('included_used', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('wallet_used', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('overage_units', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('overage_amount', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('unserved', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.ForeignKeyConstraint(['period_id'], ['periods.id'], name=op.f('fk_period_usage_period_id_periods')),
    sa.PrimaryKeyConstraint('period_id', 'resource', name=op.f('pk_period_usage'))
    )
    op.create_table('usage_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('event_id', sa.String(length=200), nullable=True),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('resource', sa.String(length=16), nullable=False),
    sa.Column('quantity', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('occurred_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.Column('recorded_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.Column('period_id', sa.Integer(), nullable=False),
    sa.Column('late', sa.Boolean(), nullable=False),
    sa.Column('included', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('wallet', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('overage_units', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('overage_amount', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('unserved', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_usage_events_client_id_clients')),
    sa.ForeignKeyConstraint(['period_id'], ['periods.id'], name=op.f('fk_usage_events_period_id_periods')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_usage_events')),
    sa.UniqueConstraint('event_id', name=op.f('uq_usage_events_event_id'))
    )
    with op.batch_alter_table('usage_events', schema=None) as batch_op:
        batch_op.create_index('ix_usage_events_client', ['client_id', 'occurred_at'], unique=False)
        batch_op.create_index('ix_usage_events_period', ['period_id', 'resource'], unique=False)

    op.create_table('email_outbox',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('alert_id', sa.Integer(), nullable=False),
    sa.Column('to_address', sa.String(length=320), nullable=False),
    sa.Column('subject', sa.String(length=300), nullable=False),
    sa.Column('body', sa.Text(), nullable=False),
    sa.Column('created_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.Column('sent_at', quotadesk.models.base.UTCDateTime(), nullable=True),
    sa.ForeignKeyConstraint(['alert_id'], ['alerts.id'], name=op.f('fk_email_outbox_alert_id_alerts')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_email_outbox'))
    )
    op.create_table('ledger_entries',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('client_id', sa.Integer(), nullable=False),
    sa.Column('lot_id', sa.Integer(), nullable=False),
    sa.Column('resource', sa.String(length=16), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('units', quotadesk.models.base.ExactDecimal(length=48), nullable=False),
    sa.Column('at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.Column('usage_event_id', sa.Integer(), nullable=True),
    sa.Column('reason', sa.String(length=2000), nullable=True),
    sa.Column('recorded_at', quotadesk.models.base.UTCDateTime(), nullable=False),
    sa.ForeignKeyConstraint(['client_id'], ['clients.id'], name=op.f('fk_ledger_entries_client_id_clients')),
    sa.ForeignKeyConstraint(['lot_id'], ['wallet_lots.id'], name=op.f('fk_ledger_entries_lot_id_wallet_lots')),
    sa.ForeignKeyConstraint(['usage_event_id'], ['usage_events.id'], name=op.f('fk_ledger_entries_usage_event_id_usage_events')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_ledger_entries'))
    )
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.create_index('ix_ledger_entries_client', ['client_id', 'at'], unique=False)
        batch_op.create_index('ix_ledger_entries_lot', ['lot_id'], unique=False)

    _ledger_append_only()


LEDGER_GUARD = "ledger entries are append-only: write a correcting entry instead"


def _ledger_append_only() -> None:
    """The ledger is never updated or deleted: the database itself refuses it."""
    if op.get_bind().dialect.name == "sqlite":
        for action in ("UPDATE", "DELETE"):
            op.execute(f"CREATE TRIGGER ledger_entries_no_{action.lower()} BEFORE {action} "
                       f"ON ledger_entries BEGIN SELECT RAISE(ABORT, '{LEDGER_GUARD}'); END")
    elif op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE FUNCTION ledger_entries_guard() RETURNS trigger LANGUAGE plpgsql AS "
                   f"$$ BEGIN RAISE EXCEPTION '{LEDGER_GUARD}'; END $$")
        op.execute("CREATE TRIGGER ledger_entries_no_change BEFORE UPDATE OR DELETE "
                   "ON ledger_entries FOR EACH ROW EXECUTE FUNCTION ledger_entries_guard()")


def downgrade() -> None:
    with op.batch_alter_table('ledger_entries', schema=None) as batch_op:
        batch_op.drop_index('ix_ledger_entries_lot')
        batch_op.drop_index('ix_ledger_entries_client')

    op.drop_table('ledger_entries')
    op.drop_table('email_outbox')
    with op.batch_alter_table('usage_events', schema=None) as batch_op:
        batch_op.drop_index('ix_usage_events_period')
        batch_op.drop_index('ix_usage_events_client')

    op.drop_table('usage_events')
    op.drop_table('period_usage')
    with op.batch_alter_table('payment_requests', schema=None) as batch_op:
        batch_op.drop_index('ix_payment_requests_status')
        batch_op.drop_index(batch_op.f('ix_payment_requests_client_id'))

    op.drop_table('payment_requests')
    with op.batch_alter_table('alerts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_alerts_client_id'))

    op.drop_table('alerts')
    with op.batch_alter_table('wallet_lots', schema=None) as batch_op:
        batch_op.drop_index('ix_wallet_lots_client')

    op.drop_table('wallet_lots')
    op.drop_table('subscription_terms')
    with op.batch_alter_table('periods', schema=None) as batch_op:
        batch_op.drop_index('ix_periods_open')
        batch_op.drop_index('ix_periods_client')

    op.drop_table('periods')
    with op.batch_alter_table('subscriptions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_subscriptions_client_id'))
        batch_op.drop_index('ix_subscriptions_active')

    op.drop_table('subscriptions')
    op.drop_table('resource_states')
    op.drop_table('plan_terms')
    op.drop_table('pack_assignments')
    op.drop_table('pack_applications')
    with op.batch_alter_table('campaigns', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_campaigns_client_id'))

    op.drop_table('campaigns')
    op.drop_table('settings')
    op.drop_table('plans')
    op.drop_table('clients')
    with op.batch_alter_table('audit_log', schema=None) as batch_op:
        batch_op.drop_index('ix_audit_log_at')

    op.drop_table('audit_log')
    op.drop_table('addon_packs')
