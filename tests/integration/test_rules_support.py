"""Helpers shared by the `test_rules_*` modules (this module holds no tests).

They read the database directly — never write it — so that a test can assert the state a
service left behind, beyond what the read services show.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from quotadesk.models import Base


def table_dump(desk: Any, skip: tuple[str, ...] = ()) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table of the schema (but `skip`): the database's whole state, for
    comparing before and after a refused operation (SPEC §6: a refusal leaves the data exactly
    as it was). Works on SQLite and PostgreSQL."""
    with desk.database.engine.connect() as conn:
        return {table.name: sorted((tuple(row) for row in conn.execute(select(table))), key=repr)
                for table in Base.metadata.sorted_tables if table.name not in skip}


def read_rows(desk: Any, model: Any, *where: Any, order: Any = None) -> list[Any]:
    """ORM rows of one table (detached, read-only)."""
    with desk.database.session(write=False) as session:
        query = select(model).where(*where)
        if order is not None:
            query = query.order_by(order)
        return list(session.scalars(query))


def read_snapshot(desk: Any, clients_names: tuple[str, ...] = ()) -> tuple[Any, ...]:
    """What the read services show: the client list, every payment, each client's detail,
    billing history, alerts and ledger."""
    from quotadesk.services import billing, catalog, clients, wallet

    return (
        clients.list_clients(desk), billing.list_payments(desk), billing.list_alerts(desk),
        catalog.list_plans(desk), catalog.list_packs(desk, include_archived=True),
        clients.list_campaigns(desk),
        tuple((clients.client_detail(desk, name), billing.billing_history(desk, name),
               wallet.ledger(desk, name)) for name in clients_names),
    )


# -- a fast `desk` for these modules ------------------------------------------------------
_template: list[Path] = []


def _sqlite_template(factory: pytest.TempPathFactory) -> Path:
    """One migrated, set-up SQLite file (UTC, USD), built once per session."""
    if not _template:
        from tests.conftest import MovableClock, new_desk

        path = factory.mktemp("rules-template") / "template.db"
        desk = new_desk(path, MovableClock(datetime(2026, 1, 10, 9, 0, tzinfo=UTC)))
        desk.close()
        assert not path.with_name(path.name + "-wal").exists()
        _template.append(path)
    return _template[0]


@pytest.fixture
def db_url(backend: str, make_database: Callable[[], str], tmp_path: Path,
           tmp_path_factory: pytest.TempPathFactory) -> str:
    """Overrides conftest's `db_url` in the modules that import it: on SQLite, a byte copy
    of a freshly migrated and set-up database file (the same bytes a new one would have,
    without paying for the migration in every test); on PostgreSQL, conftest's own."""
    if backend != "sqlite":
        return make_database()
    path = tmp_path / "desk.db"
    shutil.copyfile(_sqlite_template(tmp_path_factory), path)
    return str(path)
