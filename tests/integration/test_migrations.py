"""Migrations keep data: database files written by released schemas, upgraded to head.

`tests/data/quotadesk-REV.db` were written by QuotaDesk when REV was the newest schema (see
tests/data/make_schema_file.py); each is copied, opened (which migrates it) and compared with
what it held, table by table, column by column. A new migration adds nothing here unless its
release leaves a new file beside them.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from alembic.script import ScriptDirectory

from quotadesk.db import alembic_config, backups_dir, make_engine, open_database, schema_revision
from quotadesk.services import clients, outbox, reports
from quotadesk.services.unit_of_work import Desk, fixed_clock

DATA = Path(__file__).parent.parent / "data"


def _rows(path: Path) -> dict[str, list[dict[str, object]]]:
    with sqlite3.connect(path) as con:
        con.row_factory = sqlite3.Row
        tables = [r[0] for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name != 'alembic_version'")]
        return {t: [dict(r) for r in con.execute(f'SELECT * FROM "{t}" ORDER BY 1')] for t in tables}


@pytest.mark.parametrize("revision", ["0001", "0003"])
def test_a_released_database_upgraded_to_head_loses_nothing(tmp_path: Path, revision: str):
    path = tmp_path / "old.db"
    shutil.copy(DATA / f"quotadesk-{revision}.db", path)
    before = _rows(path)

    desk = Desk(open_database(path), clock=fixed_clock(datetime(2026, 11, 21, 9, tzinfo=UTC)))
    engine = desk.database.engine
    head = ScriptDirectory.from_config(alembic_config(engine)).get_current_head()
    assert schema_revision(engine) == head != revision
    after = _rows(path)
    # 0004 gives each database the token of its Message-IDs: the one row a migration adds.
    [token] = [row for row in after["settings"] if row["key"] == "mail.message_ids"]
    after["settings"].remove(token)
    assert len(token["value"]) == 16
    for table, rows in before.items():
        kept = [{k: row[k] for k in rows[0]} for row in after[table]] if rows else after[table]
        assert kept == rows, table  # every row, every old column, the same values

    assert desk.currency == "EUR"
    zoe = clients.client_detail(desk, "Zoë Café")
    assert zoe.resources["minutes"].overage_units == Decimal("50.5")
    assert reports.verify(desk).ok
    # The alert e-mails of before were never sent: listed failed, with how to send one.
    old_mail = outbox.list_messages(desk)
    assert len(old_mail) == len(before["email_outbox"]) == 3
    assert {(m.client, m.kind, m.status, m.attempts, m.error) for m in old_mail} == {
        ("Zoë Café", "alert", "failed", 0,
         "queued before QuotaDesk sent mail; `mail retry ID` sends it")}
    assert len({m.message_id for m in old_mail}) == 3
    retried = outbox.retry_message(desk, old_mail[0].id)
    assert (retried.status, retried.to) == ("queued", "zoe@example.test")
    # A copy of the database as it was is kept before the schema changed.
    saved = list(backups_dir(path).glob("old-pre-*.db"))
    assert len(saved) == 1
    assert _rows(saved[0]) == before
    desk.close()


def test_the_schema_head_constant_names_alembics_head(tmp_path: Path):
    from quotadesk.db import SCHEMA_HEAD

    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    assert ScriptDirectory.from_config(alembic_config(engine)).get_current_head() == SCHEMA_HEAD
    engine.dispose()
