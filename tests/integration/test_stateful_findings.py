"""Minimal reproductions of engine bugs found by the stateful test (`test_stateful.py`).

An open one is marked `xfail(strict=True)`, so that the fix makes the run fail until the mark
is removed; a fixed one stays here as a regression test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from quotadesk.services import billing, catalog, clients, usage
from quotadesk.services.unit_of_work import Desk
from tests.conftest import MovableClock, new_desk


@pytest.fixture
def sqlite_desk(tmp_path: Path, clock: MovableClock) -> Iterator[Desk]:
    d = new_desk(tmp_path / "desk.db", clock)
    yield d
    d.close()


def test_new_thresholds_after_resubscribing_in_an_exhausted_period(sqlite_desk: Desk) -> None:
    desk = sqlite_desk
    catalog.add_plan(desk, name="Small", fee="0", included={"sms": "5"}, alerts="50")
    catalog.add_plan(desk, name="Large", fee="0", included={"sms": "10"}, alerts="80,95")
    clients.add_client(desk, name="Acme")
    clients.subscribe(desk, client="Acme", plan="Small")
    usage.record_usage(desk, client="Acme", resource="sms", quantity="5")  # 50 %, exhausted
    clients.subscribe(desk, client="Acme", plan="Large")  # same period, allowance now 10

    usage.record_usage(desk, client="Acme", resource="sms", quantity="5")  # 10 of 10 used

    # Newest first: the new plan's 80 % and 95 %, and nothing else; exhausted and blocked were
    # recorded once this period already (SPEC §2), before the Small plan's 50 %.
    kinds = [(a.kind, a.threshold) for a in billing.list_alerts(desk, "Acme")]
    assert kinds == [("threshold", 95), ("threshold", 80),
                     ("blocked", None), ("exhausted", None), ("threshold", 50)]
