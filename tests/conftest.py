"""Test configuration shared by every layer: headless Qt, and desks on fresh databases."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from quotadesk.db import open_database
from quotadesk.services.desk import Desk
from quotadesk.services.setup import init_database


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


def new_desk(path: Path, clock: MovableClock, timezone: str = "UTC",
             currency: str = "USD") -> Desk:
    desk = Desk(open_database(path), clock=clock)
    init_database(desk, currency=currency, timezone=timezone)
    return desk


@pytest.fixture
def clock() -> MovableClock:
    return MovableClock(datetime(2026, 1, 10, 9, 0, tzinfo=UTC))


@pytest.fixture
def desk(tmp_path: Path, clock: MovableClock) -> Iterator[Desk]:
    """A desk on a fresh, migrated SQLite file, time zone UTC, currency USD."""
    d = new_desk(tmp_path / "desk.db", clock)
    yield d
    d.close()
