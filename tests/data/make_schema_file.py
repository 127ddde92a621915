"""How tests/data/quotadesk-REV.db were made: QuotaDesk at the commit where REV was the head
(session 5: 0001 through `migrate_schema=False`, and 0003), run from a worktree of that commit:

    git worktree add /tmp/old COMMIT && cd /tmp/old && PYTHONPATH=. python make_schema_file.py REV
"""

from __future__ import annotations

import sqlite3
import sys
from datetime import UTC, datetime
from pathlib import Path

from alembic import command

from quotadesk.db import alembic_config, make_engine, open_database
from quotadesk.services import catalog, clients, usage, wallet
from quotadesk.services.setup import init_database
from quotadesk.services.unit_of_work import Desk, fixed_clock


def make(revision: str) -> Path:
    path = Path(f"tests/data/quotadesk-{revision}.db")
    path.unlink(missing_ok=True)
    engine = make_engine(f"sqlite:///{path}")
    command.upgrade(alembic_config(engine), revision)
    engine.dispose()
    clock = fixed_clock(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    desk = Desk(open_database(path, migrate_schema=False), clock=clock)
    init_database(desk, currency="EUR", timezone="Europe/Paris")
    catalog.add_plan(desk, name="Voice", fee="30.00", included={"minutes": "100"},
                     overage={"minutes": "0.10"})
    catalog.add_pack(desk, name="100 Minutes Pack", resource="minutes", units="100",
                     price="15.00")
    clients.add_client(desk, name="Zoë Café", email="zoe@example.test")
    clients.add_client(desk, name="No Mail Ltd")
    for client in ("Zoë Café", "No Mail Ltd"):
        clients.subscribe(desk, client=client, plan="Voice")
        clients.assign_packs(desk, client=client, packs=["100 Minutes Pack"])
        wallet.apply_pack(desk, client=client, pack="100 Minutes Pack", status="pending")
        usage.record_usage(desk, client=client, resource="minutes", quantity="250.5")
    desk.close()
    with sqlite3.connect(path) as con:
        con.execute("VACUUM")
    return path


if __name__ == "__main__":
    print(make(sys.argv[1]))
