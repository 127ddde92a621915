"""Test configuration shared by every layer: headless Qt, and desks on fresh databases.

Service, CLI and property tests take the `backend` parameter: every test that uses `desk`,
`db_url` or `make_database` runs on SQLite and, when a server is given, on PostgreSQL.
Set QUOTADESK_TEST_PG_URL to a server URL (any database on it; `.ci/postgres.sh` starts one);
without it the PostgreSQL runs are skipped with that reason, and with QUOTADESK_REQUIRE_PG=1
(as CI sets) a missing server fails instead.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from sqlalchemy.engine import make_url

from quotadesk.db import open_database
from quotadesk.services.setup import init_database
from quotadesk.services.unit_of_work import Desk

PG_URL = os.environ.get("QUOTADESK_TEST_PG_URL", "")
REQUIRE_PG = os.environ.get("QUOTADESK_REQUIRE_PG") == "1"
PG_SKIP_REASON = "no PostgreSQL server: set QUOTADESK_TEST_PG_URL (see .ci/postgres.sh)"
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


class MovableClock:
    """The one injectable clock, moved by tests: `clock.set(...)`, `clock.advance(days=3)`."""

    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment

    def set(self, moment: datetime) -> None:
        self.moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)

    def advance(self, **delta: float) -> datetime:
        self.moment += timedelta(**delta)
        return self.moment


def new_desk(path: Path | str, clock: MovableClock, timezone: str = "UTC",
             currency: str = "USD") -> Desk:
    """A desk on a new database (a SQLite path, or a URL from `make_database`), set up."""
    desk = Desk(open_database(path), clock=clock)
    init_database(desk, currency=currency, timezone=timezone)
    return desk


class PostgresDatabases:
    """Fresh PostgreSQL databases, each cloned from one migrated template (fast)."""

    def __init__(self, server_url: str) -> None:
        import psycopg

        self.psycopg = psycopg
        url = make_url(server_url)
        self.base = url
        self.admin_dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.template = f"quotadesk_tpl_{uuid.uuid4().hex[:8]}"
        self.created: list[str] = []
        self._sql(f'CREATE DATABASE "{self.template}"')
        engine_url = self.url_of(self.template)
        desk = Desk(open_database(engine_url))
        desk.close()

    def _sql(self, statement: str) -> None:
        with self.psycopg.connect(self.admin_dsn, autocommit=True) as conn:
            conn.execute(statement)  # type: ignore[arg-type]

    def url_of(self, name: str) -> str:
        return self.base.set(database=name).render_as_string(hide_password=False)

    def new(self, template: str | None = None, keep: bool = True) -> str:
        """A new database cloned from `template` (the empty migrated one by default); with
        keep=False the caller drops it (`drop`) when done with it."""
        name = f"quotadesk_t_{uuid.uuid4().hex[:12]}"
        self._sql(f'CREATE DATABASE "{name}" TEMPLATE "{template or self.template}"')
        if keep:
            self.created.append(name)
        return self.url_of(name)

    def drop(self, url: str) -> None:
        self._sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')

    def drop_all(self) -> None:
        for name in [*self.created, self.template]:
            self._sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.created.clear()


@pytest.fixture(scope="session")
def postgres_databases() -> Iterator[PostgresDatabases | None]:
    if not PG_URL:
        yield None
        return
    databases = PostgresDatabases(PG_URL)
    yield databases
    if os.environ.get("CI") != "true":  # CI's cluster is thrown away whole after the run
        databases.drop_all()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    if request.param == "postgres" and not PG_URL:
        if REQUIRE_PG:
            pytest.fail(PG_SKIP_REASON)
        pytest.skip(PG_SKIP_REASON)
    return str(request.param)


@pytest.fixture
def make_database(backend: str, tmp_path: Path,
                  postgres_databases: PostgresDatabases | None) -> Callable[[], str]:
    """Call it for a new, empty database of this test's backend: a path or a URL."""
    counter = iter(range(1_000_000))

    def make() -> str:
        if backend == "postgres":
            assert postgres_databases is not None
            return postgres_databases.new()
        return str(tmp_path / f"desk-{next(counter)}.db")

    return make


@pytest.fixture
def db_url(make_database: Callable[[], str]) -> str:
    return make_database()


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime(2026, 1, 10, 9, 0, tzinfo=UTC))


@pytest.fixture
def desk(db_url: str, clock: MovableClock) -> Iterator[Desk]:
    """A desk on a fresh, migrated database (SQLite, and PostgreSQL when given): UTC, USD."""
    d = new_desk(db_url, clock)
    yield d
    d.close()
