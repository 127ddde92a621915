"""Migrations keep data (issue 5): build with the first migration, fill, upgrade to head.

Every later migration follows this pattern: add a case that fills at the revision before it.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from alembic import command
from alembic.script import ScriptDirectory

from quotadesk.db import alembic_config, backups_dir, make_engine, open_database, schema_revision
from quotadesk.services import billing, catalog, clients, reports, usage, wallet
from quotadesk.services.setup import init_database
from quotadesk.services.unit_of_work import Desk


def test_first_migration_filled_then_upgraded_to_head_loses_nothing(tmp_path: Path, clock):
    path = tmp_path / "old.db"
    engine = make_engine(f"sqlite:///{path}")
    config = alembic_config(engine)
    command.upgrade(config, "0001")
    assert schema_revision(engine) == "0001"
    engine.dispose()

    desk = Desk(open_database(path, migrate_schema=False), clock=clock)
    init_database(desk, currency="EUR", timezone="Europe/Paris")
    catalog.add_plan(desk, name="Voice", fee="30.00", included={"minutes": "100"},
                     overage={"minutes": "0.10"})
    catalog.add_pack(desk, name="100 Minutes Pack", resource="minutes", units="100",
                     price="15.00")
    clients.add_client(desk, name="Zoë Café", email="zoe@example.test")
    clients.subscribe(desk, client="Zoë Café", plan="Voice")
    clients.assign_packs(desk, client="Zoë Café", packs=["100 Minutes Pack"])
    wallet.apply_pack(desk, client="Zoë Café", pack="100 Minutes Pack", status="pending")
    usage.record_usage(desk, client="Zoë Café", resource="minutes", quantity="250.5")
    before = (clients.client_detail(desk, "Zoë Café"), billing.list_payments(desk),
              billing.list_alerts(desk), billing.billing_history(desk, "Zoë Café"))
    desk.close()

    upgraded = Desk(open_database(path), clock=clock)  # opening migrates to head
    head = ScriptDirectory.from_config(config).get_current_head()
    assert schema_revision(upgraded.database.engine) == head != "0001"
    after = (clients.client_detail(upgraded, "Zoë Café"), billing.list_payments(upgraded),
             billing.list_alerts(upgraded), billing.billing_history(upgraded, "Zoë Café"))
    assert after == before
    assert after[0].resources["minutes"].overage_units == Decimal("50.5")
    assert upgraded.currency == "EUR"
    assert reports.verify(upgraded).ok
    # A copy of the database as it was is kept before the schema changed.
    saved = list(backups_dir(path).glob("old-pre-*.db"))
    assert len(saved) == 1
    old = Desk(open_database(saved[0], migrate_schema=False), clock=clock)
    assert schema_revision(old.database.engine) == "0001"
    assert clients.client_detail(old, "Zoë Café") == before[0]
    old.close()
    upgraded.close()


def test_the_schema_head_constant_names_alembics_head(tmp_path: Path):
    from quotadesk.db import SCHEMA_HEAD

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == SCHEMA_HEAD
    engine.dispose()
